package dev.tessera.tensor.cpu;

import dev.tessera.tensor.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The F32 GEMM: C[M, N] = A[M, K] @ B[K, N] on strided operands, C contiguous with row length N
 * (its previous contents are overwritten).
 *
 * <p>Blocking (GotoBLAS): the N dim is cut into blocks of at most NC columns whose packed B
 * (all of K, about {@link #B_BLOCK_FLOATS} floats) is shared by all threads; row-major B is packed
 * row by row, since a walk down each panel's column strip would touch a new page on every row.
 * Inside a block, threads take tiles of MC rows x a range of NR-wide panels from a shared counter
 * (tiles of rows over all panels when the packed B fits in L2: {@link #tileRows}).
 * A tile walks K in steps of KC; for each step it takes the B panels GROUP at a time, and every
 * MR panel of A (kc x MR, in L1) meets each B panel of the group (from L2) before the next, so C
 * is updated along row strips the hardware prefetcher follows. A is packed into MR-high panels by
 * the tile itself just before use, or all at once up front when it would otherwise be packed again
 * for each N block or panel range (small M, large K: the weight-gradient products).
 *
 * <p>The micro-kernel holds an MR x NR tile of C in vector registers, NR = NV vectors: per k it
 * loads NV vectors of B, broadcasts MR scalars of A and issues MR * NV FMAs. On AVX-512 (32
 * registers) the tile is 8 x 48 (24 accumulators; of the shapes tried, 12 x 32, 6 x 64, 4 x 96,
 * it ran fastest); on AVX2 (16 registers) 6 x 16 (12 accumulators).
 *
 * <p>Products with fewer rows than MR (one token while generating) do not pack at all: see
 * {@link #fewRowsRowMajorB} and {@link #fewRowsTransposedB}. The micro-kernels are compiled by
 * C2 only ({@link JitHints}).
 */
final class GemmF32 {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    /**
     * The register tile, rows x vectors: "8x3" (24 accumulators, NR = 3 vectors) where the ISA has
     * 32 vector registers (AVX-512), "6x2" (12 accumulators) where it has 16 (AVX2 and narrower);
     * "12x2" is kept for comparison. Chosen with the system property tessera.gemm.tile.
     */
    static final String TILE = tileProperty(System.getProperty("tessera.gemm.tile", L >= 16 ? "8x3" : "6x2"));
    static final int MR = Integer.parseInt(TILE.substring(0, TILE.indexOf('x')));
    /** Vectors per tile row. */
    static final int NV = Integer.parseInt(TILE.substring(TILE.indexOf('x') + 1));
    static final int NR = NV * L;
    /**
     * K block: the number of k per pass over C. A KC x MR panel of A stays in L1 while B panels
     * stream from L2; larger KC means fewer passes of C through the caches.
     */
    static final int KC = Math.max(1, intProperty("tessera.gemm.kc", 768));
    /** Rows of a transposed B panel packed per block (one cache line of each source column). */
    static final int TRANSPOSE_K = 16;
    /**
     * Whole k per gathered vector when packing row-major A: one vector gather reads column k of
     * all MR rows and of the next k while lanes remain (lanes past the whole k's read the first
     * rows of the k after, correct values that the next gather writes again); 0 where L < MR
     * (then every value is copied on its own).
     */
    static final int GATHER_K = L / MR;
    /**
     * The k slots past its own that one L-lane store of an MR-run reaches (1 for 8 rows and 16
     * lanes, 2 for 7 rows): those k must exist, and are written again later.
     */
    static final int SPILL_K = L >= MR ? (L - 1) / MR : 0;
    /** Rows of B per packing task. */
    static final int PACK_ROWS = 32;
    /** M block: an MC x KC block of packed A should sit in L2. Multiple of MR. */
    static final int MC = Math.max(1, intProperty("tessera.gemm.mc", 144) / MR) * MR;
    /**
     * B panels visited together per A panel (their KC x GROUP * NR floats sit in L2); 0 restores
     * the classic order (one B panel kept in L1, all A panels of the tile streaming past it).
     * 3 (442 KiB of B beside the tile's A at KC 768): against 6, chosen when KC was 512, 0.974-0.995x
     * the time on eight of the nine GPT-2 products at 2 threads, the same at 1 (measured interleaved).
     */
    static final int GROUP = Math.max(0, intProperty("tessera.gemm.group", 3));
    /**
     * Packed B up to this many floats counts as L2-resident: every row tile may read all of it
     * again from L2, so tiles cut only the rows ({@link #tileRows}). Three quarters of the L2 that
     * Linux reports for CPU 0 (1.5 MiB of a 2 MiB L2 here, where 1.1 MiB of B gained and 4.2 MiB
     * lost), or 1.5 MiB where it reports none.
     */
    static final int L2_B_FLOATS = Math.max(0, intProperty("tessera.gemm.l2b",
            (int) (l2Bytes(java.nio.file.Path.of("/sys/devices/system/cpu/cpu0/cache")) / 4 * 3 / Float.BYTES)));
    /** Bound on the packed B block (floats); fixes NC = about this / K. */
    static final int B_BLOCK_FLOATS = Math.max(1 << 16, intProperty("tessera.gemm.bblock", 4 << 20));
    /**
     * Floats skipped at the start of the packed-B buffer. A large float[] starts 16 bytes past a
     * heap-region boundary, so 12 floats puts the packed panels on 64-byte boundaries and keeps
     * AVX-512 loads of B from straddling cache lines.
     */
    static final int B_PAD = Math.max(0, intProperty("tessera.gemm.bpad", 12));
    /**
     * Below this many multiply-adds a product runs on the calling thread only: handing work to the
     * pool cost some 40-50 us per product in three rounds (pack A, pack B, tiles; two now where B
     * fits in L2), more than a second thread saved below about 4M multiply-adds (measured then:
     * 256x48x144 took 100 us on two threads, 65 us on one).
     */
    static final long PARALLEL_FLOPS = 1L << 22;
    /** Batched products below this many multiply-adds per matrix run one matrix per task. */
    static final long PARALLEL_MATRIX_FLOPS = 1L << 22;

    static {
        JitHints.status(); // before the micro-kernels get hot: C2 only (see JitHints)
    }

    private GemmF32() {}

    /**
     * Size in bytes of the level-2 data or unified cache listed under cacheDir (Linux sysfs:
     * index*&#47;level and size, e.g. "2048K"), or 2 MiB when there is no such listing (other
     * systems, containers that hide it) or it cannot be read.
     */
    static long l2Bytes(java.nio.file.Path cacheDir) {
        try (var entries = java.nio.file.Files.list(cacheDir)) {
            for (java.nio.file.Path index : (Iterable<java.nio.file.Path>) entries::iterator) {
                if (!index.getFileName().toString().startsWith("index")) continue;
                String level = java.nio.file.Files.readString(index.resolve("level")).trim();
                String type = java.nio.file.Files.readString(index.resolve("type")).trim();
                if (!level.equals("2") || type.equals("Instruction")) continue;
                String size = java.nio.file.Files.readString(index.resolve("size")).trim().toUpperCase(java.util.Locale.ROOT);
                long unit = size.endsWith("K") ? 1 << 10 : size.endsWith("M") ? 1 << 20 : 1;
                long value = Long.parseLong(unit == 1 ? size : size.substring(0, size.length() - 1));
                if (value > 0) return value * unit;
            }
        } catch (java.io.IOException | RuntimeException e) {
            // not listed or not readable: the default below
        }
        return 2L << 20;
    }

    private static int intProperty(String name, int def) {
        String v = System.getProperty(name);
        if (v == null || v.isBlank()) return def;
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("system property " + name + " must be an integer, got '" + v + "'", e);
        }
    }

    /** Per-thread packing buffers, grown on demand and kept, so calls allocate nothing else. */
    static final class Buffers {
        float[] packedA = new float[0];
        float[] packedB = new float[0];
        final float[] tile = new float[MR * NR];
        /** Index map of the packing gathers, refilled by each packing call. */
        final int[] gatherIndex = new int[L];

        float[] packedA(int size) {
            if (packedA.length < size) packedA = new float[size];
            return packedA;
        }

        float[] packedAll = new float[0];

        float[] packedAll(long size) {
            if (size > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("matmul: packed A of " + size + " floats is more than one array can hold");
            }
            if (packedAll.length < size) packedAll = new float[(int) size];
            return packedAll;
        }

        float[] packedB(int size) {
            if (packedB.length < size) packedB = new float[size];
            return packedB;
        }

        /** The product (see PRODUCTS) whose B this thread's packedB holds, for row-tile products. */
        long packedBFor = -1;
    }

    /** Numbers the products that pack a copy of B per thread, so a thread knows whether its copy is current. */
    private static final java.util.concurrent.atomic.AtomicLong PRODUCTS = new java.util.concurrent.atomic.AtomicLong();

    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

    private static String tileProperty(String tile) {
        if (!tile.equals("8x3") && !tile.equals("7x3") && !tile.equals("12x2") && !tile.equals("6x2")) {
            throw new IllegalArgumentException("tessera.gemm.tile must be 8x3, 7x3, 12x2 or 6x2, got '" + tile + "'");
        }
        return tile;
    }

    static int roundUp(int x, int m) { return (x + m - 1) / m * m; }

    /**
     * C[offC + i * n + j] = sum_k A[offA + i * rsA + k * csA] * B[offB + k * rsB + j * csB]
     * for i < m, j < n (k > 0). Uses all threads when parallel and the product is large enough.
     */
    static void gemm(float[] a, int offA, int rsA, int csA, float[] b, int offB, int rsB, int csB,
                     float[] c, int offC, int m, int n, int k, boolean parallel) {
        gemm(a, offA, rsA, csA, b, offB, rsB, csB, c, offC, m, n, k, parallel, GROUP);
    }

    /** As above with the panel group size given (0: classic order); the result does not depend on it. */
    static void gemm(float[] a, int offA, int rsA, int csA, float[] b, int offB, int rsB, int csB,
                     float[] c, int offC, int m, int n, int k, boolean parallel, int group) {
        if (m == 0 || n == 0 || k == 0) return;
        if (m < MR && csB == 1) {
            fewRowsRowMajorB(a, offA, rsA, csA, b, offB, rsB, c, offC, m, n, k, parallel);
            return;
        }
        if (m < MR && rsB == 1) {
            fewRowsTransposedB(a, offA, rsA, csA, b, offB, csB, c, offC, m, n, k, parallel);
            return;
        }
        int threads = parallel && (long) m * n * k >= PARALLEL_FLOPS ? Parallel.threads() : 1;
        Buffers own = BUFFERS.get();
        // NC: split N into equal blocks (multiples of NR) whose packed B fits the budget.
        int nBlocks = (int) Math.max(1, ((long) roundUp(n, NR) * k + B_BLOCK_FLOATS - 1) / B_BLOCK_FLOATS);
        int nc = roundUp((n + nBlocks - 1) / nBlocks, NR);
        int kBlocks = (k + KC - 1) / KC;
        // Tiles: mc rows x a range of panels; enough of them to keep every thread busy.
        int rowTiles = tileRows(m, (long) roundUp(n, NR) * k, nBlocks, threads);
        // Row tiles read all of B, which fits in L2: each thread packs its own copy before its
        // first tile rather than all threads packing one copy together, whose halves would then
        // sit in the other core's cache (0.94-0.98x the time at 2 threads on five shapes from
        // 256x512x512 to 2000x512x512, measured interleaved; the copy is ~5% of such a product).
        long ownCopies = rowTiles > 0 ? PRODUCTS.incrementAndGet() : -1;
        float[] packedB = rowTiles > 0 ? null : own.packedB(B_PAD + nc * k);
        int mc = rowTiles > 0 ? rowTiles : MC;
        int mBlocks = (m + mc - 1) / mc;
        int maxPanels = (nc + NR - 1) / NR;
        int splits = threads == 1 || rowTiles > 0 ? 1 : Math.min(maxPanels, Math.max(1, (8 * threads + mBlocks - 1) / mBlocks));

        // A tile packs its own mc x KC pieces of A just before use (they stay in L2) when each piece is
        // used by one tile only. When A would be packed again for every N block or panel range, all of
        // it is packed once up front instead (the weight-gradient shapes, K large and M small).
        int mPad = roundUp(m, MR);
        float[] packedAll = null;
        if (nBlocks * splits > 1) {
            float[] all = own.packedAll((long) mPad * k);
            packedAll = all;
            if (threads == 1) {
                for (int t = 0; t < mBlocks * kBlocks; t++) packABlock(a, offA, rsA, csA, m, k, mPad, t, kBlocks, all);
            } else {
                Parallel.forEach(mBlocks * kBlocks, t -> packABlock(a, offA, rsA, csA, m, k, mPad, t, kBlocks, all));
            }
        }

        for (int jc = 0; jc < n; jc += nc) {
            int ncCur = Math.min(nc, n - jc);
            int panels = (ncCur + NR - 1) / NR;
            int bBase = offB + jc * csB;
            // Pack B[:, jc:jc+ncCur]: for each K block, panels of kc x NR, zero-padded past N.
            if (packedB == null) {
                // row tiles: each thread packs its own copy in its first tile (below)
            } else if (threads == 1) {
                packB(b, bBase, rsB, csB, k, ncCur, panels, packedB);
            } else if (csB == 1) {
                int rowTasks = (k + PACK_ROWS - 1) / PACK_ROWS;
                Parallel.forEach(rowTasks, t -> packBRows(b, bBase, rsB, k, ncCur, panels, t * PACK_ROWS,
                        Math.min(k, t * PACK_ROWS + PACK_ROWS), packedB));
            } else {
                Parallel.forEach(panels, q -> packBPanel(b, bBase, rsB, csB, k, ncCur, q, panels, packedB));
            }
            int blockSplits = Math.min(panels, splits);
            int panelsPerSplit = (panels + blockSplits - 1) / blockSplits;
            int nSplits = (panels + panelsPerSplit - 1) / panelsPerSplit;
            int tasks = mBlocks * nSplits;
            int jcFinal = jc;
            float[] pa = packedAll;
            if (threads == 1) {
                for (int t = 0; t < tasks; t++) {
                    tile(a, offA, rsA, csA, pa, mPad, packedB, c, offC, m, n, k, mc, jcFinal, ncCur, panels, panelsPerSplit, nSplits, t, group, own);
                }
            } else {
                Parallel.forEach(tasks, t -> {
                    Buffers buf = BUFFERS.get();
                    float[] pb = packedB;
                    if (pb == null) {
                        pb = buf.packedB(B_PAD + nc * k);
                        if (buf.packedBFor != ownCopies) {
                            packB(b, bBase, rsB, csB, k, ncCur, panels, pb);
                            buf.packedBFor = ownCopies;
                        }
                    }
                    tile(a, offA, rsA, csA, pa, mPad, pb, c, offC, m, n, k, mc, jcFinal, ncCur, panels, panelsPerSplit, nSplits, t, group, buf);
                });
            }
        }
    }

    /**
     * Rows per tile when every tile can take all of N, or 0 when tiles must share rows between N
     * ranges instead. A single N block whose packed B (bFloats) stays in L2 may be read again by
     * every row tile, so the rows are cut into at least 4 tiles per thread, a multiple of the
     * thread count, of at most MC rows. Splitting N instead (MC rows shared by several panel
     * ranges) needs all of A packed up front, a parallel phase of its own with its own hand-off and
     * uneven tasks, where here every tile packs its own A (512^3 at 2 threads: 64-row tiles, 3%
     * faster, measured interleaved) and every thread its own copy of B. Not with a B past L2: at
     * 1024^3 (4.2 MiB of packed B) tiles of 64 rows were 6% slower, reading B from L3 once per 64
     * rows instead of per 144. Not below 2 MR rows per tile either (0: too short).
     */
    static int tileRows(int m, long bFloats, int nBlocks, int threads) {
        if (threads == 1 || nBlocks > 1 || bFloats > L2_B_FLOATS) return 0;
        int tiles = Math.max(4 * threads, roundUp((m + MC - 1) / MC, threads));
        int rows = roundUp((m + tiles - 1) / tiles, MR);
        return rows < 2 * MR ? 0 : Math.min(MC, rows);
    }

    /**
     * One tile: rows [ic, ic + mcTile) x panels [q0, q1) of the current N block, all of K. For each K
     * block the panels are taken group at a time; inside a group every MR panel of A (kc x MR, in
     * L1) meets each B panel of the group (read from L2), and C is updated a row strip at a time,
     * which the hardware prefetcher follows.
     */
    private static void tile(float[] a, int offA, int rsA, int csA, float[] packedAll, int mPad, float[] packedB, float[] c,
                             int offC, int m, int n, int k, int mcTile, int jc, int ncCur, int panels, int panelsPerSplit, int nSplits,
                             int task, int group, Buffers buf) {
        int ic = (task / nSplits) * mcTile;
        int split = task % nSplits;
        int q0 = split * panelsPerSplit, q1 = Math.min(panels, q0 + panelsPerSplit);
        int mc = Math.min(mcTile, m - ic);
        int ncPad = panels * NR;
        float[] pa = packedAll != null ? packedAll : buf.packedA(roundUp(mc, MR) * Math.min(KC, k));
        for (int pc = 0; pc < k; pc += KC) {
            int kc = Math.min(KC, k - pc);
            int aBase;
            if (packedAll != null) {
                aBase = pc * mPad + ic * kc; // K block pc holds mPad rows of kc; this tile's rows start at ic
            } else {
                packA(a, offA + ic * rsA + pc * csA, rsA, csA, mc, kc, pa, 0);
                aBase = 0;
            }
            int bBlock = B_PAD + pc * ncPad; // K blocks before this one hold pc rows of ncPad columns
            if (group == 0) {
                // B panel outside (kept in L1), A panels streaming past it from L2.
                for (int q = q0; q < q1; q++) {
                    int nr = Math.min(NR, ncCur - q * NR);
                    for (int ir = 0; ir < mc; ir += MR) {
                        kernel(pa, aBase + ir * kc, packedB, bBlock + q * kc * NR, kc, c, offC + jc + (ic + ir) * n + q * NR, n,
                                Math.min(MR, mc - ir), nr, buf.tile, pc > 0);
                    }
                }
                continue;
            }
            for (int g0 = q0; g0 < q1; g0 += group) {
                int g1 = Math.min(q1, g0 + group);
                for (int ir = 0; ir < mc; ir += MR) {
                    int mr = Math.min(MR, mc - ir);
                    int aOff = aBase + ir * kc;
                    int cRow = offC + jc + (ic + ir) * n;
                    for (int q = g0; q < g1; q++) {
                        int nr = Math.min(NR, ncCur - q * NR);
                        kernel(pa, aOff, packedB, bBlock + q * kc * NR, kc, c, cRow + q * NR, n, mr, nr, buf.tile, pc > 0);
                    }
                }
            }
        }
    }

    // ---- fewer rows than a register tile (decoding one token, small batches) ------------------

    /** Columns of C per strip in the few-rows paths: 4 vectors of accumulators per row. */
    static final int STRIP = 4 * L;
    /**
     * Few-rows products are spread over threads from this many multiply-adds: they are bound by
     * reading B once (memory, not FMAs), and a single fan-out round costs ~15 us.
     */
    static final long FEW_ROWS_PARALLEL_FLOPS = 1L << 19;

    /**
     * C[m, n] = A @ B for m < MR and row-major B (csB = 1), without packing: packing B would cost
     * as much as the whole product (B is read once here), and a register tile would be mostly
     * empty. Column strips of STRIP floats go to threads; each row's strip is summed in registers
     * over one K block of KC at a time, from zero, and then added to C, in the same order as the
     * packed micro-kernel, so every row comes out bitwise equal to the same row inside a taller
     * product.
     */
    private static void fewRowsRowMajorB(float[] a, int offA, int rsA, int csA, float[] b, int offB, int rsB,
                                         float[] c, int offC, int m, int n, int k, boolean parallel) {
        if (m == 1 && L >= 16 && n >= WIDE_STRIP) {
            oneRowRowMajorB(a, offA, rsA, csA, b, offB, rsB, c, offC, n, k, parallel);
            return;
        }
        int strips = (n + STRIP - 1) / STRIP;
        if (parallel && (long) m * n * k >= FEW_ROWS_PARALLEL_FLOPS && strips > 1) {
            Parallel.forRange(strips, 1, (s0, s1) -> {
                for (int s = s0; s < s1; s++) rowMajorStrip(a, offA, rsA, csA, b, offB, rsB, c, offC, m, n, k, s * STRIP);
            });
        } else {
            for (int s = 0; s < strips; s++) rowMajorStrip(a, offA, rsA, csA, b, offB, rsB, c, offC, m, n, k, s * STRIP);
        }
    }

    /**
     * Columns per strip of one-row products (decoding one token) on AVX-512: 16 vectors of
     * accumulators (of 32 registers), so that each B row is read 1 KiB at a time. With the 4-vector
     * strips every B row was visited 256 bytes at a time, a new page each time, which the hardware
     * prefetcher barely follows. Measured against the 4-vector strips in one process (two class
     * loaders, 41 alternating rounds, 2 threads, two runs): time 0.84-0.89x for 1x768 @ 768x2304,
     * 0.73-0.77x for 768x3072, 0.83-0.85x for 3072x768, 0.65-0.70x for 768x768; same bits.
     */
    static final int WIDE_STRIP = 16 * L;

    /**
     * C[1, n] = a @ B for row-major B: full strips of WIDE_STRIP columns, the rest of the columns
     * through rowMajorStrip. Same summation order as the other paths, so the same bits.
     */
    private static void oneRowRowMajorB(float[] a, int offA, int rsA, int csA, float[] b, int offB, int rsB,
                                        float[] c, int offC, int n, int k, boolean parallel) {
        int wide = n / WIDE_STRIP;
        int restStart = wide * WIDE_STRIP;
        int tasks = wide + (n - restStart + STRIP - 1) / STRIP;
        java.util.function.IntConsumer task = t -> {
            if (t < wide) wideStrip1(a, offA, csA, b, offB + t * WIDE_STRIP, rsB, k, c, offC + t * WIDE_STRIP);
            else rowMajorStrip(a, offA, rsA, csA, b, offB, rsB, c, offC, 1, n, k, restStart + (t - wide) * STRIP);
        };
        if (parallel && (long) n * k >= FEW_ROWS_PARALLEL_FLOPS && tasks > 1) {
            Parallel.forEach(tasks, task);
        } else {
            for (int t = 0; t < tasks; t++) task.accept(t);
        }
    }

    /** One row, WIDE_STRIP columns from bCol / cCol, all of K a K block at a time; as stripBlock1, 16 vectors wide. */
    private static void wideStrip1(float[] a, int aRow, int csA, float[] b, int bCol, int rsB, int k, float[] c, int cCol) {
        for (int pc = 0; pc < k; pc += KC) {
            int kEnd = Math.min(k, pc + KC);
            FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0, s8 = s0, s9 = s0, s10 = s0, s11 = s0, s12 = s0, s13 = s0, s14 = s0, s15 = s0;
            for (int kk = pc; kk < kEnd; kk++) {
                FloatVector av = FloatVector.broadcast(S, a[aRow + kk * csA]);
                int bi = bCol + kk * rsB;
                s0 = av.fma(FloatVector.fromArray(S, b, bi), s0);
                s1 = av.fma(FloatVector.fromArray(S, b, bi + L), s1);
                s2 = av.fma(FloatVector.fromArray(S, b, bi + 2 * L), s2);
                s3 = av.fma(FloatVector.fromArray(S, b, bi + 3 * L), s3);
                s4 = av.fma(FloatVector.fromArray(S, b, bi + 4 * L), s4);
                s5 = av.fma(FloatVector.fromArray(S, b, bi + 5 * L), s5);
                s6 = av.fma(FloatVector.fromArray(S, b, bi + 6 * L), s6);
                s7 = av.fma(FloatVector.fromArray(S, b, bi + 7 * L), s7);
                s8 = av.fma(FloatVector.fromArray(S, b, bi + 8 * L), s8);
                s9 = av.fma(FloatVector.fromArray(S, b, bi + 9 * L), s9);
                s10 = av.fma(FloatVector.fromArray(S, b, bi + 10 * L), s10);
                s11 = av.fma(FloatVector.fromArray(S, b, bi + 11 * L), s11);
                s12 = av.fma(FloatVector.fromArray(S, b, bi + 12 * L), s12);
                s13 = av.fma(FloatVector.fromArray(S, b, bi + 13 * L), s13);
                s14 = av.fma(FloatVector.fromArray(S, b, bi + 14 * L), s14);
                s15 = av.fma(FloatVector.fromArray(S, b, bi + 15 * L), s15);
            }
            VectorMask<Float> keep = pc > 0 ? KEEP_C : DROP_C;
            addInto(s0, c, cCol, keep);
            addInto(s1, c, cCol + L, keep);
            addInto(s2, c, cCol + 2 * L, keep);
            addInto(s3, c, cCol + 3 * L, keep);
            addInto(s4, c, cCol + 4 * L, keep);
            addInto(s5, c, cCol + 5 * L, keep);
            addInto(s6, c, cCol + 6 * L, keep);
            addInto(s7, c, cCol + 7 * L, keep);
            addInto(s8, c, cCol + 8 * L, keep);
            addInto(s9, c, cCol + 9 * L, keep);
            addInto(s10, c, cCol + 10 * L, keep);
            addInto(s11, c, cCol + 11 * L, keep);
            addInto(s12, c, cCol + 12 * L, keep);
            addInto(s13, c, cCol + 13 * L, keep);
            addInto(s14, c, cCol + 14 * L, keep);
            addInto(s15, c, cCol + 15 * L, keep);
        }
    }

    /** c[at .. at + L) = v + (c there where keep), as the strip kernels store. */
    private static void addInto(FloatVector v, float[] c, int at, VectorMask<Float> keep) {
        v.add(FloatVector.fromArray(S, c, at, keep)).intoArray(c, at);
    }

    /**
     * Columns [j0, j0 + STRIP) of C (fewer at the right edge) for every row; see fewRowsRowMajorB.
     * Rows go 4, 2 or 1 at a time through kernels that load each B vector once for all their rows.
     */
    private static void rowMajorStrip(float[] a, int offA, int rsA, int csA, float[] b, int offB, int rsB,
                                      float[] c, int offC, int m, int n, int k, int j0) {
        int w = Math.min(STRIP, n - j0);
        if (w < STRIP) {
            // The right edge, lane by lane: a float fma per element is what a vector lane does.
            for (int i = 0; i < m; i++) {
                int aRow = offA + i * rsA, cRow = offC + i * n + j0;
                for (int pc = 0; pc < k; pc += KC) {
                    int kEnd = Math.min(k, pc + KC);
                    for (int j = 0; j < w; j++) {
                        float acc = 0f;
                        for (int kk = pc; kk < kEnd; kk++) acc = Math.fma(a[aRow + kk * csA], b[offB + kk * rsB + j0 + j], acc);
                        c[cRow + j] = acc + (pc > 0 ? c[cRow + j] : 0f);
                    }
                }
            }
            return;
        }
        for (int i = 0; i < m; ) {
            int rows = m - i >= 4 ? 4 : m - i >= 2 ? 2 : 1;
            int aRow = offA + i * rsA, cRow = offC + i * n + j0;
            for (int pc = 0; pc < k; pc += KC) {
                int kEnd = Math.min(k, pc + KC);
                VectorMask<Float> keep = pc > 0 ? KEEP_C : DROP_C;
                if (rows == 4) stripBlock4(a, aRow, rsA, csA, b, offB + j0, rsB, pc, kEnd, c, cRow, n, keep);
                else if (rows == 2) stripBlock2(a, aRow, rsA, csA, b, offB + j0, rsB, pc, kEnd, c, cRow, n, keep);
                else stripBlock1(a, aRow, csA, b, offB + j0, rsB, pc, kEnd, c, cRow, keep);
            }
            i += rows;
        }
    }

    /** One row, one full strip, K block [pc, kEnd): c[cRow .. + STRIP) = (c where keep) + sum. */
    private static void stripBlock1(float[] a, int aRow, int csA, float[] b, int bCol, int rsB, int pc, int kEnd,
                                    float[] c, int cRow, VectorMask<Float> keep) {
        FloatVector s0 = FloatVector.zero(S), s1 = FloatVector.zero(S), s2 = FloatVector.zero(S), s3 = FloatVector.zero(S);
        for (int kk = pc; kk < kEnd; kk++) {
            FloatVector av = FloatVector.broadcast(S, a[aRow + kk * csA]);
            int bi = bCol + kk * rsB;
            s0 = av.fma(FloatVector.fromArray(S, b, bi), s0);
            s1 = av.fma(FloatVector.fromArray(S, b, bi + L), s1);
            s2 = av.fma(FloatVector.fromArray(S, b, bi + 2 * L), s2);
            s3 = av.fma(FloatVector.fromArray(S, b, bi + 3 * L), s3);
        }
        addInto(s0, c, cRow, keep);
        addInto(s1, c, cRow + L, keep);
        addInto(s2, c, cRow + 2 * L, keep);
        addInto(s3, c, cRow + 3 * L, keep);
    }

    /** Two rows (A row stride rsA, C row stride ldc), one full strip, K block [pc, kEnd). */
    private static void stripBlock2(float[] a, int aRow, int rsA, int csA, float[] b, int bCol, int rsB, int pc, int kEnd,
                                    float[] c, int cRow, int ldc, VectorMask<Float> keep) {
        FloatVector s00 = FloatVector.zero(S), s01 = FloatVector.zero(S), s02 = FloatVector.zero(S), s03 = FloatVector.zero(S);
        FloatVector s10 = FloatVector.zero(S), s11 = FloatVector.zero(S), s12 = FloatVector.zero(S), s13 = FloatVector.zero(S);
        for (int kk = pc; kk < kEnd; kk++) {
            int bi = bCol + kk * rsB, ai = aRow + kk * csA;
            FloatVector b0 = FloatVector.fromArray(S, b, bi), b1 = FloatVector.fromArray(S, b, bi + L);
            FloatVector b2 = FloatVector.fromArray(S, b, bi + 2 * L), b3 = FloatVector.fromArray(S, b, bi + 3 * L);
            FloatVector a0 = FloatVector.broadcast(S, a[ai]);
            s00 = a0.fma(b0, s00);
            s01 = a0.fma(b1, s01);
            s02 = a0.fma(b2, s02);
            s03 = a0.fma(b3, s03);
            FloatVector a1 = FloatVector.broadcast(S, a[ai + rsA]);
            s10 = a1.fma(b0, s10);
            s11 = a1.fma(b1, s11);
            s12 = a1.fma(b2, s12);
            s13 = a1.fma(b3, s13);
        }
        int c1 = cRow + ldc;
        addInto(s00, c, cRow, keep);
        addInto(s01, c, cRow + L, keep);
        addInto(s02, c, cRow + 2 * L, keep);
        addInto(s03, c, cRow + 3 * L, keep);
        addInto(s10, c, c1, keep);
        addInto(s11, c, c1 + L, keep);
        addInto(s12, c, c1 + 2 * L, keep);
        addInto(s13, c, c1 + 3 * L, keep);
    }

    /** Four rows, one full strip, K block [pc, kEnd): 16 accumulators, each B vector loaded once. */
    private static void stripBlock4(float[] a, int aRow, int rsA, int csA, float[] b, int bCol, int rsB, int pc, int kEnd,
                                    float[] c, int cRow, int ldc, VectorMask<Float> keep) {
        FloatVector s00 = FloatVector.zero(S), s01 = FloatVector.zero(S), s02 = FloatVector.zero(S), s03 = FloatVector.zero(S);
        FloatVector s10 = FloatVector.zero(S), s11 = FloatVector.zero(S), s12 = FloatVector.zero(S), s13 = FloatVector.zero(S);
        FloatVector s20 = FloatVector.zero(S), s21 = FloatVector.zero(S), s22 = FloatVector.zero(S), s23 = FloatVector.zero(S);
        FloatVector s30 = FloatVector.zero(S), s31 = FloatVector.zero(S), s32 = FloatVector.zero(S), s33 = FloatVector.zero(S);
        for (int kk = pc; kk < kEnd; kk++) {
            int bi = bCol + kk * rsB, ai = aRow + kk * csA;
            FloatVector b0 = FloatVector.fromArray(S, b, bi), b1 = FloatVector.fromArray(S, b, bi + L);
            FloatVector b2 = FloatVector.fromArray(S, b, bi + 2 * L), b3 = FloatVector.fromArray(S, b, bi + 3 * L);
            FloatVector a0 = FloatVector.broadcast(S, a[ai]);
            s00 = a0.fma(b0, s00);
            s01 = a0.fma(b1, s01);
            s02 = a0.fma(b2, s02);
            s03 = a0.fma(b3, s03);
            FloatVector a1 = FloatVector.broadcast(S, a[ai + rsA]);
            s10 = a1.fma(b0, s10);
            s11 = a1.fma(b1, s11);
            s12 = a1.fma(b2, s12);
            s13 = a1.fma(b3, s13);
            FloatVector a2 = FloatVector.broadcast(S, a[ai + 2 * rsA]);
            s20 = a2.fma(b0, s20);
            s21 = a2.fma(b1, s21);
            s22 = a2.fma(b2, s22);
            s23 = a2.fma(b3, s23);
            FloatVector a3 = FloatVector.broadcast(S, a[ai + 3 * rsA]);
            s30 = a3.fma(b0, s30);
            s31 = a3.fma(b1, s31);
            s32 = a3.fma(b2, s32);
            s33 = a3.fma(b3, s33);
        }
        int c1 = cRow + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
        addInto(s00, c, cRow, keep);
        addInto(s01, c, cRow + L, keep);
        addInto(s02, c, cRow + 2 * L, keep);
        addInto(s03, c, cRow + 3 * L, keep);
        addInto(s10, c, c1, keep);
        addInto(s11, c, c1 + L, keep);
        addInto(s12, c, c1 + 2 * L, keep);
        addInto(s13, c, c1 + 3 * L, keep);
        addInto(s20, c, c2, keep);
        addInto(s21, c, c2 + L, keep);
        addInto(s22, c, c2 + 2 * L, keep);
        addInto(s23, c, c2 + 3 * L, keep);
        addInto(s30, c, c3, keep);
        addInto(s31, c, c3 + L, keep);
        addInto(s32, c, c3 + 2 * L, keep);
        addInto(s33, c, c3 + 3 * L, keep);
    }

    /** Columns of C per task in the transposed-B few-rows path. */
    private static final int DOT_COLUMNS = 4;

    /**
     * C[m, n] = A @ B for m < MR and B a transposed view (rsB = 1: each column of B is contiguous
     * along K, as in h @ W^T with W stored [N, K]), without packing: every C element is a dot
     * product of an A row with a B column, four columns at a time so that each A vector load
     * serves four FMAs. A is copied first when its rows are not contiguous. The sums run over
     * vector lanes and are then reduced, so their rounding differs from the packed path's.
     */
    private static void fewRowsTransposedB(float[] a, int offA, int rsA, int csA, float[] b, int offB, int csB,
                                           float[] c, int offC, int m, int n, int k, boolean parallel) {
        float[] rows = a;
        int rowsOff = offA, rowStride = rsA;
        if (csA != 1) {
            rows = BUFFERS.get().packedA(m * k);
            for (int i = 0; i < m; i++) {
                for (int kk = 0; kk < k; kk++) rows[i * k + kk] = a[offA + i * rsA + kk * csA];
            }
            rowsOff = 0;
            rowStride = k;
        }
        float[] ar = rows;
        int ao = rowsOff, as = rowStride;
        int groups = (n + DOT_COLUMNS - 1) / DOT_COLUMNS;
        if (parallel && (long) m * n * k >= FEW_ROWS_PARALLEL_FLOPS && groups > 1) {
            Parallel.forRange(groups, 1, (g0, g1) -> dotColumns(ar, ao, as, b, offB, csB, c, offC, m, n, k,
                    g0 * DOT_COLUMNS, Math.min(n, g1 * DOT_COLUMNS)));
        } else {
            dotColumns(ar, ao, as, b, offB, csB, c, offC, m, n, k, 0, n);
        }
    }

    /** C[i, j] for all rows and columns [j0, j1); A rows contiguous (row stride as). */
    private static void dotColumns(float[] a, int ao, int as, float[] b, int offB, int csB, float[] c, int offC,
                                   int m, int n, int k, int j0, int j1) {
        int kv = k - k % L;
        int j = j0;
        for (; j + DOT_COLUMNS <= j1; j += DOT_COLUMNS) {
            int b0 = offB + j * csB, b1 = b0 + csB, b2 = b1 + csB, b3 = b2 + csB;
            for (int i = 0; i < m; i++) {
                int ar = ao + i * as;
                FloatVector s0 = FloatVector.zero(S), s1 = FloatVector.zero(S), s2 = FloatVector.zero(S), s3 = FloatVector.zero(S);
                for (int kk = 0; kk < kv; kk += L) {
                    FloatVector av = FloatVector.fromArray(S, a, ar + kk);
                    s0 = av.fma(FloatVector.fromArray(S, b, b0 + kk), s0);
                    s1 = av.fma(FloatVector.fromArray(S, b, b1 + kk), s1);
                    s2 = av.fma(FloatVector.fromArray(S, b, b2 + kk), s2);
                    s3 = av.fma(FloatVector.fromArray(S, b, b3 + kk), s3);
                }
                float t0 = s0.reduceLanes(VectorOperators.ADD), t1 = s1.reduceLanes(VectorOperators.ADD);
                float t2 = s2.reduceLanes(VectorOperators.ADD), t3 = s3.reduceLanes(VectorOperators.ADD);
                for (int kk = kv; kk < k; kk++) {
                    float x = a[ar + kk];
                    t0 = Math.fma(x, b[b0 + kk], t0);
                    t1 = Math.fma(x, b[b1 + kk], t1);
                    t2 = Math.fma(x, b[b2 + kk], t2);
                    t3 = Math.fma(x, b[b3 + kk], t3);
                }
                int cr = offC + i * n + j;
                c[cr] = t0;
                c[cr + 1] = t1;
                c[cr + 2] = t2;
                c[cr + 3] = t3;
            }
        }
        for (; j < j1; j++) {
            int bj = offB + j * csB;
            for (int i = 0; i < m; i++) {
                int ar = ao + i * as;
                FloatVector s0 = FloatVector.zero(S);
                for (int kk = 0; kk < kv; kk += L) s0 = FloatVector.fromArray(S, a, ar + kk).fma(FloatVector.fromArray(S, b, bj + kk), s0);
                float t0 = s0.reduceLanes(VectorOperators.ADD);
                for (int kk = kv; kk < k; kk++) t0 = Math.fma(a[ar + kk], b[bj + kk], t0);
                c[offC + i * n + j] = t0;
            }
        }
    }

    /** Packs block t (row block t / kBlocks, K block t % kBlocks) of A into the all-of-A layout. */
    private static void packABlock(float[] a, int offA, int rsA, int csA, int m, int k, int mPad, int t, int kBlocks, float[] dst) {
        int ic = (t / kBlocks) * MC, pc = (t % kBlocks) * KC;
        int mc = Math.min(MC, m - ic), kc = Math.min(KC, k - pc);
        packA(a, offA + ic * rsA + pc * csA, rsA, csA, mc, kc, dst, pc * mPad + ic * kc);
    }

    /**
     * Packs A[i, k] = a[base + i * rs + k * cs] for i < mc, k < kc into MR-high panels starting at
     * dst[d0]: panel p holds dst[d0 + p * MR * kc + k * MR + r] = A[p * MR + r, k], zero past mc.
     */
    static void packA(float[] a, int base, int rs, int cs, int mc, int kc, float[] dst, int d0) {
        int start = 0;
        if (rs == 1) {
            // Transposed A (a .mT() view, as in weight gradients): the rows of one k are contiguous,
            // so the full panels are filled walking k outside, MR rows at a time; a partial last
            // panel is left to the loop below. Each MR-run is copied as one L-lane vector where
            // MR <= L (not as an MR-lane vector: a second float species would pollute the JIT's
            // type profiles of the shared FloatVector methods, and every vector kernel would then
            // run unintrinsified): the lanes past MR land in the same panel's slots for the next
            // SPILL_K k, which those k rewrite (so the last SPILL_K k are copied value by value, as
            // are runs whose vector would read past the array). Twice as fast as copying every
            // value (a 3072-row transposed A is ~10% of its product).
            start = mc / MR * MR;
            boolean vectorRuns = MR <= L;
            for (int kk = 0; kk < kc; kk++) {
                int s = base + kk * cs, d = d0 + kk * MR;
                if (vectorRuns && kk + SPILL_K < kc && s + start - MR + L <= a.length) {
                    for (int p = 0; p < start; p += MR, d += MR * kc) FloatVector.fromArray(S, a, s + p).intoArray(dst, d);
                } else {
                    for (int p = 0; p < start; p += MR, d += MR * kc) {
                        for (int r = 0; r < MR; r++) dst[d + r] = a[s + p + r];
                    }
                }
            }
        }
        for (int p = start; p < mc; p += MR) {
            int rows = Math.min(MR, mc - p);
            int d = d0 + p * kc;
            int src = base + p * rs;
            if (cs == 1 && rows == MR && GATHER_K > 0) {
                // Row-major A, full panel: gather k..k+GATHER_K-1 of the MR rows, store contiguously.
                // About twice as fast as copying value by value, from memory or from cache (the
                // copy loop does one load and one store per value; N = 768 products spent ~6% of
                // their time packing A).
                int[] index = BUFFERS.get().gatherIndex;
                for (int j = 0; j < L; j++) index[j] = (j % MR) * rs + j / MR;
                // Gathers while every k they read lies in this K block: the whole k's, and where L
                // is not a multiple of MR (7 rows) the k after them too.
                int reach = GATHER_K + (L % MR == 0 ? 0 : 1);
                int kk0 = 0;
                for (; kk0 + reach <= kc; kk0 += GATHER_K) FloatVector.fromArray(S, a, src + kk0, index, 0).intoArray(dst, d + kk0 * MR);
                for (int kk = kk0; kk < kc; kk++) {
                    for (int r = 0; r < MR; r++) dst[d + kk * MR + r] = a[src + r * rs + kk];
                }
            } else if (cs == 1) {
                // Row-major A: read each row contiguously, write it with stride MR.
                for (int r = 0; r < rows; r++) {
                    int s = src + r * rs;
                    for (int kk = 0, dd = d + r; kk < kc; kk++, dd += MR) dst[dd] = a[s + kk];
                }
            } else if (rs == 1) {
                // The partial last panel of a transposed A.
                for (int kk = 0, dd = d; kk < kc; kk++, dd += MR) {
                    int s = src + kk * cs;
                    for (int r = 0; r < rows; r++) dst[dd + r] = a[s + r];
                }
            } else {
                for (int kk = 0, dd = d; kk < kc; kk++, dd += MR) {
                    int s = src + kk * cs;
                    for (int r = 0; r < rows; r++) dst[dd + r] = a[s + r * rs];
                }
            }
            if (rows < MR) {
                for (int kk = 0, dd = d; kk < kc; kk++, dd += MR) {
                    for (int r = rows; r < MR; r++) dst[dd + r] = 0f;
                }
            }
        }
    }

    /**
     * Packs all of a B block (columns [0, ncCur) from base) on the calling thread. Row-major B is
     * copied in whole row segments (a panel-by-panel walk would touch a new page on every row when
     * rows are long, and run at a fraction of memory speed); other layouts panel by panel.
     */
    static void packB(float[] b, int base, int rs, int cs, int k, int ncCur, int panels, float[] dst) {
        if (cs == 1) {
            packBRows(b, base, rs, k, ncCur, panels, 0, k, dst);
        } else {
            for (int q = 0; q < panels; q++) packBPanel(b, base, rs, cs, k, ncCur, q, panels, dst);
        }
    }

    /**
     * Packs rows [k0, k1) of a row-major B block (columns [0, ncCur) from base, row stride rs) into
     * the same layout as {@link #packBPanel}: row kk of K block pc lands at
     * pc * ncPad + q * kc * NR + (kk - pc) * NR in panel q, zero past ncCur.
     */
    static void packBRows(float[] b, int base, int rs, int k, int ncCur, int panels, int k0, int k1, float[] dst) {
        int ncPad = panels * NR;
        int full = ncCur / NR; // panels with NR real columns
        for (int kk = k0; kk < k1; kk++) {
            int pc = kk / KC * KC;
            int kc = Math.min(KC, k - pc);
            int d = B_PAD + pc * ncPad + (kk - pc) * NR;
            int s = base + kk * rs;
            for (int q = 0; q < full; q++, d += kc * NR, s += NR) {
                for (int v = 0; v < NR; v += L) FloatVector.fromArray(S, b, s + v).intoArray(dst, d + v);
            }
            if (full < panels) {
                int cols = ncCur - full * NR;
                System.arraycopy(b, s, dst, d, cols);
                java.util.Arrays.fill(dst, d + cols, d + NR, 0f);
            }
        }
    }

    /**
     * Packs panel q (columns [q * NR, q * NR + NR) of the N block starting at base) for all of K:
     * the K block starting at pc with kc rows holds, at pc * ncPad + q * kc * NR, the values
     * B[pc + kk, q * NR + j] at kk * NR + j, zero past ncCur.
     */
    static void packBPanel(float[] b, int base, int rs, int cs, int k, int ncCur, int q, int panels, float[] dst) {
        int ncPad = panels * NR;
        int cols = Math.min(NR, ncCur - q * NR);
        int colBase = base + q * NR * cs;
        for (int pc = 0; pc < k; pc += KC) {
            int kc = Math.min(KC, k - pc);
            int d = B_PAD + pc * ncPad + q * kc * NR;
            if (cols == NR && cs == 1) {
                for (int kk = 0; kk < kc; kk++, d += NR) {
                    int s = colBase + (pc + kk) * rs;
                    for (int v = 0; v < NR; v += L) FloatVector.fromArray(S, b, s + v).intoArray(dst, d + v);
                }
            } else if (rs == 1 && cols == NR) {
                // Transposed view (B = W^T in input gradients), full panel: row kk of the panel is
                // gathered from NR columns, L at a time (twice as fast as the blocked copy below).
                int[] index = BUFFERS.get().gatherIndex;
                for (int j = 0; j < L; j++) index[j] = j * cs;
                int s = colBase + pc;
                for (int kk = 0; kk < kc; kk++, d += NR) {
                    for (int v = 0; v < NR; v += L) FloatVector.fromArray(S, b, s + v * cs + kk, index, 0).intoArray(dst, d + v);
                }
            } else if (rs == 1) {
                // Transposed view: each column is a contiguous run along K. Transposed in blocks of
                // TRANSPOSE_K rows of the panel, so the block being written stays in L1 (a whole
                // panel does not once KC * NR floats pass 48 KB).
                for (int k0 = 0; k0 < kc; k0 += TRANSPOSE_K) {
                    int k1 = Math.min(kc, k0 + TRANSPOSE_K);
                    for (int j = 0; j < NR; j++) {
                        if (j < cols) {
                            int s = colBase + j * cs + pc;
                            for (int kk = k0; kk < k1; kk++) dst[d + kk * NR + j] = b[s + kk];
                        } else {
                            for (int kk = k0; kk < k1; kk++) dst[d + kk * NR + j] = 0f;
                        }
                    }
                }
            } else {
                for (int kk = 0; kk < kc; kk++, d += NR) {
                    int s = colBase + (pc + kk) * rs;
                    for (int j = 0; j < NR; j++) dst[d + j] = j < cols ? b[s + j * cs] : 0f;
                }
            }
        }
    }

    /**
     * C[mr x nr tile at cOff, row stride ldc] (+)= packed A panel (kc x MR) @ packed B panel (kc x NR),
     * added to C when add, stored over it otherwise (the first K block).
     * A full tile goes from the registers straight into C (a detour through a scratch tile, written
     * by the kernel and then added to C in a separate loop, cost up to a third of the product's
     * time on GPT-2 shapes). Each K block is summed from zero and then added to C, a two-level
     * summation that keeps the rounding error of long K lower than one running sum would. Edge
     * tiles go through the small scratch array tile and only their mr x nr part reaches C.
     *
     * <p>The store-or-add choice is a mask (all lanes or none of the loaded C), not a branch in the
     * micro-kernel: the JIT compiled such a branch for the one side it had seen (only stores while
     * every product had a single K block), and the first product with several K blocks then threw
     * the kernel out of compiled code; it ran 20x slower in the JIT's profiling tier until its long
     * C2 compile finished again (seconds per product, seen in runs). Zeroing the tile and always
     * adding was ~10% slower (the vector loads then read data still in the store buffer).
     */
    private static final VectorMask<Float> KEEP_C = S.maskAll(true), DROP_C = S.maskAll(false);

    static void kernel(float[] pa, int aOff, float[] pb, int bOff, int kc, float[] c, int cOff, int ldc,
                       int mr, int nr, float[] tile, boolean add) {
        if (mr == MR && nr == NR) {
            micro(pa, aOff, pb, bOff, kc, c, cOff, ldc, add ? KEEP_C : DROP_C);
            return;
        }
        micro(pa, aOff, pb, bOff, kc, tile, 0, NR, DROP_C);
        for (int r = 0; r < mr; r++) {
            int cr = cOff + r * ldc, tr = r * NR;
            if (add) {
                for (int j = 0; j < nr; j++) c[cr + j] += tile[tr + j];
            } else {
                System.arraycopy(tile, tr, c, cr, nr);
            }
        }
    }

    /**
     * d[MR x NR at dOff, row stride ld] = (d where keep) + packed A panel @ packed B panel, with the
     * configured tile; keep is all lanes or none.
     */
    private static void micro(float[] pa, int aOff, float[] pb, int bOff, int kc, float[] d, int dOff, int ld, VectorMask<Float> keep) {
        if (MR == 8) kernel8x3(pa, aOff, pb, bOff, kc, d, dOff, ld, keep);
        else if (MR == 7) kernel7x3(pa, aOff, pb, bOff, kc, d, dOff, ld, keep);
        else if (MR == 12) kernel12x2(pa, aOff, pb, bOff, kc, d, dOff, ld, keep);
        else kernel6x2(pa, aOff, pb, bOff, kc, d, dOff, ld, keep);
    }

    /** d[8 x 3L at dOff, row stride ld] (+)= packed A panel (kc x 8) @ packed B panel (kc x 3L). */
    private static void kernel8x3(float[] pa, int aOff, float[] pb, int bOff, int kc, float[] d, int dOff, int ld, VectorMask<Float> keep) {
        int d0 = dOff;
        int d1 = dOff + 1 * ld;
        int d2 = dOff + 2 * ld;
        int d3 = dOff + 3 * ld;
        int d4 = dOff + 4 * ld;
        int d5 = dOff + 5 * ld;
        int d6 = dOff + 6 * ld;
        int d7 = dOff + 7 * ld;
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S), c02 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S), c12 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S), c22 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S), c32 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S), c42 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S), c52 = FloatVector.zero(S);
        FloatVector c60 = FloatVector.zero(S), c61 = FloatVector.zero(S), c62 = FloatVector.zero(S);
        FloatVector c70 = FloatVector.zero(S), c71 = FloatVector.zero(S), c72 = FloatVector.zero(S);
        // The packed-A offset is the loop variable and the packed-B offset steps beside it. Written
        // as aOff + kk * 8 and bOff + kk * 3L, C2 recomputed both products every iteration (shifts
        // and adds competing with the FMAs for ports) and in some compilations spilled a register
        // around them: the isolated kernel ran at 0.75-0.85 of a register-only FMA loop, written
        // this way at 0.95-1.0 (the other tiles below are written the same way).
        int bi = bOff;
        for (int ai = aOff, aEnd = aOff + kc * 8; ai < aEnd; ai += 8, bi += 3 * L) {
            FloatVector b0 = FloatVector.fromArray(S, pb, bi);
            FloatVector b1 = FloatVector.fromArray(S, pb, bi + L);
            FloatVector b2 = FloatVector.fromArray(S, pb, bi + 2 * L);
            FloatVector a0 = FloatVector.broadcast(S, pa[ai]);
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            c02 = a0.fma(b2, c02);
            FloatVector a1 = FloatVector.broadcast(S, pa[ai + 1]);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            c12 = a1.fma(b2, c12);
            FloatVector a2 = FloatVector.broadcast(S, pa[ai + 2]);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            c22 = a2.fma(b2, c22);
            FloatVector a3 = FloatVector.broadcast(S, pa[ai + 3]);
            c30 = a3.fma(b0, c30);
            c31 = a3.fma(b1, c31);
            c32 = a3.fma(b2, c32);
            FloatVector a4 = FloatVector.broadcast(S, pa[ai + 4]);
            c40 = a4.fma(b0, c40);
            c41 = a4.fma(b1, c41);
            c42 = a4.fma(b2, c42);
            FloatVector a5 = FloatVector.broadcast(S, pa[ai + 5]);
            c50 = a5.fma(b0, c50);
            c51 = a5.fma(b1, c51);
            c52 = a5.fma(b2, c52);
            FloatVector a6 = FloatVector.broadcast(S, pa[ai + 6]);
            c60 = a6.fma(b0, c60);
            c61 = a6.fma(b1, c61);
            c62 = a6.fma(b2, c62);
            FloatVector a7 = FloatVector.broadcast(S, pa[ai + 7]);
            c70 = a7.fma(b0, c70);
            c71 = a7.fma(b1, c71);
            c72 = a7.fma(b2, c72);
        }
        c00.add(FloatVector.fromArray(S, d, d0, keep)).intoArray(d, d0);
        c01.add(FloatVector.fromArray(S, d, d0 + L, keep)).intoArray(d, d0 + L);
        c02.add(FloatVector.fromArray(S, d, d0 + 2 * L, keep)).intoArray(d, d0 + 2 * L);
        c10.add(FloatVector.fromArray(S, d, d1, keep)).intoArray(d, d1);
        c11.add(FloatVector.fromArray(S, d, d1 + L, keep)).intoArray(d, d1 + L);
        c12.add(FloatVector.fromArray(S, d, d1 + 2 * L, keep)).intoArray(d, d1 + 2 * L);
        c20.add(FloatVector.fromArray(S, d, d2, keep)).intoArray(d, d2);
        c21.add(FloatVector.fromArray(S, d, d2 + L, keep)).intoArray(d, d2 + L);
        c22.add(FloatVector.fromArray(S, d, d2 + 2 * L, keep)).intoArray(d, d2 + 2 * L);
        c30.add(FloatVector.fromArray(S, d, d3, keep)).intoArray(d, d3);
        c31.add(FloatVector.fromArray(S, d, d3 + L, keep)).intoArray(d, d3 + L);
        c32.add(FloatVector.fromArray(S, d, d3 + 2 * L, keep)).intoArray(d, d3 + 2 * L);
        c40.add(FloatVector.fromArray(S, d, d4, keep)).intoArray(d, d4);
        c41.add(FloatVector.fromArray(S, d, d4 + L, keep)).intoArray(d, d4 + L);
        c42.add(FloatVector.fromArray(S, d, d4 + 2 * L, keep)).intoArray(d, d4 + 2 * L);
        c50.add(FloatVector.fromArray(S, d, d5, keep)).intoArray(d, d5);
        c51.add(FloatVector.fromArray(S, d, d5 + L, keep)).intoArray(d, d5 + L);
        c52.add(FloatVector.fromArray(S, d, d5 + 2 * L, keep)).intoArray(d, d5 + 2 * L);
        c60.add(FloatVector.fromArray(S, d, d6, keep)).intoArray(d, d6);
        c61.add(FloatVector.fromArray(S, d, d6 + L, keep)).intoArray(d, d6 + L);
        c62.add(FloatVector.fromArray(S, d, d6 + 2 * L, keep)).intoArray(d, d6 + 2 * L);
        c70.add(FloatVector.fromArray(S, d, d7, keep)).intoArray(d, d7);
        c71.add(FloatVector.fromArray(S, d, d7 + L, keep)).intoArray(d, d7 + L);
        c72.add(FloatVector.fromArray(S, d, d7 + 2 * L, keep)).intoArray(d, d7 + 2 * L);
    }

    /**
     * d[7 x 3L at dOff, row stride ld] (+)= packed A panel (kc x 7) @ packed B panel (kc x 3L): 21
     * accumulators, so that a compiler which loads all of an iteration's A broadcasts up front
     * still fits in 32 registers (JDK 25's C2 does, and spilled an accumulator of the 8 x 3 tile
     * every iteration).
     */
    private static void kernel7x3(float[] pa, int aOff, float[] pb, int bOff, int kc, float[] d, int dOff, int ld, VectorMask<Float> keep) {
        int d0 = dOff;
        int d1 = dOff + 1 * ld;
        int d2 = dOff + 2 * ld;
        int d3 = dOff + 3 * ld;
        int d4 = dOff + 4 * ld;
        int d5 = dOff + 5 * ld;
        int d6 = dOff + 6 * ld;
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S), c02 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S), c12 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S), c22 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S), c32 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S), c42 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S), c52 = FloatVector.zero(S);
        FloatVector c60 = FloatVector.zero(S), c61 = FloatVector.zero(S), c62 = FloatVector.zero(S);
        int bi = bOff;
        for (int ai = aOff, aEnd = aOff + kc * 7; ai < aEnd; ai += 7, bi += 3 * L) {
            FloatVector b0 = FloatVector.fromArray(S, pb, bi);
            FloatVector b1 = FloatVector.fromArray(S, pb, bi + L);
            FloatVector b2 = FloatVector.fromArray(S, pb, bi + 2 * L);
            FloatVector a0 = FloatVector.broadcast(S, pa[ai]);
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            c02 = a0.fma(b2, c02);
            FloatVector a1 = FloatVector.broadcast(S, pa[ai + 1]);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            c12 = a1.fma(b2, c12);
            FloatVector a2 = FloatVector.broadcast(S, pa[ai + 2]);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            c22 = a2.fma(b2, c22);
            FloatVector a3 = FloatVector.broadcast(S, pa[ai + 3]);
            c30 = a3.fma(b0, c30);
            c31 = a3.fma(b1, c31);
            c32 = a3.fma(b2, c32);
            FloatVector a4 = FloatVector.broadcast(S, pa[ai + 4]);
            c40 = a4.fma(b0, c40);
            c41 = a4.fma(b1, c41);
            c42 = a4.fma(b2, c42);
            FloatVector a5 = FloatVector.broadcast(S, pa[ai + 5]);
            c50 = a5.fma(b0, c50);
            c51 = a5.fma(b1, c51);
            c52 = a5.fma(b2, c52);
            FloatVector a6 = FloatVector.broadcast(S, pa[ai + 6]);
            c60 = a6.fma(b0, c60);
            c61 = a6.fma(b1, c61);
            c62 = a6.fma(b2, c62);
        }
        c00.add(FloatVector.fromArray(S, d, d0, keep)).intoArray(d, d0);
        c01.add(FloatVector.fromArray(S, d, d0 + L, keep)).intoArray(d, d0 + L);
        c02.add(FloatVector.fromArray(S, d, d0 + 2 * L, keep)).intoArray(d, d0 + 2 * L);
        c10.add(FloatVector.fromArray(S, d, d1, keep)).intoArray(d, d1);
        c11.add(FloatVector.fromArray(S, d, d1 + L, keep)).intoArray(d, d1 + L);
        c12.add(FloatVector.fromArray(S, d, d1 + 2 * L, keep)).intoArray(d, d1 + 2 * L);
        c20.add(FloatVector.fromArray(S, d, d2, keep)).intoArray(d, d2);
        c21.add(FloatVector.fromArray(S, d, d2 + L, keep)).intoArray(d, d2 + L);
        c22.add(FloatVector.fromArray(S, d, d2 + 2 * L, keep)).intoArray(d, d2 + 2 * L);
        c30.add(FloatVector.fromArray(S, d, d3, keep)).intoArray(d, d3);
        c31.add(FloatVector.fromArray(S, d, d3 + L, keep)).intoArray(d, d3 + L);
        c32.add(FloatVector.fromArray(S, d, d3 + 2 * L, keep)).intoArray(d, d3 + 2 * L);
        c40.add(FloatVector.fromArray(S, d, d4, keep)).intoArray(d, d4);
        c41.add(FloatVector.fromArray(S, d, d4 + L, keep)).intoArray(d, d4 + L);
        c42.add(FloatVector.fromArray(S, d, d4 + 2 * L, keep)).intoArray(d, d4 + 2 * L);
        c50.add(FloatVector.fromArray(S, d, d5, keep)).intoArray(d, d5);
        c51.add(FloatVector.fromArray(S, d, d5 + L, keep)).intoArray(d, d5 + L);
        c52.add(FloatVector.fromArray(S, d, d5 + 2 * L, keep)).intoArray(d, d5 + 2 * L);
        c60.add(FloatVector.fromArray(S, d, d6, keep)).intoArray(d, d6);
        c61.add(FloatVector.fromArray(S, d, d6 + L, keep)).intoArray(d, d6 + L);
        c62.add(FloatVector.fromArray(S, d, d6 + 2 * L, keep)).intoArray(d, d6 + 2 * L);
    }

    /** d[12 x 2L at dOff, row stride ld] (+)= packed A panel (kc x 12) @ packed B panel (kc x 2L). */
    private static void kernel12x2(float[] pa, int aOff, float[] pb, int bOff, int kc, float[] d, int dOff, int ld, VectorMask<Float> keep) {
        int d0 = dOff;
        int d1 = dOff + 1 * ld;
        int d2 = dOff + 2 * ld;
        int d3 = dOff + 3 * ld;
        int d4 = dOff + 4 * ld;
        int d5 = dOff + 5 * ld;
        int d6 = dOff + 6 * ld;
        int d7 = dOff + 7 * ld;
        int d8 = dOff + 8 * ld;
        int d9 = dOff + 9 * ld;
        int d10 = dOff + 10 * ld;
        int d11 = dOff + 11 * ld;
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        FloatVector c60 = FloatVector.zero(S), c61 = FloatVector.zero(S);
        FloatVector c70 = FloatVector.zero(S), c71 = FloatVector.zero(S);
        FloatVector c80 = FloatVector.zero(S), c81 = FloatVector.zero(S);
        FloatVector c90 = FloatVector.zero(S), c91 = FloatVector.zero(S);
        FloatVector c100 = FloatVector.zero(S), c101 = FloatVector.zero(S);
        FloatVector c110 = FloatVector.zero(S), c111 = FloatVector.zero(S);
        int bi = bOff;
        for (int ai = aOff, aEnd = aOff + kc * 12; ai < aEnd; ai += 12, bi += 2 * L) {
            FloatVector b0 = FloatVector.fromArray(S, pb, bi);
            FloatVector b1 = FloatVector.fromArray(S, pb, bi + L);
            FloatVector a0 = FloatVector.broadcast(S, pa[ai]);
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(S, pa[ai + 1]);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(S, pa[ai + 2]);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(S, pa[ai + 3]);
            c30 = a3.fma(b0, c30);
            c31 = a3.fma(b1, c31);
            FloatVector a4 = FloatVector.broadcast(S, pa[ai + 4]);
            c40 = a4.fma(b0, c40);
            c41 = a4.fma(b1, c41);
            FloatVector a5 = FloatVector.broadcast(S, pa[ai + 5]);
            c50 = a5.fma(b0, c50);
            c51 = a5.fma(b1, c51);
            FloatVector a6 = FloatVector.broadcast(S, pa[ai + 6]);
            c60 = a6.fma(b0, c60);
            c61 = a6.fma(b1, c61);
            FloatVector a7 = FloatVector.broadcast(S, pa[ai + 7]);
            c70 = a7.fma(b0, c70);
            c71 = a7.fma(b1, c71);
            FloatVector a8 = FloatVector.broadcast(S, pa[ai + 8]);
            c80 = a8.fma(b0, c80);
            c81 = a8.fma(b1, c81);
            FloatVector a9 = FloatVector.broadcast(S, pa[ai + 9]);
            c90 = a9.fma(b0, c90);
            c91 = a9.fma(b1, c91);
            FloatVector a10 = FloatVector.broadcast(S, pa[ai + 10]);
            c100 = a10.fma(b0, c100);
            c101 = a10.fma(b1, c101);
            FloatVector a11 = FloatVector.broadcast(S, pa[ai + 11]);
            c110 = a11.fma(b0, c110);
            c111 = a11.fma(b1, c111);
        }
        c00.add(FloatVector.fromArray(S, d, d0, keep)).intoArray(d, d0);
        c01.add(FloatVector.fromArray(S, d, d0 + L, keep)).intoArray(d, d0 + L);
        c10.add(FloatVector.fromArray(S, d, d1, keep)).intoArray(d, d1);
        c11.add(FloatVector.fromArray(S, d, d1 + L, keep)).intoArray(d, d1 + L);
        c20.add(FloatVector.fromArray(S, d, d2, keep)).intoArray(d, d2);
        c21.add(FloatVector.fromArray(S, d, d2 + L, keep)).intoArray(d, d2 + L);
        c30.add(FloatVector.fromArray(S, d, d3, keep)).intoArray(d, d3);
        c31.add(FloatVector.fromArray(S, d, d3 + L, keep)).intoArray(d, d3 + L);
        c40.add(FloatVector.fromArray(S, d, d4, keep)).intoArray(d, d4);
        c41.add(FloatVector.fromArray(S, d, d4 + L, keep)).intoArray(d, d4 + L);
        c50.add(FloatVector.fromArray(S, d, d5, keep)).intoArray(d, d5);
        c51.add(FloatVector.fromArray(S, d, d5 + L, keep)).intoArray(d, d5 + L);
        c60.add(FloatVector.fromArray(S, d, d6, keep)).intoArray(d, d6);
        c61.add(FloatVector.fromArray(S, d, d6 + L, keep)).intoArray(d, d6 + L);
        c70.add(FloatVector.fromArray(S, d, d7, keep)).intoArray(d, d7);
        c71.add(FloatVector.fromArray(S, d, d7 + L, keep)).intoArray(d, d7 + L);
        c80.add(FloatVector.fromArray(S, d, d8, keep)).intoArray(d, d8);
        c81.add(FloatVector.fromArray(S, d, d8 + L, keep)).intoArray(d, d8 + L);
        c90.add(FloatVector.fromArray(S, d, d9, keep)).intoArray(d, d9);
        c91.add(FloatVector.fromArray(S, d, d9 + L, keep)).intoArray(d, d9 + L);
        c100.add(FloatVector.fromArray(S, d, d10, keep)).intoArray(d, d10);
        c101.add(FloatVector.fromArray(S, d, d10 + L, keep)).intoArray(d, d10 + L);
        c110.add(FloatVector.fromArray(S, d, d11, keep)).intoArray(d, d11);
        c111.add(FloatVector.fromArray(S, d, d11 + L, keep)).intoArray(d, d11 + L);
    }

    /** d[6 x 2L at dOff, row stride ld] (+)= packed A panel (kc x 6) @ packed B panel (kc x 2L). */
    private static void kernel6x2(float[] pa, int aOff, float[] pb, int bOff, int kc, float[] d, int dOff, int ld, VectorMask<Float> keep) {
        int d0 = dOff;
        int d1 = dOff + 1 * ld;
        int d2 = dOff + 2 * ld;
        int d3 = dOff + 3 * ld;
        int d4 = dOff + 4 * ld;
        int d5 = dOff + 5 * ld;
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        int bi = bOff;
        for (int ai = aOff, aEnd = aOff + kc * 6; ai < aEnd; ai += 6, bi += 2 * L) {
            FloatVector b0 = FloatVector.fromArray(S, pb, bi);
            FloatVector b1 = FloatVector.fromArray(S, pb, bi + L);
            FloatVector a0 = FloatVector.broadcast(S, pa[ai]);
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(S, pa[ai + 1]);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(S, pa[ai + 2]);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(S, pa[ai + 3]);
            c30 = a3.fma(b0, c30);
            c31 = a3.fma(b1, c31);
            FloatVector a4 = FloatVector.broadcast(S, pa[ai + 4]);
            c40 = a4.fma(b0, c40);
            c41 = a4.fma(b1, c41);
            FloatVector a5 = FloatVector.broadcast(S, pa[ai + 5]);
            c50 = a5.fma(b0, c50);
            c51 = a5.fma(b1, c51);
        }
        c00.add(FloatVector.fromArray(S, d, d0, keep)).intoArray(d, d0);
        c01.add(FloatVector.fromArray(S, d, d0 + L, keep)).intoArray(d, d0 + L);
        c10.add(FloatVector.fromArray(S, d, d1, keep)).intoArray(d, d1);
        c11.add(FloatVector.fromArray(S, d, d1 + L, keep)).intoArray(d, d1 + L);
        c20.add(FloatVector.fromArray(S, d, d2, keep)).intoArray(d, d2);
        c21.add(FloatVector.fromArray(S, d, d2 + L, keep)).intoArray(d, d2 + L);
        c30.add(FloatVector.fromArray(S, d, d3, keep)).intoArray(d, d3);
        c31.add(FloatVector.fromArray(S, d, d3 + L, keep)).intoArray(d, d3 + L);
        c40.add(FloatVector.fromArray(S, d, d4, keep)).intoArray(d, d4);
        c41.add(FloatVector.fromArray(S, d, d4 + L, keep)).intoArray(d, d4 + L);
        c50.add(FloatVector.fromArray(S, d, d5, keep)).intoArray(d, d5);
        c51.add(FloatVector.fromArray(S, d, d5 + L, keep)).intoArray(d, d5 + L);
    }
}
