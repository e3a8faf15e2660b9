package dev.tessera.tensor.cpu;

import dev.tessera.tensor.Backend;
import dev.tessera.tensor.BinaryOp;
import dev.tessera.tensor.CpuStorage;
import dev.tessera.tensor.CrossEntropyResult;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Device;
import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.NormGrads;
import dev.tessera.tensor.NormResult;
import dev.tessera.tensor.Parallel;
import dev.tessera.tensor.ReduceOp;
import dev.tessera.tensor.Shapes;
import dev.tessera.tensor.Storage;
import dev.tessera.tensor.UnaryOp;

/**
 * The CPU backend: F32 kernels on the Vector API ({@code FloatVector.SPECIES_PREFERRED}) with
 * scalar tails, plain loops for F64 and integers, all cores through {@link Parallel}. Inputs may be
 * any strided view: elementwise kernels walk them in coalesced runs ({@link Strided}) and pack
 * strided runs before the vector loop; row kernels (softmax, norms, cross entropy) make their
 * input contiguous first. Created by {@code Backends.cpu()} through reflection.
 */
public final class CpuBackend implements Backend {
    /** Elements per task below which elementwise work is not split further. */
    static final int GRAIN = 1 << 15;
    /** Smaller grain for ops that spend tens of cycles per element (exp, erf, tanh). */
    static final int GRAIN_HEAVY = 1 << 13;

    public CpuBackend() {}

    @Override
    public String name() { return "cpu-vector"; }

    @Override
    public Device device() { return Device.CPU; }

    @Override
    public String describe() {
        int bits = VecMath.F.vectorBitSize();
        String isa = bits >= 512 ? "AVX-512" : bits == 256 ? "AVX2" : bits + "-bit SIMD";
        return "backend cpu-vector: Vector API kernels, " + isa + ", " + VecMath.L + " x f32 lanes, " + Parallel.threads() + " threads, "
                + VecMath.expName() + ", " + JitHints.status();
    }

    // ---- memory ---------------------------------------------------------------------------

    @Override
    public Storage allocate(DType dtype, int numel) { return CpuStorage.allocate(dtype, numel); }

    @Override
    public Storage fromHost(DType dtype, Object hostArray) {
        return CpuStorage.copyOf(dtype, hostArray);
    }

    @Override
    public Object toHost(Storage storage, int offset, int count) {
        return ((CpuStorage) storage).copyRange(offset, count);
    }

    // ---- helpers --------------------------------------------------------------------------

    static CpuStorage cpu(NDArray x) {
        if (!(x.storage() instanceof CpuStorage s)) {
            throw new IllegalArgumentException("cpu-vector: array of shape " + Shapes.str(x.shape()) + " is on " + x.device() + ", not the CPU");
        }
        s.checkOpen();
        return s;
    }

    static NDArray newArray(DType t, int[] shape) {
        return new NDArray(CpuStorage.allocate(t, Shapes.numel(shape)), shape);
    }

    /**
     * A kernel's output that the kernel writes in full: possibly a recycled array with arbitrary
     * contents (see {@link dev.tessera.tensor.CpuArrayPool}); tests fill it with NaN first.
     */
    static NDArray newOutput(DType t, int[] shape) {
        return new NDArray(CpuStorage.allocateForOverwrite(t, Shapes.numel(shape)), shape);
    }

    /** x itself when contiguous, otherwise a contiguous copy (same dtype). */
    NDArray contiguous(NDArray x) {
        return x.isContiguous() ? x : copy(x, x.dtype());
    }

    /** x converted to dtype t by this backend (x itself when it has t). */
    NDArray as(NDArray x, DType t) {
        return x.dtype() == t ? x : copy(x, t);
    }

    static float[] f32(NDArray x) { return cpu(x).f32(); }

    static double[] f64(NDArray x) { return cpu(x).f64(); }

    private static IllegalArgumentException unsupported(String op, DType t) {
        return new IllegalArgumentException("cpu-vector " + op + ": dtype " + t + " not supported");
    }

    // ---- copies ---------------------------------------------------------------------------

    @Override
    public NDArray copy(NDArray x, DType to) {
        CpuStorage src = cpu(x);
        NDArray out = newOutput(to, x.shape());
        CpuStorage dst = (CpuStorage) out.storage();
        Strided it = Strided.of(x.shape(), x);
        int ss = it.innerStride(0);
        it.parallel(GRAIN, (pos, len, offs) -> Convert.run(src, offs[0], ss, dst, pos, 1, len));
        return out;
    }

    @Override
    public void assign(NDArray dst, NDArray src) {
        CpuStorage d = cpu(dst);
        if (src.storage() == dst.storage()) src = copy(src, src.dtype()); // overlapping views: read all first
        CpuStorage s = cpu(src);
        Strided it = Strided.of(dst.shape(), dst, src);
        int ds = it.innerStride(0), ss = it.innerStride(1);
        it.parallelRows(GRAIN, (pos, len, offs) -> Convert.run(s, offs[1], ss, d, offs[0], ds, len));
    }

    @Override
    public void fill(NDArray dst, double value) {
        CpuStorage d = cpu(dst);
        CpuStorage one = CpuStorage.allocate(dst.dtype(), 1);
        one.setDouble(0, value);
        Strided it = Strided.of(dst.shape(), dst);
        int ds = it.innerStride(0);
        it.parallelRows(GRAIN, (pos, len, offs) -> Convert.run(one, 0, 0, d, offs[0], ds, len));
    }

    // ---- elementwise ----------------------------------------------------------------------

    private static int grainFor(UnaryOp op) {
        return switch (op) {
            case NEG, ABS, RELU, SQRT -> GRAIN;
            default -> GRAIN_HEAVY;
        };
    }

    @Override
    public NDArray unary(UnaryOp op, NDArray x, double scalar) {
        DType t = x.dtype();
        NDArray out = newOutput(t, x.shape());
        Strided it = Strided.of(x.shape(), x);
        int xs = it.innerStride(0);
        switch (t) {
            case F32 -> {
                float[] a = f32(x), o = f32(out);
                float p = (float) scalar;
                it.parallel(grainFor(op), (pos, len, offs) -> {
                    if (xs == 1) {
                        UnaryKernels.f32(op, a, offs[0], o, pos, len, p);
                    } else {
                        for (int i = 0, j = offs[0]; i < len; i++, j += xs) o[pos + i] = a[j];
                        UnaryKernels.f32(op, o, pos, o, pos, len, p);
                    }
                });
            }
            case F64 -> {
                double[] a = f64(x), o = f64(out);
                it.parallel(GRAIN_HEAVY, (pos, len, offs) -> UnaryKernels.f64(op, a, offs[0], xs, o, pos, len, scalar));
            }
            case I32, I64 -> {
                if (op != UnaryOp.NEG && op != UnaryOp.ABS && op != UnaryOp.RELU) throw unsupported(op.name().toLowerCase(), t);
                CpuStorage a = cpu(x), o = cpu(out);
                it.parallel(GRAIN, (pos, len, offs) -> {
                    for (int i = 0, j = offs[0]; i < len; i++, j += xs) {
                        long v = a.getLong(j);
                        long r = op == UnaryOp.NEG ? -v : op == UnaryOp.ABS ? Math.abs(v) : Math.max(v, 0);
                        o.setLong(pos + i, r);
                    }
                });
            }
            default -> throw unsupported(op.name().toLowerCase(), t);
        }
        return out;
    }

    @Override
    public NDArray unaryBackward(UnaryOp op, NDArray x, NDArray gradOut, double scalar) {
        DType t = x.dtype();
        NDArray out = newOutput(t, x.shape());
        Strided it = Strided.of(x.shape(), x, gradOut);
        int xs = it.innerStride(0), gs = it.innerStride(1);
        switch (t) {
            case F32 -> {
                float[] a = f32(x), g = f32(gradOut), o = f32(out);
                float p = (float) scalar;
                it.parallel(GRAIN_HEAVY, (pos, len, offs) -> {
                    float[] xa = a, ga = g;
                    int xo = offs[0], go = offs[1];
                    if (xs != 1) {
                        for (int i = 0, j = xo; i < len; i++, j += xs) o[pos + i] = a[j];
                        xa = o;
                        xo = pos;
                    }
                    if (gs != 1) {
                        ga = Scratch.floats(len, 0);
                        for (int i = 0, j = go; i < len; i++, j += gs) ga[i] = g[j];
                        go = 0;
                    }
                    UnaryKernels.backwardF32(op, xa, xo, ga, go, o, pos, len, p);
                });
            }
            case F64 -> {
                double[] a = f64(x), g = f64(gradOut), o = f64(out);
                it.parallel(GRAIN_HEAVY, (pos, len, offs) -> {
                    for (int i = 0, j = offs[0], k = offs[1]; i < len; i++, j += xs, k += gs) {
                        o[pos + i] = g[k] * UnaryKernels.derivative(op, a[j], scalar);
                    }
                });
            }
            default -> throw unsupported(op.name().toLowerCase() + " backward", t);
        }
        return out;
    }

    @Override
    public NDArray binary(BinaryOp op, NDArray a, NDArray b) {
        DType t = a.dtype();
        int[] shape = a.shape();
        NDArray out = newOutput(op.isComparison() ? DType.BOOL : t, shape);
        Strided it = Strided.of(shape, a, b);
        int as = it.innerStride(0), bs = it.innerStride(1);
        if (op.isComparison()) {
            compare(op, it, cpu(a), cpu(b), cpu(out).bool());
            return out;
        }
        switch (t) {
            case F32 -> {
                float[] x = f32(a), y = f32(b), o = f32(out);
                it.parallel(GRAIN, (pos, len, offs) -> BinaryKernels.run(op, x, offs[0], as, y, offs[1], bs, o, pos, len));
            }
            case F64 -> {
                double[] x = f64(a), y = f64(b), o = f64(out);
                it.parallel(GRAIN, (pos, len, offs) -> {
                    for (int i = 0, j = offs[0], k = offs[1]; i < len; i++, j += as, k += bs) o[pos + i] = BinaryKernels.scalar(op, x[j], y[k]);
                });
            }
            case I32 -> {
                int[] x = cpu(a).i32(), y = cpu(b).i32(), o = cpu(out).i32();
                it.parallel(GRAIN, (pos, len, offs) -> {
                    for (int i = 0, j = offs[0], k = offs[1]; i < len; i++, j += as, k += bs) o[pos + i] = (int) BinaryKernels.scalar(op, x[j], (long) y[k]);
                });
            }
            case I64 -> {
                long[] x = cpu(a).i64(), y = cpu(b).i64(), o = cpu(out).i64();
                it.parallel(GRAIN, (pos, len, offs) -> {
                    for (int i = 0, j = offs[0], k = offs[1]; i < len; i++, j += as, k += bs) o[pos + i] = BinaryKernels.scalar(op, x[j], y[k]);
                });
            }
            default -> throw unsupported(op.name().toLowerCase(), t);
        }
        return out;
    }

    private static void compare(BinaryOp op, Strided it, CpuStorage a, CpuStorage b, byte[] o) {
        int as = it.innerStride(0), bs = it.innerStride(1);
        DType t = a.dtype();
        switch (t) {
            case F32 -> {
                float[] x = a.f32(), y = b.f32();
                it.parallel(GRAIN, (pos, len, offs) -> {
                    for (int i = 0, j = offs[0], k = offs[1]; i < len; i++, j += as, k += bs) o[pos + i] = (byte) (BinaryKernels.compare(op, (double) x[j], y[k]) ? 1 : 0);
                });
            }
            case F64 -> {
                double[] x = a.f64(), y = b.f64();
                it.parallel(GRAIN, (pos, len, offs) -> {
                    for (int i = 0, j = offs[0], k = offs[1]; i < len; i++, j += as, k += bs) o[pos + i] = (byte) (BinaryKernels.compare(op, x[j], y[k]) ? 1 : 0);
                });
            }
            case I32, I64, BOOL -> it.parallel(GRAIN, (pos, len, offs) -> {
                for (int i = 0, j = offs[0], k = offs[1]; i < len; i++, j += as, k += bs) o[pos + i] = (byte) (BinaryKernels.compare(op, a.getLong(j), b.getLong(k)) ? 1 : 0);
            });
            default -> it.parallel(GRAIN, (pos, len, offs) -> {
                for (int i = 0, j = offs[0], k = offs[1]; i < len; i++, j += as, k += bs) o[pos + i] = (byte) (BinaryKernels.compare(op, a.getDouble(j), b.getDouble(k)) ? 1 : 0);
            });
        }
    }

    @Override
    public NDArray binaryScalar(BinaryOp op, NDArray x, double s) {
        DType t = x.dtype();
        int[] shape = x.shape();
        NDArray out = newOutput(op.isComparison() ? DType.BOOL : t, shape);
        Strided it = Strided.of(shape, x);
        int xs = it.innerStride(0);
        CpuStorage a = cpu(x);
        if (op.isComparison()) {
            byte[] o = cpu(out).bool();
            if (t == DType.F32) {
                float[] v = a.f32();
                double sf = (float) s; // the scalar as an F32 input sees it (x == 0.1 holds for x = 0.1f)
                it.parallel(GRAIN, (pos, len, offs) -> {
                    for (int i = 0, j = offs[0]; i < len; i++, j += xs) o[pos + i] = (byte) (BinaryKernels.compare(op, (double) v[j], sf) ? 1 : 0);
                });
            } else {
                it.parallel(GRAIN, (pos, len, offs) -> {
                    for (int i = 0, j = offs[0]; i < len; i++, j += xs) o[pos + i] = (byte) (BinaryKernels.compare(op, a.getDouble(j), s) ? 1 : 0);
                });
            }
            return out;
        }
        switch (t) {
            case F32 -> {
                float[] v = a.f32(), o = f32(out);
                float[] sv = {(float) s};
                it.parallel(GRAIN, (pos, len, offs) -> BinaryKernels.run(op, v, offs[0], xs, sv, 0, 0, o, pos, len));
            }
            case F64 -> {
                double[] v = a.f64(), o = f64(out);
                it.parallel(GRAIN, (pos, len, offs) -> {
                    for (int i = 0, j = offs[0]; i < len; i++, j += xs) o[pos + i] = BinaryKernels.scalar(op, v[j], s);
                });
            }
            case I32, I64 -> {
                long sl = (long) s;
                CpuStorage o = cpu(out);
                it.parallel(GRAIN, (pos, len, offs) -> {
                    for (int i = 0, j = offs[0]; i < len; i++, j += xs) o.setLong(pos + i, BinaryKernels.scalar(op, a.getLong(j), sl));
                });
            }
            default -> throw unsupported(op.name().toLowerCase(), t);
        }
        return out;
    }

    @Override
    public NDArray where(NDArray cond, NDArray a, NDArray b) {
        DType t = a.dtype();
        int[] shape = a.shape();
        NDArray out = newOutput(t, shape);
        Strided it = Strided.of(shape, cond, a, b);
        int cs = it.innerStride(0), as = it.innerStride(1), bs = it.innerStride(2);
        byte[] c = cpu(cond).bool();
        switch (t) {
            case F32 -> {
                float[] x = f32(a), y = f32(b), o = f32(out);
                it.parallel(GRAIN, (pos, len, offs) -> {
                    for (int i = 0, q = offs[0], j = offs[1], k = offs[2]; i < len; i++, q += cs, j += as, k += bs) o[pos + i] = c[q] != 0 ? x[j] : y[k];
                });
            }
            case F64 -> {
                double[] x = f64(a), y = f64(b), o = f64(out);
                it.parallel(GRAIN, (pos, len, offs) -> {
                    for (int i = 0, q = offs[0], j = offs[1], k = offs[2]; i < len; i++, q += cs, j += as, k += bs) o[pos + i] = c[q] != 0 ? x[j] : y[k];
                });
            }
            default -> {
                CpuStorage x = cpu(a), y = cpu(b), o = cpu(out);
                it.parallel(GRAIN, (pos, len, offs) -> {
                    for (int i = 0, q = offs[0], j = offs[1], k = offs[2]; i < len; i++, q += cs, j += as, k += bs) {
                        Convert.run(c[q] != 0 ? x : y, c[q] != 0 ? j : k, 0, o, pos + i, 1, 1);
                    }
                });
            }
        }
        return out;
    }

    // ---- reductions -----------------------------------------------------------------------

    @Override
    public NDArray reduce(ReduceOp op, NDArray x, int[] dims, boolean keepDim) {
        return Reductions.reduce(this, op, x, dims, keepDim);
    }

    @Override
    public NDArray argReduce(boolean max, NDArray x, int dim, boolean keepDim) {
        return Reductions.argReduce(this, max, x, dim, keepDim);
    }

    // ---- softmax and normalization --------------------------------------------------------

    @Override
    public NDArray softmax(NDArray x, boolean log) {
        return RowKernels.softmax(contiguous(x), log);
    }

    @Override
    public NDArray softmaxBackward(NDArray y, NDArray gradOut, boolean log) {
        return RowKernels.softmaxBackward(contiguous(y), contiguous(gradOut), log);
    }

    @Override
    public NormResult layerNorm(NDArray x, NDArray weight, NDArray bias, double eps) {
        return RowKernels.layerNorm(contiguous(x), weight == null ? null : contiguous(weight), bias == null ? null : contiguous(bias), eps);
    }

    @Override
    public NormGrads layerNormBackward(NDArray gradOut, NDArray x, NDArray mean, NDArray rstd, NDArray weight, boolean hasBias) {
        return RowKernels.layerNormBackward(contiguous(gradOut), contiguous(x), contiguous(as(mean, x.dtype())), contiguous(as(rstd, x.dtype())),
                weight == null ? null : contiguous(as(weight, x.dtype())), hasBias);
    }

    @Override
    public NormResult rmsNorm(NDArray x, NDArray weight, double eps) {
        return RowKernels.rmsNorm(contiguous(x), weight == null ? null : contiguous(weight), eps);
    }

    @Override
    public NormGrads rmsNormBackward(NDArray gradOut, NDArray x, NDArray rstd, NDArray weight) {
        return RowKernels.rmsNormBackward(contiguous(gradOut), contiguous(x), contiguous(as(rstd, x.dtype())),
                weight == null ? null : contiguous(as(weight, x.dtype())));
    }

    // ---- matmul ---------------------------------------------------------------------------

    @Override
    public NDArray matmul(NDArray a, NDArray b) {
        return Gemm.matmul(a, b);
    }

    // ---- indexing -------------------------------------------------------------------------

    @Override
    public NDArray gather(NDArray x, int dim, NDArray index) {
        return IndexKernels.gather(x, dim, index);
    }

    @Override
    public NDArray indexSelect(NDArray x, int dim, NDArray index) {
        return IndexKernels.indexSelect(x, dim, index);
    }

    @Override
    public void scatterAddInPlace(NDArray dst, int dim, NDArray index, NDArray src) {
        if (src.storage() == dst.storage()) src = copy(src, src.dtype());
        IndexKernels.scatterAdd(dst, dim, index, src);
    }

    @Override
    public void indexAddInPlace(NDArray dst, int dim, NDArray index, NDArray src) {
        if (src.storage() == dst.storage()) src = copy(src, src.dtype());
        IndexKernels.indexAdd(dst, dim, index, src);
    }

    @Override
    public NDArray triangle(NDArray x, int k, boolean upper) {
        return IndexKernels.triangle(copy(x, x.dtype()), k, upper);
    }

    // ---- fused training kernels -----------------------------------------------------------

    @Override
    public CrossEntropyResult crossEntropy(NDArray logits, NDArray targets, long ignoreIndex, double labelSmoothing) {
        return TrainingKernels.crossEntropy(contiguous(logits), contiguous(targets), ignoreIndex, labelSmoothing);
    }

    @Override
    public NDArray crossEntropyBackward(NDArray logits, NDArray targets, NDArray logSumExp, long ignoreIndex,
                                        double labelSmoothing, double scale) {
        return TrainingKernels.crossEntropyBackward(contiguous(logits), contiguous(targets), contiguous(as(logSumExp, logits.dtype())),
                ignoreIndex, labelSmoothing, scale);
    }

    @Override
    public void adamwStep(NDArray param, NDArray grad, NDArray m, NDArray v, double lr, double beta1, double beta2,
                          double eps, double weightDecay, long step) {
        TrainingKernels.adamw(param, contiguous(as(grad, param.dtype())), m, v, lr, beta1, beta2, eps, weightDecay, step);
    }
}
