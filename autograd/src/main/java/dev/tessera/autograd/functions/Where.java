package dev.tessera.autograd.functions;

import dev.tessera.autograd.Function;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.Shapes;

/** cond ? a : b with broadcasting (cond BOOL, not differentiable). Backward routes the gradient to a where cond holds and to b elsewhere. */
public final class Where extends Function {
    private final NDArray cond;
    private int[] aShape, bShape;

    public Where(NDArray cond) {
        if (cond.dtype() != DType.BOOL) throw new IllegalArgumentException("where: condition must be bool, got " + cond.dtype() + " of shape " + Shapes.str(cond.shape()));
        this.cond = cond;
    }

    @Override
    protected NDArray forward(NDArray... in) {
        aShape = in[0].shape();
        bShape = in[1].shape();
        return NDArray.where(cond, in[0], in[1]);
    }

    @Override
    protected NDArray[] backward(NDArray g) {
        NDArray zero = NDArray.zeros(g.device(), g.dtype());
        NDArray ga = needsInputGrad(0) ? sumToShape(NDArray.where(cond, g, zero), aShape) : null;
        NDArray gb = needsInputGrad(1) ? sumToShape(NDArray.where(cond, zero, g), bShape) : null;
        return new NDArray[] {ga, gb};
    }
}
