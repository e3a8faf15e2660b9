package dev.tessera.autograd.functions;

import dev.tessera.autograd.Function;
import dev.tessera.tensor.NDArray;

/**
 * Out-of-place index-add: a copy of self with src.select(dim, i) added to slice index[i] (inputs
 * self, src). Backward: gself = g, gsrc = g's slices picked by index.
 */
public final class IndexAdd extends Function {
    private final int dim;
    private final NDArray index;

    public IndexAdd(int dim, NDArray index) {
        this.dim = dim;
        this.index = index;
    }

    @Override
    protected NDArray forward(NDArray... in) { return in[0].indexAdd(dim, index, in[1]); }

    @Override
    protected NDArray[] backward(NDArray g) {
        return new NDArray[] {g, needsInputGrad(1) ? g.indexSelect(dim, index) : null};
    }
}
