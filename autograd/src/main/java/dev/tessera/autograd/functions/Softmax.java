package dev.tessera.autograd.functions;

import dev.tessera.autograd.Function;
import dev.tessera.tensor.NDArray;

/**
 * Fused softmax (or log-softmax) along dim. Saves only the output y; backward is one kernel:
 * softmax gx = y * (g - sum(g * y)), log-softmax gx = g - exp(y) * sum(g).
 */
public final class Softmax extends Function {
    private final int dim;
    private final boolean log;

    public Softmax(int dim, boolean log) {
        this.dim = dim;
        this.log = log;
    }

    @Override
    public String name() { return log ? "LogSoftmax" : "Softmax"; }

    @Override
    protected NDArray forward(NDArray... in) {
        NDArray y = log ? in[0].logSoftmax(dim) : in[0].softmax(dim);
        saveForBackward(y);
        return y;
    }

    @Override
    protected NDArray[] backward(NDArray g) {
        return new NDArray[] {saved(0).softmaxBackward(g, dim, log)};
    }
}
