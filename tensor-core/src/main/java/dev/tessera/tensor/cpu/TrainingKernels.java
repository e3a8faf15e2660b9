package dev.tessera.tensor.cpu;

import static dev.tessera.tensor.cpu.VecMath.F;
import static dev.tessera.tensor.cpu.VecMath.L;

import dev.tessera.tensor.CpuStorage;
import dev.tessera.tensor.CrossEntropyResult;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.Parallel;
import dev.tessera.tensor.Shapes;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Cross entropy (forward: row max and sum of logits in one pass, sum of exponentials in a second;
 * backward: softmax minus the target distribution written in one pass) and the AdamW update (one
 * vectorized pass over parameter, gradient and both moments).
 */
final class TrainingKernels {
    private TrainingKernels() {}

    private static long target(CpuStorage t, int off, int row) {
        return t.dtype() == DType.I64 ? t.i64()[off + row] : t.i32()[off + row];
    }

    private static int checkTarget(long t, int v, int row) {
        if (t < 0 || t >= v) {
            throw new IndexOutOfBoundsException("crossEntropy: target " + t + " out of range for " + v + " classes (row " + row + ")");
        }
        return (int) t;
    }

    /** logits [N, V] and targets [N], both contiguous. */
    static CrossEntropyResult crossEntropy(NDArray logits, NDArray targets, long ignoreIndex, double smoothing) {
        int n = logits.size(0), v = logits.size(1);
        DType t = logits.dtype();
        NDArray loss = CpuBackend.newOutput(t, new int[] {n});
        NDArray lse = CpuBackend.newOutput(t, new int[] {n});
        CpuStorage ts = CpuBackend.cpu(targets);
        int to = targets.offset(), lo = logits.offset();
        long valid = 0;
        for (int r = 0; r < n; r++) {
            long tr = target(ts, to, r);
            if (tr != ignoreIndex) {
                checkTarget(tr, v, r);
                valid++;
            }
        }
        if (n == 0) return new CrossEntropyResult(loss, lse, valid);
        if (v == 0) throw new IllegalArgumentException("crossEntropy: logits have 0 classes, shape " + Shapes.str(logits.shape()));
        double s = smoothing;
        if (t == DType.F32) {
            float[] a = CpuBackend.f32(logits), lossA = CpuBackend.f32(loss), lseA = CpuBackend.f32(lse);
            int up = v - v % L;
            Parallel.forRange(n, RowKernels.rowGrain(v, CpuBackend.GRAIN_HEAVY),
                    (r0, r1) -> crossEntropyRowsF32(a, lo, v, ts, to, ignoreIndex, s, lossA, lseA, r0, r1));
        } else {
            double[] a = CpuBackend.f64(logits), lossA = CpuBackend.f64(loss), lseA = CpuBackend.f64(lse);
            Parallel.forRange(n, RowKernels.rowGrain(v, CpuBackend.GRAIN_HEAVY), (r0, r1) -> {
                for (int r = r0; r < r1; r++) {
                    int base = lo + r * v;
                    long tr = target(ts, to, r);
                    double m = Double.NEGATIVE_INFINITY, sumX = 0;
                    for (int j = 0; j < v; j++) {
                        m = Math.max(m, a[base + j]);
                        sumX += a[base + j];
                    }
                    double sumE = 0;
                    for (int j = 0; j < v; j++) sumE += Math.exp(a[base + j] - m);
                    double logS = m == Double.NEGATIVE_INFINITY ? 0 : Math.log(sumE); // an all -inf row: lse -inf, loss NaN
                    lseA[r] = m + logS;
                    lossA[r] = tr == ignoreIndex ? 0 : (1 - s) * ((m - a[base + (int) tr]) + logS) + (s != 0 ? s * ((m - sumX / v) + logS) : 0);
                }
            });
        }
        return new CrossEntropyResult(loss, lse, valid);
    }

    /**
     * Loss and log-sum-exp of rows [r0, r1) of contiguous F32 logits [N, V] at offset lo.
     * Software-pipelined: row r + 1's max (and logit sum, with smoothing) is taken inside row r's
     * exp-sum pass, so the next row's first memory-bound read overlaps the exp work. The first
     * row of a range uses the same accumulation order, so results do not depend on the split.
     */
    private static void crossEntropyRowsF32(float[] a, int lo, int v, CpuStorage ts, int to, long ignoreIndex, double s,
                                            float[] lossA, float[] lseA, int r0, int r1) {
        if (r0 >= r1) return;
        int up = v - v % L;
        FloatVector negInf = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY), zero = FloatVector.zero(F);
        boolean smooth = s != 0;
        // row r0's max and logit sum
        FloatVector mx = negInf, sx = zero;
        int base0 = lo + r0 * v;
        for (int j = 0; j < up; j += L) {
            FloatVector x = FloatVector.fromArray(F, a, base0 + j);
            mx = mx.max(x);
            if (smooth) sx = sx.add(x);
        }
        for (int r = r0; r < r1; r++) {
            boolean more = r + 1 < r1;
            // The last row reads itself where the next row's max would be taken (as in
            // RowKernels.softmaxRowsF32): a third loop with its own exp put this method past C2's
            // node budget with the polynomial exp, which then ran as a call on boxed vectors.
            int base = lo + r * v, next = more ? base + v : base;
            float m = mx.reduceLanes(VectorOperators.MAX);
            double sumX = smooth ? sx.reduceLanes(VectorOperators.ADD) : 0;
            for (int j = up; j < v; j++) {
                m = Math.max(m, a[base + j]);
                sumX += a[base + j];
            }
            FloatVector mv = FloatVector.broadcast(F, m), se = zero;
            mx = negInf;
            sx = zero;
            int j = 0;
            if (smooth) {
                for (; j < up; j += L) {
                    FloatVector x = FloatVector.fromArray(F, a, next + j);
                    mx = mx.max(x);
                    sx = sx.add(x);
                    se = se.add(VecMath.exp(FloatVector.fromArray(F, a, base + j).sub(mv)));
                }
            } else {
                for (; j < up; j += L) {
                    mx = mx.max(FloatVector.fromArray(F, a, next + j));
                    se = se.add(VecMath.exp(FloatVector.fromArray(F, a, base + j).sub(mv)));
                }
            }
            double sumE = se.reduceLanes(VectorOperators.ADD);
            for (; j < v; j++) sumE += Math.exp(a[base + j] - m);
            double logS = m == Float.NEGATIVE_INFINITY ? 0 : Math.log(sumE); // an all -inf row: lse -inf, loss NaN
            lseA[r] = (float) (m + logS);
            long tr = target(ts, to, r);
            if (tr == ignoreIndex) {
                lossA[r] = 0f;
            } else {
                // (max - x) + log(sum): a huge max would swallow log(sum) if added first
                double xt = a[base + (int) tr];
                lossA[r] = (float) ((1 - s) * ((m - xt) + logS) + (smooth ? s * ((m - sumX / v) + logS) : 0));
            }
        }
    }

    /** scale * (softmax(logits) - target distribution), zero rows for ignored targets. */
    static NDArray crossEntropyBackward(NDArray logits, NDArray targets, NDArray logSumExp, long ignoreIndex, double smoothing, double scale) {
        int n = logits.size(0), v = logits.size(1);
        DType t = logits.dtype();
        NDArray out = CpuBackend.newOutput(t, new int[] {n, v});
        if (n == 0 || v == 0) return out;
        CpuStorage ts = CpuBackend.cpu(targets);
        int to = targets.offset(), lo = logits.offset(), so = logSumExp.offset();
        for (int r = 0; r < n; r++) {
            long tr = target(ts, to, r);
            if (tr != ignoreIndex) checkTarget(tr, v, r);
        }
        double uniform = smoothing / v, onTarget = 1 - smoothing;
        if (t == DType.F32) {
            float[] a = CpuBackend.f32(logits), ls = CpuBackend.f32(logSumExp), o = CpuBackend.f32(out);
            int up = v - v % L;
            float sc = (float) scale, off = (float) (scale * uniform);
            Parallel.forRange(n, RowKernels.rowGrain(v, CpuBackend.GRAIN_HEAVY), (r0, r1) -> {
                for (int r = r0; r < r1; r++) {
                    long tr = target(ts, to, r);
                    int base = lo + r * v, oi = r * v;
                    if (tr == ignoreIndex) { // ignored row: zero gradient
                        java.util.Arrays.fill(o, oi, oi + v, 0f);
                        continue;
                    }
                    float l = ls[so + r];
                    int j = 0;
                    for (; j < up; j += L) {
                        VecMath.exp(FloatVector.fromArray(F, a, base + j).sub(l)).mul(sc).sub(off).intoArray(o, oi + j);
                    }
                    for (; j < v; j++) o[oi + j] = (float) (scale * (Math.exp(a[base + j] - l) - uniform));
                    o[oi + (int) tr] -= (float) (scale * onTarget);
                }
            });
        } else {
            double[] a = CpuBackend.f64(logits), ls = CpuBackend.f64(logSumExp), o = CpuBackend.f64(out);
            Parallel.forRange(n, RowKernels.rowGrain(v, CpuBackend.GRAIN_HEAVY), (r0, r1) -> {
                for (int r = r0; r < r1; r++) {
                    long tr = target(ts, to, r);
                    int base = lo + r * v, oi = r * v;
                    if (tr == ignoreIndex) {
                        java.util.Arrays.fill(o, oi, oi + v, 0.0);
                        continue;
                    }
                    double l = ls[so + r];
                    for (int j = 0; j < v; j++) o[oi + j] = scale * (Math.exp(a[base + j] - l) - uniform);
                    o[oi + (int) tr] -= scale * onTarget;
                }
            });
        }
        return out;
    }

    /** One AdamW step over contiguous param, m, v and a contiguous grad. */
    static void adamw(NDArray param, NDArray grad, NDArray m, NDArray v, double lr, double beta1, double beta2,
                      double eps, double weightDecay, long step) {
        int n = param.numel();
        int po = param.offset(), go = grad.offset(), mo = m.offset(), vo = v.offset();
        double bc1 = 1 - Math.pow(beta1, step), bc2 = 1 - Math.pow(beta2, step);
        double decay = 1 - lr * weightDecay, stepSize = lr / bc1, invBc2 = 1 / bc2;
        if (param.dtype() == DType.F32) {
            float[] p = CpuBackend.f32(param), g = CpuBackend.f32(grad), ma = CpuBackend.f32(m), va = CpuBackend.f32(v);
            float b1 = (float) beta1, b2 = (float) beta2, c1 = (float) (1 - beta1), c2 = (float) (1 - beta2);
            float dec = (float) decay, ss = (float) stepSize, ib = (float) invBc2, ep = (float) eps;
            Parallel.forRange(n, CpuBackend.GRAIN, (s, e) -> {
                int i = s, up = e - (e - s) % L;
                for (; i < up; i += L) {
                    FloatVector gv = FloatVector.fromArray(F, g, go + i);
                    FloatVector mv = FloatVector.fromArray(F, ma, mo + i).mul(b1).add(gv.mul(c1));
                    FloatVector vv = FloatVector.fromArray(F, va, vo + i).mul(b2).add(gv.mul(gv).mul(c2));
                    mv.intoArray(ma, mo + i);
                    vv.intoArray(va, vo + i);
                    FloatVector denom = vv.mul(ib).sqrt().add(ep);
                    FloatVector pv = FloatVector.fromArray(F, p, po + i).mul(dec);
                    pv.sub(mv.mul(ss).div(denom)).intoArray(p, po + i);
                }
                for (; i < e; i++) {
                    float gi = g[go + i];
                    float mi = b1 * ma[mo + i] + c1 * gi;
                    float vi = b2 * va[vo + i] + c2 * gi * gi;
                    ma[mo + i] = mi;
                    va[vo + i] = vi;
                    p[po + i] = p[po + i] * dec - ss * mi / ((float) Math.sqrt(vi * ib) + ep);
                }
            });
        } else {
            double[] p = CpuBackend.f64(param), g = CpuBackend.f64(grad), ma = CpuBackend.f64(m), va = CpuBackend.f64(v);
            Parallel.forRange(n, CpuBackend.GRAIN, (s, e) -> {
                for (int i = s; i < e; i++) {
                    double gi = g[go + i];
                    double mi = beta1 * ma[mo + i] + (1 - beta1) * gi;
                    double vi = beta2 * va[vo + i] + (1 - beta2) * gi * gi;
                    ma[mo + i] = mi;
                    va[vo + i] = vi;
                    p[po + i] = p[po + i] * decay - stepSize * mi / (Math.sqrt(vi * invBc2) + eps);
                }
            });
        }
    }
}
