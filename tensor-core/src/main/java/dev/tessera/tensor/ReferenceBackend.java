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
        return CpuStorage.copyOf(dtype, hostArray);
    }

    @Override
    public Object toHost(Storage storage, int offset, int count) {
        return ((CpuStorage) storage).copyRange(offset, count);
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
        // integer sources go through setLong: exact for integers, one correct rounding for floats
        boolean fromInteger = !x.dtype().isFloating();
        for (int i = 0; i < n; i++) {
            int p = position(x, i);
            if (fromInteger) dst.setLong(i, src.getLong(p)); else dst.setDouble(i, src.getDouble(p));
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
        boolean exactLong = !src.dtype().isFloating();
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

    // ---- reading and writing elements -----------------------------------------------------

    /** Logical row-major coordinates of linear index i in shape. */
    static int[] coords(int[] shape, int i) {
        int[] c = new int[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            int n = shape[d];
            c[d] = i % n;
            i /= n;
        }
        return c;
    }

    /** Storage position of the element of x at logical coordinates c. */
    static int positionAt(NDArray x, int[] c) {
        int[] strides = x.strides();
        int pos = x.offset();
        for (int d = 0; d < c.length; d++) pos += c[d] * strides[d];
        return pos;
    }

    /** Row-major linear index of coordinates c in shape. */
    static int linear(int[] shape, int[] c) {
        int i = 0;
        for (int d = 0; d < shape.length; d++) i = i * shape[d] + c[d];
        return i;
    }

    private static double get(NDArray x, CpuStorage s, int i) { return s.getDouble(position(x, i)); }

    private static long getLong(NDArray x, CpuStorage s, int i) { return s.getLong(position(x, i)); }

    /** Row-major values of x as doubles (any view, any dtype). */
    private static double[] values(NDArray x) {
        CpuStorage s = cpu(x);
        int n = x.numel();
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = get(x, s, i);
        return v;
    }

    /** Row-major values of x as longs (exact for integer dtypes). */
    private static long[] longValues(NDArray x) {
        CpuStorage s = cpu(x);
        int n = x.numel();
        long[] v = new long[n];
        for (int i = 0; i < n; i++) v[i] = getLong(x, s, i);
        return v;
    }

    /** Index value i of an I32/I64 index array, checked against the dim size; throws naming the op. */
    private static int checkedIndex(String op, long value, int dimSize, int dim) {
        if (value < 0 || value >= dimSize) {
            throw new IndexOutOfBoundsException(op + ": index " + value + " out of range for dim " + dim + " of size " + dimSize);
        }
        return (int) value;
    }

    private static NDArray newArray(DType dtype, int[] shape) {
        return new NDArray(CpuStorage.allocate(dtype, Shapes.numel(shape)), shape);
    }

    /** The dtype float results are stored in: x's when floating, F32 otherwise. */
    private static DType floatOut(DType t) { return t.isFloating() ? t : DType.F32; }

    // ---- special functions ----------------------------------------------------------------

    private static final double GELU_TANH_C = Math.sqrt(2.0 / Math.PI);
    private static final double GELU_TANH_A = 0.044715;

    static double sigmoid(double x) {
        if (x >= 0) return 1.0 / (1.0 + Math.exp(-x));
        double e = Math.exp(x);
        return e / (1.0 + e);
    }

    /** The reference definition of each unary op, in double. */
    public static double unaryValue(UnaryOp op, double x, double p) {
        return switch (op) {
            case NEG -> -x;
            case ABS -> Math.abs(x);
            case EXP -> Math.exp(x);
            case LOG -> Math.log(x);
            case SQRT -> Math.sqrt(x);
            case RSQRT -> 1.0 / Math.sqrt(x);
            case TANH -> Math.tanh(x);
            case SIGMOID -> sigmoid(x);
            case RELU -> Double.isNaN(x) ? x : (x > 0 ? x : 0.0);
            case GELU -> x * SpecialFunctions.normalCdf(x);
            // 0.5 x (1 + tanh u) written as x * sigmoid(2u): equal, and without cancellation in the left tail
            case GELU_TANH -> x * sigmoid(2.0 * GELU_TANH_C * (x + GELU_TANH_A * x * x * x));
            case SILU -> x * sigmoid(x);
            case SIN -> Math.sin(x);
            case COS -> Math.cos(x);
            case POW -> Math.pow(x, p);
        };
    }

    /** The reference derivative op'(x) of each unary op, in double. */
    public static double unaryDerivative(UnaryOp op, double x, double p) {
        return switch (op) {
            case NEG -> -1.0;
            case ABS -> Double.isNaN(x) ? x : (x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0));
            case EXP -> Math.exp(x);
            case LOG -> 1.0 / x;
            case SQRT -> 0.5 / Math.sqrt(x);
            case RSQRT -> -0.5 / (x * Math.sqrt(x));
            case TANH -> {
                double c = Math.cosh(x); // 1 - tanh^2 = 1 / cosh^2, accurate where tanh is close to +-1
                yield 1.0 / (c * c);
            }
            case SIGMOID -> sigmoid(x) * sigmoid(-x); // s (1 - s) with 1 - s = s(-x), no cancellation
            case RELU -> Double.isNaN(x) ? x : (x > 0 ? 1.0 : 0.0);
            case GELU -> SpecialFunctions.normalCdf(x) + x * SpecialFunctions.normalPdf(x);
            case GELU_TANH -> {
                // d/dx [x s(2u)] = s(2u) + 2 x s(2u) (1 - s(2u)) u', the same as the tanh form's derivative
                double u = GELU_TANH_C * (x + GELU_TANH_A * x * x * x);
                double du = GELU_TANH_C * (1.0 + 3.0 * GELU_TANH_A * x * x);
                double s = sigmoid(2.0 * u), sc = sigmoid(-2.0 * u); // sc = 1 - s without cancellation
                yield s + 2.0 * x * s * sc * du;
            }
            case SILU -> {
                double s = sigmoid(x);
                yield s + x * s * sigmoid(-x);
            }
            case SIN -> Math.cos(x);
            case COS -> -Math.sin(x);
            case POW -> p == 0.0 ? 0.0 : p * Math.pow(x, p - 1.0);
        };
    }

    // ---- elementwise ----------------------------------------------------------------------

    @Override
    public NDArray unary(UnaryOp op, NDArray x, double scalar) {
        int n = x.numel();
        CpuStorage s = cpu(x);
        NDArray out = newArray(x.dtype(), x.shape());
        CpuStorage o = cpu(out);
        if (!x.dtype().isFloating()) {
            // NEG, ABS and RELU stay exact on integers; the rest are defined on floats only
            if (op.needsFloat()) throw new IllegalArgumentException("cpu-reference unary " + op + ": needs a float array, got " + x.dtype());
            for (int i = 0; i < n; i++) {
                long v = getLong(x, s, i);
                o.setLong(i, switch (op) {
                    case NEG -> -v;
                    case ABS -> Math.abs(v);
                    default -> Math.max(v, 0L);
                });
            }
            return out;
        }
        double p = inDtype(scalar, x.dtype());
        for (int i = 0; i < n; i++) o.setDouble(i, unaryValue(op, get(x, s, i), p));
        return out;
    }

    /**
     * A scalar operand as the input dtype sees it: rounded to float for F32 (and half) inputs,
     * since float math is done in the input dtype, as torch casts a Python scalar to the tensor's
     * dtype (so x == 0.1 is true for x = 0.1f).
     */
    static double inDtype(double scalar, DType t) {
        return t == DType.F32 || t.isHalf() ? (double) (float) scalar : scalar;
    }

    @Override
    public NDArray unaryBackward(UnaryOp op, NDArray x, NDArray gradOut, double scalar) {
        int n = x.numel();
        CpuStorage s = cpu(x), g = cpu(gradOut);
        NDArray out = newArray(floatOut(x.dtype()), x.shape());
        CpuStorage o = cpu(out);
        double p = inDtype(scalar, x.dtype());
        for (int i = 0; i < n; i++) o.setDouble(i, get(gradOut, g, i) * unaryDerivative(op, get(x, s, i), p));
        return out;
    }

    /** The reference definition of each binary op on doubles (comparisons give 1 or 0). */
    public static double binaryValue(BinaryOp op, double a, double b) {
        return switch (op) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case MAXIMUM -> Math.max(a, b);
            case MINIMUM -> Math.min(a, b);
            case POW -> Math.pow(a, b);
            case EQ -> a == b ? 1 : 0;
            case NE -> a != b ? 1 : 0;
            case LT -> a < b ? 1 : 0;
            case LE -> a <= b ? 1 : 0;
            case GT -> a > b ? 1 : 0;
            case GE -> a >= b ? 1 : 0;
        };
    }

    /** Exact integer version of ADD, SUB, MUL, MAXIMUM, MINIMUM and the comparisons. */
    private static long binaryLong(BinaryOp op, long a, long b) {
        return switch (op) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case MAXIMUM -> Math.max(a, b);
            case MINIMUM -> Math.min(a, b);
            case EQ -> a == b ? 1 : 0;
            case NE -> a != b ? 1 : 0;
            case LT -> a < b ? 1 : 0;
            case LE -> a <= b ? 1 : 0;
            case GT -> a > b ? 1 : 0;
            case GE -> a >= b ? 1 : 0;
            case DIV, POW -> throw new IllegalArgumentException("cpu-reference " + op + ": not an integer op");
        };
    }

    private static boolean exactInteger(BinaryOp op, DType t) {
        return !t.isFloating() && op != BinaryOp.DIV && op != BinaryOp.POW;
    }

    @Override
    public NDArray binary(BinaryOp op, NDArray a, NDArray b) {
        int n = a.numel();
        CpuStorage sa = cpu(a), sb = cpu(b);
        DType t = a.dtype();
        NDArray out = newArray(op.isComparison() ? DType.BOOL : t, a.shape());
        CpuStorage o = cpu(out);
        boolean exact = exactInteger(op, t);
        for (int i = 0; i < n; i++) {
            if (exact) o.setLong(i, binaryLong(op, getLong(a, sa, i), getLong(b, sb, i)));
            else o.setDouble(i, binaryValue(op, get(a, sa, i), get(b, sb, i)));
        }
        return out;
    }

    /** s is first rounded to x's dtype when that is F32 (see {@link #inDtype}); integers keep it exact. */
    @Override
    public NDArray binaryScalar(BinaryOp op, NDArray x, double scalar) {
        double s = inDtype(scalar, x.dtype());
        int n = x.numel();
        CpuStorage sx = cpu(x);
        DType t = x.dtype();
        NDArray out = newArray(op.isComparison() ? DType.BOOL : t, x.shape());
        CpuStorage o = cpu(out);
        // integers with an integral scalar stay exact in long; anything else is computed in double
        boolean exact = exactInteger(op, t) && s == Math.rint(s) && Math.abs(s) < 0x1p63;
        for (int i = 0; i < n; i++) {
            if (exact) o.setLong(i, binaryLong(op, getLong(x, sx, i), (long) s));
            else o.setDouble(i, binaryValue(op, get(x, sx, i), s));
        }
        return out;
    }

    @Override
    public NDArray where(NDArray cond, NDArray a, NDArray b) {
        int n = a.numel();
        CpuStorage sc = cpu(cond), sa = cpu(a), sb = cpu(b);
        DType t = a.dtype();
        NDArray out = newArray(t, a.shape());
        CpuStorage o = cpu(out);
        for (int i = 0; i < n; i++) {
            boolean c = get(cond, sc, i) != 0;
            if (t.isFloating()) o.setDouble(i, c ? get(a, sa, i) : get(b, sb, i));
            else o.setLong(i, c ? getLong(a, sa, i) : getLong(b, sb, i));
        }
        return out;
    }

    // ---- reductions -----------------------------------------------------------------------

    /** For each element of x (row-major), the row-major index of the output element it reduces into. */
    private static int[] reductionTargets(int[] shape, int[] dims) {
        boolean[] reduced = new boolean[shape.length];
        for (int d : dims) reduced[d] = true;
        int n = Shapes.numel(shape);
        int[] target = new int[n];
        for (int i = 0; i < n; i++) {
            int[] c = coords(shape, i);
            int t = 0;
            for (int d = 0; d < shape.length; d++) if (!reduced[d]) t = t * shape[d] + c[d];
            target[i] = t;
        }
        return target;
    }

    @Override
    public NDArray reduce(ReduceOp op, NDArray x, int[] dims, boolean keepDim) {
        int[] shape = x.shape();
        int[] outShape = Shapes.reducedShape(shape, dims, keepDim);
        int outN = Shapes.numel(outShape);
        int n = x.numel();
        int[] target = reductionTargets(shape, dims);
        int[] count = new int[outN];
        for (int i = 0; i < n; i++) count[target[i]]++;
        DType t = x.dtype();
        String name = op.name().toLowerCase();
        if (!t.isFloating()) {
            if (op == ReduceOp.MEAN || op == ReduceOp.VAR) {
                throw new IllegalArgumentException("cpu-reference " + name + ": needs a float array, got " + t + " of shape " + Shapes.str(shape));
            }
            long[] v = longValues(x);
            long[] acc = new long[outN];
            boolean[] seen = new boolean[outN];
            for (int i = 0; i < n; i++) {
                int o = target[i];
                if (op == ReduceOp.SUM) acc[o] += v[i];
                else if (!seen[o]) acc[o] = v[i];
                else acc[o] = op == ReduceOp.MAX ? Math.max(acc[o], v[i]) : Math.min(acc[o], v[i]);
                seen[o] = true;
            }
            checkNonEmpty(op, count, shape);
            NDArray out = newArray(op == ReduceOp.SUM ? DType.I64 : t, outShape);
            CpuStorage s = cpu(out);
            for (int o = 0; o < outN; o++) s.setLong(o, acc[o]);
            return out;
        }
        double[] v = values(x);
        double[] result = new double[outN];
        switch (op) {
            case SUM, MEAN -> {
                double[][] sums = neumaierSums(v, target, outN);
                for (int o = 0; o < outN; o++) {
                    double sum = sums[0][o] + sums[1][o];
                    result[o] = op == ReduceOp.SUM ? sum : sum / count[o];
                }
            }
            case VAR -> {
                double[][] sums = neumaierSums(v, target, outN);
                double[] mean = new double[outN];
                for (int o = 0; o < outN; o++) mean[o] = (sums[0][o] + sums[1][o]) / count[o];
                double[] dev = new double[n];
                for (int i = 0; i < n; i++) {
                    double d = v[i] - mean[target[i]];
                    dev[i] = d * d;
                }
                double[][] sq = neumaierSums(dev, target, outN);
                for (int o = 0; o < outN; o++) result[o] = (sq[0][o] + sq[1][o]) / count[o];
            }
            case MAX, MIN -> {
                checkNonEmpty(op, count, shape);
                boolean[] seen = new boolean[outN];
                for (int i = 0; i < n; i++) {
                    int o = target[i];
                    double a = v[i];
                    if (!seen[o]) result[o] = a;
                    else result[o] = op == ReduceOp.MAX ? Math.max(result[o], a) : Math.min(result[o], a); // NaN propagates
                    seen[o] = true;
                }
            }
        }
        NDArray out = newArray(t, outShape);
        CpuStorage s = cpu(out);
        for (int o = 0; o < outN; o++) s.setDouble(o, result[o]);
        return out;
    }

    private static void checkNonEmpty(ReduceOp op, int[] count, int[] shape) {
        if (op != ReduceOp.MAX && op != ReduceOp.MIN) return;
        for (int c : count) {
            if (c == 0) throw new IllegalArgumentException("cpu-reference " + op.name().toLowerCase() + ": cannot reduce an empty dim of shape " + Shapes.str(shape));
        }
    }

    /** Compensated (Neumaier) sums of v grouped by target: [0] the sums, [1] their compensations. */
    private static double[][] neumaierSums(double[] v, int[] target, int outN) {
        double[] sum = new double[outN], comp = new double[outN];
        for (int i = 0; i < v.length; i++) {
            int o = target[i];
            double s = sum[o], a = v[i];
            double t = s + a;
            if (Math.abs(s) >= Math.abs(a)) comp[o] += (s - t) + a;
            else comp[o] += (a - t) + s;
            sum[o] = t;
        }
        return new double[][] {sum, comp};
    }

    /** Compensated sum of a row. */
    private static double sum(double[] v) {
        double s = 0, c = 0;
        for (double a : v) {
            double t = s + a;
            if (Math.abs(s) >= Math.abs(a)) c += (s - t) + a;
            else c += (a - t) + s;
            s = t;
        }
        return s + c;
    }

    /**
     * Index of the first max (min) along dim. A NaN counts as the extreme (its first index is
     * returned), so that argmax agrees with max's NaN propagation.
     */
    @Override
    public NDArray argReduce(boolean max, NDArray x, int dim, boolean keepDim) {
        int[] shape = x.shape();
        int[] outShape = Shapes.reducedShape(shape, new int[] {dim}, keepDim);
        int outN = Shapes.numel(outShape);
        int n = x.numel();
        int[] target = reductionTargets(shape, new int[] {dim});
        boolean exact = !x.dtype().isFloating();
        double[] v = exact ? null : values(x);
        long[] lv = exact ? longValues(x) : null;
        long[] best = new long[outN];
        boolean[] seen = new boolean[outN];
        double[] bestV = new double[outN];
        long[] bestL = new long[outN];
        for (int i = 0; i < n; i++) {
            int o = target[i];
            int k = coords(shape, i)[dim];
            boolean take;
            if (!seen[o]) {
                take = true;
            } else if (exact) {
                take = max ? lv[i] > bestL[o] : lv[i] < bestL[o];
            } else if (Double.isNaN(bestV[o])) {
                take = false;
            } else {
                take = Double.isNaN(v[i]) || (max ? v[i] > bestV[o] : v[i] < bestV[o]);
            }
            if (take) {
                best[o] = k;
                if (exact) bestL[o] = lv[i]; else bestV[o] = v[i];
            }
            seen[o] = true;
        }
        NDArray out = newArray(DType.I64, outShape);
        CpuStorage s = cpu(out);
        for (int o = 0; o < outN; o++) s.setLong(o, best[o]);
        return out;
    }

    // ---- softmax and normalization ----------------------------------------------------------

    /** Number of rows (all dims but the last) and the row length C of x. */
    private static int lastDim(NDArray x) {
        if (x.rank() == 0) throw new IllegalArgumentException("cpu-reference: needs at least one dim, got a scalar");
        return x.size(-1);
    }

    private static int[] withoutLastDim(int[] shape) { return java.util.Arrays.copyOf(shape, shape.length - 1); }

    /** Row r (of length C) of x's row-major values. */
    private static double[] row(double[] all, int r, int c) {
        double[] out = new double[c];
        System.arraycopy(all, r * c, out, 0, c);
        return out;
    }

    @Override
    public NDArray softmax(NDArray x, boolean log) {
        int c = lastDim(x);
        int n = x.numel();
        int rows = c == 0 ? 0 : n / c;
        double[] v = values(x);
        NDArray out = newArray(x.dtype(), x.shape());
        CpuStorage o = cpu(out);
        for (int r = 0; r < rows; r++) {
            double[] xr = row(v, r, c);
            double max = Double.NEGATIVE_INFINITY;
            for (double a : xr) max = Math.max(max, a);
            double[] e = new double[c];
            for (int j = 0; j < c; j++) e[j] = Math.exp(xr[j] - max);
            double sum = sum(e);
            double logSum = Math.log(sum);
            for (int j = 0; j < c; j++) o.setDouble(r * c + j, log ? xr[j] - max - logSum : e[j] / sum);
        }
        return out;
    }

    @Override
    public NDArray softmaxBackward(NDArray y, NDArray gradOut, boolean log) {
        int c = lastDim(y);
        int n = y.numel();
        int rows = c == 0 ? 0 : n / c;
        double[] yv = values(y), gv = values(gradOut);
        NDArray out = newArray(floatOut(y.dtype()), y.shape());
        CpuStorage o = cpu(out);
        for (int r = 0; r < rows; r++) {
            double[] yr = row(yv, r, c), gr = row(gv, r, c);
            if (log) {
                double gsum = sum(gr);
                for (int j = 0; j < c; j++) o.setDouble(r * c + j, gr[j] - Math.exp(yr[j]) * gsum);
            } else {
                double[] gy = new double[c];
                for (int j = 0; j < c; j++) gy[j] = gr[j] * yr[j];
                double dot = sum(gy);
                for (int j = 0; j < c; j++) o.setDouble(r * c + j, yr[j] * (gr[j] - dot));
            }
        }
        return out;
    }

    /**
     * Layer norm over the last dim. mean and rstd come back in x's dtype (F32 for F32 input, F64
     * for F64 input, so that F64 gradient checks stay exact), shaped like x without its last dim.
     */
    @Override
    public NormResult layerNorm(NDArray x, NDArray weight, NDArray bias, double eps) {
        int c = lastDim(x);
        int n = x.numel();
        int rows = c == 0 ? 0 : n / c;
        double[] v = values(x);
        double[] w = weight == null ? null : values(weight);
        double[] b = bias == null ? null : values(bias);
        DType t = floatOut(x.dtype());
        NDArray out = newArray(t, x.shape());
        NDArray meanOut = newArray(t, withoutLastDim(x.shape()));
        NDArray rstdOut = newArray(t, withoutLastDim(x.shape()));
        CpuStorage o = cpu(out), mo = cpu(meanOut), ro = cpu(rstdOut);
        for (int r = 0; r < rows; r++) {
            double[] xr = row(v, r, c);
            double mean = sum(xr) / c;
            double[] sq = new double[c];
            for (int j = 0; j < c; j++) sq[j] = (xr[j] - mean) * (xr[j] - mean);
            double var = sum(sq) / c;
            double rstd = 1.0 / Math.sqrt(var + eps);
            for (int j = 0; j < c; j++) {
                double y = (xr[j] - mean) * rstd;
                if (w != null) y *= w[j];
                if (b != null) y += b[j];
                o.setDouble(r * c + j, y);
            }
            mo.setDouble(r, mean);
            ro.setDouble(r, rstd);
        }
        return new NormResult(out, meanOut, rstdOut);
    }

    /**
     * dx = rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = gradOut * weight and xhat =
     * (x - mean) * rstd; dweight = sum over rows of gradOut * xhat; dbias = sum over rows of gradOut.
     */
    @Override
    public NormGrads layerNormBackward(NDArray gradOut, NDArray x, NDArray mean, NDArray rstd, NDArray weight, boolean hasBias) {
        return normBackward(gradOut, x, mean, rstd, weight, hasBias);
    }

    /** RMS norm over the last dim; rstd comes back in x's dtype, shaped like x without its last dim. */
    @Override
    public NormResult rmsNorm(NDArray x, NDArray weight, double eps) {
        int c = lastDim(x);
        int n = x.numel();
        int rows = c == 0 ? 0 : n / c;
        double[] v = values(x);
        double[] w = weight == null ? null : values(weight);
        DType t = floatOut(x.dtype());
        NDArray out = newArray(t, x.shape());
        NDArray rstdOut = newArray(t, withoutLastDim(x.shape()));
        CpuStorage o = cpu(out), ro = cpu(rstdOut);
        for (int r = 0; r < rows; r++) {
            double[] xr = row(v, r, c);
            double[] sq = new double[c];
            for (int j = 0; j < c; j++) sq[j] = xr[j] * xr[j];
            double rstd = 1.0 / Math.sqrt(sum(sq) / c + eps);
            for (int j = 0; j < c; j++) o.setDouble(r * c + j, xr[j] * rstd * (w == null ? 1.0 : w[j]));
            ro.setDouble(r, rstd);
        }
        return new NormResult(out, null, rstdOut);
    }

    /** dx = rstd * (g - xhat * mean(g * xhat)) with g = gradOut * weight and xhat = x * rstd. */
    @Override
    public NormGrads rmsNormBackward(NDArray gradOut, NDArray x, NDArray rstd, NDArray weight) {
        return normBackward(gradOut, x, null, rstd, weight, false);
    }

    /** Shared backward of layer norm (mean given) and RMS norm (mean null: no centering). */
    private static NormGrads normBackward(NDArray gradOut, NDArray x, NDArray mean, NDArray rstd, NDArray weight, boolean hasBias) {
        int c = lastDim(x);
        int n = x.numel();
        int rows = c == 0 ? 0 : n / c;
        double[] xv = values(x), gv = values(gradOut);
        double[] mv = mean == null ? null : values(mean);
        double[] rv = values(rstd);
        double[] w = weight == null ? null : values(weight);
        DType t = floatOut(x.dtype());
        NDArray dx = newArray(t, x.shape());
        CpuStorage dxs = cpu(dx);
        double[][] dwTerms = new double[c][rows], dbTerms = new double[c][rows];
        for (int r = 0; r < rows; r++) {
            double mu = mv == null ? 0.0 : mv[r];
            double rs = rv[r];
            double[] xhat = new double[c], g = new double[c], gx = new double[c];
            for (int j = 0; j < c; j++) {
                double go = gv[r * c + j];
                xhat[j] = (xv[r * c + j] - mu) * rs;
                g[j] = go * (w == null ? 1.0 : w[j]);
                gx[j] = g[j] * xhat[j];
                dwTerms[j][r] = go * xhat[j];
                dbTerms[j][r] = go;
            }
            double meanG = mv == null ? 0.0 : sum(g) / c;
            double meanGx = sum(gx) / c;
            for (int j = 0; j < c; j++) dxs.setDouble(r * c + j, rs * (g[j] - meanG - xhat[j] * meanGx));
        }
        NDArray dw = null, db = null;
        if (weight != null) {
            dw = newArray(t, new int[] {c});
            for (int j = 0; j < c; j++) cpu(dw).setDouble(j, sum(dwTerms[j]));
        }
        if (hasBias) {
            db = newArray(t, new int[] {c});
            for (int j = 0; j < c; j++) cpu(db).setDouble(j, sum(dbTerms[j]));
        }
        return new NormGrads(dx, dw, db);
    }

    // ---- matmul ---------------------------------------------------------------------------

    @Override
    public NDArray matmul(NDArray a, NDArray b) {
        int rank = a.rank();
        int[] as = a.shape(), bs = b.shape();
        int m = as[rank - 2], k = as[rank - 1], nn = bs[rank - 1];
        int[] outShape = as.clone();
        outShape[rank - 1] = nn;
        int batches = Shapes.numel(java.util.Arrays.copyOf(as, rank - 2));
        CpuStorage sa = cpu(a), sb = cpu(b);
        NDArray out = newArray(floatOut(a.dtype()), outShape);
        CpuStorage o = cpu(out);
        double[] terms = new double[k];
        for (int batch = 0; batch < batches; batch++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < nn; j++) {
                    for (int p = 0; p < k; p++) {
                        terms[p] = get(a, sa, (batch * m + i) * k + p) * get(b, sb, (batch * k + p) * nn + j);
                    }
                    o.setDouble((batch * m + i) * nn + j, sum(terms));
                }
            }
        }
        return out;
    }

    // ---- indexing -------------------------------------------------------------------------

    @Override
    public NDArray gather(NDArray x, int dim, NDArray index) {
        int[] ishape = index.shape();
        int n = index.numel();
        int size = x.size(dim);
        CpuStorage sx = cpu(x), si = cpu(index);
        NDArray out = newArray(x.dtype(), ishape);
        CpuStorage o = cpu(out);
        boolean exact = !x.dtype().isFloating();
        for (int i = 0; i < n; i++) {
            int[] c = coords(ishape, i);
            c[dim] = checkedIndex("gather", getLong(index, si, i), size, dim);
            int p = positionAt(x, c);
            if (exact) o.setLong(i, sx.getLong(p)); else o.setDouble(i, sx.getDouble(p));
        }
        return out;
    }

    @Override
    public NDArray indexSelect(NDArray x, int dim, NDArray index) {
        long[] idx = longValues(index);
        int size = x.size(dim);
        for (long v : idx) checkedIndex("indexSelect", v, size, dim);
        int[] outShape = x.shape();
        outShape[dim] = idx.length;
        int n = Shapes.numel(outShape);
        CpuStorage sx = cpu(x);
        NDArray out = newArray(x.dtype(), outShape);
        CpuStorage o = cpu(out);
        boolean exact = !x.dtype().isFloating();
        for (int i = 0; i < n; i++) {
            int[] c = coords(outShape, i);
            c[dim] = (int) idx[c[dim]];
            int p = positionAt(x, c);
            if (exact) o.setLong(i, sx.getLong(p)); else o.setDouble(i, sx.getDouble(p));
        }
        return out;
    }

    /** Indices are all checked before dst is touched, so a bad index leaves dst unchanged. */
    @Override
    public void scatterAddInPlace(NDArray dst, int dim, NDArray index, NDArray src) {
        int[] ishape = index.shape();
        int n = index.numel();
        int size = dst.size(dim);
        long[] idx = longValues(index);
        for (long v : idx) checkedIndex("scatterAdd", v, size, dim);
        int[] target = new int[n];
        for (int i = 0; i < n; i++) {
            int[] c = coords(ishape, i);
            c[dim] = (int) idx[i];
            target[i] = positionAt(dst, c);
        }
        addAt(dst, target, src);
    }

    /** Indices are all checked before dst is touched, so a bad index leaves dst unchanged. */
    @Override
    public void indexAddInPlace(NDArray dst, int dim, NDArray index, NDArray src) {
        long[] idx = longValues(index);
        int size = dst.size(dim);
        for (long v : idx) checkedIndex("indexAdd", v, size, dim);
        int[] sshape = src.shape();
        int n = src.numel();
        int[] target = new int[n];
        for (int i = 0; i < n; i++) {
            int[] c = coords(sshape, i);
            c[dim] = (int) idx[c[dim]];
            target[i] = positionAt(dst, c);
        }
        addAt(dst, target, src);
    }

    /**
     * dst storage[target[i]] += src (row-major element i). Contributions to one destination are
     * summed in double first (exactly in long for integers), then added once and rounded once.
     */
    private static void addAt(NDArray dst, int[] target, NDArray src) {
        CpuStorage d = cpu(dst);
        java.util.Map<Integer, java.util.List<Integer>> byTarget = new java.util.TreeMap<>();
        for (int i = 0; i < target.length; i++) byTarget.computeIfAbsent(target[i], k -> new java.util.ArrayList<>()).add(i);
        if (!dst.dtype().isFloating()) {
            long[] sv = longValues(src);
            for (var e : byTarget.entrySet()) {
                long acc = d.getLong(e.getKey());
                for (int i : e.getValue()) acc += sv[i];
                d.setLong(e.getKey(), acc);
            }
            return;
        }
        double[] sv = values(src);
        for (var e : byTarget.entrySet()) {
            double[] terms = new double[e.getValue().size() + 1];
            terms[0] = d.getDouble(e.getKey());
            int j = 1;
            for (int i : e.getValue()) terms[j++] = sv[i];
            d.setDouble(e.getKey(), sum(terms));
        }
    }

    @Override
    public NDArray triangle(NDArray x, int k, boolean upper) {
        int[] shape = x.shape();
        int rank = shape.length;
        int n = x.numel();
        CpuStorage sx = cpu(x);
        NDArray out = newArray(x.dtype(), shape);
        CpuStorage o = cpu(out);
        boolean exact = !x.dtype().isFloating();
        for (int idx = 0; idx < n; idx++) {
            int[] c = coords(shape, idx);
            long diag = (long) c[rank - 1] - c[rank - 2];
            boolean keep = upper ? diag >= k : diag <= k;
            if (!keep) continue; // zero from allocation
            int p = position(x, idx);
            if (exact) o.setLong(idx, sx.getLong(p)); else o.setDouble(idx, sx.getDouble(p));
        }
        return out;
    }

    // ---- fused training kernels -----------------------------------------------------------

    /**
     * loss = logSumExp - ((1 - s) x[target] + (s / V) sum_j x_j) per row; ignored rows get 0 (their
     * logSumExp is still computed). Targets other than ignoreIndex must lie in [0, V).
     */
    @Override
    public CrossEntropyResult crossEntropy(NDArray logits, NDArray targets, long ignoreIndex, double labelSmoothing) {
        int rows = logits.size(0), v = logits.size(1);
        double[] x = values(logits);
        long[] t = longValues(targets);
        DType dt = floatOut(logits.dtype());
        NDArray loss = newArray(dt, new int[] {rows});
        NDArray lse = newArray(dt, new int[] {rows});
        CpuStorage ls = cpu(loss), es = cpu(lse);
        long valid = 0;
        for (int r = 0; r < rows; r++) {
            boolean ignored = t[r] == ignoreIndex;
            if (!ignored) checkedIndex("crossEntropy", t[r], v, 1);
        }
        for (int r = 0; r < rows; r++) {
            double[] xr = row(x, r, v);
            double logSumExp = logSumExp(xr);
            es.setDouble(r, logSumExp);
            if (t[r] == ignoreIndex) continue;
            valid++;
            double target = xr[(int) t[r]];
            double l = logSumExp - (1.0 - labelSmoothing) * target;
            if (labelSmoothing != 0) l -= labelSmoothing / v * sum(xr);
            ls.setDouble(r, l);
        }
        return new CrossEntropyResult(loss, lse, valid);
    }

    private static double logSumExp(double[] xr) {
        double max = Double.NEGATIVE_INFINITY;
        for (double a : xr) max = Math.max(max, a);
        if (max == Double.NEGATIVE_INFINITY || Double.isNaN(max)) return max;
        double[] e = new double[xr.length];
        for (int j = 0; j < xr.length; j++) e[j] = Math.exp(xr[j] - max);
        return max + Math.log(sum(e));
    }

    @Override
    public NDArray crossEntropyBackward(NDArray logits, NDArray targets, NDArray logSumExp, long ignoreIndex,
                                        double labelSmoothing, double scale) {
        int rows = logits.size(0), v = logits.size(1);
        double[] x = values(logits), lse = values(logSumExp);
        long[] t = longValues(targets);
        for (int r = 0; r < rows; r++) {
            if (t[r] != ignoreIndex) checkedIndex("crossEntropy backward", t[r], v, 1);
        }
        NDArray out = newArray(floatOut(logits.dtype()), logits.shape());
        CpuStorage o = cpu(out);
        for (int r = 0; r < rows; r++) {
            if (t[r] == ignoreIndex) continue;
            for (int j = 0; j < v; j++) {
                double p = Math.exp(x[r * v + j] - lse[r]);
                double q = labelSmoothing / v + (j == t[r] ? 1.0 - labelSmoothing : 0.0);
                o.setDouble(r * v + j, scale * (p - q));
            }
        }
        return out;
    }

    @Override
    public void adamwStep(NDArray param, NDArray grad, NDArray m, NDArray v, double lr, double beta1, double beta2,
                          double eps, double weightDecay, long step) {
        int n = param.numel();
        CpuStorage ps = cpu(param), gs = cpu(grad), ms = cpu(m), vs = cpu(v);
        double bc1 = 1.0 - Math.pow(beta1, step);
        double bc2 = 1.0 - Math.pow(beta2, step);
        for (int i = 0; i < n; i++) {
            int pp = position(param, i), mp = position(m, i), vp = position(v, i);
            double g = get(grad, gs, i);
            double mi = beta1 * ms.getDouble(mp) + (1.0 - beta1) * g;
            double vi = beta2 * vs.getDouble(vp) + (1.0 - beta2) * g * g;
            ms.setDouble(mp, mi);
            vs.setDouble(vp, vi);
            // the moments are used as stored (rounded to the dtype), as a kernel keeping them in that dtype would
            mi = ms.getDouble(mp);
            vi = vs.getDouble(vp);
            double p = ps.getDouble(pp);
            p -= lr * weightDecay * p;
            p -= lr * (mi / bc1) / (Math.sqrt(vi / bc2) + eps);
            ps.setDouble(pp, p);
        }
    }
}
