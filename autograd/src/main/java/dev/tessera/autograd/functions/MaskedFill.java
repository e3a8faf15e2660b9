package dev.tessera.autograd.functions;

import dev.tessera.autograd.Function;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.Shapes;

import java.util.Arrays;

/**
 * x with value wherever mask is true (mask BOOL, broadcast to x's shape), e.g. -inf above the
 * diagonal for causal attention. Backward passes the gradient where the mask is false.
 */
public final class MaskedFill extends Function {
    private final NDArray mask;
    private final double value;

    public MaskedFill(NDArray mask, double value) {
        if (mask.dtype() != DType.BOOL) throw new IllegalArgumentException("maskedFill: mask must be bool, got " + mask.dtype() + " of shape " + Shapes.str(mask.shape()));
        this.mask = mask;
        this.value = value;
    }

    @Override
    protected NDArray forward(NDArray... in) {
        NDArray x = in[0];
        int[] out = Shapes.broadcast("maskedFill", mask.shape(), x.shape());
        if (!Arrays.equals(out, x.shape())) {
            throw new IllegalArgumentException("maskedFill: mask shape " + Shapes.str(mask.shape()) + " must broadcast to the input shape " + Shapes.str(x.shape()));
        }
        return NDArray.where(mask, NDArray.full(x.device(), x.dtype(), value), x);
    }

    @Override
    protected NDArray[] backward(NDArray g) {
        return new NDArray[] {NDArray.where(mask, NDArray.zeros(g.device(), g.dtype()), g)};
    }
}
