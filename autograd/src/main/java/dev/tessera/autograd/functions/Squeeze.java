package dev.tessera.autograd.functions;

import dev.tessera.autograd.Function;
import dev.tessera.tensor.NDArray;

/** Removes one size-1 dim (or all of them when built without a dim), as a view. */
public final class Squeeze extends Function {
    private final Integer dim;
    private int[] inShape;

    /** Removes every size-1 dim. */
    public Squeeze() { this.dim = null; }

    public Squeeze(int dim) { this.dim = dim; }

    @Override
    protected NDArray forward(NDArray... in) {
        inShape = in[0].shape();
        return dim == null ? in[0].squeeze() : in[0].squeeze(dim);
    }

    @Override
    protected NDArray[] backward(NDArray g) { return new NDArray[] {g.reshape(inShape)}; }
}
