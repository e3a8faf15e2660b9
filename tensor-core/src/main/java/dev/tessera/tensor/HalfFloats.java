package dev.tessera.tensor;

/**
 * Conversions between float and the two 16-bit float formats, rounding to nearest even as IEEE
 * 754 specifies (ties to the even pattern, overflow to infinity, gradual underflow for F16, NaN
 * kept NaN).
 */
public final class HalfFloats {
    private HalfFloats() {}

    /** bfloat16 bits (upper half of an F32) to float; exact. */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** float to bfloat16 bits, round to nearest even. */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7F800000) == 0x7F800000 && (bits & 0x007FFFFF) != 0) {
            return (short) ((bits >>> 16) | 0x0040); // quiet NaN, sign kept
        }
        int roundingBias = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + roundingBias) >>> 16);
    }

    /** IEEE binary16 bits to float; exact. */
    public static float f16ToFloat(short h) {
        int bits = h & 0xFFFF;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1F;
        int mant = bits & 0x3FF;
        if (exp == 0) {
            float v = mant * 0x1p-24f; // subnormal (or zero): mant * 2^-24, exact in float
            return sign != 0 ? -v : v;
        }
        if (exp == 0x1F) return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
        return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
    }

    /** float to IEEE binary16 bits, round to nearest even, overflow to infinity. */
    public static short floatToF16(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int exp = (bits >>> 23) & 0xFF;
        int mant = bits & 0x7FFFFF;
        if (exp == 0xFF) {
            return (short) (sign | 0x7C00 | (mant != 0 ? 0x200 | (mant >>> 13) : 0));
        }
        int e = exp - 127 + 15;
        if (e >= 0x1F) return (short) (sign | 0x7C00);
        if (e <= 0) {
            if (e < -10) return (short) sign; // below half the smallest subnormal: rounds to zero
            mant |= 0x800000;
            int shift = 14 - e; // value in units of 2^-24 is mant >> shift
            int half = mant >>> shift;
            int rem = mant & ((1 << shift) - 1);
            int halfway = 1 << (shift - 1);
            if (rem > halfway || (rem == halfway && (half & 1) != 0)) half++;
            return (short) (sign | half);
        }
        int half = (e << 10) | (mant >>> 13);
        int rem = mant & 0x1FFF;
        if (rem > 0x1000 || (rem == 0x1000 && (half & 1) != 0)) half++; // carry may reach infinity: correct
        return (short) (sign | half);
    }

    /**
     * double to float rounded to odd: exact when representable, otherwise the float toward zero
     * with its last bit set. Rounding that to 16 bits then gives the correctly rounded result
     * (no double rounding), since float keeps more than 2 * 11 + 2 bits.
     */
    public static float doubleToFloatRoundOdd(double d) {
        float f = (float) d;
        if (Float.isInfinite(f) || Float.isNaN(f) || (double) f == d) return f;
        if (Math.abs((double) f) > Math.abs(d)) f = Math.nextAfter(f, 0.0);
        return Float.intBitsToFloat(Float.floatToRawIntBits(f) | 1);
    }

    public static short doubleToBf16(double d) { return floatToBf16(doubleToFloatRoundOdd(d)); }

    public static short doubleToF16(double d) { return floatToF16(doubleToFloatRoundOdd(d)); }
}
