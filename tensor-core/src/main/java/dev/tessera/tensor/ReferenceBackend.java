package dev.tessera.tensor;

/**
 * The scalar reference backend: plain loops over logical indices, math in double. Slow on
 * purpose and simple enough to trust by reading; it defines what every primitive means and is
 * the oracle the other backends are tested against. Also usable as the CPU backend on request
 * ({@code TESSERA_BACKEND=scalar}).
 */
public final class ReferenceBackend implements Backend {
    public static final ReferenceBackend INSTANCE = new ReferenceBackend();

    private ReferenceBackend() {}

    @Override
    public String name() { return "cpu-reference"; }

    @Override
    public Device device() { return Device.CPU; }

    @Override
    public String describe() { return "backend cpu-reference: scalar reference kernels, 1 thread (slow; chosen with TESSERA_BACKEND=scalar)"; }

    // ---- memory ---------------------------------------------------------------------------

    @Override
    public Storage allocate(DType dtype, int numel) { return CpuStorage.allocate(dtype, numel); }

    @Override
    public Storage fromHost(DType dtype, Object hostArray) {
        CpuStorage src = CpuStorage.wrap(dtype, hostArray);
        CpuStorage dst = CpuStorage.allocate(dtype, src.size());
        System.arraycopy(hostArray, 0, dst.array(), 0, src.size());
        return dst;
    }

    @Override
    public Object toHost(Storage storage, int offset, int count) {
        CpuStorage s = (CpuStorage) storage;
        s.checkOpen();
        CpuStorage out = CpuStorage.allocate(s.dtype(), count);
        System.arraycopy(s.array(), offset, out.array(), 0, count);
        return out.array();
    }

    // ---- helpers --------------------------------------------------------------------------

    /** Storage position of the element with row-major linear index i of x. */
    static int position(NDArray x, int i) {
        int[] shape = x.shape(), strides = x.strides();
        int pos = x.offset();
        for (int d = shape.length - 1; d >= 0; d--) {
            int n = shape[d];
            pos += (i % n) * strides[d];
            i /= n;
        }
        return pos;
    }

    static CpuStorage cpu(NDArray x) {
        CpuStorage s = (CpuStorage) x.storage();
        s.checkOpen();
        return s;
    }

    // ---- copies ---------------------------------------------------------------------------

    @Override
    public NDArray copy(NDArray x, DType to) {
        int n = x.numel();
        CpuStorage src = cpu(x);
        CpuStorage dst = CpuStorage.allocate(to, n);
        boolean exactLong = !to.isFloating() && !x.dtype().isFloating();
        for (int i = 0; i < n; i++) {
            int p = position(x, i);
            if (exactLong) dst.setLong(i, src.getLong(p)); else dst.setDouble(i, src.getDouble(p));
        }
        return new NDArray(dst, x.shape());
    }

    @Override
    public void assign(NDArray dst, NDArray src) {
        int n = dst.numel();
        CpuStorage d = cpu(dst), s = cpu(src);
        // Read everything first so that overlapping source and destination behave like a copy.
        double[] vals = new double[n];
        long[] longs = new long[n];
        boolean exactLong = !dst.dtype().isFloating() && !src.dtype().isFloating();
        for (int i = 0; i < n; i++) {
            int p = position(src, i);
            if (exactLong) longs[i] = s.getLong(p); else vals[i] = s.getDouble(p);
        }
        for (int i = 0; i < n; i++) {
            int p = position(dst, i);
            if (exactLong) d.setLong(p, longs[i]); else d.setDouble(p, vals[i]);
        }
    }

    @Override
    public void fill(NDArray dst, double value) {
        CpuStorage d = cpu(dst);
        int n = dst.numel();
        for (int i = 0; i < n; i++) d.setDouble(position(dst, i), value);
    }

    // ---- everything below is written by the reference-backend work ------------------------

    private static UnsupportedOperationException todo(String op) {
        return new UnsupportedOperationException("cpu-reference: " + op + " is not implemented yet");
    }

    @Override public NDArray unary(UnaryOp op, NDArray x, double scalar) { throw todo("unary"); }
    @Override public NDArray unaryBackward(UnaryOp op, NDArray x, NDArray gradOut, double scalar) { throw todo("unaryBackward"); }
    @Override public NDArray binary(BinaryOp op, NDArray a, NDArray b) { throw todo("binary"); }
    @Override public NDArray binaryScalar(BinaryOp op, NDArray x, double s) { throw todo("binaryScalar"); }
    @Override public NDArray where(NDArray cond, NDArray a, NDArray b) { throw todo("where"); }
    @Override public NDArray reduce(ReduceOp op, NDArray x, int[] dims, boolean keepDim) { throw todo("reduce"); }
    @Override public NDArray argReduce(boolean max, NDArray x, int dim, boolean keepDim) { throw todo("argReduce"); }
    @Override public NDArray softmax(NDArray x, boolean log) { throw todo("softmax"); }
    @Override public NDArray softmaxBackward(NDArray y, NDArray gradOut, boolean log) { throw todo("softmaxBackward"); }
    @Override public NormResult layerNorm(NDArray x, NDArray weight, NDArray bias, double eps) { throw todo("layerNorm"); }
    @Override public NormGrads layerNormBackward(NDArray gradOut, NDArray x, NDArray mean, NDArray rstd, NDArray weight, boolean hasBias) { throw todo("layerNormBackward"); }
    @Override public NormResult rmsNorm(NDArray x, NDArray weight, double eps) { throw todo("rmsNorm"); }
    @Override public NormGrads rmsNormBackward(NDArray gradOut, NDArray x, NDArray rstd, NDArray weight) { throw todo("rmsNormBackward"); }
    @Override public NDArray matmul(NDArray a, NDArray b) { throw todo("matmul"); }
    @Override public NDArray gather(NDArray x, int dim, NDArray index) { throw todo("gather"); }
    @Override public NDArray indexSelect(NDArray x, int dim, NDArray index) { throw todo("indexSelect"); }
    @Override public void scatterAddInPlace(NDArray dst, int dim, NDArray index, NDArray src) { throw todo("scatterAdd"); }
    @Override public void indexAddInPlace(NDArray dst, int dim, NDArray index, NDArray src) { throw todo("indexAdd"); }
    @Override public NDArray triangle(NDArray x, int k, boolean upper) { throw todo("triangle"); }
    @Override public CrossEntropyResult crossEntropy(NDArray logits, NDArray targets, long ignoreIndex, double labelSmoothing) { throw todo("crossEntropy"); }
    @Override public NDArray crossEntropyBackward(NDArray logits, NDArray targets, NDArray logSumExp, long ignoreIndex, double labelSmoothing, double scale) { throw todo("crossEntropyBackward"); }
    @Override public void adamwStep(NDArray param, NDArray grad, NDArray m, NDArray v, double lr, double beta1, double beta2, double eps, double weightDecay, long step) { throw todo("adamwStep"); }
}
