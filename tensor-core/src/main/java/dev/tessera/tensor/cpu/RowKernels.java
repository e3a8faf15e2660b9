package dev.tessera.tensor.cpu;

import static dev.tessera.tensor.cpu.VecMath.F;
import static dev.tessera.tensor.cpu.VecMath.L;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.NormGrads;
import dev.tessera.tensor.NormResult;
import dev.tessera.tensor.Parallel;
import dev.tessera.tensor.Shapes;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Fused kernels over the last dim C of contiguous [N, C] arrays (N = all leading dims), one row
 * per step, rows in parallel. Softmax: an exp-and-sum pass writing the output (which also takes
 * the next row's max), a scale pass (the row is still in cache). Norms: statistics and output in one sweep per row;
 * their backward accumulates the weight and bias gradients per task and sums the tasks in order.
 */
final class RowKernels {
    private RowKernels() {}

    /** Rows per task so that a task has at least about GRAIN elements of work. */
    static int rowGrain(int c, int grain) {
        return Math.max(1, grain / Math.max(1, c));
    }

    static int lastDim(NDArray x, String op) {
        if (x.rank() == 0) throw new IllegalArgumentException(op + ": input must have at least one dim");
        return x.size(-1);
    }

    // ---- softmax --------------------------------------------------------------------------

    static NDArray softmax(NDArray x, boolean log) {
        int c = lastDim(x, "softmax");
        int n = c == 0 ? 0 : x.numel() / c;
        NDArray out = CpuBackend.newOutput(x.dtype(), x.shape());
        if (n == 0 || c == 0) return out;
        int xo = x.offset();
        if (x.dtype() == DType.F32) {
            float[] a = CpuBackend.f32(x), o = CpuBackend.f32(out);
            Parallel.forRange(n, rowGrain(c, CpuBackend.GRAIN_HEAVY), (r0, r1) -> softmaxRowsF32(a, xo, o, c, r0, r1, log));
        } else if (x.dtype() == DType.F64) {
            double[] a = CpuBackend.f64(x), o = CpuBackend.f64(out);
            Parallel.forRange(n, rowGrain(c, CpuBackend.GRAIN_HEAVY), (r0, r1) -> {
                for (int r = r0; r < r1; r++) {
                    int ai = xo + r * c, oi = r * c;
                    double m = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < c; j++) m = Math.max(m, a[ai + j]);
                    double s = 0;
                    for (int j = 0; j < c; j++) s += Math.exp(a[ai + j] - m);
                    if (log) {
                        double logS = Math.log(s);
                        for (int j = 0; j < c; j++) o[oi + j] = (a[ai + j] - m) - logS;
                    } else {
                        double inv = 1.0 / s;
                        for (int j = 0; j < c; j++) o[oi + j] = Math.exp(a[ai + j] - m) * inv;
                    }
                }
            });
        } else {
            throw new IllegalArgumentException("softmax: needs F32 or F64, got " + x.dtype() + " of shape " + Shapes.str(x.shape()));
        }
        return out;
    }

    /**
     * Softmax or log-softmax of rows [r0, r1) of a contiguous [N, C] block at offset xo into o
     * (offset 0). Software-pipelined: the max of row r + 1 is taken inside row r's exp pass, so
     * that the next row's first (memory-bound) read overlaps this row's exp work instead of
     * running as a separate pass. The result does not depend on where rows are split.
     */
    static void softmaxRowsF32(float[] a, int xo, float[] o, int c, int r0, int r1, boolean log) {
        if (r0 >= r1) return;
        int up = c - c % L;
        FloatVector negInf = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        float m = rowMaxF32(a, xo + r0 * c, c);
        for (int r = r0; r < r1; r++) {
            boolean more = r + 1 < r1;
            // The last row's loop reads its own row again where the next row's max would be taken
            // (an L1 hit, result unused) rather than being a loop of its own: with the polynomial
            // exp, four inlined copies put this method past C2's node budget (NodeCountInliningCutoff),
            // which left exp a call on boxed vectors and the softmax 4.7x slower.
            int ai = xo + r * c, oi = r * c, ni = more ? ai + c : ai;
            FloatVector mv = FloatVector.broadcast(F, m);
            FloatVector acc = FloatVector.zero(F), nextMax = negInf;
            int j = 0;
            if (log) {
                for (; j < up; j += L) {
                    nextMax = nextMax.max(FloatVector.fromArray(F, a, ni + j));
                    acc = acc.add(VecMath.exp(FloatVector.fromArray(F, a, ai + j).sub(mv)));
                }
            } else {
                for (; j < up; j += L) {
                    nextMax = nextMax.max(FloatVector.fromArray(F, a, ni + j));
                    FloatVector e = VecMath.exp(FloatVector.fromArray(F, a, ai + j).sub(mv));
                    e.intoArray(o, oi + j);
                    acc = acc.add(e);
                }
            }
            double s = acc.reduceLanes(VectorOperators.ADD);
            for (; j < c; j++) {
                float e = (float) Math.exp(a[ai + j] - m);
                if (!log) o[oi + j] = e;
                s += e;
            }
            if (log) {
                // (x - max) - log(sum): forming max + log(sum) first would lose log(sum) next to a huge max
                float logS = (float) Math.log(s);
                FloatVector lv = FloatVector.broadcast(F, logS);
                for (j = 0; j < up; j += L) FloatVector.fromArray(F, a, ai + j).sub(mv).sub(lv).intoArray(o, oi + j);
                for (; j < c; j++) o[oi + j] = (a[ai + j] - m) - logS;
            } else {
                float invS = (float) (1.0 / s);
                FloatVector inv = FloatVector.broadcast(F, invS);
                for (j = 0; j < up; j += L) FloatVector.fromArray(F, o, oi + j).mul(inv).intoArray(o, oi + j);
                for (; j < c; j++) o[oi + j] *= invS;
            }
            if (more) {
                float nm = nextMax.reduceLanes(VectorOperators.MAX);
                for (j = up; j < c; j++) nm = Math.max(nm, a[ni + j]);
                m = nm;
            }
        }
    }

    /** Max of a[off, off + c) (c >= 1), in the same order as the pipelined max in {@link #softmaxRowsF32}. */
    private static float rowMaxF32(float[] a, int off, int c) {
        int up = c - c % L;
        FloatVector acc = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (int j = 0; j < up; j += L) acc = acc.max(FloatVector.fromArray(F, a, off + j));
        float m = acc.reduceLanes(VectorOperators.MAX);
        for (int j = up; j < c; j++) m = Math.max(m, a[off + j]);
        return m;
    }

    static NDArray softmaxBackward(NDArray y, NDArray g, boolean log) {
        int c = lastDim(y, "softmax backward");
        int n = c == 0 ? 0 : y.numel() / c;
        NDArray out = CpuBackend.newOutput(y.dtype(), y.shape());
        if (n == 0) return out;
        int yo = y.offset(), go = g.offset();
        if (y.dtype() == DType.F32) {
            float[] ya = CpuBackend.f32(y), ga = CpuBackend.f32(g), o = CpuBackend.f32(out);
            int up = c - c % L;
            Parallel.forRange(n, rowGrain(c, CpuBackend.GRAIN_HEAVY), (r0, r1) -> {
                for (int r = r0; r < r1; r++) {
                    int yi = yo + r * c, gi = go + r * c, oi = r * c;
                    FloatVector acc = FloatVector.zero(F);
                    int j = 0;
                    if (log) {
                        for (; j < up; j += L) acc = acc.add(FloatVector.fromArray(F, ga, gi + j));
                        double s = acc.reduceLanes(VectorOperators.ADD);
                        for (; j < c; j++) s += ga[gi + j];
                        FloatVector sv = FloatVector.broadcast(F, (float) -s);
                        for (j = 0; j < up; j += L) {
                            VecMath.exp(FloatVector.fromArray(F, ya, yi + j)).fma(sv, FloatVector.fromArray(F, ga, gi + j)).intoArray(o, oi + j);
                        }
                        for (; j < c; j++) o[oi + j] = (float) (ga[gi + j] - Math.exp(ya[yi + j]) * s);
                    } else {
                        for (; j < up; j += L) acc = FloatVector.fromArray(F, ga, gi + j).fma(FloatVector.fromArray(F, ya, yi + j), acc);
                        double s = acc.reduceLanes(VectorOperators.ADD);
                        for (; j < c; j++) s += (double) ga[gi + j] * ya[yi + j];
                        float sf = (float) s;
                        for (j = 0; j < up; j += L) {
                            FloatVector.fromArray(F, ga, gi + j).sub(sf).mul(FloatVector.fromArray(F, ya, yi + j)).intoArray(o, oi + j);
                        }
                        for (; j < c; j++) o[oi + j] = (ga[gi + j] - sf) * ya[yi + j];
                    }
                }
            });
        } else {
            double[] ya = CpuBackend.f64(y), ga = CpuBackend.f64(g), o = CpuBackend.f64(out);
            Parallel.forRange(n, rowGrain(c, CpuBackend.GRAIN_HEAVY), (r0, r1) -> {
                for (int r = r0; r < r1; r++) {
                    int yi = yo + r * c, gi = go + r * c, oi = r * c;
                    double s = 0;
                    if (log) {
                        for (int j = 0; j < c; j++) s += ga[gi + j];
                        for (int j = 0; j < c; j++) o[oi + j] = ga[gi + j] - Math.exp(ya[yi + j]) * s;
                    } else {
                        for (int j = 0; j < c; j++) s += ga[gi + j] * ya[yi + j];
                        for (int j = 0; j < c; j++) o[oi + j] = ya[yi + j] * (ga[gi + j] - s);
                    }
                }
            });
        }
        return out;
    }

    // ---- layer norm and RMS norm ----------------------------------------------------------

    private static int[] rowsShape(int[] shape) {
        return Arrays.copyOf(shape, shape.length - 1);
    }

    static NormResult layerNorm(NDArray x, NDArray w, NDArray b, double eps) {
        return norm(x, w, b, eps, false);
    }

    static NormResult rmsNorm(NDArray x, NDArray w, double eps) {
        return norm(x, w, null, eps, true);
    }

    private static NormResult norm(NDArray x, NDArray w, NDArray b, double eps, boolean rms) {
        int c = lastDim(x, rms ? "rmsNorm" : "layerNorm");
        int n = c == 0 ? 0 : x.numel() / c;
        DType t = x.dtype();
        NDArray out = CpuBackend.newOutput(t, x.shape());
        NDArray meanArr = rms ? null : CpuBackend.newOutput(t, rowsShape(x.shape()));
        NDArray rstdArr = CpuBackend.newOutput(t, rowsShape(x.shape()));
        if (n == 0) return new NormResult(out, meanArr, rstdArr);
        int xo = x.offset(), wo = w == null ? 0 : w.offset(), bo = b == null ? 0 : b.offset();
        if (t == DType.F32) {
            float[] a = CpuBackend.f32(x), o = CpuBackend.f32(out), rs = CpuBackend.f32(rstdArr);
            float[] ms = rms ? null : CpuBackend.f32(meanArr);
            float[] wa = w == null ? null : CpuBackend.f32(w), ba = b == null ? null : CpuBackend.f32(b);
            Parallel.forRange(n, rowGrain(c, CpuBackend.GRAIN), (r0, r1) -> normRowsF32(a, xo, o, ms, rs, wa, wo, ba, bo, c, r0, r1, eps, rms));
        } else {
            double[] a = CpuBackend.f64(x), o = CpuBackend.f64(out), rs = CpuBackend.f64(rstdArr);
            double[] ms = rms ? null : CpuBackend.f64(meanArr);
            double[] wa = w == null ? null : CpuBackend.f64(w), ba = b == null ? null : CpuBackend.f64(b);
            Parallel.forRange(n, rowGrain(c, CpuBackend.GRAIN), (r0, r1) -> {
                for (int r = r0; r < r1; r++) {
                    int ai = xo + r * c, oi = r * c;
                    double mean = rms ? 0 : Reductions.sumF64(a, ai, c) / c;
                    double rstd = 1.0 / Math.sqrt(Reductions.sqDevF64(a, ai, c, mean) / c + eps);
                    // (mean is the compensated sum / c: exact for constant rows)
                    if (!rms) ms[r] = mean;
                    rs[r] = rstd;
                    for (int j = 0; j < c; j++) {
                        double v = (a[ai + j] - mean) * rstd;
                        if (wa != null) v *= wa[wo + j];
                        if (ba != null) v += ba[bo + j];
                        o[oi + j] = v;
                    }
                }
            });
        }
        return new NormResult(out, meanArr, rstdArr);
    }

    /** Block length of the float partial sums that are added up in double. */
    private static final int SUM_BLOCK = 1024;

    /**
     * Layer norm (RMS norm: rms) of rows [r0, r1) of contiguous F32 [N, C] (x at xo, out, mean and
     * rstd at 0). Per row: a sum pass, a deviation pass (sum of d and d^2 about the rounded mean;
     * the first corrects the mean, exact for constant rows), an output pass. Software-pipelined:
     * row r + 1's sum pass, its first memory-bound read, runs inside row r's deviation pass. Each
     * row's sums see the same operations in the same order wherever the rows are split.
     */
    private static void normRowsF32(float[] a, int xo, float[] o, float[] ms, float[] rs, float[] wa, int wo, float[] ba, int bo,
                                    int c, int r0, int r1, double eps, boolean rms) {
        if (r0 >= r1) return;
        int up = c - c % L;
        FloatVector zero = FloatVector.zero(F);
        double sum = 0;
        if (!rms) {
            int ai0 = xo + r0 * c;
            for (int b = 0; b < up; b += SUM_BLOCK) {
                int end = Math.min(up, b + SUM_BLOCK);
                FloatVector acc = zero;
                for (int j = b; j < end; j += L) acc = acc.add(FloatVector.fromArray(F, a, ai0 + j));
                sum += acc.reduceLanes(VectorOperators.ADD);
            }
            for (int j = up; j < c; j++) sum += a[ai0 + j];
        }
        for (int r = r0; r < r1; r++) {
            int ai = xo + r * c, oi = r * c, ni = ai + c;
            boolean more = !rms && r + 1 < r1;
            float m0 = rms ? 0f : (float) (sum / c);
            FloatVector mv0 = FloatVector.broadcast(F, m0);
            double s1 = 0, s2 = 0, nextSum = 0;
            for (int b = 0; b < up; b += SUM_BLOCK) {
                int end = Math.min(up, b + SUM_BLOCK);
                FloatVector acc1 = zero, acc2 = zero;
                if (more) {
                    FloatVector accN = zero;
                    for (int j = b; j < end; j += L) {
                        accN = accN.add(FloatVector.fromArray(F, a, ni + j));
                        FloatVector d = FloatVector.fromArray(F, a, ai + j).sub(mv0);
                        acc1 = acc1.add(d);
                        acc2 = d.fma(d, acc2);
                    }
                    nextSum += accN.reduceLanes(VectorOperators.ADD);
                } else {
                    for (int j = b; j < end; j += L) {
                        FloatVector d = FloatVector.fromArray(F, a, ai + j).sub(mv0);
                        acc1 = acc1.add(d);
                        acc2 = d.fma(d, acc2);
                    }
                }
                s1 += acc1.reduceLanes(VectorOperators.ADD);
                s2 += acc2.reduceLanes(VectorOperators.ADD);
            }
            for (int j = up; j < c; j++) {
                double d = a[ai + j] - m0;
                s1 += d;
                s2 += d * d;
            }
            if (more) {
                for (int j = up; j < c; j++) nextSum += a[ni + j];
            }
            // the deviations' sum corrects the rounded mean (exact for constant rows)
            double mean = rms ? 0 : m0 + s1 / c;
            double var = Math.max(0, s2 / c - (rms ? 0 : (s1 / c) * (s1 / c)));
            float m = (float) mean, rstd = (float) (1.0 / Math.sqrt(var + eps));
            if (!rms) ms[r] = m;
            rs[r] = rstd;
            FloatVector mv = FloatVector.broadcast(F, m), rv = FloatVector.broadcast(F, rstd);
            int j = 0;
            if (wa != null && ba != null) {
                for (; j < up; j += L) {
                    FloatVector.fromArray(F, a, ai + j).sub(mv).mul(rv).mul(FloatVector.fromArray(F, wa, wo + j))
                            .add(FloatVector.fromArray(F, ba, bo + j)).intoArray(o, oi + j);
                }
            } else {
                for (; j < up; j += L) {
                    FloatVector v = FloatVector.fromArray(F, a, ai + j).sub(mv).mul(rv);
                    if (wa != null) v = v.mul(FloatVector.fromArray(F, wa, wo + j));
                    if (ba != null) v = v.add(FloatVector.fromArray(F, ba, bo + j));
                    v.intoArray(o, oi + j);
                }
            }
            for (; j < c; j++) {
                float v = (a[ai + j] - m) * rstd;
                if (wa != null) v *= wa[wo + j];
                if (ba != null) v += ba[bo + j];
                o[oi + j] = v;
            }
            sum = nextSum;
        }
    }

    static NormGrads layerNormBackward(NDArray g, NDArray x, NDArray mean, NDArray rstd, NDArray w, boolean hasBias) {
        return normBackward(g, x, mean, rstd, w, hasBias, false);
    }

    static NormGrads rmsNormBackward(NDArray g, NDArray x, NDArray rstd, NDArray w) {
        return normBackward(g, x, null, rstd, w, false, true);
    }

    /**
     * xhat = (x - mean) rstd, gw = g * weight:
     * dx = rstd (gw - mean(gw) - xhat mean(gw xhat)) (RMS norm: without the mean(gw) term),
     * dweight = sum over rows of g xhat, dbias = sum over rows of g.
     */
    private static NormGrads normBackward(NDArray g, NDArray x, NDArray mean, NDArray rstd, NDArray w, boolean hasBias, boolean rms) {
        int c = lastDim(x, rms ? "rmsNorm backward" : "layerNorm backward");
        int n = c == 0 ? 0 : x.numel() / c;
        DType t = x.dtype();
        NDArray dx = CpuBackend.newOutput(t, x.shape());
        NDArray dw = w == null ? null : CpuBackend.newArray(t, new int[] {c});
        NDArray db = hasBias ? CpuBackend.newArray(t, new int[] {c}) : null;
        if (n == 0) return new NormGrads(dx, dw, db);
        int threads = Parallel.threads();
        int chunk = Math.max(rowGrain(c, CpuBackend.GRAIN), (n + threads * 4 - 1) / (threads * 4));
        int tasks = (n + chunk - 1) / chunk;
        int xo = x.offset(), go = g.offset(), mo = mean == null ? 0 : mean.offset(), ro = rstd.offset(), wo = w == null ? 0 : w.offset();
        if (t == DType.F32) {
            float[] xa = CpuBackend.f32(x), ga = CpuBackend.f32(g), o = CpuBackend.f32(dx), rs = CpuBackend.f32(rstd);
            float[] ms = mean == null ? null : CpuBackend.f32(mean);
            // The row kernel has no branch on which gradients are wanted: with such branches, a JVM
            // that had run several kinds of norm sometimes compiled it with boxed vectors (JDK 25,
            // AVX2, after CpuBackendKernelsTest: 9.4 MB per call in 3 runs of 5; 0 of 5 without
            // them; JDK 17 still did at times: docs/measurements/2026-11-29-kernel-allocation-session12.txt).
            // No weight is a weight of ones (x 1 is exact); unwanted sums are computed and dropped.
            float[] wa = w == null ? ones(c) : CpuBackend.f32(w);
            int wOff = w == null ? 0 : wo;
            float[][] dwPart = new float[tasks][], dbPart = new float[tasks][];
            Parallel.forEach(tasks, tk -> {
                float[] dwAcc = new float[c], dbAcc = new float[c];
                dwPart[tk] = dwAcc;
                dbPart[tk] = dbAcc;
                normBackwardRowsF32(xa, xo, ga, go, o, ms, mo, rs, ro, wa, wOff, dwAcc, dbAcc, c, tk * chunk, Math.min(n, (tk + 1) * chunk), rms);
            });
            if (dw != null) sumParts(dwPart, CpuBackend.f32(dw));
            if (db != null) sumParts(dbPart, CpuBackend.f32(db));
        } else {
            double[] xa = CpuBackend.f64(x), ga = CpuBackend.f64(g), o = CpuBackend.f64(dx), rs = CpuBackend.f64(rstd);
            double[] ms = mean == null ? null : CpuBackend.f64(mean), wa = w == null ? null : CpuBackend.f64(w);
            double[][] dwPart = new double[tasks][], dbPart = new double[tasks][];
            Parallel.forEach(tasks, tk -> {
                double[] dwAcc = wa == null ? null : new double[c], dbAcc = hasBias ? new double[c] : null;
                dwPart[tk] = dwAcc;
                dbPart[tk] = dbAcc;
                int r1 = Math.min(n, (tk + 1) * chunk);
                for (int r = tk * chunk; r < r1; r++) {
                    int xi = xo + r * c, gi = go + r * c, oi = r * c;
                    double m = ms == null ? 0 : ms[mo + r], s = rs[ro + r];
                    double s1 = 0, c1 = 0, s2 = 0;
                    for (int j = 0; j < c; j++) {
                        double xh = (xa[xi + j] - m) * s, gv = ga[gi + j];
                        if (dwAcc != null) dwAcc[j] += gv * xh;
                        if (dbAcc != null) dbAcc[j] += gv;
                        if (wa != null) gv *= wa[wo + j];
                        double tsum = s1 + gv; // compensated: constant rows give mean(gw) exactly
                        c1 += Math.abs(s1) >= Math.abs(gv) ? (s1 - tsum) + gv : (gv - tsum) + s1;
                        s1 = tsum;
                        s2 += gv * xh;
                    }
                    s1 += c1;
                    double mean1 = rms ? 0 : s1 / c, mean2 = s2 / c;
                    for (int j = 0; j < c; j++) {
                        double xh = (xa[xi + j] - m) * s, gv = ga[gi + j];
                        if (wa != null) gv *= wa[wo + j];
                        o[oi + j] = (gv - mean1 - xh * mean2) * s;
                    }
                }
            });
            if (dw != null) sumParts(dwPart, CpuBackend.f64(dw));
            if (db != null) sumParts(dbPart, CpuBackend.f64(db));
        }
        return new NormGrads(dx, dw, db);
    }

    /**
     * dx for rows [r0, r1) of contiguous F32 [N, C] (x at xo, g at go, dx at 0) and the rows'
     * weight and bias gradient sums added to dwAcc / dbAcc (wa, dwAcc and dbAcc are never null:
     * see normBackward). Per row a statistics pass (sum(gw), sum(gw xhat), dw, db) and an output
     * pass; software-pipelined: row r + 1's statistics pass runs inside row r's output pass, so its
     * memory-bound reads of x and g overlap the output work. Every row's sums see the same
     * operations in the same order wherever the rows are split.
     */
    private static void normBackwardRowsF32(float[] xa, int xo, float[] ga, int go, float[] o, float[] ms, int mo, float[] rs, int ro,
                                            float[] wa, int wo, float[] dwAcc, float[] dbAcc, int c, int r0, int r1, boolean rms) {
        if (r0 >= r1) return;
        int up = c - c % L;
        FloatVector zero = FloatVector.zero(F);
        // statistics of row r0
        int xi0 = xo + r0 * c, gi0 = go + r0 * c;
        float m0 = ms == null ? 0f : ms[mo + r0], rs0 = rs[ro + r0];
        // sum(gw) is taken relative to the first gw so that constant rows give mean(gw) exactly
        float shift0 = ga[gi0] * wa[wo];
        FloatVector sum1 = zero, sum2 = zero, sh0 = FloatVector.broadcast(F, shift0);
        int j = 0;
        for (; j < up; j += L) {
            FloatVector xh = FloatVector.fromArray(F, xa, xi0 + j).sub(m0).mul(rs0);
            FloatVector gv = FloatVector.fromArray(F, ga, gi0 + j);
            xh.fma(gv, FloatVector.fromArray(F, dwAcc, j)).intoArray(dwAcc, j);
            gv.add(FloatVector.fromArray(F, dbAcc, j)).intoArray(dbAcc, j);
            gv = gv.mul(FloatVector.fromArray(F, wa, wo + j));
            sum1 = sum1.add(gv.sub(sh0));
            sum2 = gv.fma(xh, sum2);
        }
        double s1 = sum1.reduceLanes(VectorOperators.ADD), s2 = sum2.reduceLanes(VectorOperators.ADD);
        for (; j < c; j++) {
            float xh = (xa[xi0 + j] - m0) * rs0, gv = ga[gi0 + j];
            dwAcc[j] += gv * xh;
            dbAcc[j] += gv;
            gv *= wa[wo + j];
            s1 += gv - shift0;
            s2 += (double) gv * xh;
        }
        float shift = shift0;
        for (int r = r0; r < r1; r++) {
            int xi = xo + r * c, gi = go + r * c, oi = r * c;
            float m = ms == null ? 0f : ms[mo + r], s = rs[ro + r];
            float mean1 = rms ? 0f : (float) (shift + s1 / c), mean2 = (float) (s2 / c);
            FloatVector negMean2 = FloatVector.broadcast(F, -mean2), mean1v = FloatVector.broadcast(F, mean1);
            boolean more = r + 1 < r1;
            j = 0;
            if (more) {
                int xn = xi + c, gn = gi + c;
                float mn = ms == null ? 0f : ms[mo + r + 1], sn = rs[ro + r + 1];
                float shiftN = ga[gn] * wa[wo];
                FloatVector shN = FloatVector.broadcast(F, shiftN);
                sum1 = zero;
                sum2 = zero;
                for (; j < up; j += L) {
                    // row r: rstd * (gw - mean1 - xhat * mean2)
                    FloatVector xh = FloatVector.fromArray(F, xa, xi + j).sub(m).mul(s);
                    FloatVector gv = FloatVector.fromArray(F, ga, gi + j);
                    gv = gv.mul(FloatVector.fromArray(F, wa, wo + j));
                    xh.mul(negMean2).add(gv).sub(mean1v).mul(s).intoArray(o, oi + j);
                    // row r + 1: statistics
                    FloatVector xh2 = FloatVector.fromArray(F, xa, xn + j).sub(mn).mul(sn);
                    FloatVector gv2 = FloatVector.fromArray(F, ga, gn + j);
                    xh2.fma(gv2, FloatVector.fromArray(F, dwAcc, j)).intoArray(dwAcc, j);
                    gv2.add(FloatVector.fromArray(F, dbAcc, j)).intoArray(dbAcc, j);
                    gv2 = gv2.mul(FloatVector.fromArray(F, wa, wo + j));
                    sum1 = sum1.add(gv2.sub(shN));
                    sum2 = gv2.fma(xh2, sum2);
                }
                double n1 = sum1.reduceLanes(VectorOperators.ADD), n2 = sum2.reduceLanes(VectorOperators.ADD);
                for (int k = up; k < c; k++) {
                    float xh = (xa[xn + k] - mn) * sn, gv = ga[gn + k];
                    dwAcc[k] += gv * xh;
                    dbAcc[k] += gv;
                    gv *= wa[wo + k];
                    n1 += gv - shiftN;
                    n2 += (double) gv * xh;
                }
                s1 = n1;
                s2 = n2;
                shift = shiftN;
            } else {
                for (; j < up; j += L) {
                    FloatVector xh = FloatVector.fromArray(F, xa, xi + j).sub(m).mul(s);
                    FloatVector gv = FloatVector.fromArray(F, ga, gi + j);
                    gv = gv.mul(FloatVector.fromArray(F, wa, wo + j));
                    xh.mul(negMean2).add(gv).sub(mean1v).mul(s).intoArray(o, oi + j);
                }
            }
            for (j = up; j < c; j++) {
                float xh = (xa[xi + j] - m) * s, gv = ga[gi + j];
                gv *= wa[wo + j];
                o[oi + j] = (gv - mean1 - xh * mean2) * s;
            }
        }
    }

    private static float[] ones(int n) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, 1f);
        return a;
    }

    private static void sumParts(float[][] parts, float[] out) {
        double[] acc = new double[out.length];
        for (float[] p : parts) for (int j = 0; j < out.length; j++) acc[j] += p[j];
        for (int j = 0; j < out.length; j++) out[j] = (float) acc[j];
    }

    private static void sumParts(double[][] parts, double[] out) {
        for (double[] p : parts) for (int j = 0; j < out.length; j++) out[j] += p[j];
    }
}
