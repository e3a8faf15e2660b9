package dev.tessera.autograd.functions;

import dev.tessera.autograd.Function;
import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.NormGrads;
import dev.tessera.tensor.NormResult;

/**
 * Fused layer norm over the last dim C: (x - mean) * rstd * weight + bias. Inputs are x [..., C]
 * then weight [C] and bias [C] when present. Saves mean and rstd per row; backward is one kernel
 * giving dx, dweight and dbias.
 */
public final class LayerNorm extends Function {
    private final boolean hasWeight, hasBias;
    private final double eps;

    public LayerNorm(boolean hasWeight, boolean hasBias, double eps) {
        this.hasWeight = hasWeight;
        this.hasBias = hasBias;
        this.eps = eps;
    }

    @Override
    protected NDArray forward(NDArray... in) {
        int expected = 1 + (hasWeight ? 1 : 0) + (hasBias ? 1 : 0);
        if (in.length != expected) {
            throw new IllegalArgumentException("LayerNorm: expected " + expected + " inputs (x" + (hasWeight ? ", weight" : "") + (hasBias ? ", bias" : "") + "), got " + in.length);
        }
        NDArray x = in[0];
        NDArray w = hasWeight ? in[1] : null;
        NDArray b = hasBias ? in[hasWeight ? 2 : 1] : null;
        NormResult r = x.layerNorm(w, b, eps);
        saveForBackward(x, r.mean(), r.rstd(), w);
        return r.out();
    }

    @Override
    protected NDArray[] backward(NDArray g) {
        NDArray x = saved(0), mean = saved(1), rstd = saved(2), w = saved(3);
        NormGrads grads = x.layerNormBackward(g, mean, rstd, w, hasBias);
        NDArray[] out = new NDArray[inputCount()];
        out[0] = grads.input();
        if (hasWeight) out[1] = grads.weight();
        if (hasBias) out[hasWeight ? 2 : 1] = grads.bias();
        return out;
    }
}
