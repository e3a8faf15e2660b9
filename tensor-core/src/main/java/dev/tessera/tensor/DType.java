package dev.tessera.tensor;

import java.util.Locale;

/** Element types. F32 is the compute type; BF16/F16 are storage types computed through F32. */
public enum DType {
    F32(4, "F32", true),
    F64(8, "F64", true),
    BF16(2, "BF16", true),
    F16(2, "F16", true),
    I32(4, "I32", false),
    I64(8, "I64", false),
    BOOL(1, "BOOL", false);

    private final int byteSize;
    private final String safetensorsName;
    private final boolean floating;

    DType(int byteSize, String safetensorsName, boolean floating) {
        this.byteSize = byteSize;
        this.safetensorsName = safetensorsName;
        this.floating = floating;
    }

    /** Bytes per element. */
    public int byteSize() { return byteSize; }

    /** The dtype string used in safetensors headers ("F32", "BF16", ...). */
    public String safetensorsName() { return safetensorsName; }

    public boolean isFloating() { return floating; }

    /** BF16 or F16: stored in 16 bits, computed in F32. */
    public boolean isHalf() { return this == BF16 || this == F16; }

    public boolean isInteger() { return this == I32 || this == I64; }

    /** Parses a safetensors dtype name; throws naming the unknown name. */
    public static DType fromSafetensorsName(String name) {
        for (DType d : values()) {
            if (d.safetensorsName.equals(name)) return d;
        }
        throw new IllegalArgumentException("unknown dtype '" + name + "' (supported: F32, F64, BF16, F16, I32, I64, BOOL)");
    }

    /**
     * The dtype two operands are computed in (NumPy/PyTorch-like promotion): any float beats any
     * integer, the wider float wins (a half type meeting F32 gives F32), I64 beats I32, BOOL loses
     * to everything.
     */
    public static DType promote(DType a, DType b) {
        if (a == b) return a;
        if (a.floating || b.floating) {
            if (a == F64 || b == F64) return F64;
            if (a == F32 || b == F32) return F32;
            if (a.floating && b.floating) return F32; // BF16 with F16
            return a.floating ? a : b;
        }
        if (a == I64 || b == I64) return I64;
        if (a == I32 || b == I32) return I32;
        return BOOL;
    }

    @Override
    public String toString() { return name().toLowerCase(Locale.ROOT); }
}
