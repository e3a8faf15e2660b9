package dev.tessera.tensor.cpu;

import static dev.tessera.tensor.cpu.VecMath.F;
import static dev.tessera.tensor.cpu.VecMath.L;

import dev.tessera.tensor.CpuStorage;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.Parallel;
import dev.tessera.tensor.Shapes;
import jdk.incubator.vector.FloatVector;

/**
 * gather / indexSelect / scatterAdd / indexAdd / triangle on any strided views. The source (or
 * destination) is walked through a view with the indexed dim's stride set to 0, so the iteration
 * gives the base position and the index value adds index * stride. In-place adds never race:
 * scatterAdd runs each line along the indexed dim on one thread, indexAdd gives each task a range
 * of positions within the slices and walks all indices for it.
 */
final class IndexKernels {
    private IndexKernels() {}

    private static long indexAt(CpuStorage idx, int pos) {
        return idx.dtype() == DType.I64 ? idx.i64()[pos] : idx.i32()[pos];
    }

    private static int check(String op, long v, int size, int dim) {
        if (v < 0 || v >= size) {
            throw new IndexOutOfBoundsException(op + ": index " + v + " out of range for size " + size + " (dim " + dim + ")");
        }
        return (int) v;
    }

    private static int[] zeroAt(int[] strides, int dim) {
        int[] s = strides.clone();
        s[dim] = 0;
        return s;
    }

    static NDArray gather(NDArray x, int dim, NDArray index) {
        int[] is = index.shape();
        NDArray out = CpuBackend.newOutput(x.dtype(), is);
        if (out.numel() == 0) return out;
        CpuStorage xs = CpuBackend.cpu(x), ix = CpuBackend.cpu(index), o = CpuBackend.cpu(out);
        int size = x.size(dim), dimStride = x.stride(dim);
        Strided it = Strided.of(is, new int[][] {index.strides(), zeroAt(x.strides(), dim)}, new int[] {index.offset(), x.offset()});
        int iS = it.innerStride(0), xS = it.innerStride(1);
        it.parallel(CpuBackend.GRAIN, (pos, len, offs) -> {
            for (int i = 0, p = offs[0], q = offs[1]; i < len; i++, p += iS, q += xS) {
                int v = check("gather", indexAt(ix, p), size, dim);
                Convert.same(xs.array(), q + v * dimStride, 1, o.array(), pos + i, 1, 1);
            }
        });
        return out;
    }

    static NDArray indexSelect(NDArray x, int dim, NDArray index) {
        int[] shape = x.shape();
        int len = index.size(0);
        shape[dim] = len;
        NDArray out = CpuBackend.newOutput(x.dtype(), shape);
        if (out.numel() == 0) return out;
        CpuStorage xs = CpuBackend.cpu(x), ix = CpuBackend.cpu(index), o = CpuBackend.cpu(out);
        int size = x.size(dim), dimStride = x.stride(dim);
        int[] idxStrides = new int[shape.length];
        idxStrides[dim] = index.stride(0);
        Strided it = Strided.of(shape, new int[][] {zeroAt(x.strides(), dim), idxStrides}, new int[] {x.offset(), index.offset()});
        int xS = it.innerStride(0), iS = it.innerStride(1);
        it.parallel(CpuBackend.GRAIN, (pos, n, offs) -> {
            if (iS == 0) { // one index for the whole run: copy a run of the selected slice
                int v = check("indexSelect", indexAt(ix, offs[1]), size, dim);
                Convert.same(xs.array(), offs[0] + v * dimStride, xS, o.array(), pos, 1, n);
            } else {
                for (int i = 0, p = offs[0], q = offs[1]; i < n; i++, p += xS, q += iS) {
                    int v = check("indexSelect", indexAt(ix, q), size, dim);
                    Convert.same(xs.array(), p + v * dimStride, 1, o.array(), pos + i, 1, 1);
                }
            }
        });
        return out;
    }

    /** dst[d + i*ds] += src[s + i*ss] for i < n, in dst's dtype. */
    static void addRun(CpuStorage src, int s, int ss, CpuStorage dst, int d, int ds, int n) {
        switch (dst.dtype()) {
            case F32 -> {
                float[] a = src.f32(), o = dst.f32();
                int i = 0;
                if (ss == 1 && ds == 1) {
                    for (int up = n - n % L; i < up; i += L) {
                        FloatVector.fromArray(F, o, d + i).add(FloatVector.fromArray(F, a, s + i)).intoArray(o, d + i);
                    }
                }
                for (; i < n; i++) o[d + i * ds] += a[s + i * ss];
            }
            case F64 -> {
                double[] a = src.f64(), o = dst.f64();
                for (int i = 0; i < n; i++) o[d + i * ds] += a[s + i * ss];
            }
            case I32 -> {
                int[] a = src.i32(), o = dst.i32();
                for (int i = 0; i < n; i++) o[d + i * ds] += a[s + i * ss];
            }
            case I64 -> {
                long[] a = src.i64(), o = dst.i64();
                for (int i = 0; i < n; i++) o[d + i * ds] += a[s + i * ss];
            }
            default -> {
                for (int i = 0; i < n; i++) {
                    int p = d + i * ds;
                    dst.setDouble(p, dst.getDouble(p) + src.getDouble(s + i * ss));
                }
            }
        }
    }

    static void scatterAdd(NDArray dst, int dim, NDArray index, NDArray src) {
        int[] is = index.shape();
        if (Shapes.numel(is) == 0) return;
        CpuStorage d = CpuBackend.cpu(dst), ix = CpuBackend.cpu(index), s = CpuBackend.cpu(src);
        int size = dst.size(dim), dimStride = dst.stride(dim);
        // Move dim last so that one inner run = one line along dim, which never crosses threads.
        int rank = is.length;
        int[] perm = new int[rank];
        for (int i = 0, j = 0; i < rank; i++) if (i != dim) perm[j++] = i;
        perm[rank - 1] = dim;
        int[] shape = new int[rank];
        int[][] st = new int[3][rank];
        int[] ixS = index.strides(), sS = src.strides(), dS = zeroAt(dst.strides(), dim);
        for (int i = 0; i < rank; i++) {
            shape[i] = is[perm[i]];
            st[0][i] = ixS[perm[i]];
            st[1][i] = sS[perm[i]];
            st[2][i] = dS[perm[i]];
        }
        Strided it = Strided.of(shape, st, new int[] {index.offset(), src.offset(), dst.offset()});
        int iS = it.innerStride(0), sSt = it.innerStride(1), dSt = it.innerStride(2);
        it.parallelRows(CpuBackend.GRAIN, (pos, n, offs) -> {
            for (int i = 0, p = offs[0], q = offs[1], r = offs[2]; i < n; i++, p += iS, q += sSt, r += dSt) {
                int v = check("scatterAdd", indexAt(ix, p), size, dim);
                addRun(s, q, 1, d, r + v * dimStride, 1, 1);
            }
        });
    }

    static void indexAdd(NDArray dst, int dim, NDArray index, NDArray src) {
        int len = index.size(0);
        int[] shape = dst.shape();
        int size = shape[dim];
        int[] sliceShape = shape.clone();
        sliceShape[dim] = 1;
        int sliceNumel = Shapes.numel(sliceShape);
        if (len == 0 || sliceNumel == 0) return;
        CpuStorage d = CpuBackend.cpu(dst), ix = CpuBackend.cpu(index), s = CpuBackend.cpu(src);
        // validate all indices first so that a bad one leaves dst untouched
        int[] idx = new int[len];
        for (int i = 0; i < len; i++) idx[i] = check("indexAdd", indexAt(ix, index.offset() + i * index.stride(0)), size, dim);
        Strided it = Strided.of(sliceShape, new int[][] {src.strides(), dst.strides()}, new int[] {src.offset(), dst.offset()});
        int sS = it.innerStride(0), dS = it.innerStride(1);
        int srcDim = src.stride(dim), dstDim = dst.stride(dim);
        int grain = Math.max(256, CpuBackend.GRAIN / len);
        Parallel.forRange(sliceNumel, grain, (a, b) -> {
            int[] shift = new int[2];
            for (int i = 0; i < len; i++) {
                shift[0] = i * srcDim;
                shift[1] = idx[i] * dstDim;
                it.forSegments(a, b, shift, (pos, n, offs) -> addRun(s, offs[0], sS, d, offs[1], dS, n));
            }
        });
    }

    /** Zeros, in place on a fresh contiguous copy, the part of each [R, C] matrix outside the triangle. */
    static NDArray triangle(NDArray x, int k, boolean upper) {
        int[] shape = x.shape();
        int rank = shape.length, rows = shape[rank - 2], cols = shape[rank - 1];
        int mats = rows * cols == 0 ? 0 : x.numel() / (rows * cols);
        CpuStorage s = CpuBackend.cpu(x);
        CpuStorage zero = CpuStorage.allocate(x.dtype(), 1);
        Parallel.forRange(mats * rows, Math.max(1, CpuBackend.GRAIN / Math.max(1, cols)), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int i = r % rows, base = r * cols;
                long from, to; // zeroed columns [from, to)
                if (upper) {
                    from = 0;
                    to = Math.min(cols, Math.max(0, (long) i + k));
                } else {
                    from = Math.max(0, Math.min(cols, (long) i + k + 1));
                    to = cols;
                }
                if (to > from) Convert.run(zero, 0, 0, s, base + (int) from, 1, (int) (to - from));
            }
        });
        return x;
    }
}
