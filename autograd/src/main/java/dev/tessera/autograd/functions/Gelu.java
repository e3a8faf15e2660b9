package dev.tessera.autograd.functions;

import dev.tessera.autograd.Function;
import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.UnaryOp;

/**
 * Fused GELU: the exact form x * Phi(x) or GPT-2's tanh approximation
 * 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). Forward and backward are one kernel each.
 */
public final class Gelu extends Function {
    private final boolean approximateTanh;

    /** approximateTanh selects the tanh form ("gelu_new"); false is the exact erf form. */
    public Gelu(boolean approximateTanh) { this.approximateTanh = approximateTanh; }

    @Override
    public String name() { return approximateTanh ? "Gelu(tanh)" : "Gelu(erf)"; }

    private UnaryOp op() { return approximateTanh ? UnaryOp.GELU_TANH : UnaryOp.GELU; }

    @Override
    protected NDArray forward(NDArray... in) {
        saveForBackward(in[0]);
        return in[0].unary(op());
    }

    @Override
    protected NDArray[] backward(NDArray g) {
        return new NDArray[] {saved(0).unaryBackward(op(), g, 0.0)};
    }
}
