package dev.tessera.autograd.functions;

import dev.tessera.autograd.Function;
import dev.tessera.tensor.BinaryOp;
import dev.tessera.tensor.NDArray;

/**
 * Elementwise op with a constant right operand: x + s, x - s, x * s, x / s, max(x, s), min(x, s),
 * or the reversed s - x and s / x.
 */
public final class ScalarOp extends Function {
    /** The supported forms. */
    public enum Kind { ADD, SUB, MUL, DIV, MAXIMUM, MINIMUM, RSUB, RDIV }

    private final Kind kind;
    private final double s;

    public ScalarOp(Kind kind, double s) {
        this.kind = kind;
        this.s = s;
    }

    @Override
    public String name() { return "ScalarOp(" + kind + " " + s + ")"; }

    @Override
    protected NDArray forward(NDArray... in) {
        NDArray x = in[0];
        saveForBackward(x);
        switch (kind) {
            case ADD: return x.add(s);
            case SUB: return x.sub(s);
            case MUL: return x.mul(s);
            case DIV: return x.div(s);
            case MAXIMUM: return x.maximum(s);
            case MINIMUM: return x.minimum(s);
            case RSUB: return x.neg().add(s);
            case RDIV: return x.pow(-1.0).mul(s);
            default: throw new AssertionError(kind);
        }
    }

    @Override
    protected NDArray[] backward(NDArray g) {
        NDArray x = saved(0);
        NDArray gx;
        switch (kind) {
            case ADD: case SUB: gx = g; break;
            case MUL: gx = g.mul(s); break;
            case DIV: gx = g.div(s); break;
            case RSUB: gx = g.neg(); break;
            case RDIV: gx = g.mul(x.mul(x).pow(-1.0).mul(-s)); break;
            case MAXIMUM: case MINIMUM: {
                BinaryOp wins = kind == Kind.MAXIMUM ? BinaryOp.GT : BinaryOp.LT;
                NDArray share = x.binaryScalar(wins, s).to(g.dtype()).add(x.eq(s).to(g.dtype()).mul(0.5));
                gx = g.mul(share);
                break;
            }
            default: throw new AssertionError(kind);
        }
        return new NDArray[] {gx};
    }
}
