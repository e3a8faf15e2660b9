package dev.tessera.autograd.functions;

import dev.tessera.autograd.Function;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.NDArray;

/**
 * A copy: contiguous() (no copy when already contiguous), clone() (always a new array) or a dtype
 * conversion between float types. Backward passes the gradient through, converted back to the
 * input's dtype.
 */
public final class Copy extends Function {
    /** What kind of copy. */
    public enum Kind { CONTIGUOUS, CLONE, CAST }

    private final Kind kind;
    private final DType target;
    private DType inDtype;

    public Copy(Kind kind) { this(kind, null); }

    /** target is the dtype for CAST (ignored otherwise). */
    public Copy(Kind kind, DType target) {
        if (kind == Kind.CAST && target == null) throw new IllegalArgumentException("Copy(CAST): target dtype is null");
        this.kind = kind;
        this.target = target;
    }

    @Override
    public String name() { return kind == Kind.CAST ? "Copy(CAST " + target + ")" : "Copy(" + kind + ")"; }

    @Override
    protected NDArray forward(NDArray... in) {
        inDtype = in[0].dtype();
        switch (kind) {
            case CONTIGUOUS: return in[0].contiguous();
            case CLONE: return in[0].copy();
            default: return in[0].to(target);
        }
    }

    @Override
    protected NDArray[] backward(NDArray g) { return new NDArray[] {g.to(inDtype)}; }
}
