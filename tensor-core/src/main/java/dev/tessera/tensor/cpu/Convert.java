package dev.tessera.tensor.cpu;

import dev.tessera.tensor.CpuStorage;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.HalfFloats;

/**
 * Strided run copies with dtype conversion. The conversions are {@link CpuStorage#setDouble}'s
 * (floats round to nearest even, half types through round-to-odd so nothing rounds twice,
 * integers truncate toward zero, BOOL is v != 0; integer to integer is exact). Same-dtype copies
 * and the F32/BF16/F16/F64 pairs have their own loops; the rest go element by element through
 * CpuStorage's accessors.
 */
final class Convert {
    private Convert() {}

    /** dst[d + i*ds] = convert(src[s + i*ss]) for i < n (ss may be 0). */
    static void run(CpuStorage src, int s, int ss, CpuStorage dst, int d, int ds, int n) {
        DType from = src.dtype(), to = dst.dtype();
        if (from == to) {
            same(src.array(), s, ss, dst.array(), d, ds, n);
            return;
        }
        switch (from) {
            case F32 -> {
                float[] a = src.f32();
                switch (to) {
                    case BF16 -> {
                        short[] o = dst.bits16();
                        for (int i = 0; i < n; i++) o[d + i * ds] = HalfFloats.floatToBf16(a[s + i * ss]);
                        return;
                    }
                    case F16 -> {
                        short[] o = dst.bits16();
                        for (int i = 0; i < n; i++) o[d + i * ds] = HalfFloats.floatToF16(a[s + i * ss]);
                        return;
                    }
                    case F64 -> {
                        double[] o = dst.f64();
                        for (int i = 0; i < n; i++) o[d + i * ds] = a[s + i * ss];
                        return;
                    }
                    default -> { }
                }
            }
            case BF16 -> {
                if (to == DType.F32) {
                    short[] a = src.bits16();
                    float[] o = dst.f32();
                    for (int i = 0; i < n; i++) o[d + i * ds] = HalfFloats.bf16ToFloat(a[s + i * ss]);
                    return;
                }
            }
            case F16 -> {
                if (to == DType.F32) {
                    short[] a = src.bits16();
                    float[] o = dst.f32();
                    for (int i = 0; i < n; i++) o[d + i * ds] = HalfFloats.f16ToFloat(a[s + i * ss]);
                    return;
                }
            }
            case F64 -> {
                if (to == DType.F32) {
                    double[] a = src.f64();
                    float[] o = dst.f32();
                    for (int i = 0; i < n; i++) o[d + i * ds] = (float) a[s + i * ss];
                    return;
                }
            }
            default -> { }
        }
        if (!from.isFloating() && !to.isFloating()) {
            for (int i = 0; i < n; i++) dst.setLong(d + i * ds, src.getLong(s + i * ss));
        } else {
            for (int i = 0; i < n; i++) dst.setDouble(d + i * ds, src.getDouble(s + i * ss));
        }
    }

    /** Same-dtype strided copy between two arrays of one Java type. */
    static void same(Object a, int s, int ss, Object o, int d, int ds, int n) {
        if (ss == 1 && ds == 1) {
            System.arraycopy(a, s, o, d, n);
            return;
        }
        if (a instanceof float[] x) {
            float[] y = (float[]) o;
            if (ss == 0) {
                float v = x[s];
                for (int i = 0; i < n; i++) y[d + i * ds] = v;
            } else {
                for (int i = 0; i < n; i++) y[d + i * ds] = x[s + i * ss];
            }
        } else if (a instanceof double[] x) {
            double[] y = (double[]) o;
            for (int i = 0; i < n; i++) y[d + i * ds] = x[s + i * ss];
        } else if (a instanceof short[] x) {
            short[] y = (short[]) o;
            for (int i = 0; i < n; i++) y[d + i * ds] = x[s + i * ss];
        } else if (a instanceof int[] x) {
            int[] y = (int[]) o;
            for (int i = 0; i < n; i++) y[d + i * ds] = x[s + i * ss];
        } else if (a instanceof long[] x) {
            long[] y = (long[]) o;
            for (int i = 0; i < n; i++) y[d + i * ds] = x[s + i * ss];
        } else {
            byte[] x = (byte[]) a, y = (byte[]) o;
            for (int i = 0; i < n; i++) y[d + i * ds] = x[s + i * ss];
        }
    }
}
