package dev.tessera.tensor;

/**
 * Host storage backed by one Java primitive array: float[] for F32, double[] for F64, short[] for
 * BF16 and F16 (raw bits), int[] for I32, long[] for I64, byte[] (0 or 1) for BOOL.
 */
public final class CpuStorage extends Storage {
    private final Object array;
    /** Whether Tessera allocated the array (so closing may hand it to {@link CpuArrayPool}). */
    private final boolean owned;

    private CpuStorage(DType dtype, int size, Object array, boolean owned) {
        super(dtype, size);
        this.array = array;
        this.owned = owned;
        if (owned) AllocationLog.record(this);
    }

    /** A new zero-filled array; on low memory the arrays kept for recycling are let go first (see CpuArrayPool). */
    private static Object newArray(DType dtype, int size) {
        return CpuArrayPool.retryAfterReleasing(() -> newArrayOnce(dtype, size));
    }

    private static Object newArrayOnce(DType dtype, int size) {
        return switch (dtype) {
            case F32 -> new float[size];
            case F64 -> new double[size];
            case BF16, F16 -> new short[size];
            case I32 -> new int[size];
            case I64 -> new long[size];
            case BOOL -> new byte[size];
        };
    }

    /**
     * A new zero-filled Java array of the dtype's type, with no storage around it: for arrays that
     * are handed to a caller (host copies), which must never be recycled or logged.
     */
    public static Object newHostArray(DType dtype, int size) { return newArray(dtype, size); }

    /** New zero-filled storage. */
    public static CpuStorage allocate(DType dtype, int size) {
        return new CpuStorage(dtype, size, newArray(dtype, size), true);
    }

    /**
     * Storage whose every element the caller is about to write (a kernel's output): a recycled
     * array from {@link CpuArrayPool} when one of this dtype and size is free, else a new one. Its
     * initial contents are arbitrary; never use it where zeros are expected.
     */
    public static CpuStorage allocateForOverwrite(DType dtype, int size) {
        Object a = CpuArrayPool.take(dtype, size);
        if (a == null) a = newArray(dtype, size);
        if (CpuArrayPool.POISON) CpuArrayPool.poison(a);
        return new CpuStorage(dtype, size, a, true);
    }

    /** Wraps (does not copy) a Java array whose component type must match the dtype. */
    public static CpuStorage wrap(DType dtype, Object array) {
        int len = java.lang.reflect.Array.getLength(array);
        boolean ok = switch (dtype) {
            case F32 -> array instanceof float[];
            case F64 -> array instanceof double[];
            case BF16, F16 -> array instanceof short[];
            case I32 -> array instanceof int[];
            case I64 -> array instanceof long[];
            case BOOL -> array instanceof byte[];
        };
        if (!ok) throw new IllegalArgumentException("cannot wrap " + array.getClass().getSimpleName() + " as " + dtype);
        return new CpuStorage(dtype, len, array, false);
    }

    /** New storage holding a copy of a host array whose component type matches the dtype. */
    public static CpuStorage copyOf(DType dtype, Object hostArray) {
        CpuStorage src = wrap(dtype, hostArray);
        CpuStorage dst = allocate(dtype, src.size());
        System.arraycopy(hostArray, 0, dst.array, 0, src.size());
        return dst;
    }

    /** A new host array (of the dtype's Java type) with count elements copied from offset. */
    public Object copyRange(int offset, int count) {
        checkOpen();
        Object out = newArray(dtype(), count);
        // An empty view may carry any offset (nothing is read through it).
        if (count > 0) System.arraycopy(array, offset, out, 0, count);
        return out;
    }

    @Override
    public Device device() { return Device.CPU; }

    /** The backing array (float[], double[], short[], int[], long[] or byte[]). */
    public Object array() { return array; }

    public float[] f32() { return (float[]) array; }

    public double[] f64() { return (double[]) array; }

    /** Raw 16-bit patterns of BF16/F16. */
    public short[] bits16() { return (short[]) array; }

    public int[] i32() { return (int[]) array; }

    public long[] i64() { return (long[]) array; }

    public byte[] bool() { return (byte[]) array; }

    /** Reads element i converted to double (BF16/F16 decoded, BOOL as 0/1). */
    public double getDouble(int i) {
        return switch (dtype()) {
            case F32 -> ((float[]) array)[i];
            case F64 -> ((double[]) array)[i];
            case BF16 -> HalfFloats.bf16ToFloat(((short[]) array)[i]);
            case F16 -> HalfFloats.f16ToFloat(((short[]) array)[i]);
            case I32 -> ((int[]) array)[i];
            case I64 -> ((long[]) array)[i];
            case BOOL -> ((byte[]) array)[i];
        };
    }

    /** Reads element i as a long (floats truncated toward zero). Exact for I64. */
    public long getLong(int i) {
        return switch (dtype()) {
            case I32 -> ((int[]) array)[i];
            case I64 -> ((long[]) array)[i];
            case BOOL -> ((byte[]) array)[i];
            default -> (long) getDouble(i);
        };
    }

    /**
     * Writes v into element i with the dtype's conversion: floats round to nearest even,
     * integers truncate toward zero (as a C cast), BOOL stores v != 0.
     */
    public void setDouble(int i, double v) {
        switch (dtype()) {
            case F32 -> ((float[]) array)[i] = (float) v;
            case F64 -> ((double[]) array)[i] = v;
            case BF16 -> ((short[]) array)[i] = HalfFloats.doubleToBf16(v);
            case F16 -> ((short[]) array)[i] = HalfFloats.doubleToF16(v);
            case I32 -> ((int[]) array)[i] = (int) (long) v;
            case I64 -> ((long[]) array)[i] = (long) v;
            case BOOL -> ((byte[]) array)[i] = (byte) (v != 0 ? 1 : 0);
        }
    }

    /**
     * Writes a long exactly into integer storage; float storage gets the correctly rounded value
     * (one rounding, not long -> double -> float).
     */
    public void setLong(int i, long v) {
        switch (dtype()) {
            case I32 -> ((int[]) array)[i] = (int) v;
            case I64 -> ((long[]) array)[i] = v;
            case BOOL -> ((byte[]) array)[i] = (byte) (v != 0 ? 1 : 0);
            case F32 -> ((float[]) array)[i] = (float) v;
            case F64 -> ((double[]) array)[i] = (double) v;
            case BF16 -> ((short[]) array)[i] = HalfFloats.floatToBf16(longToFloatRoundOdd(v));
            case F16 -> ((short[]) array)[i] = HalfFloats.floatToF16(longToFloatRoundOdd(v));
        }
    }

    /** long to float rounded to odd (exact when representable), so that a second rounding to 16 bits is correct. */
    static float longToFloatRoundOdd(long v) {
        if (Math.abs(v) <= (1L << 53)) return HalfFloats.doubleToFloatRoundOdd(v); // v is exact as a double
        float f = (float) v;
        int cmp = new java.math.BigDecimal(f).compareTo(java.math.BigDecimal.valueOf(v));
        if (cmp == 0) return f;
        if ((cmp > 0) == (v > 0)) f = Math.nextAfter(f, 0.0); // rounded away from zero: step back
        return Float.intBitsToFloat(Float.floatToRawIntBits(f) | 1);
    }

    /**
     * Heap memory: the garbage collector frees it once nothing refers to it. An array Tessera
     * allocated goes to {@link CpuArrayPool} for reuse by a later kernel output; arrays passed to
     * {@link #wrap} stay the caller's.
     */
    @Override
    protected void release() {
        if (owned) CpuArrayPool.give(dtype(), array, size());
    }
}
