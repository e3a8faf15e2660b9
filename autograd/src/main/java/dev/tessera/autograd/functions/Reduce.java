package dev.tessera.autograd.functions;

import dev.tessera.autograd.Function;
import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.ReduceOp;
import dev.tessera.tensor.Shapes;

/**
 * Reduction over dims (all dims when none are given): sum, mean, max, min or population variance.
 * Backward broadcasts the gradient back over the reduced dims: sum copies it, mean divides by the
 * count, var multiplies by 2 (x - mean) / n, max/min route it to the extreme elements (split
 * evenly between ties).
 */
public final class Reduce extends Function {
    private final ReduceOp op;
    private final boolean keepDim;
    private final int[] dims;

    public Reduce(ReduceOp op, boolean keepDim, int... dims) {
        this.op = op;
        this.keepDim = keepDim;
        this.dims = dims.clone();
    }

    @Override
    public String name() { return "Reduce(" + op + ")"; }

    @Override
    protected NDArray forward(NDArray... in) {
        NDArray x = in[0];
        NDArray y = x.reduce(op, keepDim, dims);
        saveForBackward(x, y);
        return y;
    }

    @Override
    protected NDArray[] backward(NDArray g) {
        NDArray x = saved(0), y = saved(1);
        int[] shape = x.shape();
        int[] d = Shapes.dims("reduce", dims, shape.length);
        int[] kept = Shapes.reducedShape(shape, d, true);
        long count = 1;
        for (int k : d) count *= shape[k];
        NDArray gk = g.reshape(kept);
        NDArray gx;
        switch (op) {
            case SUM:
                gx = gk.expand(shape);
                break;
            case MEAN:
                gx = gk.div((double) count).expand(shape);
                break;
            case VAR: {
                NDArray mean = x.mean(true, d);
                gx = x.sub(mean).mul(gk).mul(2.0 / count);
                break;
            }
            case MAX: case MIN: {
                NDArray isExtreme = x.eq(y.reshape(kept)).to(g.dtype());
                NDArray ties = isExtreme.sum(true, d);
                gx = isExtreme.mul(gk.div(ties));
                break;
            }
            default: throw new AssertionError(op);
        }
        return new NDArray[] {gx};
    }
}
