package dev.tessera.autograd.functions;

import dev.tessera.autograd.Function;
import dev.tessera.tensor.NDArray;

/** Elementwise a / b with broadcasting; backward sums each gradient back to its input's shape. */
public final class Div extends Function {
    @Override
    protected NDArray forward(NDArray... in) {
        NDArray a = in[0], b = in[1];
        saveForBackward(a, b);
        return a.div(b);
    }

    @Override
    protected NDArray[] backward(NDArray g) {
        NDArray a = saved(0), b = saved(1);
        return new NDArray[] {
            needsInputGrad(0) ? sumToShape(g.div(b), a.shape()) : null,
            needsInputGrad(1) ? sumToShape(g.mul(a).div(b.mul(b)).neg(), b.shape()) : null
        };
    }
}
