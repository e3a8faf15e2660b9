package dev.tessera.tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An n-dimensional array of one dtype on one device: a {@link Storage} seen through a shape,
 * strides (in elements, may be 0 for broadcast dims) and an offset. View methods (reshape when
 * possible, permute, transpose, narrow, slice, select, expand, squeeze, unsqueeze) share storage and
 * never copy; {@link #contiguous()} copies only when the layout is not already row-major.
 *
 * <p>Ops check their arguments here (shapes, dtypes, devices) and run on the backend of the array's
 * device. Errors name the op and the shapes involved. Arrays carry no gradient; see the autograd
 * module's Tensor for that.
 */
public final class NDArray implements AutoCloseable {
    private final Storage storage;
    private final int[] shape;
    private final int[] strides;
    private final int offset;

    /** Wraps a view; validates that it lies inside the storage. */
    public NDArray(Storage storage, int[] shape, int[] strides, int offset) {
        if (shape.length != strides.length) {
            throw new IllegalArgumentException("shape " + Shapes.str(shape) + " and strides " + Shapes.str(strides) + " differ in rank");
        }
        this.storage = storage;
        this.shape = shape.clone();
        this.strides = strides.clone();
        this.offset = offset;
        int numel = Shapes.numel(this.shape);
        if (numel > 0) {
            long lo = offset, hi = offset;
            for (int i = 0; i < shape.length; i++) {
                long span = (long) (shape[i] - 1) * strides[i];
                if (span < 0) lo += span; else hi += span;
            }
            if (lo < 0 || hi >= storage.size()) {
                throw new IllegalArgumentException("view shape " + Shapes.str(shape) + " strides " + Shapes.str(strides) + " offset "
                        + offset + " reaches outside its storage of " + storage.size() + " elements");
            }
        }
    }

    /** A contiguous array over the whole storage. */
    public NDArray(Storage storage, int... shape) {
        this(storage, shape, Shapes.contiguousStrides(shape), 0);
    }

    // ---- accessors ------------------------------------------------------------------------

    public Storage storage() { return storage; }

    public int[] shape() { return shape.clone(); }

    public int[] strides() { return strides.clone(); }

    public int offset() { return offset; }

    public DType dtype() { return storage.dtype(); }

    public Device device() { return storage.device(); }

    public Backend backend() { return Backends.forDevice(device()); }

    public int rank() { return shape.length; }

    public int numel() { return Shapes.numel(shape); }

    /** Size of dim d (negative counts from the end). */
    public int size(int d) { return shape[Shapes.dim("size", d, shape.length)]; }

    /** Stride of dim d (negative counts from the end). */
    public int stride(int d) { return strides[Shapes.dim("stride", d, shape.length)]; }

    /** Whether the elements lie row-major without gaps starting at offset. */
    public boolean isContiguous() {
        if (numel() == 0) return true; // no element to be out of place
        int expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && strides[i] != expected) return false;
            expected *= shape[i];
        }
        return true;
    }

    // ---- creation -------------------------------------------------------------------------

    public static NDArray zeros(DType dtype, int... shape) { return zeros(Device.CPU, dtype, shape); }

    public static NDArray zeros(Device device, DType dtype, int... shape) {
        Backend b = Backends.forDevice(device);
        return new NDArray(b.allocate(dtype, Shapes.numel(shape)), shape);
    }

    public static NDArray ones(DType dtype, int... shape) { return full(Device.CPU, dtype, 1.0, shape); }

    public static NDArray full(DType dtype, double value, int... shape) { return full(Device.CPU, dtype, value, shape); }

    public static NDArray full(Device device, DType dtype, double value, int... shape) {
        NDArray a = zeros(device, dtype, shape);
        if (Double.doubleToRawLongBits(value) != 0) a.backend().fill(a, value); // -0.0 must be written too
        return a;
    }

    /** A 0-dim array holding one value. */
    public static NDArray scalar(DType dtype, double value) { return full(Device.CPU, dtype, value); }

    /** [start, start + step, ...) below end (above end for a negative step), 1-D. */
    public static NDArray arange(DType dtype, double start, double end, double step) {
        if (step == 0 || Double.isNaN(step)) throw new IllegalArgumentException("arange: step must be non-zero, got " + step);
        long n = (long) Math.ceil((end - start) / step);
        if (n < 0) n = 0;
        if (n > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("arange: " + n + " elements is too many");
        CpuStorage s = CpuStorage.allocate(dtype, (int) n);
        for (int i = 0; i < n; i++) s.setDouble(i, start + i * step);
        return new NDArray(s, (int) n);
    }

    public static NDArray arange(int end) { return arange(DType.I64, 0, end, 1); }

    public static NDArray fromArray(float[] data, int... shape) { return wrapCopy(DType.F32, data.clone(), data.length, shape); }

    public static NDArray fromArray(double[] data, int... shape) { return wrapCopy(DType.F64, data.clone(), data.length, shape); }

    public static NDArray fromArray(int[] data, int... shape) { return wrapCopy(DType.I32, data.clone(), data.length, shape); }

    public static NDArray fromArray(long[] data, int... shape) { return wrapCopy(DType.I64, data.clone(), data.length, shape); }

    public static NDArray fromArray(boolean[] data, int... shape) {
        byte[] b = new byte[data.length];
        for (int i = 0; i < b.length; i++) b[i] = (byte) (data[i] ? 1 : 0);
        return wrapCopy(DType.BOOL, b, b.length, shape);
    }

    /** Values given as doubles, stored in dtype (rounded to nearest even for floats). */
    public static NDArray fromArray(DType dtype, double[] data, int... shape) {
        CpuStorage s = CpuStorage.allocate(dtype, data.length);
        for (int i = 0; i < data.length; i++) s.setDouble(i, data[i]);
        return wrapCopy(dtype, s.array(), data.length, shape);
    }

    /** Raw 16-bit patterns as BF16 or F16. */
    public static NDArray fromBits(DType dtype, short[] bits, int... shape) {
        if (!dtype.isHalf()) throw new IllegalArgumentException("fromBits: dtype must be BF16 or F16, got " + dtype);
        return wrapCopy(dtype, bits.clone(), bits.length, shape);
    }

    private static NDArray wrapCopy(DType dtype, Object array, int length, int[] shape) {
        int[] s = shape.length == 0 && length != 1 ? new int[] {length} : shape;
        if (Shapes.numel(s) != length) {
            throw new IllegalArgumentException("fromArray: " + length + " values do not fill shape " + Shapes.str(s));
        }
        return new NDArray(CpuStorage.wrap(dtype, array), s);
    }

    /** Uniform values in [low, high) from the generator, row-major order. */
    public static NDArray uniform(Generator gen, DType dtype, double low, double high, int... shape) {
        int n = Shapes.numel(shape);
        CpuStorage s = CpuStorage.allocate(dtype, n);
        for (int i = 0; i < n; i++) s.setDouble(i, low + (high - low) * gen.nextDouble());
        return new NDArray(s, shape);
    }

    /** Normal values N(mean, std^2) from the generator, row-major order. */
    public static NDArray normal(Generator gen, DType dtype, double mean, double std, int... shape) {
        int n = Shapes.numel(shape);
        CpuStorage s = CpuStorage.allocate(dtype, n);
        for (int i = 0; i < n; i++) s.setDouble(i, mean + std * gen.nextGaussian());
        return new NDArray(s, shape);
    }

    /** Uniform integers in [low, high) as I64. */
    public static NDArray randint(Generator gen, long low, long high, int... shape) {
        if (high <= low) throw new IllegalArgumentException("randint: empty range [" + low + ", " + high + ")");
        int n = Shapes.numel(shape);
        long[] v = new long[n];
        for (int i = 0; i < n; i++) v[i] = low + gen.nextLong(high - low);
        return new NDArray(CpuStorage.wrap(DType.I64, v), shape);
    }

    // ---- host transfer --------------------------------------------------------------------

    /** This array on another device (itself when already there). */
    public NDArray to(Device target) {
        if (target.equals(device())) return this;
        NDArray c = contiguous();
        Object host = c.backend().toHost(c.storage, c.offset, c.numel());
        Backend dst = Backends.forDevice(target);
        return new NDArray(dst.fromHost(dtype(), host), shape);
    }

    /** Row-major values as float[] (converted from any dtype). */
    public float[] toFloatArray() { return (float[]) hostCopy(DType.F32); }

    public double[] toDoubleArray() { return (double[]) hostCopy(DType.F64); }

    public int[] toIntArray() { return (int[]) hostCopy(DType.I32); }

    public long[] toLongArray() { return (long[]) hostCopy(DType.I64); }

    public boolean[] toBooleanArray() {
        byte[] b = (byte[]) hostCopy(DType.BOOL);
        boolean[] out = new boolean[b.length];
        for (int i = 0; i < b.length; i++) out[i] = b[i] != 0;
        return out;
    }

    /** Raw bits of a BF16/F16 array, row-major. */
    public short[] toBits() {
        if (!dtype().isHalf()) throw new IllegalArgumentException("toBits: dtype must be BF16 or F16, got " + dtype());
        return (short[]) hostCopy(dtype());
    }

    private Object hostCopy(DType as) {
        NDArray c = dtype() == as && isContiguous() ? this : backend().copy(this, as);
        return c.backend().toHost(c.storage, c.offset, c.numel());
    }

    /** One element as double. */
    public double getDouble(int... index) {
        if (index.length != shape.length) {
            throw new IllegalArgumentException("getDouble: " + index.length + " indices for rank " + shape.length + " shape " + Shapes.str(shape));
        }
        int pos = offset;
        for (int i = 0; i < index.length; i++) {
            if (index[i] < 0 || index[i] >= shape[i]) {
                throw new IndexOutOfBoundsException("getDouble: index " + Arrays.toString(index) + " out of bounds for shape " + Shapes.str(shape));
            }
            pos += index[i] * strides[i];
        }
        if (storage instanceof CpuStorage cs) return cs.getDouble(pos);
        Object h = backend().toHost(storage, pos, 1);
        return CpuStorage.wrap(dtype(), h).getDouble(0);
    }

    /** The value of a one-element array. */
    public double item() {
        if (numel() != 1) throw new IllegalArgumentException("item: array of shape " + Shapes.str(shape) + " has " + numel() + " elements, not 1");
        return reshape().getDouble();
    }

    // ---- views ----------------------------------------------------------------------------

    /**
     * Same elements, new shape (one dim may be -1). A view when the strides allow it, a copy
     * otherwise (as torch.reshape).
     */
    public NDArray reshape(int... newShape) {
        int[] s = inferShape("reshape", newShape);
        int[] st = viewStrides(s);
        if (st != null) return new NDArray(storage, s, st, offset);
        return contiguous().view(s);
    }

    /** Same elements, new shape, never copying: throws when the strides do not allow a view. */
    public NDArray view(int... newShape) {
        int[] s = inferShape("view", newShape);
        int[] st = viewStrides(s);
        if (st == null) {
            throw new IllegalArgumentException("view: shape " + Shapes.str(shape) + " with strides " + Shapes.str(strides)
                    + " cannot be viewed as " + Shapes.str(s) + " without a copy; call contiguous() or reshape()");
        }
        return new NDArray(storage, s, st, offset);
    }

    public NDArray flatten() { return reshape(-1); }

    private int[] inferShape(String op, int[] newShape) {
        int[] s = newShape.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < s.length; i++) {
            if (s[i] == -1) {
                if (infer >= 0) throw new IllegalArgumentException(op + ": more than one -1 in " + Shapes.str(newShape));
                infer = i;
            } else if (s[i] < 0) {
                throw new IllegalArgumentException(op + ": negative size in " + Shapes.str(newShape));
            } else {
                known *= s[i];
            }
        }
        int n = numel();
        if (infer >= 0) {
            if (known == 0 || n % known != 0) {
                throw new IllegalArgumentException(op + ": cannot infer -1 in " + Shapes.str(newShape) + " for " + n + " elements of shape " + Shapes.str(shape));
            }
            s[infer] = (int) (n / known);
        } else if (known != n) {
            throw new IllegalArgumentException(op + ": shape " + Shapes.str(shape) + " (" + n + " elements) cannot become " + Shapes.str(newShape) + " (" + known + ")");
        }
        return s;
    }

    /**
     * Strides for viewing this array as newShape, or null when a copy is needed. Old dims are
     * grouped into chunks that are contiguous among themselves; each run of new dims must cover
     * exactly one chunk (the rule torch.view follows).
     */
    private int[] viewStrides(int[] newShape) {
        if (isContiguous() || numel() == 0) return Shapes.contiguousStrides(newShape);
        int[] ns = new int[newShape.length];
        int viewD = newShape.length - 1;
        long chunkBaseStride = strides[strides.length - 1];
        long tensorNumel = 1, viewNumel = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            tensorNumel *= shape[d];
            boolean chunkEnds = d == 0 || (shape[d - 1] != 1 && strides[d - 1] != tensorNumel * chunkBaseStride);
            if (chunkEnds) {
                while (viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] == 1)) {
                    ns[viewD] = (int) (viewNumel * chunkBaseStride);
                    viewNumel *= newShape[viewD];
                    viewD--;
                }
                if (viewNumel != tensorNumel) return null;
                if (d > 0) {
                    chunkBaseStride = strides[d - 1];
                    tensorNumel = 1;
                    viewNumel = 1;
                }
            }
        }
        return viewD == -1 ? ns : null;
    }

    /** Reorders dims: output dim i is input dim perm[i]. */
    public NDArray permute(int... perm) {
        if (perm.length != shape.length) {
            throw new IllegalArgumentException("permute: " + Arrays.toString(perm) + " has " + perm.length + " dims, array has shape " + Shapes.str(shape));
        }
        int[] s = new int[perm.length], st = new int[perm.length];
        boolean[] seen = new boolean[perm.length];
        for (int i = 0; i < perm.length; i++) {
            int p = Shapes.dim("permute", perm[i], shape.length);
            if (seen[p]) throw new IllegalArgumentException("permute: dim " + p + " repeated in " + Arrays.toString(perm));
            seen[p] = true;
            s[i] = shape[p];
            st[i] = strides[p];
        }
        return new NDArray(storage, s, st, offset);
    }

    /** Swaps two dims. */
    public NDArray transpose(int d0, int d1) {
        int a = Shapes.dim("transpose", d0, shape.length), b = Shapes.dim("transpose", d1, shape.length);
        int[] perm = new int[shape.length];
        for (int i = 0; i < perm.length; i++) perm[i] = i;
        perm[a] = b;
        perm[b] = a;
        return permute(perm);
    }

    /** Transpose of the last two dims (matrix transpose). */
    public NDArray mT() {
        if (shape.length < 2) throw new IllegalArgumentException("mT: needs rank >= 2, got shape " + Shapes.str(shape));
        return transpose(-2, -1);
    }

    /** Elements [start, start + length) along dim, as a view. */
    public NDArray narrow(int dim, int start, int length) {
        int d = Shapes.dim("narrow", dim, shape.length);
        if (start < 0 || length < 0 || start + length > shape[d]) {
            throw new IllegalArgumentException("narrow: [" + start + ", " + (start + length) + ") out of range for dim " + d + " of shape " + Shapes.str(shape));
        }
        int[] s = shape.clone();
        s[d] = length;
        return new NDArray(storage, s, strides, offset + (length == 0 ? 0 : start * strides[d]));
    }

    /** Python-style slice start:end:step along dim (negative start/end count from the end; step > 0). */
    public NDArray slice(int dim, int start, int end, int step) {
        int d = Shapes.dim("slice", dim, shape.length);
        if (step <= 0) throw new IllegalArgumentException("slice: step must be > 0, got " + step);
        int n = shape[d];
        int s0 = clampIndex(start < 0 ? start + n : start, n);
        int e0 = clampIndex(end < 0 ? end + n : end, n);
        int len = e0 <= s0 ? 0 : (e0 - s0 + step - 1) / step;
        int[] s = shape.clone();
        int[] st = strides.clone();
        s[d] = len;
        st[d] = strides[d] * step;
        return new NDArray(storage, s, st, offset + (len == 0 ? 0 : s0 * strides[d]));
    }

    private static int clampIndex(int i, int n) { return Math.max(0, Math.min(n, i)); }

    /** The slice at index along dim, with that dim removed. */
    public NDArray select(int dim, int index) {
        int d = Shapes.dim("select", dim, shape.length);
        int i = index < 0 ? index + shape[d] : index;
        if (i < 0 || i >= shape[d]) throw new IndexOutOfBoundsException("select: index " + index + " out of range for dim " + d + " of shape " + Shapes.str(shape));
        int[] s = new int[shape.length - 1], st = new int[shape.length - 1];
        for (int k = 0, j = 0; k < shape.length; k++) {
            if (k == d) continue;
            s[j] = shape[k];
            st[j++] = strides[k];
        }
        return new NDArray(storage, s, st, offset + i * strides[d]);
    }

    /** Broadcast view to a larger shape (NumPy rules; -1 keeps a size); no copy, stride 0 on new dims. */
    public NDArray expand(int... newShape) {
        if (newShape.length < shape.length) {
            throw new IllegalArgumentException("expand: cannot expand shape " + Shapes.str(shape) + " to fewer dims " + Shapes.str(newShape));
        }
        int lead = newShape.length - shape.length;
        int[] s = new int[newShape.length], st = new int[newShape.length];
        for (int i = 0; i < newShape.length; i++) {
            if (i < lead) {
                if (newShape[i] < 0) throw new IllegalArgumentException("expand: -1 not allowed for new leading dim in " + Shapes.str(newShape));
                s[i] = newShape[i];
                st[i] = 0;
            } else {
                int old = shape[i - lead];
                int want = newShape[i] == -1 ? old : newShape[i];
                if (want == old) {
                    s[i] = old;
                    st[i] = strides[i - lead];
                } else if (old == 1) {
                    s[i] = want;
                    st[i] = 0;
                } else {
                    throw new IllegalArgumentException("expand: shape " + Shapes.str(shape) + " cannot be expanded to " + Shapes.str(newShape));
                }
            }
        }
        return new NDArray(storage, s, st, offset);
    }

    public NDArray broadcastTo(int... newShape) { return expand(newShape); }

    /** Removes dim (which must have size 1). */
    public NDArray squeeze(int dim) {
        int d = Shapes.dim("squeeze", dim, shape.length);
        if (shape[d] != 1) throw new IllegalArgumentException("squeeze: dim " + d + " of shape " + Shapes.str(shape) + " has size " + shape[d] + ", not 1");
        return select(d, 0);
    }

    /** Removes every dim of size 1. */
    public NDArray squeeze() {
        NDArray r = this;
        for (int i = shape.length - 1; i >= 0; i--) if (shape[i] == 1) r = r.select(i, 0);
        return r;
    }

    /** Inserts a size-1 dim at position dim (0..rank; negative counts from rank + 1). */
    public NDArray unsqueeze(int dim) {
        int d = Shapes.dim("unsqueeze", dim, shape.length + 1);
        int[] s = new int[shape.length + 1], st = new int[shape.length + 1];
        for (int i = 0, j = 0; i < s.length; i++) {
            if (i == d) {
                s[i] = 1;
                st[i] = d < shape.length ? strides[d] * shape[d] : 1;
            } else {
                s[i] = shape[j];
                st[i] = strides[j++];
            }
        }
        return new NDArray(storage, s, st, offset);
    }

    /** This array when contiguous, otherwise a contiguous copy. */
    public NDArray contiguous() {
        return isContiguous() ? this : backend().copy(this, dtype());
    }

    /** A new contiguous copy, always. */
    public NDArray copy() { return backend().copy(this, dtype()); }

    /** Converted to dtype (this array when it already has it). */
    public NDArray to(DType dtype) {
        return dtype == dtype() ? this : backend().copy(this, dtype);
    }

    // ---- in place -------------------------------------------------------------------------

    /** In place: this[...] = src broadcast to this shape (dtype converted). Returns this. */
    public NDArray assign(NDArray src) {
        sameDevice("assign", src);
        Shapes.broadcast("assign", src.shape, shape);
        backend().assign(this, src.expandTo("assign", shape));
        return this;
    }

    /** In place: every element set to value. Returns this. */
    public NDArray fill(double value) {
        backend().fill(this, value);
        return this;
    }

    @Override
    public void close() { storage.close(); }

    // ---- elementwise ----------------------------------------------------------------------

    public NDArray unary(UnaryOp op) { return unary(op, 0.0); }

    private NDArray unary(UnaryOp op, double scalar) {
        if (dtype() == DType.BOOL) throw new IllegalArgumentException(op.name().toLowerCase() + ": not defined for bool arrays of shape " + Shapes.str(shape));
        if (dtype().isHalf()) return to(DType.F32).unary(op, scalar).to(dtype());
        if (op.needsFloat() && !dtype().isFloating()) return to(DType.F32).unary(op, scalar);
        return backend().unary(op, this, scalar);
    }

    public NDArray neg() { return unary(UnaryOp.NEG); }
    public NDArray abs() { return unary(UnaryOp.ABS); }
    public NDArray exp() { return unary(UnaryOp.EXP); }
    public NDArray log() { return unary(UnaryOp.LOG); }
    public NDArray sqrt() { return unary(UnaryOp.SQRT); }
    public NDArray rsqrt() { return unary(UnaryOp.RSQRT); }
    public NDArray tanh() { return unary(UnaryOp.TANH); }
    public NDArray sigmoid() { return unary(UnaryOp.SIGMOID); }
    public NDArray relu() { return unary(UnaryOp.RELU); }
    /** Exact GELU, x * Phi(x). */
    public NDArray gelu() { return unary(UnaryOp.GELU); }
    /** Tanh-approximated GELU (GPT-2's "gelu_new"). */
    public NDArray geluTanh() { return unary(UnaryOp.GELU_TANH); }
    public NDArray silu() { return unary(UnaryOp.SILU); }
    public NDArray sin() { return unary(UnaryOp.SIN); }
    public NDArray cos() { return unary(UnaryOp.COS); }
    public NDArray pow(double exponent) { return unary(UnaryOp.POW, exponent); }

    /** gradOut * op'(this): the backward of a unary op at this input. */
    public NDArray unaryBackward(UnaryOp op, NDArray gradOut, double scalar) {
        sameDevice("unaryBackward", gradOut);
        if (!Arrays.equals(shape, gradOut.shape)) {
            throw new IllegalArgumentException(op.name().toLowerCase() + " backward: input shape " + Shapes.str(shape) + " and gradient shape " + Shapes.str(gradOut.shape) + " differ");
        }
        DType t = computeType(DType.promote(dtype(), gradOut.dtype()));
        return backend().unaryBackward(op, to(t), gradOut.to(t), scalar);
    }

    public NDArray add(NDArray o) { return binary(BinaryOp.ADD, o); }
    public NDArray sub(NDArray o) { return binary(BinaryOp.SUB, o); }
    public NDArray mul(NDArray o) { return binary(BinaryOp.MUL, o); }
    public NDArray div(NDArray o) { return binary(BinaryOp.DIV, o); }
    public NDArray maximum(NDArray o) { return binary(BinaryOp.MAXIMUM, o); }
    public NDArray minimum(NDArray o) { return binary(BinaryOp.MINIMUM, o); }
    public NDArray pow(NDArray o) { return binary(BinaryOp.POW, o); }
    public NDArray eq(NDArray o) { return binary(BinaryOp.EQ, o); }
    public NDArray ne(NDArray o) { return binary(BinaryOp.NE, o); }
    public NDArray lt(NDArray o) { return binary(BinaryOp.LT, o); }
    public NDArray le(NDArray o) { return binary(BinaryOp.LE, o); }
    public NDArray gt(NDArray o) { return binary(BinaryOp.GT, o); }
    public NDArray ge(NDArray o) { return binary(BinaryOp.GE, o); }

    public NDArray add(double s) { return binaryScalar(BinaryOp.ADD, s); }
    public NDArray sub(double s) { return binaryScalar(BinaryOp.SUB, s); }
    public NDArray mul(double s) { return binaryScalar(BinaryOp.MUL, s); }
    public NDArray div(double s) { return binaryScalar(BinaryOp.DIV, s); }
    public NDArray maximum(double s) { return binaryScalar(BinaryOp.MAXIMUM, s); }
    public NDArray minimum(double s) { return binaryScalar(BinaryOp.MINIMUM, s); }
    public NDArray eq(double s) { return binaryScalar(BinaryOp.EQ, s); }
    public NDArray ne(double s) { return binaryScalar(BinaryOp.NE, s); }
    public NDArray lt(double s) { return binaryScalar(BinaryOp.LT, s); }
    public NDArray le(double s) { return binaryScalar(BinaryOp.LE, s); }
    public NDArray gt(double s) { return binaryScalar(BinaryOp.GT, s); }
    public NDArray ge(double s) { return binaryScalar(BinaryOp.GE, s); }

    /** The dtype ops compute in for a (promoted) input dtype: halves compute in F32. */
    private static DType computeType(DType t) {
        return t.isHalf() ? DType.F32 : t;
    }

    /** op(this, other) with NumPy broadcasting and dtype promotion. */
    public NDArray binary(BinaryOp op, NDArray other) {
        String name = op.name().toLowerCase();
        sameDevice(name, other);
        int[] out = Shapes.broadcast(name, shape, other.shape);
        DType common = DType.promote(dtype(), other.dtype());
        if (common == DType.BOOL && !op.isComparison()) {
            throw new IllegalArgumentException(name + ": not defined for bool arrays (shapes " + Shapes.str(shape) + " and " + Shapes.str(other.shape) + ")");
        }
        DType t = computeType(common);
        if ((op == BinaryOp.DIV || op == BinaryOp.POW) && !t.isFloating()) t = DType.F32;
        NDArray r = backend().binary(op, to(t).expandTo(name, out), other.to(t).expandTo(name, out));
        return common.isHalf() && !op.isComparison() ? r.to(common) : r;
    }

    /** op(this, s) with a scalar right operand. */
    public NDArray binaryScalar(BinaryOp op, double s) {
        String name = op.name().toLowerCase();
        DType t = computeType(dtype());
        if (t == DType.BOOL && !op.isComparison()) throw new IllegalArgumentException(name + ": not defined for bool arrays of shape " + Shapes.str(shape));
        if (t == DType.BOOL) t = DType.I32;
        if (!t.isFloating() && !op.isComparison() && (op == BinaryOp.DIV || op == BinaryOp.POW || s != Math.rint(s))) t = DType.F32;
        NDArray r = backend().binaryScalar(op, to(t), s);
        return dtype().isHalf() && !op.isComparison() ? r.to(dtype()) : r;
    }

    /** cond ? a : b with broadcasting; cond must be BOOL. */
    public static NDArray where(NDArray cond, NDArray a, NDArray b) {
        if (cond.dtype() != DType.BOOL) throw new IllegalArgumentException("where: condition must be bool, got " + cond.dtype() + " of shape " + Shapes.str(cond.shape));
        a.sameDevice("where", b);
        a.sameDevice("where", cond);
        int[] out = Shapes.broadcast("where", Shapes.broadcast("where", cond.shape, a.shape), b.shape);
        DType common = DType.promote(a.dtype(), b.dtype());
        DType t = computeType(common);
        NDArray r = a.backend().where(cond.expandTo("where", out), a.to(t).expandTo("where", out), b.to(t).expandTo("where", out));
        return common.isHalf() ? r.to(common) : r;
    }

    private NDArray expandTo(String op, int[] target) {
        if (Arrays.equals(shape, target)) return this;
        try {
            return expand(target);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(op + ": shape " + Shapes.str(shape) + " cannot be broadcast to " + Shapes.str(target), e);
        }
    }

    // ---- reductions -----------------------------------------------------------------------

    /** Sum over dims (all when none given). */
    public NDArray sum(boolean keepDim, int... dims) { return reduce(ReduceOp.SUM, keepDim, dims); }
    public NDArray sum(int... dims) { return reduce(ReduceOp.SUM, false, dims); }
    public NDArray mean(boolean keepDim, int... dims) { return reduce(ReduceOp.MEAN, keepDim, dims); }
    public NDArray mean(int... dims) { return reduce(ReduceOp.MEAN, false, dims); }
    public NDArray max(boolean keepDim, int... dims) { return reduce(ReduceOp.MAX, keepDim, dims); }
    public NDArray max(int... dims) { return reduce(ReduceOp.MAX, false, dims); }
    public NDArray min(boolean keepDim, int... dims) { return reduce(ReduceOp.MIN, keepDim, dims); }
    public NDArray min(int... dims) { return reduce(ReduceOp.MIN, false, dims); }
    /** Population variance (divides by n). */
    public NDArray var(boolean keepDim, int... dims) { return reduce(ReduceOp.VAR, keepDim, dims); }
    public NDArray var(int... dims) { return reduce(ReduceOp.VAR, false, dims); }

    public NDArray reduce(ReduceOp op, boolean keepDim, int... dims) {
        String name = op.name().toLowerCase();
        int[] d = Shapes.dims(name, dims, shape.length);
        // a scalar reduces as a one-element vector, so that its result dtype follows the rules below
        if (shape.length == 0) return reshape(1).reduce(op, false, 0);
        for (int k : d) {
            if (shape[k] == 0 && (op == ReduceOp.MAX || op == ReduceOp.MIN)) {
                throw new IllegalArgumentException(name + ": cannot reduce empty dim " + k + " of shape " + Shapes.str(shape));
            }
        }
        NDArray x = this;
        if (dtype().isHalf()) x = to(DType.F32);
        if (dtype() == DType.BOOL) x = to(DType.I64);
        if ((op == ReduceOp.MEAN || op == ReduceOp.VAR) && !x.dtype().isFloating()) x = x.to(DType.F32);
        NDArray r = x.backend().reduce(op, x, d, keepDim);
        return dtype().isHalf() ? r.to(dtype()) : r;
    }

    /** Index of the maximum along dim (first on ties), I64. */
    public NDArray argmax(int dim, boolean keepDim) { return argReduce(true, dim, keepDim); }

    public NDArray argmin(int dim, boolean keepDim) { return argReduce(false, dim, keepDim); }

    private NDArray argReduce(boolean max, int dim, boolean keepDim) {
        String name = max ? "argmax" : "argmin";
        int d = Shapes.dim(name, dim, shape.length);
        if (shape[d] == 0) throw new IllegalArgumentException(name + ": dim " + d + " of shape " + Shapes.str(shape) + " is empty");
        NDArray x = dtype().isHalf() || dtype() == DType.BOOL ? to(DType.F32) : this;
        return x.backend().argReduce(max, x, d, keepDim);
    }

    // ---- softmax and norms ----------------------------------------------------------------

    public NDArray softmax(int dim) { return softmaxImpl(dim, false); }

    public NDArray logSoftmax(int dim) { return softmaxImpl(dim, true); }

    private NDArray softmaxImpl(int dim, boolean log) {
        String name = log ? "logSoftmax" : "softmax";
        int d = Shapes.dim(name, dim, shape.length);
        NDArray x = floatInput(name);
        int last = shape.length - 1;
        if (d == last) return halfBack(x.backend().softmax(x, log));
        return halfBack(x.backend().softmax(x.transpose(d, last), log).transpose(d, last));
    }

    /** Backward of softmax/log-softmax along dim given its output (this) and the output gradient. */
    public NDArray softmaxBackward(NDArray gradOut, int dim, boolean log) {
        String name = log ? "logSoftmax backward" : "softmax backward";
        sameDevice(name, gradOut);
        if (!Arrays.equals(shape, gradOut.shape)) throw new IllegalArgumentException(name + ": output shape " + Shapes.str(shape) + " and gradient shape " + Shapes.str(gradOut.shape) + " differ");
        int d = Shapes.dim(name, dim, shape.length);
        NDArray y = floatInput(name);
        NDArray g = gradOut.to(y.dtype());
        int last = shape.length - 1;
        if (d == last) return y.backend().softmaxBackward(y, g, log);
        return y.backend().softmaxBackward(y.transpose(d, last), g.transpose(d, last), log).transpose(d, last);
    }

    /** Layer norm over the last dim; weight and bias are [C] or null. */
    public NormResult layerNorm(NDArray weight, NDArray bias, double eps) {
        NDArray x = floatInput("layerNorm");
        checkNormParam("layerNorm", weight, "weight");
        checkNormParam("layerNorm", bias, "bias");
        NormResult r = x.backend().layerNorm(x, castLike(weight, x), castLike(bias, x), eps);
        return new NormResult(halfBack(r.out()), r.mean(), r.rstd());
    }

    /** RMS norm over the last dim; weight is [C] or null. */
    public NormResult rmsNorm(NDArray weight, double eps) {
        NDArray x = floatInput("rmsNorm");
        checkNormParam("rmsNorm", weight, "weight");
        NormResult r = x.backend().rmsNorm(x, castLike(weight, x), eps);
        return new NormResult(halfBack(r.out()), null, r.rstd());
    }

    /**
     * Backward of {@link #layerNorm} at this input x [..., C] given the output gradient and the
     * saved per-row mean and rstd; weight is [C] or null. Gradients come back in x's dtype.
     */
    public NormGrads layerNormBackward(NDArray gradOut, NDArray mean, NDArray rstd, NDArray weight, boolean hasBias) {
        checkNormBackward("layerNorm backward", gradOut);
        checkNormParam("layerNorm backward", weight, "weight");
        NDArray x = floatInput("layerNorm backward");
        NormGrads g = x.backend().layerNormBackward(gradOut.to(x.dtype()), x, mean, rstd, castLike(weight, x), hasBias);
        return new NormGrads(halfBack(g.input()), g.weight() == null ? null : halfBack(g.weight()), g.bias() == null ? null : halfBack(g.bias()));
    }

    /** Backward of {@link #rmsNorm} at this input x [..., C] given the output gradient and the saved per-row rstd; weight is [C] or null. */
    public NormGrads rmsNormBackward(NDArray gradOut, NDArray rstd, NDArray weight) {
        checkNormBackward("rmsNorm backward", gradOut);
        checkNormParam("rmsNorm backward", weight, "weight");
        NDArray x = floatInput("rmsNorm backward");
        NormGrads g = x.backend().rmsNormBackward(gradOut.to(x.dtype()), x, rstd, castLike(weight, x));
        return new NormGrads(halfBack(g.input()), g.weight() == null ? null : halfBack(g.weight()), null);
    }

    private void checkNormBackward(String op, NDArray gradOut) {
        sameDevice(op, gradOut);
        if (!Arrays.equals(shape, gradOut.shape)) {
            throw new IllegalArgumentException(op + ": input shape " + Shapes.str(shape) + " and gradient shape " + Shapes.str(gradOut.shape) + " differ");
        }
    }

    private void checkNormParam(String op, NDArray p, String what) {
        if (p == null) return;
        sameDevice(op, p);
        if (shape.length == 0) throw new IllegalArgumentException(op + ": input must have at least one dim");
        if (p.rank() != 1 || p.shape[0] != shape[shape.length - 1]) {
            throw new IllegalArgumentException(op + ": " + what + " shape " + Shapes.str(p.shape) + " must be [" + shape[shape.length - 1] + "] for input shape " + Shapes.str(shape));
        }
    }

    private static NDArray castLike(NDArray p, NDArray x) { return p == null ? null : p.to(x.dtype()); }

    private NDArray floatInput(String op) {
        if (shape.length == 0) throw new IllegalArgumentException(op + ": input must have at least one dim, got a scalar");
        if (dtype() == DType.F32 || dtype() == DType.F64) return this;
        if (dtype().isFloating()) return to(DType.F32);
        throw new IllegalArgumentException(op + ": needs a float array, got " + dtype() + " of shape " + Shapes.str(shape));
    }

    private NDArray halfBack(NDArray r) { return dtype().isHalf() ? r.to(dtype()) : r; }

    // ---- matmul ---------------------------------------------------------------------------

    /**
     * Matrix product with torch.matmul's rules: [..., M, K] @ [..., K, N] -> [..., M, N], batch
     * dims broadcast; a 1-D left operand is a row [K], a 1-D right operand a column [K].
     * Transposed views are read in place.
     */
    public NDArray matmul(NDArray other) {
        sameDevice("matmul", other);
        if (shape.length == 0 || other.shape.length == 0) {
            throw new IllegalArgumentException("matmul: scalars not allowed, shapes " + Shapes.str(shape) + " and " + Shapes.str(other.shape));
        }
        NDArray a = shape.length == 1 ? unsqueeze(0) : this;
        NDArray b = other.shape.length == 1 ? other.unsqueeze(1) : other;
        int ka = a.shape[a.rank() - 1], kb = b.shape[b.rank() - 2];
        if (ka != kb) {
            throw new IllegalArgumentException("matmul: shapes " + Shapes.str(shape) + " and " + Shapes.str(other.shape) + " do not match (K " + ka + " vs " + kb + ")");
        }
        int[] batchA = Arrays.copyOf(a.shape, a.rank() - 2), batchB = Arrays.copyOf(b.shape, b.rank() - 2);
        int[] batch = Shapes.broadcast("matmul", batchA, batchB);
        int m = a.shape[a.rank() - 2], n = b.shape[b.rank() - 1];
        DType common = DType.promote(dtype(), other.dtype());
        if (!common.isFloating()) throw new IllegalArgumentException("matmul: needs float arrays, got " + dtype() + " and " + other.dtype());
        DType t = computeType(common);
        int[] sa = concat(batch, m, ka), sb = concat(batch, kb, n);
        NDArray r = backend().matmul(a.to(t).expandTo("matmul", sa), b.to(t).expandTo("matmul", sb));
        if (shape.length == 1) r = r.squeeze(-2);
        if (other.shape.length == 1) r = r.squeeze(-1);
        return common.isHalf() ? r.to(common) : r;
    }

    private static int[] concat(int[] batch, int x, int y) {
        int[] s = Arrays.copyOf(batch, batch.length + 2);
        s[batch.length] = x;
        s[batch.length + 1] = y;
        return s;
    }

    // ---- indexing -------------------------------------------------------------------------

    private static void checkIndex(String op, NDArray index) {
        if (index.dtype() != DType.I32 && index.dtype() != DType.I64) {
            throw new IllegalArgumentException(op + ": index must be I32 or I64, got " + index.dtype() + " of shape " + Shapes.str(index.shape));
        }
    }

    /** torch.gather: out has index's shape; index has this array's rank and sizes <= ours off dim. */
    public NDArray gather(int dim, NDArray index) {
        sameDevice("gather", index);
        checkIndex("gather", index);
        int d = Shapes.dim("gather", dim, shape.length);
        checkScatterShapes("gather", index, null, d);
        return backend().gather(this, d, index);
    }

    /** Rows (slices along dim) picked by a 1-D index. */
    public NDArray indexSelect(int dim, NDArray index) {
        sameDevice("indexSelect", index);
        checkIndex("indexSelect", index);
        int d = Shapes.dim("indexSelect", dim, shape.length);
        if (index.rank() != 1) throw new IllegalArgumentException("indexSelect: index must be 1-D, got shape " + Shapes.str(index.shape));
        return backend().indexSelect(this, d, index);
    }

    /** Embedding lookup: this is the table [V, C], ids any shape [...] -> [..., C]. */
    public NDArray embedding(NDArray ids) {
        if (shape.length != 2) throw new IllegalArgumentException("embedding: table must be [V, C], got shape " + Shapes.str(shape));
        NDArray rows = indexSelect(0, ids.reshape(-1));
        int[] out = Arrays.copyOf(ids.shape, ids.rank() + 1);
        out[ids.rank()] = shape[1];
        return rows.view(out);
    }

    /** In place: this[index[i][j]][j] += src[i][j] (dim 0; likewise others). Returns this. */
    public NDArray scatterAddInPlace(int dim, NDArray index, NDArray src) {
        sameDevice("scatterAdd", index);
        sameDevice("scatterAdd", src);
        checkIndex("scatterAdd", index);
        int d = Shapes.dim("scatterAdd", dim, shape.length);
        checkScatterShapes("scatterAdd", index, src, d);
        backend().scatterAddInPlace(this, d, index, src.to(dtype()));
        return this;
    }

    /** Out of place scatter-add: a copy of this with src added at index. */
    public NDArray scatterAdd(int dim, NDArray index, NDArray src) { return copy().scatterAddInPlace(dim, index, src); }

    /** In place: this.select(dim, index[i]) += src.select(dim, i). Returns this. */
    public NDArray indexAddInPlace(int dim, NDArray index, NDArray src) {
        sameDevice("indexAdd", index);
        sameDevice("indexAdd", src);
        checkIndex("indexAdd", index);
        int d = Shapes.dim("indexAdd", dim, shape.length);
        if (index.rank() != 1) throw new IllegalArgumentException("indexAdd: index must be 1-D, got shape " + Shapes.str(index.shape));
        int[] want = shape.clone();
        want[d] = index.shape[0];
        if (!Arrays.equals(want, src.shape)) {
            throw new IllegalArgumentException("indexAdd: source shape " + Shapes.str(src.shape) + " must be " + Shapes.str(want) + " (array " + Shapes.str(shape) + ", index " + Shapes.str(index.shape) + ")");
        }
        backend().indexAddInPlace(this, d, index, src.to(dtype()));
        return this;
    }

    public NDArray indexAdd(int dim, NDArray index, NDArray src) { return copy().indexAddInPlace(dim, index, src); }

    private void checkScatterShapes(String op, NDArray index, NDArray src, int d) {
        if (index.rank() != shape.length) {
            throw new IllegalArgumentException(op + ": index shape " + Shapes.str(index.shape) + " must have the rank of " + Shapes.str(shape));
        }
        for (int i = 0; i < shape.length; i++) {
            if (i != d && index.shape[i] > shape[i]) {
                throw new IllegalArgumentException(op + ": index shape " + Shapes.str(index.shape) + " exceeds " + Shapes.str(shape) + " in dim " + i);
            }
        }
        if (src != null && !Arrays.equals(src.shape, index.shape)) {
            throw new IllegalArgumentException(op + ": source shape " + Shapes.str(src.shape) + " must equal index shape " + Shapes.str(index.shape));
        }
    }

    /** Keeps the lower triangle of the last two dims (j - i <= k), zeros above. */
    public NDArray tril(int k) { return triangle(k, false); }

    /** Keeps the upper triangle of the last two dims (j - i >= k), zeros below. */
    public NDArray triu(int k) { return triangle(k, true); }

    private NDArray triangle(int k, boolean upper) {
        if (shape.length < 2) throw new IllegalArgumentException((upper ? "triu" : "tril") + ": needs rank >= 2, got shape " + Shapes.str(shape));
        return backend().triangle(this, k, upper);
    }

    // ---- joining and splitting -------------------------------------------------------------

    /** Concatenates along dim; all other dims must match. */
    public static NDArray cat(int dim, List<NDArray> arrays) {
        if (arrays.isEmpty()) throw new IllegalArgumentException("cat: no arrays given");
        NDArray first = arrays.get(0);
        int d = Shapes.dim("cat", dim, first.rank());
        DType t = first.dtype();
        int total = 0;
        for (NDArray a : arrays) {
            first.sameDevice("cat", a);
            if (a.rank() != first.rank()) throw new IllegalArgumentException("cat: shapes " + Shapes.str(first.shape) + " and " + Shapes.str(a.shape) + " differ in rank");
            for (int i = 0; i < a.rank(); i++) {
                if (i != d && a.shape[i] != first.shape[i]) {
                    throw new IllegalArgumentException("cat: shapes " + Shapes.str(first.shape) + " and " + Shapes.str(a.shape) + " differ in dim " + i);
                }
            }
            total += a.shape[d];
            t = DType.promote(t, a.dtype());
        }
        int[] out = first.shape.clone();
        out[d] = total;
        NDArray r = zeros(first.device(), t, out);
        int pos = 0;
        for (NDArray a : arrays) {
            int len = a.shape[d];
            if (len > 0) r.backend().assign(r.narrow(d, pos, len), a);
            pos += len;
        }
        return r;
    }

    public static NDArray cat(int dim, NDArray... arrays) { return cat(dim, List.of(arrays)); }

    /** Stacks equal-shaped arrays along a new dim. */
    public static NDArray stack(int dim, List<NDArray> arrays) {
        if (arrays.isEmpty()) throw new IllegalArgumentException("stack: no arrays given");
        int[] s0 = arrays.get(0).shape;
        List<NDArray> u = new ArrayList<>();
        for (NDArray a : arrays) {
            if (!Arrays.equals(a.shape, s0)) throw new IllegalArgumentException("stack: shapes " + Shapes.str(s0) + " and " + Shapes.str(a.shape) + " differ");
            u.add(a.unsqueeze(dim));
        }
        return cat(dim, u);
    }

    public static NDArray stack(int dim, NDArray... arrays) { return stack(dim, List.of(arrays)); }

    /** Views of consecutive pieces along dim of the given sizes (which must add up to the dim). */
    public List<NDArray> split(int dim, int... sizes) {
        int d = Shapes.dim("split", dim, shape.length);
        long sum = 0;
        for (int s : sizes) {
            if (s < 0) throw new IllegalArgumentException("split: negative size in " + Arrays.toString(sizes));
            sum += s;
        }
        if (sum != shape[d]) throw new IllegalArgumentException("split: sizes " + Arrays.toString(sizes) + " add to " + sum + ", dim " + d + " of shape " + Shapes.str(shape) + " is " + shape[d]);
        List<NDArray> out = new ArrayList<>();
        int pos = 0;
        for (int s : sizes) {
            out.add(narrow(d, pos, s));
            pos += s;
        }
        return out;
    }

    /** Views of equal pieces of size chunk along dim (the last may be smaller). */
    public List<NDArray> chunks(int dim, int chunk) {
        int d = Shapes.dim("chunks", dim, shape.length);
        if (chunk <= 0) throw new IllegalArgumentException("chunks: size must be > 0, got " + chunk);
        List<NDArray> out = new ArrayList<>();
        for (int pos = 0; pos < shape[d]; pos += chunk) out.add(narrow(d, pos, Math.min(chunk, shape[d] - pos)));
        return out;
    }

    // ---- fused training kernels -----------------------------------------------------------

    /** Per-row cross entropy of these logits [N, V] against targets [N]. */
    public CrossEntropyResult crossEntropy(NDArray targets, long ignoreIndex, double labelSmoothing) {
        sameDevice("crossEntropy", targets);
        checkIndex("crossEntropy targets", targets);
        if (shape.length != 2 || targets.rank() != 1 || targets.shape[0] != shape[0]) {
            throw new IllegalArgumentException("crossEntropy: logits must be [N, V] and targets [N], got " + Shapes.str(shape) + " and " + Shapes.str(targets.shape));
        }
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) throw new IllegalArgumentException("crossEntropy: label smoothing must be in [0, 1], got " + labelSmoothing);
        NDArray x = floatInput("crossEntropy");
        return x.backend().crossEntropy(x, targets, ignoreIndex, labelSmoothing);
    }

    /** Gradient of scale * sum of per-row cross entropy with respect to these logits [N, V]. */
    public NDArray crossEntropyBackward(NDArray targets, NDArray logSumExp, long ignoreIndex, double labelSmoothing, double scale) {
        sameDevice("crossEntropy backward", targets);
        NDArray x = floatInput("crossEntropy backward");
        return x.backend().crossEntropyBackward(x, targets, logSumExp.to(x.dtype()), ignoreIndex, labelSmoothing, scale);
    }

    /** One AdamW step in place on this parameter (contiguous, float) with its moment buffers. */
    public void adamwStep(NDArray grad, NDArray m, NDArray v, double lr, double beta1, double beta2, double eps, double weightDecay, long step) {
        for (NDArray o : new NDArray[] {grad, m, v}) {
            sameDevice("adamw", o);
            if (!Arrays.equals(o.shape, shape)) throw new IllegalArgumentException("adamw: parameter shape " + Shapes.str(shape) + " and buffer shape " + Shapes.str(o.shape) + " differ");
        }
        if (!dtype().isFloating() || dtype().isHalf() || !isContiguous() || !m.isContiguous() || !v.isContiguous() || m.dtype() != dtype() || v.dtype() != dtype()) {
            throw new IllegalArgumentException("adamw: parameter and moments must be contiguous F32/F64 of one dtype, got " + dtype() + ", " + m.dtype() + ", " + v.dtype());
        }
        if (step < 1) throw new IllegalArgumentException("adamw: step must be >= 1, got " + step);
        backend().adamwStep(this, grad.to(dtype()), m, v, lr, beta1, beta2, eps, weightDecay, step);
    }

    // ---- misc -----------------------------------------------------------------------------

    /** Throws naming both devices when other is on a different device. */
    public void sameDevice(String op, NDArray other) {
        if (!device().equals(other.device())) {
            throw new IllegalArgumentException(op + ": arrays on different devices (" + device() + " and " + other.device()
                    + "), shapes " + Shapes.str(shape) + " and " + Shapes.str(other.shape) + "; move one with to(device)");
        }
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("NDArray(").append(dtype()).append(Shapes.str(shape));
        if (!device().isCpu()) sb.append(", ").append(device());
        int n = numel();
        if (n <= 16 && !storage.isClosed()) sb.append(", ").append(Arrays.toString(toDoubleArray()));
        return sb.append(')').toString();
    }
}
