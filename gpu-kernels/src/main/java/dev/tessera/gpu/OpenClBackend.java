package dev.tessera.gpu;

import static org.jocl.CL.*;

import dev.tessera.tensor.Backend;
import dev.tessera.tensor.BinaryOp;
import dev.tessera.tensor.CrossEntropyResult;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Device;
import dev.tessera.tensor.HalfFloats;
import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.NormGrads;
import dev.tessera.tensor.NormResult;
import dev.tessera.tensor.ReduceOp;
import dev.tessera.tensor.Shapes;
import dev.tessera.tensor.Storage;
import dev.tessera.tensor.UnaryOp;
import java.lang.reflect.Array;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.jocl.Pointer;
import org.jocl.cl_kernel;
import org.jocl.cl_program;

/**
 * The OpenCL backend: every primitive of the Backend SPI as a hand-written kernel from the .cl
 * resources in dev/tessera/gpu/kernels, run on one device. Inputs are read in place through their
 * shape, strides and offset (see common.cl's View); outputs are new contiguous device arrays.
 * F32 is supported everywhere, F64 where the device has cl_khr_fp64, I32/I64/BOOL for indices,
 * masks, comparisons and integer elementwise ops, BF16/F16 through the conversion copies. Anything
 * else throws naming the op and the dtype; nothing falls back to the CPU.
 */
public final class OpenClBackend implements Backend {
    private static final String[] NO_PRELUDE = {};
    private static final String[] ROWS = {"rows.cl"};

    private final DeviceContext ctx;
    /** Output tile edge of the GEMM kernel: 128 (8 x 8 per work-item) on GPUs, 64 (4 x 4) elsewhere. */
    private volatile int gemmTile;

    OpenClBackend(DeviceContext ctx) {
        this.ctx = ctx;
        String forced = System.getProperty("tessera.opencl.gemmTile");
        this.gemmTile = forced != null ? Integer.parseInt(forced) : ctx.info().type().equals("GPU") ? 128 : 64;
        setGemmTile(gemmTile);
    }

    /** Selects the GEMM tile (64 or 128); for tests and tuning. */
    void setGemmTile(int tile) {
        if (tile != 64 && tile != 128) throw new IllegalArgumentException("GEMM tile must be 64 or 128, got " + tile);
        this.gemmTile = tile;
    }

    int gemmTile() { return gemmTile; }

    /** Opens device index i (see {@link OpenCl#devices()}). */
    static OpenClBackend open(int index) { return new OpenClBackend(new DeviceContext(index)); }

    @Override
    public String name() { return "opencl"; }

    @Override
    public Device device() { return ctx.device(); }

    @Override
    public String describe() { return "backend opencl: " + ctx.info().describe(); }

    /** What the runtime reports about this backend's device. */
    public OpenClDeviceInfo info() { return ctx.info(); }

    /** Counters of this device's caching allocator. */
    public MemoryStats memoryStats() { return ctx.pool().stats(); }

    /** Gives every cached free buffer back to the driver. */
    public void emptyCache() { ctx.pool().emptyCache(); }

    /** Blocks until every enqueued kernel and transfer of this device has finished. */
    public void synchronize() { ctx.finish(); }

    /** Number of kernels launched so far on this device. */
    public long launchCount() { return ctx.launches(); }

    /**
     * Builds an OpenCL program from source for this device (not cached). Meant for kernels written
     * outside this module and for checking the compile error path; throws {@link OpenClCompileException}
     * with the build log when the source does not compile.
     */
    public void compileProgram(String name, String source, String options) {
        cl_program p = ctx.build(name, source, options == null ? "" : options);
        clReleaseProgram(p);
    }

    // ---- helpers --------------------------------------------------------------------------

    private OpenClStorage st(String op, NDArray x) {
        Storage s = x.storage();
        if (!(s instanceof OpenClStorage cl) || cl.context() != ctx) {
            throw new IllegalArgumentException("opencl " + op + ": an operand of shape " + Shapes.str(x.shape()) + " is on " + x.device()
                    + ", not on " + ctx.device() + "; move it with to(" + ctx.device() + ") first");
        }
        cl.checkOpen();
        return cl;
    }

    /** Checks that every input lives open on this device before any output is allocated. */
    private void inputs(String op, NDArray... xs) {
        for (NDArray x : xs) if (x != null) st(op, x);
    }

    private OpenClStorage newStorage(DType t, int n) { return new OpenClStorage(ctx, t, n); }

    private NDArray newArray(DType t, int... shape) { return new NDArray(newStorage(t, Shapes.numel(shape)), shape); }

    private static ViewArg view(String op, NDArray x) { return ViewArg.of(op, x); }

    private String label() { return ctx.label(); }

    private static String typeName(DType t) {
        return switch (t) {
            case F32 -> "float";
            case F64 -> "double";
            case I32 -> "int";
            case I64 -> "long";
            case BOOL -> "uchar";
            default -> throw new IllegalStateException("no kernel element type for " + t);
        };
    }

    private String defines(DType t) {
        String scalar = ctx.info().fp64() ? "double" : "float";
        return switch (t) {
            case F32 -> "-DT=float -DIS_FLOAT -DT_IS_FLOAT -DSUM_T=float -DSCALAR_T=float";
            case F64 -> "-DT=double -DIS_FLOAT -DT_IS_DOUBLE -DSUM_T=double -DSCALAR_T=double";
            case I32 -> "-DT=int -DIS_INT -DT_IS_INT -DSUM_T=long -DSCALAR_T=" + scalar;
            case I64 -> "-DT=long -DIS_INT -DT_IS_LONG -DSUM_T=long -DSCALAR_T=" + scalar;
            case BOOL -> "-DT=uchar -DIS_BOOL -DSUM_T=long -DSCALAR_T=" + scalar;
            default -> throw new IllegalStateException("no kernel element type for " + t);
        };
    }

    /** Throws naming op and dtype when the dtype is not among those the op's kernels are built for. */
    private void requireType(String op, DType t, DType... allowed) {
        if (!Arrays.asList(allowed).contains(t)) {
            throw new UnsupportedOperationException("opencl " + op + ": dtype " + t + " is not supported on " + label() + " (supported: "
                    + Arrays.toString(allowed) + ")");
        }
        if (t == DType.F64 && !ctx.info().fp64()) {
            throw new UnsupportedOperationException("opencl " + op + ": F64 needs the cl_khr_fp64 extension, which " + label()
                    + " does not report; use F32");
        }
    }

    private void requireInt64Atomics(String op, DType t) {
        if ((t == DType.F64 || t == DType.I64) && !ctx.hasInt64Atomics()) {
            throw new UnsupportedOperationException("opencl " + op + ": " + t + " needs cl_khr_int64_base_atomics, which " + label()
                    + " does not report");
        }
    }

    private void requireFloat(String op, DType t) { requireType(op, t, DType.F32, DType.F64); }

    private cl_kernel kernel(String file, String[] prelude, String defines, String name) {
        List<String> pre = List.of(prelude);
        cl_program p = ctx.program(file, pre, defines);
        return ctx.kernel(p, file + "|" + pre + "|" + defines, name);
    }

    private cl_kernel typed(String file, String[] prelude, DType t, String name) { return kernel(file, prelude, defines(t), name); }

    /** One work-item per element, work-groups of the device's local size. */
    private void launch1d(cl_kernel k, String name, int n, Object... args) {
        int ls = ctx.localSize();
        ctx.launch(k, name, new long[] {n}, new long[] {ls}, args);
    }

    /** One work-group of WG per row. */
    private void launchRows(cl_kernel k, String name, int rows, Object... args) {
        int wg = ctx.rowGroupSize();
        ctx.launch(k, name, new long[] {(long) rows * wg}, new long[] {wg}, args);
    }

    /** A kernel scalar of the program's element type T. */
    private static Object scalarT(DType t, double v) {
        return switch (t) {
            case F32 -> (float) v;
            case F64 -> v;
            case I32 -> (int) (long) v;
            case I64 -> (long) v;
            case BOOL -> (byte) (v != 0 ? 1 : 0);
            default -> throw new IllegalStateException("no scalar type for " + t);
        };
    }

    /** A kernel scalar of type SCALAR_T (T for floats; double, or float without fp64, for integer programs). */
    private Object scalarS(DType t, double v) {
        if (t.isFloating()) return scalarT(t, v);
        return ctx.info().fp64() ? (Object) v : (Object) (float) v;
    }

    private static String move(DType t) {
        return switch (t.byteSize()) {
            case 1 -> "-DU=uchar";
            case 2 -> "-DU=ushort";
            case 4 -> "-DU=uint";
            default -> "-DU=ulong";
        };
    }

    /** A small zeroed int buffer through which kernels report bad indices (and counts). */
    private OpenClStorage infoBuffer(int ints) {
        OpenClStorage s = newStorage(DType.I32, ints);
        zero(s, ints * 4L);
        return s;
    }

    private int[] readInts(OpenClStorage s, int n) {
        int[] out = new int[n];
        clEnqueueReadBuffer(ctx.queue(), s.buffer(), CL_TRUE, 0, n * 4L, Pointer.to(out), 0, null, null);
        return out;
    }

    private void checkIndexError(OpenClStorage info, String op, String detail, long bound) {
        int[] e = readInts(info, 4);
        if (e[0] != 0) {
            long value = (e[1] & 0xFFFFFFFFL) | ((long) e[2] << 32);
            throw new IndexOutOfBoundsException("opencl " + op + ": index " + value + " is out of range [0, " + bound + ") at index position "
                    + e[3] + " (" + detail + ")");
        }
    }

    private void zero(OpenClStorage s, long bytes) {
        if (bytes == 0) return;
        synchronized (ctx) {
            clEnqueueFillBuffer(ctx.queue(), s.buffer(), Pointer.to(new byte[] {0}), 1, 0, bytes, 0, null, null);
        }
    }

    // ---- memory ---------------------------------------------------------------------------

    @Override
    public Storage allocate(DType dtype, int numel) {
        OpenClStorage s = newStorage(dtype, numel);
        try {
            zero(s, (long) numel * dtype.byteSize());
        } catch (org.jocl.CLException e) {
            // Drivers that back buffers lazily report the shortage on first use.
            s.close();
            if (e.getStatus() == CL_MEM_OBJECT_ALLOCATION_FAILURE || e.getStatus() == CL_OUT_OF_RESOURCES) {
                throw new OpenClOutOfMemoryException(label() + ": out of device memory filling a new buffer of " + (long) numel * dtype.byteSize()
                        + " bytes (" + e.getMessage() + "); " + memoryStats(), e);
            }
            throw e;
        }
        return s;
    }

    @Override
    public Storage fromHost(DType dtype, Object hostArray) {
        int n = Array.getLength(hostArray);
        dev.tessera.tensor.CpuStorage.wrap(dtype, hostArray); // validates the array's type against the dtype
        OpenClStorage s = newStorage(dtype, n);
        if (n > 0) {
            synchronized (ctx) {
                clEnqueueWriteBuffer(ctx.queue(), s.buffer(), CL_TRUE, 0, (long) n * dtype.byteSize(), hostPointer(hostArray), 0, null, null);
            }
        }
        return s;
    }

    @Override
    public Object toHost(Storage storage, int offset, int count) {
        if (!(storage instanceof OpenClStorage s) || s.context() != ctx) {
            throw new IllegalArgumentException("opencl toHost: storage is on " + storage.device() + ", not on " + ctx.device());
        }
        s.checkOpen();
        if (offset < 0 || count < 0 || (long) offset + count > s.size()) {
            throw new IndexOutOfBoundsException("opencl toHost: [" + offset + ", " + (offset + count) + ") outside storage of " + s.size() + " elements");
        }
        Object out = dev.tessera.tensor.CpuStorage.newHostArray(s.dtype(), count);
        if (count > 0) {
            int es = s.dtype().byteSize();
            synchronized (ctx) {
                clEnqueueReadBuffer(ctx.queue(), s.buffer(), CL_TRUE, (long) offset * es, (long) count * es, hostPointer(out), 0, null, null);
            }
        }
        return out;
    }

    private static Pointer hostPointer(Object a) {
        if (a instanceof float[] f) return Pointer.to(f);
        if (a instanceof double[] d) return Pointer.to(d);
        if (a instanceof short[] s) return Pointer.to(s);
        if (a instanceof int[] i) return Pointer.to(i);
        if (a instanceof long[] l) return Pointer.to(l);
        if (a instanceof byte[] b) return Pointer.to(b);
        throw new IllegalArgumentException("unsupported host array " + a.getClass());
    }

    // ---- copies ---------------------------------------------------------------------------

    private static String dname(DType t) { return t.name().toLowerCase(Locale.ROOT); }

    private void copyInto(String op, NDArray src, NDArray dst) {
        if ((src.dtype() == DType.F64 || dst.dtype() == DType.F64) && !ctx.info().fp64()) {
            throw new UnsupportedOperationException("opencl " + op + ": F64 needs the cl_khr_fp64 extension, which " + label() + " does not report");
        }
        String name = "copy_" + dname(src.dtype()) + "_" + dname(dst.dtype());
        cl_kernel k = kernel("copy.cl", NO_PRELUDE, "", name);
        int n = dst.numel();
        launch1d(k, name, n, st(op, src), view(op, src), st(op, dst), view(op, dst), n);
    }

    @Override
    public NDArray copy(NDArray x, DType to) {
        inputs("copy", x);
        NDArray out = newArray(to, x.shape());
        copyInto("copy", x, out);
        return out;
    }

    @Override
    public void assign(NDArray dst, NDArray src) {
        if (st("assign", src) == st("assign", dst)) {
            // Source and destination may overlap: read everything first, as a copy.
            try (NDArray tmp = copy(src, src.dtype())) {
                copyInto("assign", tmp, dst);
            }
            return;
        }
        copyInto("assign", src, dst);
    }

    @Override
    public void fill(NDArray dst, double value) {
        DType t = dst.dtype();
        Object bits = switch (t) {
            case F32 -> Float.floatToRawIntBits((float) value);
            case F64 -> Double.doubleToRawLongBits(value);
            case BF16 -> HalfFloats.doubleToBf16(value);
            case F16 -> HalfFloats.doubleToF16(value);
            case I32 -> (int) (long) value;
            case I64 -> (long) value;
            case BOOL -> (byte) (value != 0 ? 1 : 0);
        };
        cl_kernel k = kernel("move.cl", NO_PRELUDE, move(t), "fill");
        int n = dst.numel();
        launch1d(k, "fill", n, st("fill", dst), view("fill", dst), bits, n);
    }

    // ---- elementwise ----------------------------------------------------------------------

    @Override
    public NDArray unary(UnaryOp op, NDArray x, double scalar) {
        inputs("unary " + op, x);
        DType t = x.dtype();
        String name = op.name().toLowerCase(Locale.ROOT);
        if (op.needsFloat()) requireFloat(name, t); else requireType(name, t, DType.F32, DType.F64, DType.I32, DType.I64);
        NDArray out = newArray(t, x.shape());
        int n = out.numel();
        launch1d(typed("elementwise.cl", NO_PRELUDE, t, "unary"), "unary:" + name, n,
                st(name, x), view(name, x), st(name, out), op.ordinal(), scalarT(t, scalar), n);
        return out;
    }

    @Override
    public NDArray unaryBackward(UnaryOp op, NDArray x, NDArray gradOut, double scalar) {
        inputs("unaryBackward " + op, x, gradOut);
        DType t = x.dtype();
        String name = op.name().toLowerCase(Locale.ROOT) + " backward";
        requireFloat(name, t);
        NDArray out = newArray(t, x.shape());
        int n = out.numel();
        launch1d(typed("elementwise.cl", NO_PRELUDE, t, "unary_backward"), "unary_backward:" + name, n,
                st(name, x), view(name, x), st(name, gradOut), view(name, gradOut), st(name, out), op.ordinal(), scalarT(t, scalar), n);
        return out;
    }

    @Override
    public NDArray binary(BinaryOp op, NDArray a, NDArray b) {
        inputs("binary " + op, a, b);
        DType t = a.dtype();
        String name = op.name().toLowerCase(Locale.ROOT);
        if (op.isComparison()) {
            requireType(name, t, DType.F32, DType.F64, DType.I32, DType.I64, DType.BOOL);
        } else if (op == BinaryOp.DIV || op == BinaryOp.POW) {
            requireFloat(name, t);
        } else {
            requireType(name, t, DType.F32, DType.F64, DType.I32, DType.I64);
        }
        NDArray out = newArray(op.isComparison() ? DType.BOOL : t, a.shape());
        int n = out.numel();
        String kn = op.isComparison() ? "compare" : "binary";
        launch1d(typed("elementwise.cl", NO_PRELUDE, t, kn), kn + ":" + name, n,
                st(name, a), view(name, a), st(name, b), view(name, b), st(name, out), op.ordinal(), n);
        return out;
    }

    @Override
    public NDArray binaryScalar(BinaryOp op, NDArray x, double s) {
        inputs("binaryScalar " + op, x);
        DType t = x.dtype();
        String name = op.name().toLowerCase(Locale.ROOT) + " scalar";
        if (op.isComparison()) {
            requireType(name, t, DType.F32, DType.F64, DType.I32, DType.I64);
        } else if (op == BinaryOp.DIV || op == BinaryOp.POW) {
            requireFloat(name, t);
        } else {
            requireType(name, t, DType.F32, DType.F64, DType.I32, DType.I64);
        }
        NDArray out = newArray(op.isComparison() ? DType.BOOL : t, x.shape());
        int n = out.numel();
        String kn = op.isComparison() ? "compare_scalar" : "binary_scalar";
        launch1d(typed("elementwise.cl", NO_PRELUDE, t, kn), kn + ":" + name, n,
                st(name, x), view(name, x), st(name, out), op.ordinal(), scalarS(t, s), n);
        return out;
    }

    @Override
    public NDArray where(NDArray cond, NDArray a, NDArray b) {
        inputs("where", cond, a, b);
        DType t = a.dtype();
        requireType("where", t, DType.F32, DType.F64, DType.I32, DType.I64, DType.BOOL);
        if (cond.dtype() != DType.BOOL) throw new IllegalArgumentException("opencl where: condition must be BOOL, got " + cond.dtype());
        NDArray out = newArray(t, a.shape());
        int n = out.numel();
        launch1d(typed("elementwise.cl", NO_PRELUDE, t, "where"), "where", n,
                st("where", cond), view("where", cond), st("where", a), view("where", a), st("where", b), view("where", b), st("where", out), n);
        return out;
    }

    // ---- reductions -----------------------------------------------------------------------

    /** x's view with the kept dims first and the reduced dims last (dims sorted). */
    private static ViewArg keptThenReduced(String op, NDArray x, int[] dims) {
        int r = x.rank();
        boolean[] red = new boolean[r];
        for (int d : dims) red[d] = true;
        int[] shape = x.shape(), strides = x.strides();
        int[] ps = new int[r], pst = new int[r];
        int j = 0;
        for (int i = 0; i < r; i++) if (!red[i]) { ps[j] = shape[i]; pst[j++] = strides[i]; }
        for (int i = 0; i < r; i++) if (red[i]) { ps[j] = shape[i]; pst[j++] = strides[i]; }
        boolean identity = true;
        for (int i = 0, k = 0; i < r; i++) if (!red[i]) identity &= k++ == i;
        // the fast path (position = offset + i) holds when the permuted view is itself row-major
        boolean contig = Arrays.equals(pst, Shapes.contiguousStrides(ps)) || (identity && x.isContiguous());
        return ViewArg.of(op, ps, pst, x.offset(), contig);
    }

    @Override
    public NDArray reduce(ReduceOp op, NDArray x, int[] dims, boolean keepDim) {
        inputs("reduce " + op, x);
        String name = op.name().toLowerCase(Locale.ROOT);
        DType t = x.dtype();
        if (op == ReduceOp.MEAN || op == ReduceOp.VAR) requireFloat(name, t); else requireType(name, t, DType.F32, DType.F64, DType.I32, DType.I64);
        int[] shape = x.shape();
        int[] outShape = Shapes.reducedShape(shape, dims, keepDim);
        long r = 1;
        for (int d : dims) r *= shape[d];
        DType outType = (op == ReduceOp.SUM && !t.isFloating()) ? DType.I64 : t;
        NDArray out = newArray(outType, outShape);
        int outN = out.numel();
        if (outN == 0) return out;
        if (r == 0) {
            fill(out, op == ReduceOp.SUM ? 0.0 : Double.NaN);
            return out;
        }
        ViewArg v = keptThenReduced(name, x, dims);
        if (op != ReduceOp.VAR && outN < 64 && r >= twoStageMinRow) {
            reduceTwoStage(op, x, v, (int) r, out);
            return out;
        }
        if (op == ReduceOp.MAX || op == ReduceOp.MIN) {
            launchRows(typed("reduce.cl", NO_PRELUDE, t, "reduce_ext"), "reduce_ext:" + name, outN,
                    st(name, x), v, st(name, out), op == ReduceOp.MAX ? 1 : 0, (int) r);
        } else {
            int code = op == ReduceOp.SUM ? 0 : op == ReduceOp.MEAN ? 1 : 4;
            launchRows(typed("reduce.cl", NO_PRELUDE, t, "reduce_acc"), "reduce_acc:" + name, outN,
                    st(name, x), v, st(name, out), code, (int) r);
        }
        return out;
    }

    /** Rows at least this long, when there are few of them, are reduced in two stages (package-private for tests). */
    volatile int twoStageMinRow = 1 << 16;

    /**
     * A few long rows: P partial results per row from P work-groups, then one group per row over the
     * partials, so that a sum over everything uses the whole device instead of one work-group.
     */
    private void reduceTwoStage(ReduceOp op, NDArray x, ViewArg v, int r, NDArray out) {
        String name = op.name().toLowerCase(Locale.ROOT);
        DType t = x.dtype();
        int outN = out.numel();
        int parts = (int) Math.max(2, Math.min(1024, (long) r / (ctx.rowGroupSize() * 16L)));
        boolean ext = op == ReduceOp.MAX || op == ReduceOp.MIN;
        DType partType = ext ? t : (t.isFloating() ? t : DType.I64);
        try (NDArray partial = newArray(partType, outN, parts)) {
            launchRows(typed("reduce.cl", NO_PRELUDE, t, ext ? "reduce_partial_ext" : "reduce_partial_sum"), "reduce_partial:" + name,
                    outN * parts, st(name, x), v, st(name, partial), op == ReduceOp.MAX ? 1 : 0, r, parts);
            ViewArg pv = ViewArg.contiguous(name, new int[] {outN, parts});
            if (ext) {
                launchRows(typed("reduce.cl", NO_PRELUDE, partType, "reduce_ext"), "reduce_ext:" + name, outN,
                        st(name, partial), pv, st(name, out), op == ReduceOp.MAX ? 1 : 0, parts);
            } else if (op == ReduceOp.SUM) {
                launchRows(typed("reduce.cl", NO_PRELUDE, partType, "reduce_acc"), "reduce_acc:" + name, outN,
                        st(name, partial), pv, st(name, out), 0, parts);
            } else { // MEAN: the sum of the partials divided by the row length
                try (NDArray sums = newArray(t, out.shape())) {
                    launchRows(typed("reduce.cl", NO_PRELUDE, t, "reduce_acc"), "reduce_acc:sum", outN,
                            st(name, partial), pv, st(name, sums), 0, parts);
                    int n = outN;
                    launch1d(typed("elementwise.cl", NO_PRELUDE, t, "binary_scalar"), "binary_scalar:div", n,
                            st(name, sums), view(name, sums), st(name, out), BinaryOp.DIV.ordinal(), scalarS(t, r), n);
                }
            }
        }
    }

    @Override
    public NDArray argReduce(boolean max, NDArray x, int dim, boolean keepDim) {
        inputs("argReduce", x);
        String name = max ? "argmax" : "argmin";
        DType t = x.dtype();
        requireType(name, t, DType.F32, DType.F64, DType.I32, DType.I64);
        int[] outShape = Shapes.reducedShape(x.shape(), new int[] {dim}, keepDim);
        NDArray out = newArray(DType.I64, outShape);
        int outN = out.numel();
        if (outN == 0) return out;
        launchRows(typed("reduce.cl", NO_PRELUDE, t, "argreduce"), name, outN,
                st(name, x), keptThenReduced(name, x, new int[] {dim}), st(name, out), max ? 1 : 0, x.size(dim));
        return out;
    }

    // ---- softmax and normalization --------------------------------------------------------

    private static int lastDim(NDArray x) { return x.rank() == 0 ? 1 : x.size(-1); }

    private static int[] rowShape(NDArray x) { return Arrays.copyOf(x.shape(), Math.max(0, x.rank() - 1)); }

    @Override
    public NDArray softmax(NDArray x, boolean log) {
        inputs("softmax", x);
        String name = log ? "logSoftmax" : "softmax";
        requireFloat(name, x.dtype());
        NDArray out = newArray(x.dtype(), x.shape());
        int c = lastDim(x);
        if (out.numel() == 0) return out;
        launchRows(typed("softmax.cl", ROWS, x.dtype(), "softmax_fwd"), name, out.numel() / c,
                st(name, x), view(name, x), st(name, out), c, log ? 1 : 0);
        return out;
    }

    @Override
    public NDArray softmaxBackward(NDArray y, NDArray gradOut, boolean log) {
        inputs("softmaxBackward", y, gradOut);
        String name = log ? "logSoftmax backward" : "softmax backward";
        requireFloat(name, y.dtype());
        NDArray out = newArray(y.dtype(), y.shape());
        int c = lastDim(y);
        if (out.numel() == 0) return out;
        launchRows(typed("softmax.cl", ROWS, y.dtype(), "softmax_bwd"), name, out.numel() / c,
                st(name, y), view(name, y), st(name, gradOut), view(name, gradOut), st(name, out), c, log ? 1 : 0);
        return out;
    }

    /** x itself when contiguous at offset 0 (kernels index it directly), else a contiguous copy. */
    /**
     * Releases temporaries made by {@link #dense} (or a dtype copy) once their kernels are queued; the
     * in-order queue guarantees a reuse of the buffer runs after them.
     */
    private static void release(NDArray made, NDArray original) {
        if (made != null && made != original) made.close();
    }

    private NDArray dense(NDArray x) {
        return x == null || (x.isContiguous() && x.offset() == 0) ? x : copy(x, x.dtype());
    }

    @Override
    public NormResult layerNorm(NDArray x, NDArray weight, NDArray bias, double eps) {
        inputs("layerNorm", x, weight, bias);
        String name = "layerNorm";
        DType t = x.dtype();
        requireFloat(name, t);
        NDArray w = dense(weight), b = dense(bias);
        NDArray out = newArray(t, x.shape());
        NDArray mean = newArray(t, rowShape(x)), rstd = newArray(t, rowShape(x));
        int c = lastDim(x);
        if (out.numel() == 0) return new NormResult(out, mean, rstd);
        launchRows(typed("norm.cl", ROWS, t, "layernorm_fwd"), name, out.numel() / c,
                st(name, x), view(name, x), st(name, w == null ? x : w), st(name, b == null ? x : b), w == null ? 0 : 1, b == null ? 0 : 1,
                st(name, out), st(name, mean), st(name, rstd), c, scalarT(t, eps));
        release(w, weight);
        release(b, bias);
        return new NormResult(out, mean, rstd);
    }

    @Override
    public NormGrads layerNormBackward(NDArray gradOut, NDArray x, NDArray mean, NDArray rstd, NDArray weight, boolean hasBias) {
        inputs("layerNormBackward", gradOut, x, mean, rstd, weight);
        String name = "layerNorm backward";
        DType t = x.dtype();
        requireFloat(name, t);
        NDArray w = dense(weight), mu = dense(mean), rs = dense(rstd);
        NDArray dx = newArray(t, x.shape());
        int c = lastDim(x);
        int rows = c == 0 ? 0 : x.numel() / c;
        launchRows(typed("norm.cl", ROWS, t, "layernorm_bwd_dx"), name, rows,
                st(name, gradOut), view(name, gradOut), st(name, x), view(name, x), st(name, mu), st(name, rs),
                st(name, w == null ? x : w), w == null ? 0 : 1, st(name, dx), c);
        NDArray dw = null, db = null;
        if (weight != null || hasBias) {
            dw = newArray(t, c);
            db = hasBias ? newArray(t, c) : null;
            launchRows(typed("norm.cl", ROWS, t, "norm_bwd_dwb"), name + " (weight, bias)", c,
                    st(name, gradOut), view(name, gradOut), st(name, x), view(name, x), st(name, mu), st(name, rs), 1,
                    st(name, dw), st(name, db == null ? dw : db), hasBias ? 1 : 0, rows, c);
            if (weight == null) {
                dw.close();
                dw = null;
            }
        }
        release(w, weight);
        release(mu, mean);
        release(rs, rstd);
        return new NormGrads(dx, dw, db);
    }

    @Override
    public NormResult rmsNorm(NDArray x, NDArray weight, double eps) {
        inputs("rmsNorm", x, weight);
        String name = "rmsNorm";
        DType t = x.dtype();
        requireFloat(name, t);
        NDArray w = dense(weight);
        NDArray out = newArray(t, x.shape());
        NDArray rstd = newArray(t, rowShape(x));
        int c = lastDim(x);
        if (out.numel() == 0) return new NormResult(out, null, rstd);
        launchRows(typed("norm.cl", ROWS, t, "rmsnorm_fwd"), name, out.numel() / c,
                st(name, x), view(name, x), st(name, w == null ? x : w), w == null ? 0 : 1, st(name, out), st(name, rstd), c, scalarT(t, eps));
        release(w, weight);
        return new NormResult(out, null, rstd);
    }

    @Override
    public NormGrads rmsNormBackward(NDArray gradOut, NDArray x, NDArray rstd, NDArray weight) {
        inputs("rmsNormBackward", gradOut, x, rstd, weight);
        String name = "rmsNorm backward";
        DType t = x.dtype();
        requireFloat(name, t);
        NDArray w = dense(weight), rs = dense(rstd);
        NDArray dx = newArray(t, x.shape());
        int c = lastDim(x);
        int rows = c == 0 ? 0 : x.numel() / c;
        launchRows(typed("norm.cl", ROWS, t, "rmsnorm_bwd_dx"), name, rows,
                st(name, gradOut), view(name, gradOut), st(name, x), view(name, x), st(name, rs),
                st(name, w == null ? x : w), w == null ? 0 : 1, st(name, dx), c);
        NDArray dw = null;
        if (weight != null) {
            dw = newArray(t, c);
            launchRows(typed("norm.cl", ROWS, t, "norm_bwd_dwb"), name + " (weight)", c,
                    st(name, gradOut), view(name, gradOut), st(name, x), view(name, x), st(name, rs), st(name, rs), 0,
                    st(name, dw), st(name, dw), 0, rows, c);
        }
        release(w, weight);
        release(rs, rstd);
        return new NormGrads(dx, dw, null);
    }

    // ---- matmul ---------------------------------------------------------------------------

    private static final int GEMM_LOCAL = 16;

    @Override
    public NDArray matmul(NDArray a, NDArray b) {
        inputs("matmul", a, b);
        String name = "matmul";
        DType t = a.dtype();
        requireFloat(name, t);
        if (b.dtype() != t) throw new IllegalArgumentException("opencl matmul: dtypes differ (" + t + " and " + b.dtype() + ")");
        int r = a.rank();
        int m = a.size(-2), k = a.size(-1), n = b.size(-1);
        int[] outShape = a.shape();
        outShape[r - 1] = n;
        int batch = 1;
        for (int i = 0; i < r - 2; i++) batch *= outShape[i];
        NDArray out = newArray(t, outShape);
        if (out.numel() == 0) return out;
        if (k == 0) {
            zero(st(name, out), (long) out.numel() * t.byteSize());
            return out;
        }
        int tile = gemmTile;
        long[] global = {(long) ((n + tile - 1) / tile) * GEMM_LOCAL, (long) ((m + tile - 1) / tile) * GEMM_LOCAL, batch};
        ctx.launch(kernel("gemm.cl", NO_PRELUDE, defines(t) + " -DTS=" + tile, "gemm"), "gemm" + tile, global, new long[] {GEMM_LOCAL, GEMM_LOCAL, 1},
                st(name, a), view(name, a), st(name, b), view(name, b), st(name, out), m, n, k);
        return out;
    }

    // ---- indexing -------------------------------------------------------------------------

    private static int is64(String op, NDArray index) {
        if (index.dtype() == DType.I64) return 1;
        if (index.dtype() == DType.I32) return 0;
        throw new IllegalArgumentException("opencl " + op + ": index must be I32 or I64, got " + index.dtype());
    }

    @Override
    public NDArray gather(NDArray x, int dim, NDArray index) {
        inputs("gather", x, index);
        String name = "gather";
        NDArray out = newArray(x.dtype(), index.shape());
        int n = out.numel();
        if (n == 0) return out;
        try (OpenClStorage info = infoBuffer(4)) {
            launch1d(kernel("move.cl", NO_PRELUDE, move(x.dtype()), "gather"), name, n,
                    st(name, x), view(name, x), st(name, index), is64(name, index), view(name, index), st(name, out), dim, n, info);
            checkIndexError(info, name, "x shape " + Shapes.str(x.shape()) + ", dim " + dim + ", index shape " + Shapes.str(index.shape()), x.size(dim));
        }
        return out;
    }

    @Override
    public NDArray indexSelect(NDArray x, int dim, NDArray index) {
        inputs("indexSelect", x, index);
        String name = "indexSelect";
        int[] outShape = x.shape();
        outShape[dim] = index.size(0);
        NDArray out = newArray(x.dtype(), outShape);
        int n = out.numel();
        if (n == 0) return out;
        try (OpenClStorage info = infoBuffer(4)) {
            launch1d(kernel("move.cl", NO_PRELUDE, move(x.dtype()), "index_select"), name, n,
                    st(name, x), view(name, x), st(name, index), is64(name, index), view(name, index),
                    ViewArg.contiguous(name, outShape), st(name, out), dim, n, info);
            checkIndexError(info, name, "x shape " + Shapes.str(x.shape()) + ", dim " + dim + ", index shape " + Shapes.str(index.shape()), x.size(dim));
        }
        return out;
    }

    @Override
    public void scatterAddInPlace(NDArray dst, int dim, NDArray index, NDArray src) {
        accumulateInto("scatterAdd", "scatter_add", dst, dim, index, src, index.numel());
    }

    @Override
    public void indexAddInPlace(NDArray dst, int dim, NDArray index, NDArray src) {
        accumulateInto("indexAdd", "index_add", dst, dim, index, src, src.numel());
    }

    /** The two atomic accumulations of scatter.cl: one work-item per element of the n it walks. */
    private void accumulateInto(String name, String kernel, NDArray dst, int dim, NDArray index, NDArray src, int n) {
        DType t = dst.dtype();
        requireType(name, t, DType.F32, DType.F64, DType.I32, DType.I64);
        requireInt64Atomics(name, t);
        if (n == 0) return;
        NDArray s = src.dtype() == t ? src : copy(src, t);
        try (OpenClStorage info = infoBuffer(4)) {
            launch1d(typed("scatter.cl", NO_PRELUDE, t, kernel), name, n,
                    st(name, dst), view(name, dst), st(name, index), is64(name, index), view(name, index), st(name, s), view(name, s), dim, n, info);
            checkIndexError(info, name, "dst shape " + Shapes.str(dst.shape()) + ", dim " + dim + ", index shape " + Shapes.str(index.shape()), dst.size(dim));
        }
        release(s, src);
    }

    @Override
    public NDArray triangle(NDArray x, int k, boolean upper) {
        inputs("triangle", x);
        String name = upper ? "triu" : "tril";
        NDArray out = newArray(x.dtype(), x.shape());
        int n = out.numel();
        launch1d(kernel("move.cl", NO_PRELUDE, move(x.dtype()), "triangle"), name, n,
                st(name, x), view(name, x), st(name, out), k, upper ? 1 : 0, n);
        return out;
    }

    // ---- fused training kernels -----------------------------------------------------------

    @Override
    public CrossEntropyResult crossEntropy(NDArray logits, NDArray targets, long ignoreIndex, double labelSmoothing) {
        inputs("crossEntropy", logits, targets);
        String name = "crossEntropy";
        DType t = logits.dtype();
        requireFloat(name, t);
        int rows = logits.size(0), v = logits.size(1);
        NDArray loss = newArray(t, rows), lse = newArray(t, rows);
        if (rows == 0) return new CrossEntropyResult(loss, lse, 0);
        try (OpenClStorage info = infoBuffer(5)) {
            launchRows(typed("loss.cl", ROWS, t, "ce_fwd"), name, rows,
                    st(name, logits), view(name, logits), st(name, targets), is64(name, targets), view(name, targets),
                    st(name, loss), st(name, lse), v, ignoreIndex, scalarT(t, labelSmoothing), info);
            int[] e = readInts(info, 5);
            if (e[0] != 0) {
                long value = (e[1] & 0xFFFFFFFFL) | ((long) e[2] << 32);
                throw new IndexOutOfBoundsException("opencl crossEntropy: target " + value + " of row " + e[3] + " is out of range [0, " + v
                        + ") and is not the ignore index " + ignoreIndex + " (logits " + Shapes.str(logits.shape()) + ")");
            }
            return new CrossEntropyResult(loss, lse, e[4]);
        }
    }

    @Override
    public NDArray crossEntropyBackward(NDArray logits, NDArray targets, NDArray logSumExp, long ignoreIndex, double labelSmoothing, double scale) {
        inputs("crossEntropyBackward", logits, targets, logSumExp);
        String name = "crossEntropy backward";
        DType t = logits.dtype();
        requireFloat(name, t);
        NDArray lse = dense(logSumExp);
        NDArray out = newArray(t, logits.shape());
        int n = out.numel();
        launch1d(typed("loss.cl", ROWS, t, "ce_bwd"), name, n,
                st(name, logits), view(name, logits), st(name, targets), is64(name, targets), view(name, targets), st(name, lse),
                st(name, out), logits.size(1), ignoreIndex, scalarT(t, labelSmoothing), scalarT(t, scale), n);
        release(lse, logSumExp);
        return out;
    }

    @Override
    public void adamwStep(NDArray param, NDArray grad, NDArray m, NDArray v, double lr, double beta1, double beta2, double eps,
                          double weightDecay, long step) {
        String name = "adamw";
        DType t = param.dtype();
        requireFloat(name, t);
        for (NDArray a : new NDArray[] {param, m, v}) {
            if (!a.isContiguous()) throw new IllegalArgumentException("opencl adamw: parameter and moments must be contiguous, got strides " + Shapes.str(a.strides()));
        }
        int n = param.numel();
        double bc1 = 1 - Math.pow(beta1, step), bc2 = 1 - Math.pow(beta2, step);
        launch1d(typed("adamw.cl", NO_PRELUDE, t, "adamw"), name, n,
                st(name, param), param.offset(), st(name, grad), view(name, grad), st(name, m), m.offset(), st(name, v), v.offset(),
                scalarT(t, lr), scalarT(t, beta1), scalarT(t, beta2), scalarT(t, 1 - beta1), scalarT(t, 1 - beta2), scalarT(t, eps), scalarT(t, weightDecay),
                scalarT(t, bc1), scalarT(t, bc2), n);
    }

    @Override
    public String toString() { return describe(); }

}
