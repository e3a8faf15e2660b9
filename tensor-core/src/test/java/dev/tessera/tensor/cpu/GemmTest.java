package dev.tessera.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.tessera.tensor.CpuStorage;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.Parallel;
import java.util.Arrays;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Gemm against a plain triple loop in double, on odd shapes and strided views. */
class GemmTest {
    private static final int DEFAULT_THREADS = Parallel.threads();

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(DEFAULT_THREADS);
    }

    // ---- helpers ------------------------------------------------------------------------

    /** A random array of the given logical shape laid out as requested. */
    private static NDArray random(Random rnd, DType dtype, int... shape) {
        int n = 1;
        for (int s : shape) n *= s;
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = rnd.nextDouble() * 2 - 1;
        return NDArray.fromArray(dtype, v, shape);
    }

    /** A random [rows, cols] matrix, stored transposed when transposed (so the result is a .mT() view). */
    private static NDArray matrix(Random rnd, DType dtype, int rows, int cols, boolean transposed) {
        return transposed ? random(rnd, dtype, cols, rows).mT() : random(rnd, dtype, rows, cols);
    }

    private static double value(NDArray x, int pos) {
        CpuStorage s = (CpuStorage) x.storage();
        return s.getDouble(pos);
    }

    /** Storage position of the (row, col) element of batch entry bi (row-major over the batch dims). */
    private static int position(NDArray x, int bi, int row, int col) {
        int[] shape = x.shape(), st = x.strides();
        int r = shape.length;
        int pos = x.offset() + row * st[r - 2] + col * st[r - 1];
        for (int d = r - 3; d >= 0; d--) {
            pos += (bi % shape[d]) * st[d];
            bi /= shape[d];
        }
        return pos;
    }

    /** Checks c = a @ b element by element against sums in double, error bound ~ eps * sqrt(K) * sum |a b|. */
    private static void assertMatmul(NDArray a, NDArray b, NDArray c) {
        int r = a.rank();
        int m = a.size(-2), k = a.size(-1), n = b.size(-1);
        int[] want = a.shape();
        want[r - 1] = n;
        assertArrayEquals(want, c.shape(), "output shape");
        assertTrue(c.isContiguous(), "output must be contiguous");
        assertEquals(a.dtype(), c.dtype());
        assertEquals(0, c.offset());
        double eps = a.dtype() == DType.F32 ? 0x1p-24 : 0x1p-53;
        double tol = 8 * eps * Math.sqrt(Math.max(1, k));
        int batch = c.numel() / Math.max(1, m * n);
        if (m * n == 0) return;
        for (int bi = 0; bi < batch; bi++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double sum = 0, abs = 0;
                    for (int kk = 0; kk < k; kk++) {
                        double p = value(a, position(a, bi, i, kk)) * value(b, position(b, bi, kk, j));
                        sum += p;
                        abs += Math.abs(p);
                    }
                    double got = value(c, (bi * m + i) * n + j);
                    if (!(Math.abs(got - sum) <= tol * abs + Double.MIN_NORMAL)) {
                        fail("matmul " + Arrays.toString(a.shape()) + " @ " + Arrays.toString(b.shape()) + " (strides "
                                + Arrays.toString(a.strides()) + ", " + Arrays.toString(b.strides()) + ") batch " + bi
                                + " [" + i + ", " + j + "]: got " + got + ", expected " + sum + " (bound " + tol * abs + ")");
                    }
                }
            }
        }
    }

    private static float[] f32(NDArray x) { return ((CpuStorage) x.storage()).f32(); }

    /** The contiguous output's values, read from storage (no backend needed). */
    private static double[] values(NDArray x) {
        double[] v = new double[x.numel()];
        for (int i = 0; i < v.length; i++) v[i] = value(x, x.offset() + i);
        return v;
    }

    /** A zero array made without a backend. */
    private static NDArray zeros(DType t, int... shape) {
        int n = 1;
        for (int s : shape) n *= s;
        return NDArray.fromArray(t, new double[n], shape);
    }

    // ---- 2-D shapes x transposes x dtypes ---------------------------------------------------

    static java.util.stream.Stream<Arguments> shapes() {
        int[][] mkn = {{1, 1, 1}, {1, 7, 3}, {7, 3, 1}, {3, 1, 7}, {17, 33, 65}, {97, 1, 5}, {130, 257, 131},
                {6, 300, 32}, {12, 16, 64}, {200, 40, 97}};
        java.util.List<Arguments> out = new java.util.ArrayList<>();
        for (DType t : new DType[] {DType.F32, DType.F64}) {
            for (int[] s : mkn) {
                for (int variant = 0; variant < 4; variant++) out.add(Arguments.of(t, s[0], s[1], s[2], variant));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} M={1} K={2} N={3} transposes={4}")
    @MethodSource("shapes")
    void matchesTripleLoop(DType dtype, int m, int k, int n, int variant) {
        Random rnd = new Random(31L * m + 7L * k + n + variant);
        NDArray a = matrix(rnd, dtype, m, k, (variant & 1) != 0);
        NDArray b = matrix(rnd, dtype, k, n, (variant & 2) != 0);
        assertMatmul(a, b, Gemm.matmul(a, b));
    }

    @Test
    void severalKAndNBlocksAndRowBlocks() {
        // K spans three K blocks (the last one partial); M = 300 several row blocks; N wider than one panel.
        Random rnd = new Random(5);
        int k = 2 * GemmF32.KC + 37;
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                NDArray a = matrix(rnd, DType.F32, 300, k, ta);
                NDArray b = matrix(rnd, DType.F32, k, 70, tb);
                assertMatmul(a, b, Gemm.matmul(a, b));
            }
        }
    }

    @Test
    void wideBSplitIntoSeveralNBlocks() {
        // K * N above the packed-B budget (4M floats by default); M = 7 takes the few-rows path.
        Random rnd = new Random(6);
        int m = 7, k = 1100, n = 4000;
        assertTrue((long) k * n > GemmF32.B_BLOCK_FLOATS, "test must exceed the packed-B budget");
        NDArray a = matrix(rnd, DType.F32, m, k, false);
        NDArray b = matrix(rnd, DType.F32, k, n, true);
        NDArray c = Gemm.matmul(a, b);
        // spot-check a sample of columns in every block rather than all 28000 outputs in double
        assertSampleMatchesDoubleSums(a, b, f32(c), 1, 37);
    }

    /** Every rowStep-th row of every colStep-th column of got (m x n) against double-precision sums. */
    private static void assertSampleMatchesDoubleSums(NDArray a, NDArray b, float[] got, int rowStep, int colStep) {
        int m = a.shape()[0], k = a.shape()[1], n = b.shape()[1];
        for (int j = 0; j < n; j += colStep) {
            for (int i = 0; i < m; i += rowStep) {
                double sum = 0, abs = 0;
                for (int kk = 0; kk < k; kk++) {
                    double p = a.getDouble(i, kk) * b.getDouble(kk, j);
                    sum += p;
                    abs += Math.abs(p);
                }
                assertTrue(Math.abs(got[i * n + j] - sum) <= 8 * 0x1p-24 * Math.sqrt(k) * abs, "[" + i + ", " + j + "]");
            }
        }
    }

    @Test
    void configuredRegisterTileIsInUse() {
        // The build runs this class once per register tile (tessera.gemm.tile); each run must
        // really use the tile it asked for.
        String asked = System.getProperty("tessera.gemm.tile");
        if (asked != null) {
            assertEquals(asked, GemmF32.TILE);
            assertEquals(Integer.parseInt(asked.substring(0, asked.indexOf('x'))), GemmF32.MR);
        }
    }

    @Test
    void severalNBlocksMatchOneThreadAndReference() {
        // Three packed-B blocks through the packed path (M >= the register tile; the test above
        // now takes the few-rows path), every layout, on 1-3 threads: bitwise equal across thread
        // counts, and a sample of outputs against double-precision sums.
        Random rnd = new Random(16);
        int m = 16, k = 1100, n = 8000;
        assertTrue((long) k * n > 2L * GemmF32.B_BLOCK_FLOATS, "test must span three packed-B blocks");
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                NDArray a = matrix(rnd, DType.F32, m, k, ta);
                NDArray b = matrix(rnd, DType.F32, k, n, tb);
                Parallel.setThreads(1);
                float[] base = f32(Gemm.matmul(a, b));
                assertSampleMatchesDoubleSums(a, b, base, 5, 53);
                for (int threads : new int[] {2, 3}) {
                    Parallel.setThreads(threads);
                    assertArrayEquals(base, f32(Gemm.matmul(a, b)), "A^T=" + ta + " B^T=" + tb + " threads=" + threads);
                }
            }
        }
    }

    // ---- batches, broadcasting and sliced views ----------------------------------------------

    @Test
    void batchedWithWeightSharedOverBatch() {
        Random rnd = new Random(7);
        for (DType t : new DType[] {DType.F32, DType.F64}) {
            // contiguous A: folded into one tall product
            NDArray a = random(rnd, t, 3, 2, 19, 23);
            NDArray w = random(rnd, t, 23, 41).expand(3, 2, 23, 41);
            assertEquals(0, w.stride(0));
            assertMatmul(a, w, Gemm.matmul(a, w));
            // transposed A per batch entry cannot be folded: one product per entry
            NDArray at = random(rnd, t, 3, 2, 23, 19).mT();
            assertMatmul(at, w, Gemm.matmul(at, w));
            // transposed shared weight (x @ W^T as in a linear layer)
            NDArray wt = random(rnd, t, 41, 23).mT().expand(3, 2, 23, 41);
            assertMatmul(a, wt, Gemm.matmul(a, wt));
        }
    }

    @Test
    void batchedWithLeftOperandBroadcast() {
        Random rnd = new Random(8);
        NDArray a = random(rnd, DType.F32, 1, 13, 29).expand(5, 13, 29);
        NDArray b = random(rnd, DType.F32, 5, 29, 11);
        assertMatmul(a, b, Gemm.matmul(a, b));
        NDArray bt = random(rnd, DType.F32, 5, 11, 29).mT();
        assertMatmul(a, bt, Gemm.matmul(a, bt));
    }

    @Test
    void manySmallMatricesAsInAttention() {
        Random rnd = new Random(9);
        Parallel.setThreads(2);
        // q @ k^T over [B, H] with K = head dim
        NDArray q = random(rnd, DType.F32, 2, 4, 33, 16);
        NDArray kT = random(rnd, DType.F32, 2, 4, 33, 16).mT();
        assertMatmul(q, kT, Gemm.matmul(q, kT));
        // heads as a permuted view of [B, T, H, D]
        NDArray v = random(rnd, DType.F32, 2, 33, 4, 16).permute(0, 2, 1, 3);
        NDArray p = random(rnd, DType.F32, 2, 4, 33, 33);
        assertMatmul(p, v, Gemm.matmul(p, v));
    }

    @Test
    void slicedViewsWithOffsets() {
        Random rnd = new Random(10);
        for (DType t : new DType[] {DType.F32, DType.F64}) {
            NDArray bigA = random(rnd, t, 40, 90);
            NDArray a = bigA.narrow(0, 3, 31).narrow(1, 5, 67); // offset 3*90+5, row stride 90
            NDArray bigB = random(rnd, t, 150, 60);
            NDArray b = bigB.slice(0, 4, 4 + 2 * 67, 2).narrow(1, 7, 45); // row stride 120
            assertMatmul(a, b, Gemm.matmul(a, b));
            NDArray bStrided = bigB.slice(1, 1, 60, 3).narrow(0, 10, 67); // column stride 3
            assertMatmul(a, bStrided, Gemm.matmul(a, bStrided));
            NDArray aT = bigA.slice(1, 2, 90, 3).narrow(0, 0, 29).mT(); // [29 cols..] transposed, strides (3, 90)
            NDArray b2 = random(rnd, t, 29, 17);
            assertMatmul(aT, b2, Gemm.matmul(aT, b2));
            // fewer rows than a register tile (the paths without packing), on offset views
            NDArray fewA = a.narrow(0, 2, 3);
            assertMatmul(fewA, b, Gemm.matmul(fewA, b));
            assertMatmul(fewA, bStrided, Gemm.matmul(fewA, bStrided));
            NDArray bT = bigB.narrow(0, 3, 45).narrow(1, 2, 57).mT(); // offset, columns contiguous along K
            NDArray fewA57 = bigA.narrow(0, 1, 5).narrow(1, 9, 57);
            assertMatmul(fewA57, bT, Gemm.matmul(fewA57, bT));
        }
    }

    // ---- threads ---------------------------------------------------------------------------

    @Test
    void threadCountsGiveTheSameResults() {
        Random rnd = new Random(11);
        NDArray[][] cases = {
                {matrix(rnd, DType.F32, 130, 257, false), matrix(rnd, DType.F32, 257, 131, false)},
                {matrix(rnd, DType.F32, 301, 520, true), matrix(rnd, DType.F32, 520, 203, true)},
                {random(rnd, DType.F32, 6, 40, 50), random(rnd, DType.F32, 6, 50, 45)},
                {matrix(rnd, DType.F64, 150, 90, false), matrix(rnd, DType.F64, 90, 77, true)},
        };
        for (NDArray[] ab : cases) {
            NDArray base = null;
            for (int threads : new int[] {1, 2, 3}) {
                Parallel.setThreads(threads);
                NDArray c = Gemm.matmul(ab[0], ab[1]);
                if (base == null) {
                    assertMatmul(ab[0], ab[1], c);
                    base = c;
                } else {
                    // The summation order does not depend on how tiles are shared out: bitwise equal.
                    assertArrayEquals(values(base), values(c),
                            "threads=" + threads + " for " + Arrays.toString(ab[0].shape()));
                }
            }
        }
    }

    @Test
    void productsWithBInL2GetRowTilesOverAllOfN() {
        int mc = GemmF32.MC, mr = GemmF32.MR;
        // the L2 bound follows the machine's L2: B sizes relative to it
        long smallB = Math.min(512L * GemmF32.roundUp(512, GemmF32.NR), GemmF32.L2_B_FLOATS), bigB = GemmF32.L2_B_FLOATS + 1L;
        assertEquals(GemmF32.roundUp(512 / 8, mr), GemmF32.tileRows(512, smallB, 1, 2), "512^3 on 2 threads: 4 tiles per thread");
        assertEquals(0, GemmF32.tileRows(512, smallB, 1, 1), "one thread: MC-row tiles, never N ranges");
        assertEquals(0, GemmF32.tileRows(1024, bigB, 1, 2), "B past L2");
        assertEquals(0, GemmF32.tileRows(512, smallB, 2, 2), "several N blocks");
        assertEquals(0, GemmF32.tileRows(37, smallB, 1, 2), "under 2 MR rows per tile: N ranges instead");
        assertEquals(mc, GemmF32.tileRows(40 * mc, smallB, 1, 2), "tall: MC rows");
        for (int m : new int[] {301, 1200, 2000}) {
            for (int threads : new int[] {2, 3}) {
                int rows = GemmF32.tileRows(m, smallB, 1, threads);
                int tiles = (m + rows - 1) / rows;
                assertTrue(rows % mr == 0 && rows >= 2 * mr && rows <= mc, "m=" + m + " rows=" + rows);
                assertTrue(tiles >= 2 * threads, "m=" + m + " threads=" + threads + " tiles=" + tiles);
            }
        }
    }

    @Test
    void rowTileProductsPackACurrentCopyOfBOnEveryThread() {
        // Row tiles (B in L2, several threads) have each thread pack its own copy of B before its
        // first tile. Products of one shape back to back, each with a new B, row-major and
        // transposed, must match the one-thread result bit for bit: no thread may reuse the
        // copy it packed for the product before.
        Random rnd = new Random(23);
        int m = 301, k = 520, n = 203;
        assertTrue(GemmF32.tileRows(m, (long) k * GemmF32.roundUp(n, GemmF32.NR), 1, 2) > 0, "the shape takes row tiles");
        float[] a = new float[m * k];
        for (int i = 0; i < a.length; i++) a[i] = rnd.nextFloat() * 2 - 1;
        for (int product = 0; product < 6; product++) {
            boolean transposedB = product % 2 == 1;
            int rsB = transposedB ? 1 : n, csB = transposedB ? k : 1;
            float[] b = new float[k * n];
            for (int i = 0; i < b.length; i++) b[i] = rnd.nextFloat() * 2 - 1;
            Parallel.setThreads(1);
            float[] base = new float[m * n];
            GemmF32.gemm(a, 0, k, 1, b, 0, rsB, csB, base, 0, m, n, k, true);
            if (product < 2) { // the one-thread path against the reference, for both layouts of B
                NDArray bArr = transposedB ? NDArray.fromArray(b, n, k).mT() : NDArray.fromArray(b, k, n);
                assertMatmul(NDArray.fromArray(a, m, k), bArr, NDArray.fromArray(base, m, n));
            }
            for (int threads : new int[] {2, 3}) {
                Parallel.setThreads(threads);
                float[] c = new float[m * n];
                Arrays.fill(c, Float.NaN);
                GemmF32.gemm(a, 0, k, 1, b, 0, rsB, csB, c, 0, m, n, k, true);
                assertArrayEquals(base, c, "product " + product + " B^T=" + transposedB + " threads=" + threads);
            }
        }
    }

    @Test
    void l2SizeIsReadFromTheCacheListing(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws java.io.IOException {
        String[][] caches = {{"1", "Data", "48K"}, {"1", "Instruction", "32K"}, {"2", "Unified", "1280K"}, {"3", "Unified", "36M"}};
        for (int i = 0; i < caches.length; i++) {
            java.nio.file.Path index = java.nio.file.Files.createDirectories(dir.resolve("index" + i));
            java.nio.file.Files.writeString(index.resolve("level"), caches[i][0] + "\n");
            java.nio.file.Files.writeString(index.resolve("type"), caches[i][1] + "\n");
            java.nio.file.Files.writeString(index.resolve("size"), caches[i][2] + "\n");
        }
        assertEquals(1280L << 10, GemmF32.l2Bytes(dir));
        assertEquals(2L << 20, GemmF32.l2Bytes(dir.resolve("missing")), "no listing: 2 MiB");
        java.nio.file.Files.writeString(dir.resolve("index2").resolve("size"), "garbage\n");
        assertEquals(2L << 20, GemmF32.l2Bytes(dir), "unreadable size: 2 MiB");
    }

    @Test
    void panelOrderAndUpFrontPackingDoNotChangeResults() {
        // The order in which a tile visits B panels (group 0 = classic, else that many at a time)
        // and whether A is packed per tile or all at once (more than one thread on a short, deep
        // product), or tiles are thinner than MC (short products whose B stays in L2: the first
        // and third shapes), must leave every bit of C unchanged: only the K blocking fixes the sums.
        Random rnd = new Random(13);
        int[][] mkn = {{150, 700, 500}, {37, 300, 1000}, {301, 520, 203}, {45, GemmF32.KC + 100, 150}};
        for (int[] s : mkn) {
            for (boolean ta : new boolean[] {false, true}) {
                int m = s[0], k = s[1], n = s[2];
                float[] a = new float[m * k], b = new float[k * n];
                for (int i = 0; i < a.length; i++) a[i] = rnd.nextFloat() * 2 - 1;
                for (int i = 0; i < b.length; i++) b[i] = rnd.nextFloat() * 2 - 1;
                int rsA = ta ? 1 : k, csA = ta ? m : 1;
                Parallel.setThreads(1);
                float[] base = new float[m * n];
                GemmF32.gemm(a, 0, rsA, csA, b, 0, n, 1, base, 0, m, n, k, true, 0);
                if ((long) m * n * k <= 12_000_000) { // the others are compared with this order only (time)
                    NDArray aArr = NDArray.fromArray(a, ta ? new int[] {k, m} : new int[] {m, k});
                    assertMatmul(ta ? aArr.mT() : aArr, NDArray.fromArray(b, k, n), NDArray.fromArray(base, m, n));
                }
                for (int threads : new int[] {1, 2, 3}) {
                    Parallel.setThreads(threads);
                    for (int group : new int[] {0, 1, 3, 8}) {
                        float[] c = new float[m * n];
                        Arrays.fill(c, Float.NaN); // every element must be written
                        GemmF32.gemm(a, 0, rsA, csA, b, 0, n, 1, c, 0, m, n, k, true, group);
                        assertArrayEquals(base, c, "M=" + m + " K=" + k + " N=" + n + " A^T=" + ta + " threads=" + threads + " group=" + group);
                    }
                }
            }
        }
    }

    @Test
    void fewRowsMatchTheSameRowsOfATallerProduct() {
        // Fewer rows than a register tile skip packing (row-major B: per-strip sums in the packed
        // kernel's order; transposed B: dot products). With row-major B every row must equal, bit
        // for bit, the same row computed inside a taller product; with a transposed B the result
        // is checked against the double-precision loop. K over several K blocks, N with a ragged
        // right edge, A strided, one and several threads (the larger shapes fan out).
        Random rnd = new Random(17);
        int[][] kn = {{5, 7}, {GemmF32.KC + 37, 150}, {900, 600}, {64, GemmF32.STRIP * 3},
                // one-row products take wide strips where they fit, then 4-vector strips, then lanes
                {GemmF32.KC + 5, GemmF32.WIDE_STRIP * 2 + GemmF32.STRIP + 3}, {40, GemmF32.WIDE_STRIP}};
        for (int[] s : kn) {
            int k = s[0], n = s[1], tall = GemmF32.MR + 3;
            float[] a = new float[tall * k], b = new float[k * n];
            for (int i = 0; i < a.length; i++) a[i] = rnd.nextFloat() * 2 - 1;
            for (int i = 0; i < b.length; i++) b[i] = rnd.nextFloat() * 2 - 1;
            for (int threads : new int[] {1, 2}) {
                Parallel.setThreads(threads);
                float[] full = new float[tall * n];
                GemmF32.gemm(a, 0, k, 1, b, 0, n, 1, full, 0, tall, n, k, true);
                for (int m = 1; m < GemmF32.MR; m += 2) {
                    int first = 2; // rows [first, first + m) of A
                    float[] c = new float[m * n];
                    Arrays.fill(c, Float.NaN);
                    GemmF32.gemm(a, first * k, k, 1, b, 0, n, 1, c, 0, m, n, k, true);
                    assertArrayEquals(Arrays.copyOfRange(full, first * n, (first + m) * n), c,
                            "M=" + m + " K=" + k + " N=" + n + " threads=" + threads);
                }
            }
            for (int m : new int[] {1, 3, GemmF32.MR - 1}) {
                NDArray aRows = NDArray.fromArray(Arrays.copyOf(a, m * k), m, k);
                NDArray aCols = NDArray.fromArray(Arrays.copyOf(a, m * k), k, m).mT(); // rows not contiguous
                NDArray bT = NDArray.fromArray(b, n, k).mT(); // each column of B contiguous along K
                for (int threads : new int[] {1, 2}) {
                    Parallel.setThreads(threads);
                    assertMatmul(aRows, bT, Gemm.matmul(aRows, bT));
                    assertMatmul(aCols, bT, Gemm.matmul(aCols, bT));
                    assertMatmul(aCols, NDArray.fromArray(b, k, n), Gemm.matmul(aCols, NDArray.fromArray(b, k, n)));
                }
            }
        }
    }

    @Test
    void f32ProductOf512MatchesF64Loop() {
        Random rnd = new Random(12);
        int s = 512;
        float[] av = new float[s * s], bv = new float[s * s];
        for (int i = 0; i < av.length; i++) {
            av[i] = rnd.nextFloat() * 2 - 1;
            bv[i] = rnd.nextFloat() * 2 - 1;
        }
        NDArray c = Gemm.matmul(NDArray.fromArray(av, s, s), NDArray.fromArray(bv, s, s));
        float[] got = f32(c);
        double[] row = new double[s], absRow = new double[s];
        double tol = 8 * 0x1p-24 * Math.sqrt(s);
        for (int i = 0; i < s; i++) {
            Arrays.fill(row, 0);
            Arrays.fill(absRow, 0);
            for (int kk = 0; kk < s; kk++) {
                double aik = av[i * s + kk];
                for (int j = 0; j < s; j++) {
                    double p = aik * bv[kk * s + j];
                    row[j] += p;
                    absRow[j] += Math.abs(p);
                }
            }
            for (int j = 0; j < s; j++) {
                if (!(Math.abs(got[i * s + j] - row[j]) <= tol * absRow[j])) {
                    fail("512^3 [" + i + ", " + j + "]: got " + got[i * s + j] + ", expected " + row[j]);
                }
            }
        }
    }

    // ---- random shapes and layouts ------------------------------------------------------------

    @Property(tries = 60)
    void randomShapesAndLayouts(@ForAll @IntRange(min = 1, max = 40) int m, @ForAll @IntRange(min = 1, max = 70) int k,
                                @ForAll @IntRange(min = 1, max = 80) int n, @ForAll @IntRange(min = 0, max = 3) int variant,
                                @ForAll @IntRange(min = 1, max = 3) int batch, @ForAll boolean f64) {
        DType t = f64 ? DType.F64 : DType.F32;
        Random rnd = new Random(m * 1_000_003L + k * 1009L + n * 31L + variant + batch);
        NDArray a = (variant & 1) != 0 ? random(rnd, t, batch, k, m).mT() : random(rnd, t, batch, m, k);
        NDArray b = (variant & 2) != 0 ? random(rnd, t, batch, n, k).mT() : random(rnd, t, batch, k, n);
        assertMatmul(a, b, Gemm.matmul(a, b));
    }

    // ---- errors and degenerate sizes ------------------------------------------------------------

    @Test
    void emptyAndZeroKProducts() {
        NDArray a = zeros(DType.F32, 3, 0);
        NDArray b = zeros(DType.F32, 0, 4);
        NDArray c = Gemm.matmul(a, b);
        assertArrayEquals(new int[] {3, 4}, c.shape());
        for (float v : f32(c)) assertEquals(0f, v);
        assertArrayEquals(new int[] {0, 4}, Gemm.matmul(zeros(DType.F32, 0, 5), zeros(DType.F32, 5, 4)).shape());
    }

    @Test
    void badInputsNameTheOpAndShapes() {
        NDArray a = zeros(DType.F32, 3, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Gemm.matmul(a, zeros(DType.F32, 5, 2)));
        assertTrue(e.getMessage().contains("matmul") && e.getMessage().contains("[3, 4]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Gemm.matmul(a, zeros(DType.F64, 4, 2)));
        assertTrue(e.getMessage().contains("F64"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Gemm.matmul(a, zeros(DType.I32, 4, 2)));
        assertThrows(IllegalArgumentException.class, () -> Gemm.matmul(zeros(DType.F32, 2, 3, 4), zeros(DType.F32, 3, 4, 2)));
    }
}
