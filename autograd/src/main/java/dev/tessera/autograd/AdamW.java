package dev.tessera.autograd;

import dev.tessera.tensor.NDArray;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The fused AdamW update over a list of parameters: one backend kernel per parameter
 * (NDArray.adamwStep), no graph, moments kept on the parameter's device. Parameters without a
 * gradient are skipped. The nn module's optimizer builds on this.
 *
 * <p>m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; p -= lr * wd * p;
 * p -= lr * m_hat / (sqrt(v_hat) + eps), with bias-corrected m_hat, v_hat.
 */
public final class AdamW {
    private final List<Tensor> params;
    private final Map<Tensor, NDArray[]> moments = new IdentityHashMap<>();
    private double lr;
    private final double beta1, beta2, eps, weightDecay;
    private long step;

    public AdamW(List<Tensor> params, double lr, double beta1, double beta2, double eps, double weightDecay) {
        for (Tensor p : params) {
            if (!p.isLeaf() || !p.requiresGrad()) {
                throw new IllegalArgumentException("AdamW: parameters must be leaf tensors that require grad, got " + p);
            }
            if (!p.data().isContiguous()) throw new IllegalArgumentException("AdamW: parameter data must be contiguous, got " + p);
        }
        if (!(lr >= 0) || !(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1) || !(eps > 0) || !(weightDecay >= 0)) {
            throw new IllegalArgumentException("AdamW: bad hyper-parameters lr " + lr + ", betas (" + beta1 + ", " + beta2 + "), eps " + eps + ", weight decay " + weightDecay);
        }
        this.params = new ArrayList<>(params);
        this.lr = lr;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
    }

    /** With PyTorch's defaults: betas (0.9, 0.999), eps 1e-8, weight decay 0.01. */
    public AdamW(List<Tensor> params, double lr) { this(params, lr, 0.9, 0.999, 1e-8, 0.01); }

    /** One update of every parameter that has a gradient. */
    public void step() {
        step++;
        for (Tensor p : params) {
            NDArray g = p.grad();
            if (g == null) continue;
            NDArray[] mv = moments.computeIfAbsent(p, k -> new NDArray[] {
                NDArray.zeros(k.device(), k.dtype(), k.shape()), NDArray.zeros(k.device(), k.dtype(), k.shape())});
            p.data().adamwStep(g, mv[0], mv[1], lr, beta1, beta2, eps, weightDecay, step);
        }
    }

    /** Clears every parameter's gradient. */
    public void zeroGrad() { for (Tensor p : params) p.zeroGrad(); }

    public long stepCount() { return step; }

    public double lr() { return lr; }

    /** Sets the learning rate for the next steps (for schedules). */
    public void lr(double lr) {
        if (!(lr >= 0)) throw new IllegalArgumentException("AdamW: learning rate must be >= 0, got " + lr);
        this.lr = lr;
    }

    /** The first and second moment buffers of p, or null before its first update. */
    public NDArray[] moments(Tensor p) {
        NDArray[] mv = moments.get(p);
        return mv == null ? null : mv.clone();
    }
}
