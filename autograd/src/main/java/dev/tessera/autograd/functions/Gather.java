package dev.tessera.autograd.functions;

import dev.tessera.autograd.Function;
import dev.tessera.tensor.NDArray;

/** torch.gather along dim with an integer index of the input's rank. Backward scatter-adds the gradient into zeros of the input's shape. */
public final class Gather extends Function {
    private final int dim;
    private final NDArray index;
    private int[] inShape;

    public Gather(int dim, NDArray index) {
        this.dim = dim;
        this.index = index;
    }

    @Override
    protected NDArray forward(NDArray... in) {
        inShape = in[0].shape();
        return in[0].gather(dim, index);
    }

    @Override
    protected NDArray[] backward(NDArray g) {
        return new NDArray[] {NDArray.zeros(g.device(), g.dtype(), inShape).scatterAddInPlace(dim, index, g)};
    }
}
