package dev.tessera.tensor.cpu;

import static dev.tessera.tensor.cpu.VecMath.F;
import static dev.tessera.tensor.cpu.VecMath.L;

import dev.tessera.tensor.CpuStorage;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.Parallel;
import dev.tessera.tensor.ReduceOp;
import dev.tessera.tensor.Shapes;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Reductions over any set of dims. The array is seen as [K kept, R reduced] by listing the kept
 * dims first; when the reduced dims of that view form one contiguous run per output element the
 * rows are reduced in place, otherwise the view is copied to a contiguous [K, R] first. A
 * contiguous F32 array reduced over its leading dims (bias gradients) is reduced column-wise with
 * vector accumulators instead. F32 sums accumulate in float vectors over blocks of at most 1024
 * elements and add the blocks in double. A few long rows (K small, R large) are split across
 * threads and the partial results combined in order.
 */
final class Reductions {
    private static final int BLOCK = 1024;

    private Reductions() {}

    static NDArray reduce(CpuBackend be, ReduceOp op, NDArray x, int[] dims, boolean keepDim) {
        DType t = x.dtype();
        if (t == DType.BOOL || t.isHalf()) x = be.as(x, t == DType.BOOL ? DType.I64 : DType.F32);
        t = x.dtype();
        if ((op == ReduceOp.MEAN || op == ReduceOp.VAR) && !t.isFloating()) {
            throw new IllegalArgumentException(op.name().toLowerCase() + ": needs a float array, got " + t + " of shape " + Shapes.str(x.shape()));
        }
        int[] shape = x.shape(), strides = x.strides();
        int rank = shape.length;
        boolean[] reduced = new boolean[rank];
        for (int d : dims) reduced[d] = true;
        int nk = rank - dims.length;
        int[] keptShape = new int[nk], keptStrides = new int[nk], redShape = new int[dims.length], redStrides = new int[dims.length];
        long kl = 1, rl = 1;
        for (int d = 0, i = 0, j = 0; d < rank; d++) {
            if (reduced[d]) {
                redShape[j] = shape[d];
                redStrides[j++] = strides[d];
                rl *= shape[d];
            } else {
                keptShape[i] = shape[d];
                keptStrides[i++] = strides[d];
                kl *= shape[d];
            }
        }
        int k = (int) kl, r = (int) rl;
        DType outType = op == ReduceOp.SUM && !t.isFloating() ? DType.I64 : t;
        NDArray out = CpuBackend.newOutput(outType, Shapes.reducedShape(shape, dims, keepDim));
        if (k == 0) return out;
        if (r == 0) {
            if (op == ReduceOp.MAX || op == ReduceOp.MIN) {
                throw new IllegalArgumentException(op.name().toLowerCase() + ": cannot reduce an empty dim of shape " + Shapes.str(shape));
            }
            be.fill(out, op == ReduceOp.SUM ? 0 : Double.NaN); // sum of nothing is 0, mean/var NaN
            return out;
        }
        CpuStorage o = CpuBackend.cpu(out);

        if (t == DType.F32 && op != ReduceOp.VAR && x.isContiguous() && k >= 64 && leadingOnly(dims)) {
            columnsF32(op, CpuBackend.f32(x), x.offset(), r, k, o.f32());
            return out;
        }

        // Row offsets of the [K, R] view; copy when the reduced part is not one contiguous run.
        Strided red = Strided.of(redShape, new int[][] {redStrides}, new int[] {0});
        NDArray src = x;
        Strided kept;
        if (r == 1 || (red.isSingleRun() && red.innerStride(0) == 1)) {
            kept = Strided.of(keptShape, new int[][] {keptStrides}, new int[] {x.offset()});
        } else {
            int[] perm = new int[rank];
            int i = 0;
            for (int d = 0; d < rank; d++) if (!reduced[d]) perm[i++] = d;
            for (int d : dims) perm[i++] = d;
            src = be.copy(x.permute(perm), t);
            kept = Strided.of(new int[] {k}, new int[][] {{r}}, new int[] {0});
        }
        CpuStorage s = CpuBackend.cpu(src);
        int ks = kept.innerStride(0);
        if (k < 2 * Parallel.threads() && r >= 4 * CpuBackend.GRAIN) {
            // few long rows: split each row across threads
            kept.forSegments(0, k, (pos, len, offs) -> {
                for (int q = 0; q < len; q++) splitRow(op, s, offs[0] + q * ks, r, o, pos + q);
            });
            return out;
        }
        kept.parallel(Math.max(1, CpuBackend.GRAIN / r), (pos, len, offs) -> {
            for (int q = 0; q < len; q++) row(op, s, offs[0] + q * ks, r, o, pos + q);
        });
        return out;
    }

    private static boolean leadingOnly(int[] dims) {
        for (int i = 0; i < dims.length; i++) if (dims[i] != i) return false;
        return true;
    }

    /** One output element from a contiguous run of n elements at off. */
    private static void row(ReduceOp op, CpuStorage s, int off, int n, CpuStorage o, int at) {
        switch (s.dtype()) {
            case F32 -> {
                float[] a = s.f32();
                float[] out = o.f32();
                out[at] = switch (op) {
                    case SUM -> (float) sumF32(a, off, n);
                    case MEAN -> (float) (sumF32(a, off, n) / n);
                    case MAX -> maxF32(a, off, n, true);
                    case MIN -> maxF32(a, off, n, false);
                    case VAR -> (float) (sqDevF32(a, off, n, sumF32(a, off, n) / n) / n);
                };
            }
            case F64 -> {
                double[] a = s.f64();
                o.f64()[at] = switch (op) {
                    case SUM -> sumF64(a, off, n);
                    case MEAN -> sumF64(a, off, n) / n;
                    case MAX -> maxF64(a, off, n, true);
                    case MIN -> maxF64(a, off, n, false);
                    case VAR -> sqDevF64(a, off, n, sumF64(a, off, n) / n) / n;
                };
            }
            default -> {
                long acc = s.getLong(off);
                if (op == ReduceOp.SUM) {
                    for (int i = 1; i < n; i++) acc += s.getLong(off + i);
                } else {
                    boolean max = op == ReduceOp.MAX;
                    for (int i = 1; i < n; i++) {
                        long v = s.getLong(off + i);
                        acc = max ? Math.max(acc, v) : Math.min(acc, v);
                    }
                }
                o.setLong(at, acc);
            }
        }
    }

    /** One output element from a long run, split over threads; partials combined in chunk order. */
    private static void splitRow(ReduceOp op, CpuStorage s, int off, int n, CpuStorage o, int at) {
        int chunk = Math.max(CpuBackend.GRAIN, (n + Parallel.threads() * 4 - 1) / (Parallel.threads() * 4));
        int tasks = (n + chunk - 1) / chunk;
        double[] part = new double[tasks];
        long[] partL = new long[tasks];
        boolean fl = s.dtype().isFloating();
        ReduceOp first = op == ReduceOp.MEAN || op == ReduceOp.VAR ? ReduceOp.SUM : op;
        CpuStorage tmp = CpuStorage.allocate(s.dtype() == DType.F32 ? DType.F64 : s.dtype() == DType.F64 ? DType.F64 : DType.I64, tasks);
        Parallel.forEach(tasks, tk -> {
            int a = tk * chunk, len = Math.min(n, a + chunk) - a;
            if (s.dtype() == DType.F32) {
                float[] v = s.f32();
                part[tk] = first == ReduceOp.SUM ? sumF32(v, off + a, len) : maxF32(v, off + a, len, first == ReduceOp.MAX);
            } else if (fl) {
                double[] v = s.f64();
                part[tk] = first == ReduceOp.SUM ? sumF64(v, off + a, len) : maxF64(v, off + a, len, first == ReduceOp.MAX);
            } else {
                row(first, s, off + a, len, tmp, tk);
                partL[tk] = tmp.getLong(tk);
            }
        });
        if (!fl) {
            long acc = partL[0];
            for (int i = 1; i < tasks; i++) acc = first == ReduceOp.SUM ? acc + partL[i] : first == ReduceOp.MAX ? Math.max(acc, partL[i]) : Math.min(acc, partL[i]);
            o.setLong(at, acc);
            return;
        }
        double acc = part[0];
        for (int i = 1; i < tasks; i++) acc = first == ReduceOp.SUM ? acc + part[i] : first == ReduceOp.MAX ? Math.max(acc, part[i]) : Math.min(acc, part[i]);
        if (op == ReduceOp.MEAN) acc /= n;
        if (op == ReduceOp.VAR) {
            double mean = acc / n;
            Parallel.forEach(tasks, tk -> {
                int a = tk * chunk, len = Math.min(n, a + chunk) - a;
                part[tk] = s.dtype() == DType.F32 ? sqDevF32(s.f32(), off + a, len, mean) : sqDevF64(s.f64(), off + a, len, mean);
            });
            double sq = 0;
            for (double p : part) sq += p;
            acc = sq / n;
        }
        o.setDouble(at, acc);
    }

    static double sumF32(float[] a, int off, int n) {
        double total = 0;
        int up = n - n % L;
        for (int b = 0; b < up; b += BLOCK) {
            int end = Math.min(up, b + BLOCK);
            FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
            int i = b;
            for (; i + 2 * L <= end; i += 2 * L) {
                acc0 = acc0.add(FloatVector.fromArray(F, a, off + i));
                acc1 = acc1.add(FloatVector.fromArray(F, a, off + i + L));
            }
            for (; i < end; i += L) acc0 = acc0.add(FloatVector.fromArray(F, a, off + i));
            total += acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        }
        for (int i = up; i < n; i++) total += a[off + i];
        return total;
    }

    static double sqDevF32(float[] a, int off, int n, double mean) {
        double total = 0;
        float m = (float) mean;
        int up = n - n % L;
        for (int b = 0; b < up; b += BLOCK) {
            int end = Math.min(up, b + BLOCK);
            FloatVector acc = FloatVector.zero(F);
            for (int i = b; i < end; i += L) {
                FloatVector d = FloatVector.fromArray(F, a, off + i).sub(m);
                acc = d.fma(d, acc);
            }
            total += acc.reduceLanes(VectorOperators.ADD);
        }
        for (int i = up; i < n; i++) {
            double d = a[off + i] - mean;
            total += d * d;
        }
        return total;
    }

    static float maxF32(float[] a, int off, int n, boolean max) {
        int up = n - n % L;
        float best = a[off];
        if (up > 0) {
            FloatVector acc = FloatVector.fromArray(F, a, off);
            if (max) {
                for (int i = L; i < up; i += L) acc = acc.max(FloatVector.fromArray(F, a, off + i));
                best = acc.reduceLanes(VectorOperators.MAX);
            } else {
                for (int i = L; i < up; i += L) acc = acc.min(FloatVector.fromArray(F, a, off + i));
                best = acc.reduceLanes(VectorOperators.MIN);
            }
        }
        for (int i = up; i < n; i++) best = max ? Math.max(best, a[off + i]) : Math.min(best, a[off + i]);
        return best;
    }

    /** Compensated (Neumaier) sum: F64 results stay within a few ulp of the exact sum. */
    static double sumF64(double[] a, int off, int n) {
        double sum = 0, comp = 0;
        for (int i = 0; i < n; i++) {
            double v = a[off + i], t = sum + v;
            comp += Math.abs(sum) >= Math.abs(v) ? (sum - t) + v : (v - t) + sum;
            sum = t;
        }
        return sum + comp;
    }

    static double sqDevF64(double[] a, int off, int n, double mean) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            double d = a[off + i] - mean;
            s += d * d;
        }
        return s;
    }

    static double maxF64(double[] a, int off, int n, boolean max) {
        double best = a[off];
        for (int i = 1; i < n; i++) best = max ? Math.max(best, a[off + i]) : Math.min(best, a[off + i]);
        return best;
    }

    /** out[c] = op over r of x[r * k + c]: column chunks in parallel, vector accumulators. */
    private static void columnsF32(ReduceOp op, float[] a, int off, int rows, int k, float[] out) {
        int width = 512;
        int tasks = (k + width - 1) / width;
        Parallel.forEach(tasks, tk -> {
            int c0 = tk * width, c1 = Math.min(k, c0 + width), w = c1 - c0;
            int up = w - w % L;
            if (op == ReduceOp.SUM || op == ReduceOp.MEAN) {
                double[] total = new double[w];
                float[] acc = new float[w];
                for (int rb = 0; rb < rows; rb += 64) {
                    int re = Math.min(rows, rb + 64);
                    Arrays.fill(acc, 0f);
                    for (int r = rb; r < re; r++) {
                        int base = off + r * k + c0;
                        int i = 0;
                        for (; i < up; i += L) FloatVector.fromArray(F, acc, i).add(FloatVector.fromArray(F, a, base + i)).intoArray(acc, i);
                        for (; i < w; i++) acc[i] += a[base + i];
                    }
                    for (int i = 0; i < w; i++) total[i] += acc[i];
                }
                double scale = op == ReduceOp.MEAN ? 1.0 / rows : 1.0;
                for (int i = 0; i < w; i++) out[c0 + i] = (float) (op == ReduceOp.MEAN ? total[i] / rows : total[i] * scale);
            } else {
                boolean max = op == ReduceOp.MAX;
                System.arraycopy(a, off + c0, out, c0, w);
                for (int r = 1; r < rows; r++) {
                    int base = off + r * k + c0;
                    int i = 0;
                    for (; i < up; i += L) {
                        FloatVector cur = FloatVector.fromArray(F, out, c0 + i), v = FloatVector.fromArray(F, a, base + i);
                        (max ? cur.max(v) : cur.min(v)).intoArray(out, c0 + i);
                    }
                    for (; i < w; i++) out[c0 + i] = max ? Math.max(out[c0 + i], a[base + i]) : Math.min(out[c0 + i], a[base + i]);
                }
            }
        });
    }

    // ---- arg reductions -------------------------------------------------------------------

    static NDArray argReduce(CpuBackend be, boolean max, NDArray x, int dim, boolean keepDim) {
        if (x.dtype() == DType.BOOL || x.dtype().isHalf()) x = be.as(x, DType.F32);
        int[] shape = x.shape(), strides = x.strides();
        int rank = shape.length, n = shape[dim], ds = strides[dim];
        if (n == 0) throw new IllegalArgumentException((max ? "argmax" : "argmin") + ": dim " + dim + " of shape " + Shapes.str(shape) + " is empty");
        int[] keptShape = new int[rank - 1], keptStrides = new int[rank - 1];
        for (int d = 0, i = 0; d < rank; d++) {
            if (d == dim) continue;
            keptShape[i] = shape[d];
            keptStrides[i++] = strides[d];
        }
        NDArray out = CpuBackend.newOutput(DType.I64, Shapes.reducedShape(shape, new int[] {dim}, keepDim));
        long[] o = CpuBackend.cpu(out).i64();
        if (o.length == 0) return out;
        Strided kept = Strided.of(keptShape, new int[][] {keptStrides}, new int[] {x.offset()});
        int ks = kept.innerStride(0);
        CpuStorage s = CpuBackend.cpu(x);
        DType t = x.dtype();
        kept.parallel(Math.max(1, CpuBackend.GRAIN / n), (pos, len, offs) -> {
            for (int q = 0; q < len; q++) {
                int base = offs[0] + q * ks;
                int best = 0;
                switch (t) {
                    case F32 -> {
                        float[] a = s.f32();
                        float bv = a[base];
                        for (int i = 1; i < n && bv == bv; i++) {
                            float v = a[base + i * ds];
                            if (v != v || (max ? v > bv : v < bv)) {
                                bv = v;
                                best = i;
                            }
                        }
                    }
                    case F64 -> {
                        double[] a = s.f64();
                        double bv = a[base];
                        for (int i = 1; i < n && bv == bv; i++) {
                            double v = a[base + i * ds];
                            if (v != v || (max ? v > bv : v < bv)) {
                                bv = v;
                                best = i;
                            }
                        }
                    }
                    default -> {
                        long bv = s.getLong(base);
                        for (int i = 1; i < n; i++) {
                            long v = s.getLong(base + i * ds);
                            if (max ? v > bv : v < bv) {
                                bv = v;
                                best = i;
                            }
                        }
                    }
                }
                o[pos + q] = best;
            }
        });
        return out;
    }
}
