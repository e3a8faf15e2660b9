package dev.tessera.autograd.functions;

import dev.tessera.autograd.Function;
import dev.tessera.tensor.NDArray;

/**
 * Same elements in a new shape (one dim may be -1): a view when the strides allow it, a copy
 * otherwise; with strictView it never copies (torch.view). Backward reshapes the gradient back.
 */
public final class Reshape extends Function {
    private final int[] newShape;
    private final boolean strictView;
    private int[] inShape;

    public Reshape(int... newShape) { this(false, newShape); }

    public Reshape(boolean strictView, int... newShape) {
        this.newShape = newShape.clone();
        this.strictView = strictView;
    }

    @Override
    protected NDArray forward(NDArray... in) {
        inShape = in[0].shape();
        return strictView ? in[0].view(newShape) : in[0].reshape(newShape);
    }

    @Override
    protected NDArray[] backward(NDArray g) { return new NDArray[] {g.reshape(inShape)}; }
}
