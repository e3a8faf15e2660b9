package dev.tessera.tensor.io;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.Shapes;

/**
 * What a safetensors header says about one tensor: its dtype as written in the file, the Tessera
 * dtype it loads as, its shape and its byte range [begin, end) relative to the start of the data
 * section.
 */
public final class TensorInfo {
    private final String name;
    private final String fileDtype;
    private final DType dtype;
    private final int[] shape;
    private final long begin;
    private final long end;

    TensorInfo(String name, String fileDtype, DType dtype, int[] shape, long begin, long end) {
        this.name = name;
        this.fileDtype = fileDtype;
        this.dtype = dtype;
        this.shape = shape.clone();
        this.begin = begin;
        this.end = end;
    }

    public String name() { return name; }

    /** The dtype name in the file ("F32", "BF16", "U8", ...). */
    public String fileDtype() { return fileDtype; }

    /** The dtype of the array {@link SafetensorsFile#get} returns (U8/I8/I16/U16 widen to I32, U32 to I64). */
    public DType dtype() { return dtype; }

    public int[] shape() { return shape.clone(); }

    public int numel() { return Shapes.numel(shape); }

    /** First byte of the tensor, relative to the start of the data section. */
    public long begin() { return begin; }

    /** One past the last byte, relative to the start of the data section. */
    public long end() { return end; }

    public long byteSize() { return end - begin; }

    @Override
    public String toString() {
        return name + ": " + fileDtype + Shapes.str(shape) + " bytes [" + begin + ", " + end + ")";
    }
}
