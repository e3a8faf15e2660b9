package dev.tessera.gpu;

import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.Shapes;

/** The View struct of common.cl: rank, offset, contig, pad, shape[8], strides[8] as 20 ints. */
final class ViewArg {
    static final int MAX_RANK = 8;
    static final int BYTES = 20 * 4;

    final int[] data = new int[20];

    private ViewArg() {}

    static ViewArg of(String op, NDArray x) { return of(op, x.shape(), x.strides(), x.offset(), x.isContiguous()); }

    static ViewArg of(String op, int[] shape, int[] strides, int offset, boolean contig) {
        if (shape.length > MAX_RANK) {
            throw new IllegalArgumentException("opencl " + op + ": rank " + shape.length + " (shape " + Shapes.str(shape)
                    + ") exceeds the OpenCL kernels' limit of " + MAX_RANK + " dims; reshape first");
        }
        ViewArg v = new ViewArg();
        v.data[0] = shape.length;
        v.data[1] = offset;
        v.data[2] = contig ? 1 : 0;
        for (int i = 0; i < shape.length; i++) {
            v.data[4 + i] = shape[i];
            v.data[4 + MAX_RANK + i] = strides[i];
        }
        return v;
    }

    /** A contiguous view of this shape at offset 0. */
    static ViewArg contiguous(String op, int[] shape) { return of(op, shape, Shapes.contiguousStrides(shape), 0, true); }
}
