package dev.tessera.tensor.cpu;

import dev.tessera.tensor.CpuStorage;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.Parallel;
import dev.tessera.tensor.Shapes;

/**
 * Batched matrix product on the CPU: a [..., M, K] @ b [..., K, N] -> new contiguous [..., M, N]
 * (see {@code Backend.matmul}). Either operand may be any strided view (transposed, sliced,
 * stride-0 broadcast over the batch); the packing routines read it in place.
 *
 * <p>F32 uses a packed, register-blocked GEMM in the GotoBLAS style ({@link GemmF32}): B is packed
 * into K x NC blocks of NR-wide panels, A into MC x KC blocks of MR-high panels, and a micro-kernel
 * keeps an MR x NR tile of C in vector registers. Threads take (M-block, N-range) tiles from a
 * shared counter. The summation order of every output element depends only on K and the block
 * size KC, never on the thread count, so results are bitwise reproducible across thread counts.
 *
 * <p>F64 (used by the float64 gradient checks) uses a simpler row-parallel loop ({@link GemmF64}).
 */
public final class Gemm {
    private Gemm() {}

    /** a [..., M, K] @ b [..., K, N] with equal (already broadcast) batch dims; F32 or F64. */
    public static NDArray matmul(NDArray a, NDArray b) {
        int rank = a.rank();
        int[] sa = a.shape(), sb = b.shape();
        if (rank < 2 || b.rank() != rank) {
            throw new IllegalArgumentException("matmul: operands need the same rank >= 2, got shapes " + Shapes.str(sa) + " and " + Shapes.str(sb));
        }
        int m = sa[rank - 2], k = sa[rank - 1], n = sb[rank - 1];
        if (sb[rank - 2] != k) {
            throw new IllegalArgumentException("matmul: shapes " + Shapes.str(sa) + " and " + Shapes.str(sb) + " do not match (K " + k + " vs " + sb[rank - 2] + ")");
        }
        for (int d = 0; d < rank - 2; d++) {
            if (sa[d] != sb[d]) {
                throw new IllegalArgumentException("matmul: batch dims of " + Shapes.str(sa) + " and " + Shapes.str(sb) + " must already be broadcast to one shape");
            }
        }
        if (a.dtype() != b.dtype() || (a.dtype() != DType.F32 && a.dtype() != DType.F64)) {
            throw new IllegalArgumentException("matmul: needs two F32 or two F64 arrays, got " + a.dtype() + " " + Shapes.str(sa) + " and " + b.dtype() + " " + Shapes.str(sb));
        }
        if (!(a.storage() instanceof CpuStorage as) || !(b.storage() instanceof CpuStorage bs)) {
            throw new IllegalArgumentException("matmul: the CPU GEMM needs CPU arrays, got " + a.device() + " and " + b.device());
        }
        as.checkOpen();
        bs.checkOpen();

        int[] outShape = sa.clone();
        outShape[rank - 1] = n;
        long total = 1;
        for (int s : outShape) total *= s;
        if (total > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("matmul: output " + Shapes.str(outShape) + " has " + total + " elements, more than one array can hold");
        }
        int batch = 1;
        for (int d = 0; d < rank - 2; d++) batch *= sa[d];
        boolean f32 = a.dtype() == DType.F32;
        // Every element is written unless K is 0 (then the product is all zeros).
        CpuStorage out = k == 0 ? CpuStorage.allocate(a.dtype(), (int) total) : CpuStorage.allocateForOverwrite(a.dtype(), (int) total);
        NDArray result = new NDArray(out, outShape);
        if (total == 0 || k == 0) return result; // empty product: all zeros

        int[] stA = a.strides(), stB = b.strides();
        int rsA = stA[rank - 2], csA = stA[rank - 1], rsB = stB[rank - 2], csB = stB[rank - 1];

        // A weight shared over the batch (b's batch strides all 0) with an A whose batch dims merge
        // into its rows is one tall GEMM: [batch * M, K] @ [K, N].
        if (batch > 1 && allZeroBatchStrides(stB, rank) && rowsMerge(sa, stA, rank)) {
            int mAll = batch * m;
            if (f32) GemmF32.gemm(as.f32(), a.offset(), rsA, csA, bs.f32(), b.offset(), rsB, csB, out.f32(), 0, mAll, n, k, true);
            else GemmF64.gemm(as.f64(), a.offset(), rsA, csA, bs.f64(), b.offset(), rsB, csB, out.f64(), 0, mAll, n, k, true);
            return result;
        }
        if (batch == 1) {
            if (f32) GemmF32.gemm(as.f32(), a.offset(), rsA, csA, bs.f32(), b.offset(), rsB, csB, out.f32(), 0, m, n, k, true);
            else GemmF64.gemm(as.f64(), a.offset(), rsA, csA, bs.f64(), b.offset(), rsB, csB, out.f64(), 0, m, n, k, true);
            return result;
        }
        int mm = m, kk = k, nn = n, bt = batch;
        long flopsPerMatrix = (long) m * n * k;
        // Many small matrices (attention scores): one matrix per task, each single-threaded.
        // Otherwise matrices one after another, each using all threads.
        boolean perMatrixTasks = batch >= 2 * Parallel.threads() && flopsPerMatrix < GemmF32.PARALLEL_MATRIX_FLOPS;
        if (perMatrixTasks) {
            Parallel.forEach(bt, i -> runOne(f32, as, a.offset() + batchOffset(i, sa, stA, rank), rsA, csA,
                    bs, b.offset() + batchOffset(i, sb, stB, rank), rsB, csB, out, i * mm * nn, mm, nn, kk, false));
        } else {
            for (int i = 0; i < bt; i++) {
                runOne(f32, as, a.offset() + batchOffset(i, sa, stA, rank), rsA, csA,
                        bs, b.offset() + batchOffset(i, sb, stB, rank), rsB, csB, out, i * mm * nn, mm, nn, kk, true);
            }
        }
        return result;
    }

    private static void runOne(boolean f32, CpuStorage a, int offA, int rsA, int csA, CpuStorage b, int offB, int rsB, int csB,
                               CpuStorage c, int offC, int m, int n, int k, boolean parallel) {
        if (f32) GemmF32.gemm(a.f32(), offA, rsA, csA, b.f32(), offB, rsB, csB, c.f32(), offC, m, n, k, parallel);
        else GemmF64.gemm(a.f64(), offA, rsA, csA, b.f64(), offB, rsB, csB, c.f64(), offC, m, n, k, parallel);
    }

    /** Storage offset of batch entry i (row-major over the batch dims) relative to the array's offset. */
    private static int batchOffset(int i, int[] shape, int[] strides, int rank) {
        int off = 0;
        for (int d = rank - 3; d >= 0; d--) {
            int s = shape[d];
            off += (i % s) * strides[d];
            i /= s;
        }
        return off;
    }

    private static boolean allZeroBatchStrides(int[] strides, int rank) {
        for (int d = 0; d < rank - 2; d++) if (strides[d] != 0) return false;
        return true;
    }

    /** Whether dims [0, rank - 1) can be viewed as one dim with the row stride of dim rank - 2. */
    private static boolean rowsMerge(int[] shape, int[] strides, int rank) {
        long expected = (long) strides[rank - 2] * shape[rank - 2];
        for (int d = rank - 3; d >= 0; d--) {
            if (shape[d] == 1) continue;
            if (strides[d] != expected) return false;
            expected *= shape[d];
        }
        return true;
    }
}
