package dev.tessera.autograd.functions;

import dev.tessera.autograd.Function;
import dev.tessera.tensor.NDArray;

/**
 * Embedding lookup: table [V, C] and integer ids of any shape [...] give [..., C]. Backward adds
 * each row of the gradient into the table row it came from (repeated ids accumulate).
 */
public final class Embedding extends Function {
    private final NDArray ids;
    private int[] tableShape;

    public Embedding(NDArray ids) { this.ids = ids; }

    @Override
    protected NDArray forward(NDArray... in) {
        tableShape = in[0].shape();
        return in[0].embedding(ids);
    }

    @Override
    protected NDArray[] backward(NDArray g) {
        NDArray rows = g.reshape(-1, tableShape[1]);
        return new NDArray[] {NDArray.zeros(g.device(), g.dtype(), tableShape).indexAddInPlace(0, ids.reshape(-1), rows)};
    }
}
