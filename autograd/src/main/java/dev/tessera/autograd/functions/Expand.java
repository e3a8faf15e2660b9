package dev.tessera.autograd.functions;

import dev.tessera.autograd.Function;
import dev.tessera.tensor.NDArray;

/** Broadcast view to a larger shape (stride 0 on the new dims). Backward sums the gradient over the broadcast dims. */
public final class Expand extends Function {
    private final int[] newShape;
    private int[] inShape;

    public Expand(int... newShape) { this.newShape = newShape.clone(); }

    @Override
    protected NDArray forward(NDArray... in) {
        inShape = in[0].shape();
        return in[0].expand(newShape);
    }

    @Override
    protected NDArray[] backward(NDArray g) { return new NDArray[] {sumToShape(g, inShape)}; }
}
