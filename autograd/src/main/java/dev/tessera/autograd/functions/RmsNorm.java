package dev.tessera.autograd.functions;

import dev.tessera.autograd.Function;
import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.NormGrads;
import dev.tessera.tensor.NormResult;

/** Fused RMS norm over the last dim C: x * rstd * weight, rstd = 1/sqrt(mean(x^2) + eps). Inputs x [..., C] and, when present, weight [C]. */
public final class RmsNorm extends Function {
    private final boolean hasWeight;
    private final double eps;

    public RmsNorm(boolean hasWeight, double eps) {
        this.hasWeight = hasWeight;
        this.eps = eps;
    }

    @Override
    protected NDArray forward(NDArray... in) {
        int expected = hasWeight ? 2 : 1;
        if (in.length != expected) throw new IllegalArgumentException("RmsNorm: expected " + expected + " inputs, got " + in.length);
        NDArray x = in[0];
        NDArray w = hasWeight ? in[1] : null;
        NormResult r = x.rmsNorm(w, eps);
        saveForBackward(x, r.rstd(), w);
        return r.out();
    }

    @Override
    protected NDArray[] backward(NDArray g) {
        NormGrads grads = saved(0).rmsNormBackward(g, saved(1), saved(2));
        return hasWeight ? new NDArray[] {grads.input(), grads.weight()} : new NDArray[] {grads.input()};
    }
}
