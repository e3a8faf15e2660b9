package dev.tessera.autograd.functions;

import dev.tessera.autograd.Function;
import dev.tessera.tensor.NDArray;

/** Python-style slice start:end:step along dim, as a view. Backward writes the gradient into the same slice of a zero array. */
public final class Slice extends Function {
    private final int dim, start, end, step;
    private int[] inShape;

    public Slice(int dim, int start, int end, int step) {
        this.dim = dim;
        this.start = start;
        this.end = end;
        this.step = step;
    }

    @Override
    protected NDArray forward(NDArray... in) {
        inShape = in[0].shape();
        return in[0].slice(dim, start, end, step);
    }

    @Override
    protected NDArray[] backward(NDArray g) {
        NDArray gx = NDArray.zeros(g.device(), g.dtype(), inShape);
        gx.slice(dim, start, end, step).assign(g);
        return new NDArray[] {gx};
    }
}
