package dev.tessera.autograd.functions;

import dev.tessera.autograd.Function;
import dev.tessera.tensor.NDArray;

/**
 * Out-of-place scatter-add: a copy of self with src added at index along dim (inputs self, src).
 * Backward: gself = g, gsrc = g gathered at index.
 */
public final class ScatterAdd extends Function {
    private final int dim;
    private final NDArray index;

    public ScatterAdd(int dim, NDArray index) {
        this.dim = dim;
        this.index = index;
    }

    @Override
    protected NDArray forward(NDArray... in) { return in[0].scatterAdd(dim, index, in[1]); }

    @Override
    protected NDArray[] backward(NDArray g) {
        return new NDArray[] {g, needsInputGrad(1) ? g.gather(dim, index) : null};
    }
}
