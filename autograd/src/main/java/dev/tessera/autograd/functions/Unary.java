package dev.tessera.autograd.functions;

import dev.tessera.autograd.Function;
import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.UnaryOp;

/**
 * Elementwise unary op y = op(x) (neg, abs, exp, log, sqrt, rsqrt, tanh, sigmoid, relu, silu,
 * sin, cos, pow with a constant exponent, and both GELUs). Backward is the backend's fused
 * unaryBackward: gx = gy * op'(x).
 */
public final class Unary extends Function {
    private final UnaryOp op;
    private final double scalar;

    public Unary(UnaryOp op) { this(op, 0.0); }

    /** scalar is POW's exponent, ignored by the other ops. */
    public Unary(UnaryOp op, double scalar) {
        this.op = op;
        this.scalar = scalar;
    }

    public UnaryOp op() { return op; }

    @Override
    public String name() { return op == UnaryOp.POW ? "Unary(POW " + scalar + ")" : "Unary(" + op + ")"; }

    @Override
    protected NDArray forward(NDArray... in) {
        saveForBackward(in[0]);
        return op == UnaryOp.POW ? in[0].pow(scalar) : in[0].unary(op);
    }

    @Override
    protected NDArray[] backward(NDArray g) {
        NDArray x = saved(0);
        return new NDArray[] {x.unaryBackward(op, g, scalar)};
    }
}
