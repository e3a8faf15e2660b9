package dev.tessera.tensor.testing;

import dev.tessera.tensor.Backend;
import dev.tessera.tensor.BinaryOp;
import dev.tessera.tensor.CpuStorage;
import dev.tessera.tensor.CrossEntropyResult;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Device;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.NormGrads;
import dev.tessera.tensor.NormResult;
import dev.tessera.tensor.ReduceOp;
import dev.tessera.tensor.ReferenceBackend;
import dev.tessera.tensor.Shapes;
import dev.tessera.tensor.UnaryOp;
import dev.tessera.tensor.testing.Approx.Tolerance;
import dev.tessera.tensor.testing.RandomArrays.Layout;
import dev.tessera.tensor.testing.RandomArrays.ViewCase;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.ShrinkingMode;

/**
 * Every {@link Backend} primitive on random inputs against {@link ReferenceBackend#INSTANCE}.
 * Inputs have odd sizes (1, 3, 17, 33, 65, 129: no multiple of a vector width or tile) and random
 * layouts (contiguous, permuted, stepped slices of a larger array, stride-0 broadcast); in-place
 * ops are compared on the whole base array, so writes outside a view are caught too. Each property
 * draws everything from one seed, so a failure message plus the seed reproduces it.
 *
 * <p>A backend's test extends this class:
 * <pre>{@code
 * class OpenClParityTest extends BackendParitySuite {
 *     protected Backend backend() { return Backends.forDevice(Device.opencl(0)); }
 *     protected NDArray onDevice(NDArray cpu) { return cpu.to(Device.opencl(0)); }
 *     protected Tolerance tolerance(String op, DType dtype) {   // optional
 *         return op.equals("unary:GELU") ? Tolerance.of(1e-5, 1e-6) : super.tolerance(op, dtype);
 *     }
 * }
 * }</pre>
 * Op names used for tolerances: copy, assign, fill, unary:OP, unaryBackward:OP, binary:OP,
 * binaryScalar:OP, where, reduce:OP, argReduce, softmax, logSoftmax, softmaxBackward,
 * logSoftmaxBackward, layerNorm, layerNormBackward, rmsNorm, rmsNormBackward, matmul, gather,
 * indexSelect, scatterAdd, indexAdd, triangle, crossEntropy, crossEntropyBackward, adamw.
 */
public abstract class BackendParitySuite {
    protected static final ReferenceBackend REF = ReferenceBackend.INSTANCE;

    /** The backend under test. */
    protected abstract Backend backend();

    /** A CPU array moved to the backend's device (identity for CPU backends). */
    protected NDArray onDevice(NDArray cpuArray) { return cpuArray; }

    /** Whether to check NaN / infinity / signed-zero handling of elementwise ops and reductions. */
    protected boolean checkSpecialValues() { return true; }

    /** Whether the backend throws IndexOutOfBoundsException for out-of-range indices as the reference does. */
    protected boolean checksIndexBounds() { return true; }

    /**
     * How close the backend's result of op in dtype must be. Defaults: exact for data movement,
     * integers, comparisons, max/min and arg-reductions; F32 elementwise rtol 1e-6 (atol 1e-7),
     * F32 accumulating ops rtol 1e-5 (atol 1e-6) against the magnitude of the summed terms;
     * F64 about 1e-12.
     */
    protected Tolerance tolerance(String op, DType dtype) {
        if (!dtype.isFloating()) return Tolerance.exact();
        String kind = op.contains(":") ? op.substring(0, op.indexOf(':')) : op;
        if (op.equals("reduce:MAX") || op.equals("reduce:MIN")) return Tolerance.exact();
        switch (kind) {
            case "copy", "assign", "fill", "where", "gather", "indexSelect", "triangle", "argReduce":
                return Tolerance.exact();
            case "unary", "unaryBackward", "binary", "binaryScalar":
                return dtype == DType.F64 ? Tolerance.of(1e-13, 1e-15) : Tolerance.of(1e-6, 1e-7);
            default:
                return dtype == DType.F64 ? Tolerance.of(1e-11, 1e-13) : Tolerance.of(1e-5, 1e-6);
        }
    }

    // ---- plumbing ---------------------------------------------------------------------------

    private NDArray dev(ViewCase v) { return v.on(this::onDevice); }

    /** A device copy of a fresh copy of the base, viewed (for in-place ops: the reference gets another copy). */
    private NDArray devFresh(ViewCase v) { return v.on(b -> onDevice(REF.copy(b, b.dtype()))); }

    private NDArray dev(NDArray cpu) { return onDevice(cpu); }

    private static NDArray host(NDArray x) { return x.to(Device.CPU); }

    /** Zeros made by the reference, so that the suite never needs the default CPU backend. */
    private static NDArray refZeros(DType dtype, int... shape) { return new NDArray(REF.allocate(dtype, Shapes.numel(shape)), shape); }

    private void check(String op, String context, NDArray expected, NDArray actual) {
        Approx.assertClose(op + " [" + context + "]", expected, host(actual), tolerance(op, expected.dtype()));
    }

    private void checkScaled(String op, String context, NDArray expected, NDArray actual, double[] scale) {
        Approx.assertCloseScaled(op + " [" + context + "]", expected, host(actual), tolerance(op, expected.dtype()), scale);
    }

    private void checkNormwise(String op, String context, NDArray expected, NDArray actual) {
        Tolerance t = tolerance(op, expected.dtype());
        Approx.assertClose(op + " [" + context + "]", expected, host(actual), t.isExact() ? t : Tolerance.normwise(t.rtol(), t.atol()));
    }

    private static final DType[] FLOATS = {DType.F32, DType.F64};
    private static final DType[] NUMERIC = {DType.F32, DType.F64, DType.I32, DType.I64};
    private static final DType[] ALL = DType.values();

    private static <T> T pick(Generator g, T[] options) { return options[(int) g.nextLong(options.length)]; }

    private static double[] abs(double[] v) {
        double[] r = new double[v.length];
        for (int i = 0; i < v.length; i++) r[i] = Math.abs(v[i]);
        return r;
    }

    private static double[] doubles(NDArray x) { return Approx.doubles(x); }

    /** x mapped elementwise on the CPU (reference-side helper for domains and scales). */
    private static NDArray map(NDArray x, java.util.function.DoubleUnaryOperator f) {
        double[] v = doubles(x);
        CpuStorage s = CpuStorage.allocate(x.dtype(), v.length);
        for (int i = 0; i < v.length; i++) s.setDouble(i, f.applyAsDouble(v[i]));
        return new NDArray(s, x.shape());
    }

    private static NDArray absArray(NDArray x) {
        NDArray r = map(x, Math::abs);
        return r.dtype().isFloating() ? r : REF.copy(r, DType.F64);
    }

    // ---- memory ---------------------------------------------------------------------------

    @Property(tries = 30, shrinking = ShrinkingMode.OFF)
    public void hostTransfers(@ForAll long seed) {
        Generator g = new Generator(seed);
        DType dtype = pick(g, ALL);
        int n = RandomArrays.oddSize(g, 129);
        String ctx = dtype + " n=" + n + " seed " + seed;
        NDArray zeros = new NDArray(backend().allocate(dtype, n), n);
        Approx.assertExact("allocate [" + ctx + "]", refZeros(dtype, n), host(zeros));
        NDArray values = RandomArrays.random(g, dtype, n);
        Object hostArray = REF.toHost(values.storage(), 0, n);
        NDArray uploaded = new NDArray(backend().fromHost(dtype, hostArray), n);
        Approx.assertExact("fromHost [" + ctx + "]", values, host(uploaded));
        int offset = (int) g.nextLong(n), count = (int) g.nextLong(n - offset + 1);
        Object part = backend().toHost(uploaded.storage(), offset, count);
        NDArray back = new NDArray(CpuStorage.wrap(dtype, part), count);
        Approx.assertExact("toHost [" + ctx + " offset " + offset + " count " + count + "]", values.narrow(0, offset, count), back);
    }

    // ---- copies ---------------------------------------------------------------------------

    @Property(tries = 60, shrinking = ShrinkingMode.OFF)
    public void copyBetweenDtypes(@ForAll long seed) {
        Generator g = new Generator(seed);
        DType from = pick(g, ALL), to = pick(g, ALL);
        int[] shape = RandomArrays.shape(g, 0, 4, 1, 7);
        NDArray values = from.isFloating() ? map(RandomArrays.random(g, from, shape), v -> v * 40) : RandomArrays.random(g, from, shape);
        ViewCase x = RandomArrays.anyView(g, values);
        check("copy", from + "->" + to + " " + x + " seed " + seed, REF.copy(x.array(), to), backend().copy(dev(x), to));
    }

    @Property(tries = 60, shrinking = ShrinkingMode.OFF)
    public void assignIntoViews(@ForAll long seed) {
        Generator g = new Generator(seed);
        DType dt = pick(g, ALL), st = pick(g, ALL);
        int[] shape = RandomArrays.shape(g, 0, 4, 1, 7);
        ViewCase dst = RandomArrays.view(g, RandomArrays.random(g, dt, shape), RandomArrays.sameValuesLayout(g));
        int[] srcShape = RandomArrays.broadcastPartner(g, shape);
        NDArray srcValues = st.isFloating() ? map(RandomArrays.random(g, st, srcShape), v -> v * 40) : RandomArrays.random(g, st, srcShape);
        ViewCase src = RandomArrays.anyView(g, srcValues);
        String ctx = dt + " dst " + dst + " <- " + st + " src " + src + " seed " + seed;
        ViewCase refDst = dst.copy();
        REF.assign(refDst.array(), src.array().expand(shape));
        NDArray devDst = devFresh(dst);
        backend().assign(devDst, dev(src).expand(shape));
        // compare whole storage through the base: writes outside the view are errors too
        check("assign", ctx, refDst.base(), baseOf(devDst, dst));
    }

    @Property(tries = 40, shrinking = ShrinkingMode.OFF)
    public void fillViews(@ForAll long seed) {
        Generator g = new Generator(seed);
        DType dt = pick(g, ALL);
        int[] shape = RandomArrays.shape(g, 0, 4, 1, 7);
        ViewCase dst = RandomArrays.view(g, RandomArrays.random(g, dt, shape), RandomArrays.sameValuesLayout(g));
        double value = dt.isFloating() ? g.nextGaussian() * 10 : (double) (g.nextLong(200) - 100);
        ViewCase refDst = dst.copy();
        REF.fill(refDst.array(), value);
        NDArray devDst = devFresh(dst);
        backend().fill(devDst, value);
        check("fill", dt + " " + dst + " value " + value + " seed " + seed, refDst.base(), baseOf(devDst, dst));
    }

    /** The whole base storage behind a device view made by devFresh, as a CPU array of the base's shape. */
    private static NDArray baseOf(NDArray deviceView, ViewCase vc) {
        NDArray whole = new NDArray(deviceView.storage(), vc.base().shape());
        return host(whole);
    }

    // ---- elementwise ----------------------------------------------------------------------

    private static final double[] POW_EXPONENTS = {2, 3, 0.5, -1, 1.5, 0, 1};

    /** Inputs in the op's domain: positive for LOG/SQRT/RSQRT and non-integer powers. */
    private static NDArray unaryInput(Generator g, UnaryOp op, double p, DType dtype, int[] shape) {
        NDArray x = RandomArrays.random(g, dtype, shape);
        if (!dtype.isFloating()) return x;
        boolean positive = op == UnaryOp.LOG || op == UnaryOp.SQRT || op == UnaryOp.RSQRT || (op == UnaryOp.POW && p != Math.rint(p));
        if (positive) return map(x, v -> Math.abs(v) * 2 + 0.05);
        if (op == UnaryOp.POW && p < 0) return map(x, v -> Math.copySign(Math.abs(v) + 0.1, v));
        return map(x, v -> v * 2.5);
    }

    @Property(tries = 30, shrinking = ShrinkingMode.OFF)
    public void unaryOps(@ForAll long seed) {
        Generator g = new Generator(seed);
        for (UnaryOp op : UnaryOp.values()) {
            DType dtype = op.needsFloat() ? pick(g, FLOATS) : pick(g, NUMERIC);
            double p = op == UnaryOp.POW ? POW_EXPONENTS[(int) g.nextLong(POW_EXPONENTS.length)] : 0;
            int[] shape = RandomArrays.oddShape(g, 0, 3, 129, 3000);
            ViewCase x = RandomArrays.anyView(g, unaryInput(g, op, p, dtype, shape));
            check("unary:" + op, dtype + " p=" + p + " " + x + " seed " + seed, REF.unary(op, x.array(), p), backend().unary(op, dev(x), p));
        }
    }

    @Property(tries = 30, shrinking = ShrinkingMode.OFF)
    public void unaryBackwardOps(@ForAll long seed) {
        Generator g = new Generator(seed);
        for (UnaryOp op : UnaryOp.values()) {
            DType dtype = pick(g, FLOATS);
            double p = op == UnaryOp.POW ? POW_EXPONENTS[(int) g.nextLong(POW_EXPONENTS.length)] : 0;
            int[] shape = RandomArrays.oddShape(g, 0, 3, 129, 3000);
            ViewCase x = RandomArrays.anyView(g, unaryInput(g, op, p, dtype, shape));
            ViewCase go = RandomArrays.randomView(g, dtype, shape);
            NDArray expected = REF.unaryBackward(op, x.array(), go.array(), p);
            double[] scale = abs(doubles(go.array()));
            checkScaled("unaryBackward:" + op, dtype + " p=" + p + " x " + x + " grad " + go + " seed " + seed,
                    expected, backend().unaryBackward(op, dev(x), dev(go), p), scale);
        }
    }

    @Property(tries = 30, shrinking = ShrinkingMode.OFF)
    public void binaryOps(@ForAll long seed) {
        Generator g = new Generator(seed);
        for (BinaryOp op : BinaryOp.values()) {
            boolean floatOnly = op == BinaryOp.DIV || op == BinaryOp.POW;
            DType dtype = floatOnly ? pick(g, FLOATS) : pick(g, NUMERIC);
            int[] out = RandomArrays.oddShape(g, 0, 4, 129, 3000);
            int[] sa = RandomArrays.broadcastPartner(g, out), sb = RandomArrays.broadcastPartner(g, out);
            NDArray a = binaryOperand(g, op, dtype, sa, true), b = binaryOperand(g, op, dtype, sb, false);
            ViewCase va = RandomArrays.anyView(g, a), vb = RandomArrays.anyView(g, b);
            String ctx = dtype + " a " + va + " b " + vb + " -> " + Arrays.toString(out) + " seed " + seed;
            NDArray expected = REF.binary(op, va.array().expand(out), vb.array().expand(out));
            check("binary:" + op, ctx, expected, backend().binary(op, dev(va).expand(out), dev(vb).expand(out)));
        }
    }

    private static NDArray binaryOperand(Generator g, BinaryOp op, DType dtype, int[] shape, boolean left) {
        if (op.isComparison()) {
            // few distinct values, so that ties (EQ, LE, GE) actually happen
            NDArray v = RandomArrays.integers(g, dtype, -3, 4, shape);
            return dtype.isFloating() ? map(v, x -> x / 2) : v;
        }
        NDArray x = RandomArrays.random(g, dtype, shape);
        if (op == BinaryOp.DIV && !left) return map(x, v -> Math.copySign(Math.abs(v) + 0.25, v));
        if (op == BinaryOp.POW) return left ? map(x, v -> Math.abs(v) * 2 + 0.1) : map(x, v -> v * 1.5);
        if (!dtype.isFloating() && op == BinaryOp.MUL) return RandomArrays.integers(g, dtype, -1000, 1000, shape);
        return x;
    }

    @Property(tries = 30, shrinking = ShrinkingMode.OFF)
    public void binaryScalarOps(@ForAll long seed) {
        Generator g = new Generator(seed);
        for (BinaryOp op : BinaryOp.values()) {
            boolean floatOnly = op == BinaryOp.DIV || op == BinaryOp.POW;
            DType dtype = floatOnly ? pick(g, FLOATS) : pick(g, NUMERIC);
            int[] shape = RandomArrays.oddShape(g, 0, 3, 129, 3000);
            NDArray x = binaryOperand(g, op, dtype, shape, true);
            double s;
            if (op == BinaryOp.POW) s = new double[] {2, 0.5, -1, 3, 1.7}[(int) g.nextLong(5)];
            else if (op == BinaryOp.DIV) s = new double[] {2, -0.5, 3, 0.1}[(int) g.nextLong(4)];
            else if (op.isComparison()) s = (g.nextLong(7) - 3) / (dtype.isFloating() || g.nextLong(2) == 0 ? 2.0 : 1.0);
            else s = dtype.isFloating() ? g.nextGaussian() * 3 : g.nextLong(21) - 10;
            ViewCase vx = RandomArrays.anyView(g, x);
            check("binaryScalar:" + op, dtype + " s=" + s + " " + vx + " seed " + seed, REF.binaryScalar(op, vx.array(), s),
                    backend().binaryScalar(op, dev(vx), s));
        }
    }

    @Property(tries = 40, shrinking = ShrinkingMode.OFF)
    public void whereSelects(@ForAll long seed) {
        Generator g = new Generator(seed);
        DType dtype = pick(g, NUMERIC);
        int[] out = RandomArrays.oddShape(g, 0, 4, 129, 3000);
        ViewCase c = RandomArrays.randomView(g, DType.BOOL, RandomArrays.broadcastPartner(g, out));
        ViewCase a = RandomArrays.randomView(g, dtype, RandomArrays.broadcastPartner(g, out));
        ViewCase b = RandomArrays.randomView(g, dtype, RandomArrays.broadcastPartner(g, out));
        check("where", dtype + " cond " + c + " a " + a + " b " + b + " seed " + seed,
                REF.where(c.array().expand(out), a.array().expand(out), b.array().expand(out)),
                backend().where(dev(c).expand(out), dev(a).expand(out), dev(b).expand(out)));
    }

    // ---- reductions -----------------------------------------------------------------------

    @Property(tries = 30, shrinking = ShrinkingMode.OFF)
    public void reductions(@ForAll long seed) {
        Generator g = new Generator(seed);
        for (ReduceOp op : ReduceOp.values()) {
            boolean floatOnly = op == ReduceOp.MEAN || op == ReduceOp.VAR;
            DType dtype = floatOnly ? pick(g, FLOATS) : pick(g, NUMERIC);
            int[] shape = RandomArrays.oddShape(g, 1, 4, 129, 6000);
            int[] dims = randomDims(g, shape.length);
            boolean keepDim = g.nextLong(2) == 0;
            NDArray values = RandomArrays.random(g, dtype, shape);
            // an offset makes a one-pass variance (E[x^2] - E[x]^2) lose its digits
            if (op == ReduceOp.VAR) values = map(values, v -> v + 3);
            ViewCase x = RandomArrays.anyView(g, values);
            String ctx = dtype + " dims " + Arrays.toString(dims) + " keepDim " + keepDim + " " + x + " seed " + seed;
            NDArray expected = REF.reduce(op, x.array(), dims, keepDim);
            NDArray actual = backend().reduce(op, dev(x), dims, keepDim);
            double[] scale = switch (op) {
                case SUM -> doubles(REF.reduce(ReduceOp.SUM, absArray(x.array()), dims, keepDim));
                case MEAN -> doubles(REF.reduce(ReduceOp.MEAN, absArray(x.array()), dims, keepDim));
                default -> abs(doubles(expected));
            };
            checkScaled("reduce:" + op, ctx, expected, actual, scale);
        }
    }

    private static int[] randomDims(Generator g, int rank) {
        List<Integer> dims = new ArrayList<>();
        for (int d = 0; d < rank; d++) if (g.nextLong(2) == 0) dims.add(d);
        if (dims.isEmpty()) dims.add((int) g.nextLong(rank));
        return dims.stream().mapToInt(Integer::intValue).toArray();
    }

    @Property(tries = 40, shrinking = ShrinkingMode.OFF)
    public void argReductions(@ForAll long seed) {
        Generator g = new Generator(seed);
        DType dtype = pick(g, NUMERIC);
        int[] shape = RandomArrays.oddShape(g, 1, 4, 129, 6000);
        int dim = (int) g.nextLong(shape.length);
        boolean keepDim = g.nextLong(2) == 0, max = g.nextLong(2) == 0;
        ViewCase x = RandomArrays.anyView(g, RandomArrays.integers(g, dtype, -4, 5, shape)); // many ties
        check("argReduce", (max ? "argmax " : "argmin ") + dtype + " dim " + dim + " keepDim " + keepDim + " " + x + " seed " + seed,
                REF.argReduce(max, x.array(), dim, keepDim), backend().argReduce(max, dev(x), dim, keepDim));
    }

    @Property(tries = 20, shrinking = ShrinkingMode.OFF)
    public void specialValues(@ForAll long seed) {
        if (!checkSpecialValues()) return;
        Generator g = new Generator(seed);
        double[] specials = {Double.NaN, 0.0, -0.0, 1.0, -1.0, 30.0, -30.0, 1e-30, -1e-30, 0.5};
        DType dtype = pick(g, FLOATS);
        int n = 17;
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = specials[(int) g.nextLong(specials.length)];
        NDArray x = NDArray.fromArray(dtype, v, n);
        for (UnaryOp op : UnaryOp.values()) {
            double p = op == UnaryOp.POW ? 2 : 0;
            check("unary:" + op, "special values " + dtype + " " + Arrays.toString(v), REF.unary(op, x, p), backend().unary(op, dev(x), p));
        }
        double[] w = new double[n];
        for (int i = 0; i < n; i++) w[i] = specials[(int) g.nextLong(specials.length)];
        NDArray y = NDArray.fromArray(dtype, w, n);
        for (BinaryOp op : new BinaryOp[] {BinaryOp.ADD, BinaryOp.MUL, BinaryOp.MAXIMUM, BinaryOp.MINIMUM, BinaryOp.EQ, BinaryOp.NE, BinaryOp.LT, BinaryOp.GE}) {
            check("binary:" + op, "special values " + dtype + " " + Arrays.toString(v) + " " + Arrays.toString(w), REF.binary(op, x, y),
                    backend().binary(op, dev(x), dev(y)));
        }
        NDArray rows = NDArray.fromArray(dtype, v, 1, n);
        for (ReduceOp op : new ReduceOp[] {ReduceOp.MAX, ReduceOp.MIN, ReduceOp.SUM}) {
            check("reduce:" + op, "special values " + Arrays.toString(v), REF.reduce(op, rows, new int[] {1}, false),
                    backend().reduce(op, dev(rows), new int[] {1}, false));
        }
    }

    // ---- softmax and norms ----------------------------------------------------------------

    @Property(tries = 40, shrinking = ShrinkingMode.OFF)
    public void softmaxAndBackward(@ForAll long seed) {
        Generator g = new Generator(seed);
        DType dtype = pick(g, FLOATS);
        boolean log = g.nextLong(2) == 0;
        int[] shape = RandomArrays.oddShape(g, 1, 3, 1000, 8000);
        NDArray values = map(RandomArrays.random(g, dtype, shape), v -> v * 3);
        boolean masked = g.nextLong(3) == 0 && shape[shape.length - 1] > 1;
        if (masked) values = maskSome(g, values);
        ViewCase x = RandomArrays.anyView(g, values);
        String name = log ? "logSoftmax" : "softmax";
        String ctx = dtype + (masked ? " with -inf " : " ") + x + " seed " + seed;
        NDArray y = REF.softmax(x.array(), log);
        check(name, ctx, y, backend().softmax(dev(x), log));
        ViewCase gy = RandomArrays.randomView(g, dtype, shape);
        ViewCase yv = RandomArrays.view(g, y, RandomArrays.sameValuesLayout(g));
        checkNormwise(name + "Backward", ctx + " grad " + gy, REF.softmaxBackward(yv.array(), gy.array(), log),
                backend().softmaxBackward(dev(yv), dev(gy), log));
    }

    /** Sets some elements of each row (never the first) to -inf, as attention masks do. */
    private static NDArray maskSome(Generator g, NDArray x) {
        double[] v = doubles(x);
        int c = x.size(-1);
        for (int i = 0; i < v.length; i++) if (i % c != 0 && g.nextLong(4) == 0) v[i] = Double.NEGATIVE_INFINITY;
        return NDArray.fromArray(x.dtype(), v, x.shape());
    }

    @Property(tries = 40, shrinking = ShrinkingMode.OFF)
    public void layerNormForwardBackward(@ForAll long seed) {
        Generator g = new Generator(seed);
        DType dtype = pick(g, FLOATS);
        int[] shape = RandomArrays.oddShape(g, 1, 3, 129, 4000);
        int c = shape[shape.length - 1];
        ViewCase x = RandomArrays.anyView(g, map(RandomArrays.random(g, dtype, shape), v -> 2 * v + 1));
        ViewCase w = g.nextLong(2) == 0 ? null : RandomArrays.randomView(g, dtype, c);
        ViewCase b = g.nextLong(2) == 0 ? null : RandomArrays.randomView(g, dtype, c);
        double eps = 1e-5;
        String ctx = dtype + " x " + x + " weight " + (w != null) + " bias " + (b != null) + " seed " + seed;
        NormResult ref = REF.layerNorm(x.array(), w == null ? null : w.array(), b == null ? null : b.array(), eps);
        NormResult act = backend().layerNorm(dev(x), w == null ? null : dev(w), b == null ? null : dev(b), eps);
        check("layerNorm", ctx, ref.out(), act.out());
        checkStats("layerNorm", ctx + " mean", ref.mean(), act.mean(), dtype);
        checkStats("layerNorm", ctx + " rstd", ref.rstd(), act.rstd(), dtype);
        ViewCase go = RandomArrays.randomView(g, dtype, shape);
        NormGrads rg = REF.layerNormBackward(go.array(), x.array(), ref.mean(), ref.rstd(), w == null ? null : w.array(), b != null);
        NormGrads ag = backend().layerNormBackward(dev(go), dev(x), act.mean(), act.rstd(), w == null ? null : dev(w), b != null);
        checkNormGrads("layerNormBackward", ctx + " grad " + go, rg, ag, normScales(x.array(), go.array(), w == null ? null : w.array(), ref.mean(), ref.rstd()));
    }

    @Property(tries = 40, shrinking = ShrinkingMode.OFF)
    public void rmsNormForwardBackward(@ForAll long seed) {
        Generator g = new Generator(seed);
        DType dtype = pick(g, FLOATS);
        int[] shape = RandomArrays.oddShape(g, 1, 3, 129, 4000);
        int c = shape[shape.length - 1];
        ViewCase x = RandomArrays.anyView(g, map(RandomArrays.random(g, dtype, shape), v -> 2 * v + 1));
        ViewCase w = g.nextLong(2) == 0 ? null : RandomArrays.randomView(g, dtype, c);
        double eps = 1e-6;
        String ctx = dtype + " x " + x + " weight " + (w != null) + " seed " + seed;
        NormResult ref = REF.rmsNorm(x.array(), w == null ? null : w.array(), eps);
        NormResult act = backend().rmsNorm(dev(x), w == null ? null : dev(w), eps);
        check("rmsNorm", ctx, ref.out(), act.out());
        checkStats("rmsNorm", ctx + " rstd", ref.rstd(), act.rstd(), dtype);
        ViewCase go = RandomArrays.randomView(g, dtype, shape);
        NormGrads rg = REF.rmsNormBackward(go.array(), x.array(), ref.rstd(), w == null ? null : w.array());
        NormGrads ag = backend().rmsNormBackward(dev(go), dev(x), act.rstd(), w == null ? null : dev(w));
        checkNormGrads("rmsNormBackward", ctx + " grad " + go, rg, ag, normScales(x.array(), go.array(), w == null ? null : w.array(), null, ref.rstd()));
    }

    /** mean/rstd may be F32 or the input dtype; compared by value at the looser of the two tolerances. */
    private void checkStats(String op, String ctx, NDArray expected, NDArray actual, DType inputDtype) {
        if (actual == null) throw new AssertionError(op + " [" + ctx + "]: returned null");
        NDArray a = host(actual);
        if (a.dtype() != DType.F32 && a.dtype() != inputDtype) throw new AssertionError(op + " [" + ctx + "]: dtype " + a.dtype() + ", expected F32 or " + inputDtype);
        Tolerance t = tolerance(op, a.dtype() == DType.F32 ? DType.F32 : inputDtype);
        Approx.assertValuesClose(op + " [" + ctx + "]", expected, a, t);
    }

    private void checkNormGrads(String op, String ctx, NormGrads expected, NormGrads actual, double[][] scales) {
        checkScaled(op, ctx + " dx", expected.input(), actual.input(), scales[0]);
        if ((expected.weight() == null) != (actual.weight() == null)) throw new AssertionError(op + " [" + ctx + "]: weight gradient presence differs");
        if ((expected.bias() == null) != (actual.bias() == null)) throw new AssertionError(op + " [" + ctx + "]: bias gradient presence differs");
        if (expected.weight() != null) checkScaled(op, ctx + " dweight", expected.weight(), actual.weight(), scales[1]);
        if (expected.bias() != null) checkScaled(op, ctx + " dbias", expected.bias(), actual.bias(), scales[2]);
    }

    /**
     * The magnitude of the terms each norm gradient is computed from, which is what rounding
     * errors scale with: for dx, rstd * (|g| + mean|g| + |xhat| * mean|g xhat|) with g = gradOut *
     * weight (dx itself can be far smaller, e.g. for C = 1 where the terms cancel exactly); for
     * dweight and dbias, the sums over rows of |gradOut * xhat| and |gradOut|. mean is null for RMS norm.
     */
    private static double[][] normScales(NDArray x, NDArray gradOut, NDArray weight, NDArray mean, NDArray rstd) {
        double[] xv = doubles(x), gv = doubles(gradOut), rv = doubles(rstd);
        double[] mv = mean == null ? null : doubles(mean), wv = weight == null ? null : doubles(weight);
        int c = x.size(-1), rows = c == 0 ? 0 : xv.length / c;
        double[] dx = new double[xv.length], dw = new double[c], db = new double[c];
        for (int r = 0; r < rows; r++) {
            double meanG = 0, meanGx = 0;
            double[] xhat = new double[c];
            for (int j = 0; j < c; j++) {
                int i = r * c + j;
                xhat[j] = (xv[i] - (mv == null ? 0 : mv[r])) * rv[r];
                double g = Math.abs(gv[i] * (wv == null ? 1 : wv[j]));
                meanG += g / c;
                meanGx += g * Math.abs(xhat[j]) / c;
                dw[j] += Math.abs(gv[i] * xhat[j]);
                db[j] += Math.abs(gv[i]);
            }
            for (int j = 0; j < c; j++) {
                int i = r * c + j;
                double g = Math.abs(gv[i] * (wv == null ? 1 : wv[j]));
                dx[i] = rv[r] * (g + (mv == null ? 0 : meanG) + Math.abs(xhat[j]) * meanGx);
            }
        }
        return new double[][] {dx, dw, db};
    }

    // ---- matmul ---------------------------------------------------------------------------

    private static final int[][] MATMUL_SIZES = {{1, 1, 1}, {17, 33, 65}, {64, 64, 64}, {3, 17, 1}, {1, 65, 33}, {33, 1, 17}, {65, 3, 129}};

    @Property(tries = 40, shrinking = ShrinkingMode.OFF)
    public void matmulParity(@ForAll long seed) {
        Generator g = new Generator(seed);
        DType dtype = pick(g, FLOATS);
        int m, k, n;
        if (g.nextLong(2) == 0) {
            int[] s = MATMUL_SIZES[(int) g.nextLong(MATMUL_SIZES.length)];
            m = s[0]; k = s[1]; n = s[2];
        } else {
            m = RandomArrays.oddSize(g, 65); k = RandomArrays.oddSize(g, 129); n = RandomArrays.oddSize(g, 65);
        }
        int batchKind = (int) g.nextLong(3); // 0: 2-D, 1: batched, 2: batched with a stride-0 batch dim
        int[] batch = batchKind == 0 ? new int[0] : RandomArrays.shape(g, 1, 2, 1, 3);
        if ((long) Arrays.stream(batch).reduce(1, (p, q) -> p * q) * m * k * n > 300_000) batch = new int[0];
        int[] aShape = concat(batch, m, k), bShape = concat(batch, k, n);
        NDArray a = operand(g, dtype, aShape, batchKind == 2 && g.nextLong(2) == 0);
        NDArray b = operand(g, dtype, bShape, batchKind == 2);
        boolean ta = g.nextLong(2) == 0, tb = g.nextLong(2) == 0;
        ViewCase va = transposedOrAny(g, a, ta), vb = transposedOrAny(g, b, tb);
        String ctx = dtype + " " + Arrays.toString(aShape) + " @ " + Arrays.toString(bShape) + " a " + va + " b " + vb + " seed " + seed;
        NDArray expected = REF.matmul(va.array(), vb.array());
        NDArray scale = REF.matmul(absArray(va.array()), absArray(vb.array()));
        checkScaled("matmul", ctx, expected, backend().matmul(dev(va), dev(vb)), doubles(scale));
    }

    /** Random operand; with broadcastBatch the first batch dim (if any) gets stride 0. */
    private static NDArray operand(Generator g, DType dtype, int[] shape, boolean broadcastBatch) {
        if (!broadcastBatch || shape.length < 3) return RandomArrays.random(g, dtype, shape);
        int[] small = shape.clone();
        small[0] = 1;
        return RandomArrays.random(g, dtype, small).expand(shape); // logical values repeat along dim 0
    }

    /** x as a transposed view (stored [..., cols, rows], read through mT()) or in a random layout. */
    private static ViewCase transposedOrAny(Generator g, NDArray x, boolean transposed) {
        if (transposed) {
            NDArray stored = REF.copy(x.mT(), x.dtype());
            return new ViewCase(stored, NDArray::mT, Layout.PERMUTED);
        }
        if (Arrays.stream(x.strides()).anyMatch(s -> s == 0)) {
            // keep the stride-0 batch dim: base is the un-expanded array
            int[] shape = x.shape();
            NDArray base = REF.copy(x.narrow(0, 0, 1), x.dtype());
            return new ViewCase(base, bb -> bb.expand(shape), Layout.EXPANDED);
        }
        return RandomArrays.anyView(g, x);
    }

    private static int[] concat(int[] batch, int r, int c) {
        int[] s = Arrays.copyOf(batch, batch.length + 2);
        s[batch.length] = r;
        s[batch.length + 1] = c;
        return s;
    }

    // ---- indexing -------------------------------------------------------------------------

    @Property(tries = 40, shrinking = ShrinkingMode.OFF)
    public void gatherParity(@ForAll long seed) {
        Generator g = new Generator(seed);
        DType dtype = pick(g, NUMERIC);
        int[] shape = RandomArrays.oddShape(g, 1, 3, 65, 3000);
        int dim = (int) g.nextLong(shape.length);
        int[] ishape = shape.clone();
        for (int d = 0; d < shape.length; d++) ishape[d] = d == dim ? 1 + (int) g.nextLong(7) : 1 + (int) g.nextLong(shape[d]);
        ViewCase x = RandomArrays.randomView(g, dtype, shape);
        ViewCase idx = RandomArrays.anyView(g, RandomArrays.integers(g, g.nextLong(2) == 0 ? DType.I32 : DType.I64, 0, shape[dim], ishape));
        check("gather", dtype + " dim " + dim + " x " + x + " index " + idx + " seed " + seed,
                REF.gather(x.array(), dim, idx.array()), backend().gather(dev(x), dim, dev(idx)));
    }

    @Property(tries = 40, shrinking = ShrinkingMode.OFF)
    public void indexSelectParity(@ForAll long seed) {
        Generator g = new Generator(seed);
        DType dtype = pick(g, NUMERIC);
        int[] shape = RandomArrays.oddShape(g, 1, 3, 129, 3000);
        int dim = (int) g.nextLong(shape.length);
        ViewCase x = RandomArrays.randomView(g, dtype, shape);
        ViewCase idx = RandomArrays.anyView(g, RandomArrays.integers(g, g.nextLong(2) == 0 ? DType.I32 : DType.I64, 0, shape[dim], (int) g.nextLong(9)));
        check("indexSelect", dtype + " dim " + dim + " x " + x + " index " + idx + " seed " + seed,
                REF.indexSelect(x.array(), dim, idx.array()), backend().indexSelect(dev(x), dim, dev(idx)));
    }

    @Property(tries = 40, shrinking = ShrinkingMode.OFF)
    public void scatterAddParity(@ForAll long seed) {
        Generator g = new Generator(seed);
        DType dtype = pick(g, NUMERIC);
        int[] shape = RandomArrays.oddShape(g, 1, 3, 65, 3000);
        int dim = (int) g.nextLong(shape.length);
        int[] ishape = shape.clone();
        for (int d = 0; d < shape.length; d++) ishape[d] = d == dim ? 1 + (int) g.nextLong(2 * shape[d] + 2) : 1 + (int) g.nextLong(shape[d]);
        ViewCase dst = RandomArrays.view(g, RandomArrays.random(g, dtype, shape), RandomArrays.sameValuesLayout(g));
        ViewCase idx = RandomArrays.anyView(g, RandomArrays.integers(g, g.nextLong(2) == 0 ? DType.I32 : DType.I64, 0, shape[dim], ishape));
        ViewCase src = RandomArrays.randomView(g, dtype, ishape);
        String ctx = dtype + " dim " + dim + " dst " + dst + " index " + idx + " src " + src + " seed " + seed;
        ViewCase refDst = dst.copy();
        REF.scatterAddInPlace(refDst.array(), dim, idx.array(), src.array());
        NDArray devDst = devFresh(dst);
        backend().scatterAddInPlace(devDst, dim, dev(idx), dev(src));
        checkNormwise("scatterAdd", ctx, refDst.base(), baseOf(devDst, dst));
    }

    @Property(tries = 40, shrinking = ShrinkingMode.OFF)
    public void indexAddParity(@ForAll long seed) {
        Generator g = new Generator(seed);
        DType dtype = pick(g, NUMERIC);
        int[] shape = RandomArrays.oddShape(g, 1, 3, 65, 3000);
        int dim = (int) g.nextLong(shape.length);
        int count = 1 + (int) g.nextLong(2 * shape[dim] + 2); // more entries than rows: repeats
        ViewCase dst = RandomArrays.view(g, RandomArrays.random(g, dtype, shape), RandomArrays.sameValuesLayout(g));
        ViewCase idx = RandomArrays.anyView(g, RandomArrays.integers(g, g.nextLong(2) == 0 ? DType.I32 : DType.I64, 0, shape[dim], count));
        int[] sshape = shape.clone();
        sshape[dim] = count;
        ViewCase src = RandomArrays.randomView(g, dtype, sshape);
        String ctx = dtype + " dim " + dim + " dst " + dst + " index " + idx + " src " + src + " seed " + seed;
        ViewCase refDst = dst.copy();
        REF.indexAddInPlace(refDst.array(), dim, idx.array(), src.array());
        NDArray devDst = devFresh(dst);
        backend().indexAddInPlace(devDst, dim, dev(idx), dev(src));
        checkNormwise("indexAdd", ctx, refDst.base(), baseOf(devDst, dst));
    }

    @Property(tries = 20, shrinking = ShrinkingMode.OFF)
    public void indexOutOfRangeThrows(@ForAll long seed) {
        if (!checksIndexBounds()) return;
        Generator g = new Generator(seed);
        int rows = 1 + (int) g.nextLong(9);
        NDArray x = onDevice(RandomArrays.random(g, DType.F32, rows, 3));
        long bad = g.nextLong(2) == 0 ? rows + g.nextLong(5) : -1 - g.nextLong(5);
        NDArray index = onDevice(NDArray.fromArray(new long[] {0, bad}));
        expectIndexError("indexSelect", bad, () -> backend().indexSelect(x, 0, index));
        expectIndexError("gather", bad, () -> backend().gather(x, 0, onDevice(NDArray.fromArray(new long[] {0, bad}, 2, 1))));
        NDArray logits = onDevice(RandomArrays.random(g, DType.F32, 2, 5));
        long badTarget = 5 + g.nextLong(3);
        expectIndexError("crossEntropy", badTarget, () -> backend().crossEntropy(logits, onDevice(NDArray.fromArray(new long[] {1, badTarget})), -100, 0.0));
    }

    private static void expectIndexError(String op, long bad, Runnable r) {
        try {
            r.run();
        } catch (IndexOutOfBoundsException e) {
            String m = String.valueOf(e.getMessage());
            if (!m.contains(op) || !m.contains(Long.toString(bad))) {
                throw new AssertionError(op + ": message should name the op and the index " + bad + ", was: " + m);
            }
            return;
        }
        throw new AssertionError(op + ": index " + bad + " out of range did not throw IndexOutOfBoundsException");
    }

    @Property(tries = 40, shrinking = ShrinkingMode.OFF)
    public void triangleParity(@ForAll long seed) {
        Generator g = new Generator(seed);
        DType dtype = pick(g, ALL);
        int[] shape = RandomArrays.shape(g, 2, 3, 1, 3);
        shape[shape.length - 1] = RandomArrays.oddSize(g, 33);
        shape[shape.length - 2] = RandomArrays.oddSize(g, 33);
        int k = (int) g.nextLong(5) - 2;
        boolean upper = g.nextLong(2) == 0;
        ViewCase x = RandomArrays.randomView(g, dtype, shape);
        check("triangle", dtype + (upper ? " triu " : " tril ") + "k=" + k + " " + x + " seed " + seed,
                REF.triangle(x.array(), k, upper), backend().triangle(dev(x), k, upper));
    }

    // ---- fused training kernels -----------------------------------------------------------

    private static final int[] VOCABS = {5, 1000, 3, 17, 129, 1};

    @Property(tries = 40, shrinking = ShrinkingMode.OFF)
    public void crossEntropyParity(@ForAll long seed) {
        Generator g = new Generator(seed);
        DType dtype = pick(g, FLOATS);
        int rows = 1 + (int) g.nextLong(9);
        int v = VOCABS[(int) g.nextLong(VOCABS.length)];
        long ignore = new long[] {-100, -1, 0}[(int) g.nextLong(3)];
        double smoothing = g.nextLong(2) == 0 ? 0.0 : 0.1;
        ViewCase logits = RandomArrays.view(g, map(RandomArrays.random(g, dtype, rows, v), x -> 3 * x), RandomArrays.sameValuesLayout(g));
        long[] t = new long[rows];
        for (int r = 0; r < rows; r++) t[r] = g.nextLong(4) == 0 ? ignore : g.nextLong(v);
        NDArray tv = NDArray.fromArray(t, rows);
        ViewCase targets = RandomArrays.view(g, g.nextLong(2) == 0 ? tv : REF.copy(tv, DType.I32), RandomArrays.sameValuesLayout(g));
        String ctx = dtype + " V=" + v + " ignore " + ignore + " smoothing " + smoothing + " targets " + Arrays.toString(t) + " logits " + logits + " seed " + seed;
        CrossEntropyResult ref = REF.crossEntropy(logits.array(), targets.array(), ignore, smoothing);
        CrossEntropyResult act = backend().crossEntropy(dev(logits), dev(targets), ignore, smoothing);
        if (ref.validCount() != act.validCount()) throw new AssertionError("crossEntropy [" + ctx + "]: validCount " + act.validCount() + ", expected " + ref.validCount());
        check("crossEntropy", ctx + " loss", ref.loss(), act.loss());
        // logSumExp of ignored rows is unspecified: compare only rows that count
        check("crossEntropy", ctx + " logSumExp", keepRows(ref.logSumExp(), t, ignore), keepRows(host(act.logSumExp()), t, ignore));
        double scale = 1.0 / Math.max(1, ref.validCount());
        checkNormwise("crossEntropyBackward", ctx, REF.crossEntropyBackward(logits.array(), targets.array(), ref.logSumExp(), ignore, smoothing, scale),
                backend().crossEntropyBackward(dev(logits), dev(targets), act.logSumExp(), ignore, smoothing, scale));
    }

    private static NDArray keepRows(NDArray x, long[] targets, long ignore) {
        double[] v = doubles(x);
        for (int r = 0; r < v.length; r++) if (targets[r] == ignore) v[r] = 0;
        return NDArray.fromArray(x.dtype(), v, v.length);
    }

    @Property(tries = 30, shrinking = ShrinkingMode.OFF)
    public void adamwSteps(@ForAll long seed) {
        Generator g = new Generator(seed);
        DType dtype = pick(g, FLOATS);
        int[] shape = RandomArrays.oddShape(g, 1, 3, 129, 3000);
        double lr = new double[] {1e-3, 1e-2, 0.1}[(int) g.nextLong(3)];
        double wd = g.nextLong(2) == 0 ? 0.0 : 0.1;
        double b1 = 0.9, b2 = 0.999, eps = 1e-8;
        NDArray p0 = RandomArrays.random(g, dtype, shape);
        NDArray refP = REF.copy(p0, dtype), refM = refZeros(dtype, shape), refV = refZeros(dtype, shape);
        NDArray devP = onDevice(REF.copy(p0, dtype)), devM = onDevice(refZeros(dtype, shape)), devV = onDevice(refZeros(dtype, shape));
        int steps = 2 + (int) g.nextLong(4); // several steps: bias corrections and moments change each time
        for (int step = 1; step <= steps; step++) {
            ViewCase grad = RandomArrays.randomView(g, dtype, shape);
            REF.adamwStep(refP, grad.array(), refM, refV, lr, b1, b2, eps, wd, step);
            backend().adamwStep(devP, dev(grad), devM, devV, lr, b1, b2, eps, wd, step);
            String ctx = dtype + " " + Arrays.toString(shape) + " lr " + lr + " wd " + wd + " step " + step + " grad " + grad + " seed " + seed;
            check("adamw", ctx + " m", refM, devM);
            check("adamw", ctx + " v", refV, devV);
            check("adamw", ctx + " param", refP, devP);
        }
    }
}
