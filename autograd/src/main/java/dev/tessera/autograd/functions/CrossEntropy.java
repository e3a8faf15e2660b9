package dev.tessera.autograd.functions;

import dev.tessera.autograd.Function;
import dev.tessera.tensor.CrossEntropyResult;
import dev.tessera.tensor.NDArray;

/**
 * Fused cross entropy of logits [N, V] against class targets [N] (I32/I64), with an ignore index
 * (rows whose target equals it contribute nothing and are not counted) and label smoothing s
 * (target distribution (1 - s) on the class plus s / V everywhere). Never materializes the
 * softmax in forward; backward is one kernel, softmax - target distribution.
 */
public final class CrossEntropy extends Function {
    /** How per-row losses are combined: mean over non-ignored rows, sum, or none (per-row [N]). */
    public enum Reduction { MEAN, SUM, NONE }

    private final NDArray targets;
    private final long ignoreIndex;
    private final double labelSmoothing;
    private final Reduction reduction;
    private long validCount;

    public CrossEntropy(NDArray targets, long ignoreIndex, double labelSmoothing, Reduction reduction) {
        this.targets = targets;
        this.ignoreIndex = ignoreIndex;
        this.labelSmoothing = labelSmoothing;
        this.reduction = reduction;
    }

    @Override
    protected NDArray forward(NDArray... in) {
        NDArray logits = in[0];
        CrossEntropyResult r = logits.crossEntropy(targets, ignoreIndex, labelSmoothing);
        validCount = r.validCount();
        saveForBackward(logits, r.logSumExp());
        NDArray loss = r.loss();
        switch (reduction) {
            case NONE: return loss;
            case SUM: return loss.sum();
            default: return loss.sum().div((double) validCount);
        }
    }

    @Override
    protected NDArray[] backward(NDArray g) {
        NDArray logits = saved(0), lse = saved(1);
        double scale = reduction == Reduction.MEAN ? 1.0 / validCount : 1.0;
        NDArray grad = logits.crossEntropyBackward(targets, lse, ignoreIndex, labelSmoothing, scale);
        NDArray gOut = reduction == Reduction.NONE ? g.unsqueeze(1) : g;
        return new NDArray[] {grad.mul(gOut).to(logits.dtype())};
    }
}
