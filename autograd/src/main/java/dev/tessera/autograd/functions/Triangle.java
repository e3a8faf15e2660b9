package dev.tessera.autograd.functions;

import dev.tessera.autograd.Function;
import dev.tessera.tensor.NDArray;

/** tril (j - i <= k kept) or triu (j - i >= k kept) over the last two dims; backward masks the gradient the same way. */
public final class Triangle extends Function {
    private final int k;
    private final boolean upper;

    public Triangle(int k, boolean upper) {
        this.k = k;
        this.upper = upper;
    }

    @Override
    public String name() { return upper ? "Triu" : "Tril"; }

    @Override
    protected NDArray forward(NDArray... in) { return upper ? in[0].triu(k) : in[0].tril(k); }

    @Override
    protected NDArray[] backward(NDArray g) { return new NDArray[] {upper ? g.triu(k) : g.tril(k)}; }
}
