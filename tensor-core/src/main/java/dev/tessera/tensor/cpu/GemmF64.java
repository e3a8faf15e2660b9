package dev.tessera.tensor.cpu;

import dev.tessera.tensor.Parallel;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The F64 GEMM, C[M, N] += A[M, K] @ B[K, N] on strided operands (C contiguous, row length N).
 * F64 serves gradient checks, so this is a plain row-parallel loop: each row of C gets
 * sum_k A[i, k] * B[k, :] with vector axpys over rows of B. A B whose rows are not contiguous
 * (a transposed view) is first packed row-major into a per-thread buffer.
 */
final class GemmF64 {
    private static final VectorSpecies<Double> S = DoubleVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final ThreadLocal<double[][]> PACKED_B = ThreadLocal.withInitial(() -> new double[][] {new double[0]});

    private GemmF64() {}

    static void gemm(double[] a, int offA, int rsA, int csA, double[] b, int offB, int rsB, int csB,
                     double[] c, int offC, int m, int n, int k, boolean parallel) {
        if (m == 0 || n == 0 || k == 0) return;
        double[] bRows = b;
        int bBase = offB, bStride = rsB;
        if (csB != 1) {
            double[][] holder = PACKED_B.get();
            if (holder[0].length < k * n) holder[0] = new double[k * n];
            bRows = holder[0];
            for (int kk = 0; kk < k; kk++) {
                int s = offB + kk * rsB, d = kk * n;
                for (int j = 0; j < n; j++) bRows[d + j] = b[s + j * csB];
            }
            bBase = 0;
            bStride = n;
        }
        double[] br = bRows;
        int bb = bBase, bs = bStride;
        if (!parallel || (long) m * n * k < GemmF32.PARALLEL_FLOPS) {
            rows(a, offA, rsA, csA, br, bb, bs, c, offC, n, k, 0, m);
        } else {
            int minRows = (int) Math.max(1, GemmF32.PARALLEL_FLOPS / ((long) n * k));
            Parallel.forRange(m, minRows, (i0, i1) -> rows(a, offA, rsA, csA, br, bb, bs, c, offC, n, k, i0, i1));
        }
    }

    private static void rows(double[] a, int offA, int rsA, int csA, double[] b, int bBase, int bStride,
                             double[] c, int offC, int n, int k, int i0, int i1) {
        int vecEnd = S.loopBound(n);
        for (int i = i0; i < i1; i++) {
            int cr = offC + i * n;
            int ar = offA + i * rsA;
            java.util.Arrays.fill(c, cr, cr + n, 0.0); // C may be a recycled array: start each row from zero
            for (int kk = 0; kk < k; kk++) {
                double aik = a[ar + kk * csA];
                DoubleVector av = DoubleVector.broadcast(S, aik);
                int brow = bBase + kk * bStride;
                int j = 0;
                for (; j < vecEnd; j += L) {
                    DoubleVector.fromArray(S, b, brow + j).fma(av, DoubleVector.fromArray(S, c, cr + j)).intoArray(c, cr + j);
                }
                for (; j < n; j++) c[cr + j] = Math.fma(aik, b[brow + j], c[cr + j]);
            }
        }
    }
}
