package dev.tessera.autograd.functions;

import dev.tessera.autograd.Function;
import dev.tessera.tensor.NDArray;

/** Inserts a size-1 dim at position dim, as a view. */
public final class Unsqueeze extends Function {
    private final int dim;
    private int[] inShape;

    public Unsqueeze(int dim) { this.dim = dim; }

    @Override
    protected NDArray forward(NDArray... in) {
        inShape = in[0].shape();
        return in[0].unsqueeze(dim);
    }

    @Override
    protected NDArray[] backward(NDArray g) { return new NDArray[] {g.reshape(inShape)}; }
}
