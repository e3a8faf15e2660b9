package dev.tessera.autograd.functions;

import dev.tessera.autograd.Function;
import dev.tessera.tensor.NDArray;

/** The slice at index along dim with that dim removed, as a view. Backward writes the gradient into that slice of a zero array. */
public final class Select extends Function {
    private final int dim, index;
    private int[] inShape;

    public Select(int dim, int index) {
        this.dim = dim;
        this.index = index;
    }

    @Override
    protected NDArray forward(NDArray... in) {
        inShape = in[0].shape();
        return in[0].select(dim, index);
    }

    @Override
    protected NDArray[] backward(NDArray g) {
        NDArray gx = NDArray.zeros(g.device(), g.dtype(), inShape);
        gx.select(dim, index).assign(g);
        return new NDArray[] {gx};
    }
}
