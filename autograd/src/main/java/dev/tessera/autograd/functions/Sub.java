package dev.tessera.autograd.functions;

import dev.tessera.autograd.Function;
import dev.tessera.tensor.NDArray;

/** Elementwise a - b with broadcasting; backward sums each gradient back to its input's shape. */
public final class Sub extends Function {
    @Override
    protected NDArray forward(NDArray... in) {
        NDArray a = in[0], b = in[1];
        saveForBackward(a, b);
        return a.sub(b);
    }

    @Override
    protected NDArray[] backward(NDArray g) {
        NDArray a = saved(0), b = saved(1);
        return new NDArray[] {
            needsInputGrad(0) ? sumToShape(g, a.shape()) : null,
            needsInputGrad(1) ? sumToShape(g.neg(), b.shape()) : null
        };
    }
}
