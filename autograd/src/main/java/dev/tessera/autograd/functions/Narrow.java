package dev.tessera.autograd.functions;

import dev.tessera.autograd.Function;
import dev.tessera.tensor.NDArray;

/** Elements [start, start + length) along dim, as a view. Backward writes the gradient into that window of a zero array of the input's shape. */
public final class Narrow extends Function {
    private final int dim, start, length;
    private int[] inShape;

    public Narrow(int dim, int start, int length) {
        this.dim = dim;
        this.start = start;
        this.length = length;
    }

    @Override
    protected NDArray forward(NDArray... in) {
        inShape = in[0].shape();
        return in[0].narrow(dim, start, length);
    }

    @Override
    protected NDArray[] backward(NDArray g) {
        NDArray gx = NDArray.zeros(g.device(), g.dtype(), inShape);
        gx.narrow(dim, start, length).assign(g);
        return new NDArray[] {gx};
    }
}
