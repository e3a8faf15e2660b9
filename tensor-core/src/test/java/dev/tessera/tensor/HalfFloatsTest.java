package dev.tessera.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.math.BigDecimal;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * BF16 and F16 conversions against an independent model: every 16-bit pattern decoded by
 * definition (sign * significand * 2^exponent), and rounding to nearest even computed exactly with
 * BigDecimal over the sorted list of all finite values of the format.
 */
class HalfFloatsTest {

    /** assertEquals that builds its message only on failure (these loops run hundreds of thousands of times). */
    private static void same(long expected, long actual, String what, Object detail) {
        if (expected != actual) assertEquals(expected, actual, what + " " + detail);
    }

    private static void same(double expected, double actual, String what, Object detail) {
        if (Double.compare(expected, actual) != 0 && expected != actual) assertEquals(expected, actual, 0.0, what + " " + detail);
    }

    private static void truth(boolean ok, String what, Object detail) {
        if (!ok) assertTrue(false, what + " " + detail);
    }

    private static String fmt(boolean f16) { return f16 ? "f16" : "bf16"; }

    /** Decodes an IEEE-style 16-bit pattern with the given exponent and mantissa widths, from the definition. */
    private static double decode(int bits, int expBits, int mantBits) {
        int bias = (1 << (expBits - 1)) - 1;
        int sign = (bits >>> (expBits + mantBits)) & 1;
        int exp = (bits >>> mantBits) & ((1 << expBits) - 1);
        int mant = bits & ((1 << mantBits) - 1);
        double v;
        if (exp == (1 << expBits) - 1) v = mant == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        else if (exp == 0) v = Math.scalb((double) mant, 1 - bias - mantBits);
        else v = Math.scalb((double) ((1 << mantBits) | mant), exp - bias - mantBits);
        return sign == 1 ? -v : v;
    }

    private static double decodeF16(int bits) { return decode(bits, 5, 10); }

    private static double decodeBf16(int bits) { return decode(bits, 8, 7); }

    @Test
    void everyF16PatternDecodesByDefinitionAndReencodesToItself() {
        for (int bits = 0; bits < 65536; bits++) {
            float f = HalfFloats.f16ToFloat((short) bits);
            double want = decodeF16(bits);
            if (Double.isNaN(want)) {
                truth(Float.isNaN(f), "pattern", Integer.toHexString(bits));
                assertTrue(Float.isNaN(HalfFloats.f16ToFloat(HalfFloats.floatToF16(f))), "NaN stays NaN");
                continue;
            }
            same(want, f, "decode", Integer.toHexString(bits));
            same(Double.doubleToRawLongBits(want) >>> 63, Float.floatToRawIntBits(f) >>> 31, "sign of", Integer.toHexString(bits));
            same(bits, HalfFloats.floatToF16(f) & 0xFFFF, "re-encode", Integer.toHexString(bits));
            same(bits, HalfFloats.doubleToF16(f) & 0xFFFF, "re-encode from double", Integer.toHexString(bits));
        }
    }

    @Test
    void everyBf16PatternDecodesByDefinitionAndReencodesToItself() {
        for (int bits = 0; bits < 65536; bits++) {
            float f = HalfFloats.bf16ToFloat((short) bits);
            double want = decodeBf16(bits);
            if (Double.isNaN(want)) {
                truth(Float.isNaN(f), "pattern", Integer.toHexString(bits));
                assertTrue(Float.isNaN(HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(f))), "NaN stays NaN");
                continue;
            }
            same(want, f, "decode", Integer.toHexString(bits));
            same(bits, HalfFloats.floatToBf16(f) & 0xFFFF, "re-encode", Integer.toHexString(bits));
            same(bits, HalfFloats.doubleToBf16(f) & 0xFFFF, "re-encode from double", Integer.toHexString(bits));
        }
    }

    /**
     * All finite non-negative values of a format, ascending (index = pattern, since the patterns
     * 0x0000..0x7BFF / 0x7F7F are ordered like their values). Every value, every sum of two
     * neighbours and every midpoint is exact in double, so the rounding model below needs no
     * rounding of its own.
     */
    private static double[] positives(boolean f16) {
        int count = f16 ? 0x7C00 : 0x7F80;
        double[] v = new double[count];
        for (int bits = 0; bits < count; bits++) v[bits] = f16 ? decodeF16(bits) : decodeBf16(bits);
        for (int i = 1; i < count; i++) truth(v[i] > v[i - 1], "ordered at", i);
        return v;
    }

    private static final double[] F16_VALUES = positives(true);
    private static final double[] BF16_VALUES = positives(false);

    /** Exact round-to-nearest-even of v into the format (pattern), overflow to infinity. */
    private static int exactRound(double v, boolean f16) {
        double[] pos = f16 ? F16_VALUES : BF16_VALUES;
        int sign = v < 0 || (v == 0 && 1 / v < 0) ? 0x8000 : 0;
        double a = Math.abs(v);
        int last = pos.length - 1;
        if (a >= pos[last]) {
            // beyond the largest finite value: infinity from the midpoint to the next power of two on
            double overflow = pos[last] + (pos[last] - pos[last - 1]) / 2;
            return sign | (a >= overflow ? last + 1 : last);
        }
        int k = java.util.Arrays.binarySearch(pos, a);
        if (k >= 0) return sign | k;
        int hi = -k - 1, lo = hi - 1;
        double mid = (pos[lo] + pos[hi]) / 2;
        if (a < mid) return sign | lo;
        if (a > mid) return sign | hi;
        return sign | ((lo & 1) == 0 ? lo : hi);
    }

    @Test
    void midpointsRoundToEven() {
        for (boolean f16 : new boolean[] {true, false}) {
            double[] pos = f16 ? F16_VALUES : BF16_VALUES;
            for (int i = 0; i + 1 < pos.length; i++) {
                double mid = (pos[i] + pos[i + 1]) / 2;
                float m = (float) mid; // exact: the formats have at most 11 significant bits
                same(mid, m, "midpoint exact in float", mid);
                int even = (i & 1) == 0 ? i : i + 1;
                int got = (f16 ? HalfFloats.floatToF16(m) : HalfFloats.floatToBf16(m)) & 0xFFFF;
                same(even, got, fmt(f16) + " midpoint", mid);
                int gotNeg = (f16 ? HalfFloats.floatToF16(-m) : HalfFloats.floatToBf16(-m)) & 0xFFFF;
                same(even | 0x8000, gotNeg, "negative midpoint", mid);
                // one float ulp off the midpoint goes to the nearer neighbour
                int below = (f16 ? HalfFloats.floatToF16(Math.nextDown(m)) : HalfFloats.floatToBf16(Math.nextDown(m))) & 0xFFFF;
                int above = (f16 ? HalfFloats.floatToF16(Math.nextUp(m)) : HalfFloats.floatToBf16(Math.nextUp(m))) & 0xFFFF;
                same(i, below, "just below midpoint", mid);
                same(i + 1, above, "just above midpoint", mid);
            }
        }
    }

    @Test
    void overflowAndUnderflowBoundaries() {
        assertEquals(0x7BFF, HalfFloats.floatToF16(65519.996f) & 0xFFFF, "just below 65520 stays 65504");
        assertEquals(0x7C00, HalfFloats.floatToF16(65520f) & 0xFFFF, "65520 (the midpoint to 2^16) rounds to infinity");
        assertEquals(0xFC00, HalfFloats.floatToF16(-1e10f) & 0xFFFF);
        assertEquals(0x0001, HalfFloats.floatToF16(0x1p-24f) & 0xFFFF, "smallest subnormal");
        assertEquals(0x0000, HalfFloats.floatToF16(0x1p-25f) & 0xFFFF, "half the smallest subnormal ties to even zero");
        assertEquals(0x0001, HalfFloats.floatToF16(Math.nextUp(0x1p-25f)) & 0xFFFF);
        assertEquals(0x8000, HalfFloats.floatToF16(-0x1p-30f) & 0xFFFF, "negative underflow keeps the sign");
        assertEquals(0x0400, HalfFloats.floatToF16(0x1p-14f) & 0xFFFF, "smallest normal");
        assertEquals(0x03FF, HalfFloats.floatToF16(0x1.ff8p-15f) & 0xFFFF, "largest subnormal");
        assertEquals(0x7F80, HalfFloats.floatToBf16(Float.MAX_VALUE) & 0xFFFF, "bf16 overflow to infinity");
        assertEquals(0x7F7F, HalfFloats.floatToBf16(0x1.fep127f) & 0xFFFF, "largest finite bf16");
        assertEquals(0x0001, HalfFloats.floatToBf16(0x1p-133f) & 0xFFFF, "bf16 subnormal");
        assertTrue(Float.isNaN(HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(Float.NaN))));
        assertTrue(Float.isNaN(HalfFloats.f16ToFloat(HalfFloats.doubleToF16(Double.NaN))));
        assertEquals(0x7C00, HalfFloats.doubleToF16(Double.POSITIVE_INFINITY) & 0xFFFF);
        assertEquals(0xFF80, HalfFloats.doubleToBf16(Double.NEGATIVE_INFINITY) & 0xFFFF);
    }

    /**
     * Doubles are rounded once (through round-to-odd): values a hair above or below a 16-bit
     * midpoint, which a naive double -> float -> half conversion rounds twice and gets wrong,
     * match the exact rounding, and so do random doubles over the whole range.
     */
    @Test
    void doublesRoundExactlyOnce() {
        Generator g = new Generator(2024);
        for (boolean f16 : new boolean[] {true, false}) {
            double[] pos = f16 ? F16_VALUES : BF16_VALUES;
            int checked = 0;
            for (int t = 0; t < 4000; t++) {
                int i = (int) g.nextLong(pos.length - 1);
                double mid = (pos[i] + pos[i + 1]) / 2;
                double[] near = {mid, Math.nextUp(mid), Math.nextDown(mid), mid + Math.ulp(mid) * 1e6, mid - Math.ulp(mid) * 1e6,
                        mid * (1 + 1e-12), mid * (1 - 1e-12)};
                for (double d : near) {
                    for (double v : new double[] {d, -d}) {
                        int want = exactRound(v, f16);
                        int got = (f16 ? HalfFloats.doubleToF16(v) : HalfFloats.doubleToBf16(v)) & 0xFFFF;
                        if (want != got) same(want, got, fmt(f16) + " of " + v, new BigDecimal(v));
                        checked++;
                    }
                }
            }
            for (int t = 0; t < 20000; t++) {
                double v = (g.nextDouble() - 0.5) * Math.scalb(1.0, (int) g.nextLong(f16 ? 46 : 270) - (f16 ? 28 : 136));
                int want = exactRound(v, f16);
                int got = (f16 ? HalfFloats.doubleToF16(v) : HalfFloats.doubleToBf16(v)) & 0xFFFF;
                same(want, got, fmt(f16) + " of random", v);
                checked++;
            }
            assertTrue(checked > 70000);
        }
    }

    @Test
    void floatsRoundLikeTheExactModel() {
        Generator g = new Generator(99);
        for (boolean f16 : new boolean[] {true, false}) {
            for (int t = 0; t < 30000; t++) {
                float f = Float.intBitsToFloat((int) g.nextLong());
                if (Float.isNaN(f) || Float.isInfinite(f)) continue;
                int want = exactRound(f, f16);
                int got = (f16 ? HalfFloats.floatToF16(f) : HalfFloats.floatToBf16(f)) & 0xFFFF;
                same(want, got, fmt(f16) + " of", f);
            }
        }
    }

    /** On JDK 20+ the JDK has its own binary16 conversion; both must agree on every pattern and on random floats. */
    @Test
    void agreesWithJdkFloat16WhenAvailable() throws Exception {
        Method toHalf, toFloat;
        try {
            toHalf = Float.class.getMethod("floatToFloat16", float.class);
            toFloat = Float.class.getMethod("float16ToFloat", short.class);
        } catch (NoSuchMethodException e) {
            Assumptions.abort("Float.floatToFloat16 needs JDK 20+; running on " + Runtime.version());
            return;
        }
        for (int bits = 0; bits < 65536; bits++) {
            float mine = HalfFloats.f16ToFloat((short) bits);
            float jdk = (float) toFloat.invoke(null, (short) bits);
            if (Float.isNaN(jdk)) assertTrue(Float.isNaN(mine));
            else same(Float.floatToIntBits(jdk), Float.floatToIntBits(mine), "pattern", Integer.toHexString(bits));
        }
        Generator g = new Generator(5);
        for (int t = 0; t < 200000; t++) {
            float f = Float.intBitsToFloat((int) g.nextLong());
            short jdk = (short) toHalf.invoke(null, f);
            short mine = HalfFloats.floatToF16(f);
            if (Float.isNaN(f)) assertTrue(Float.isNaN(HalfFloats.f16ToFloat(mine)));
            else same(jdk, mine, "float", f);
        }
    }

    @Test
    void longsRoundOnceIntoFloatDtypes() {
        long big = (1L << 60) + (1L << 36) + 1; // long -> double -> float would round twice
        CpuStorage f = CpuStorage.allocate(DType.F32, 1);
        f.setLong(0, big);
        assertEquals((float) big, f.f32()[0]);
        assertEquals(0x1.000002p60f, f.f32()[0], "nearest float above: the low bits break the tie");
        CpuStorage h = CpuStorage.allocate(DType.BF16, 1);
        for (long v : new long[] {(1L << 62) + (1L << 54) + 1, (1L << 62) + (1L << 54), (1L << 62) + 3 * (1L << 54), -((1L << 62) + (1L << 54) + 1),
                3, -7, Long.MAX_VALUE, Long.MIN_VALUE}) {
            h.setLong(0, v);
            // exact model in BigDecimal: the long need not be a double
            BigDecimal a = new BigDecimal(v).abs();
            int k = 0;
            while (k + 1 < BF16_VALUES.length && new BigDecimal(BF16_VALUES[k + 1]).compareTo(a) <= 0) k++;
            int want;
            int c = new BigDecimal(BF16_VALUES[k]).compareTo(a) == 0 ? -2
                    : a.compareTo(new BigDecimal(BF16_VALUES[k]).add(new BigDecimal(BF16_VALUES[k + 1])).divide(BigDecimal.valueOf(2)));
            if (c == -2) want = k;
            else want = c < 0 ? k : c > 0 ? k + 1 : ((k & 1) == 0 ? k : k + 1);
            assertEquals(want | (v < 0 ? 0x8000 : 0), h.bits16()[0] & 0xFFFF, "bf16 of " + v);
        }
    }
}
