package dev.tessera.autograd.functions;

import dev.tessera.autograd.Function;
import dev.tessera.tensor.NDArray;

/**
 * Elementwise max(a, b) (or min(a, b)) with broadcasting. The gradient goes to the larger (smaller)
 * input; on ties it is split evenly, as in PyTorch.
 */
public final class Maximum extends Function {
    private final boolean min;

    public Maximum() { this(false); }

    /** min selects the elementwise minimum. */
    public Maximum(boolean min) { this.min = min; }

    @Override
    public String name() { return min ? "Minimum" : "Maximum"; }

    @Override
    protected NDArray forward(NDArray... in) {
        NDArray a = in[0], b = in[1];
        saveForBackward(a, b);
        return min ? a.minimum(b) : a.maximum(b);
    }

    @Override
    protected NDArray[] backward(NDArray g) {
        NDArray a = saved(0), b = saved(1);
        NDArray aWins = (min ? a.lt(b) : a.gt(b)).to(g.dtype());
        NDArray tie = a.eq(b).to(g.dtype()).mul(0.5);
        NDArray shareA = aWins.add(tie);
        NDArray ga = needsInputGrad(0) ? sumToShape(g.mul(shareA), a.shape()) : null;
        NDArray gb = needsInputGrad(1) ? sumToShape(g.mul(shareA.neg().add(1.0)), b.shape()) : null;
        return new NDArray[] {ga, gb};
    }
}
