package dev.tessera.tensor.io;

import dev.tessera.tensor.DType;

/**
 * The dtype names of the safetensors format that Tessera reads, with their size in the file and
 * the Tessera dtype they load as. The names Tessera has natively load unchanged; the small
 * integer types are widened losslessly (U8, I8, I16, U16 to I32; U32 to I64). Declared in the
 * reference implementation's alignment order, smallest first, which the writer uses to order
 * tensors.
 */
enum FileDtype {
    BOOL(1, DType.BOOL),
    U8(1, DType.I32),
    I8(1, DType.I32),
    I16(2, DType.I32),
    U16(2, DType.I32),
    F16(2, DType.F16),
    BF16(2, DType.BF16),
    I32(4, DType.I32),
    U32(4, DType.I64),
    F32(4, DType.F32),
    F64(8, DType.F64),
    I64(8, DType.I64);

    /** Names of the format that Tessera refuses (no lossless Tessera dtype to load them as). */
    static final java.util.Set<String> UNSUPPORTED = java.util.Set.of(
            "U64", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2", "C64");

    final int byteSize;
    final DType loadsAs;

    FileDtype(int byteSize, DType loadsAs) {
        this.byteSize = byteSize;
        this.loadsAs = loadsAs;
    }

    /** The file dtype for a name in a header, or null when Tessera does not read it. */
    static FileDtype parse(String name) {
        for (FileDtype d : values()) {
            if (d.name().equals(name)) return d;
        }
        return null;
    }

    /** How a Tessera dtype is written (always its own name: nothing is narrowed on write). */
    static FileDtype of(DType dtype) {
        return switch (dtype) {
            case BOOL -> BOOL;
            case F16 -> F16;
            case BF16 -> BF16;
            case I32 -> I32;
            case F32 -> F32;
            case F64 -> F64;
            case I64 -> I64;
        };
    }
}
