package dev.tessera.autograd.functions;

import dev.tessera.autograd.Function;
import dev.tessera.tensor.NDArray;

/** Slices along dim picked by a 1-D integer index (repeats allowed). Backward index-adds the gradient into zeros of the input's shape. */
public final class IndexSelect extends Function {
    private final int dim;
    private final NDArray index;
    private int[] inShape;

    public IndexSelect(int dim, NDArray index) {
        this.dim = dim;
        this.index = index;
    }

    @Override
    protected NDArray forward(NDArray... in) {
        inShape = in[0].shape();
        return in[0].indexSelect(dim, index);
    }

    @Override
    protected NDArray[] backward(NDArray g) {
        return new NDArray[] {NDArray.zeros(g.device(), g.dtype(), inShape).indexAddInPlace(dim, index, g)};
    }
}
