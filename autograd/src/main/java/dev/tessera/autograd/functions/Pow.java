package dev.tessera.autograd.functions;

import dev.tessera.autograd.Function;
import dev.tessera.tensor.NDArray;

/**
 * Elementwise a^b with broadcasting. ga = g * b * a^(b-1); gb = g * a^b * ln(a) (defined for
 * a > 0).
 */
public final class Pow extends Function {
    @Override
    protected NDArray forward(NDArray... in) {
        NDArray a = in[0], b = in[1];
        NDArray y = a.pow(b);
        saveForBackward(a, b, y);
        return y;
    }

    @Override
    protected NDArray[] backward(NDArray g) {
        NDArray a = saved(0), b = saved(1), y = saved(2);
        NDArray ga = needsInputGrad(0) ? sumToShape(g.mul(b).mul(a.pow(b.sub(1.0))), a.shape()) : null;
        NDArray gb = needsInputGrad(1) ? sumToShape(g.mul(y).mul(a.log()), b.shape()) : null;
        return new NDArray[] {ga, gb};
    }
}
