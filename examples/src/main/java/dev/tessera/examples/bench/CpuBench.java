package dev.tessera.examples.bench;

import dev.tessera.tensor.Backends;
import dev.tessera.tensor.Parallel;
import java.lang.reflect.InvocationTargetException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bench cpu}: Tessera's CPU kernels beside libtorch (through DJL, offline) in the same
 * process. Each row warms both sides up, then alternates Tessera and libtorch samples over several
 * rounds (with a short sleep between them, as libtorch's OpenMP workers spin after each op) and
 * prints medians and their ratio. An FMA probe at the start and the end tells how busy the machine
 * was. Without DJL the table still prints Tessera's figures and says why the reference is missing.
 */
@Command(name = "cpu", mixinStandardHelpOptions = true,
        description = {"CPU kernels (GEMM, softmax, layer norm, GELU, cross entropy, AdamW, an MLP through autograd)",
                "beside libtorch, measured interleaved in the same run."})
public final class CpuBench implements Callable<Integer> {

    @Option(names = "--threads", description = "Threads for both Tessera and libtorch (default: ${DEFAULT-VALUE}).")
    int threads = Math.min(2, Parallel.threads());

    @Option(names = "--rounds", description = "Interleaved measuring rounds per row (default: ${DEFAULT-VALUE}).")
    int rounds = 11;

    @Option(names = "--warmup-ms", description = "Warm-up per side and row in milliseconds (default: ${DEFAULT-VALUE}).")
    long warmupMs = 1000;

    @Option(names = "--quick", description = "Tiny shapes and short warm-up: a smoke test, not a measurement.")
    boolean quick;

    @Option(names = "--rows", split = ",", description = "Only rows whose name contains one of these (case-insensitive), e.g. --rows gemm,softmax")
    List<String> rowFilter = new ArrayList<>();

    @Option(names = "--no-torch", description = "Skip the libtorch reference.")
    boolean noTorch;

    @Option(names = "--cache-dir", description = "Where DJL extracts libtorch (default: examples/target/djl-cache under the working directory).")
    Path cacheDir;

    @Option(names = "--list", description = "List the rows and exit.")
    boolean list;

    @Option(names = "--scaling", description = "Thread scaling instead of the main table: each GEMM row timed at 1 thread and at"
            + " --threads threads, interleaved, for Tessera and libtorch.")
    boolean scaling;

    @Option(names = "--pool", description = "The thread pool's hand-off instead of the main table: pool threads spinning between"
            + " jobs (TESSERA_SPIN_MICROS, default 1000 us) against parking at once, interleaved; no libtorch.")
    boolean pool;

    private static final long SLEEP_BETWEEN_SIDES_MS = 20;
    /**
     * Pause before the closing FMA probe, as libtorch's OpenMP workers keep spinning for a while
     * after its last op. (Closing probes far below the opening one are still seen after libtorch
     * rows, rarely without them; the host's steal time is one cause, not the only one.)
     */
    private static final long SETTLE_BEFORE_PROBE_MS = 1000;
    /** A sample repeats an op until it lasts about this long, so short ops are not timer noise. */
    private static final double SAMPLE_TARGET_MS = 20;
    /** Warm-up runs wanted beyond the warm-up time (see warm). */
    private static final int WARM_RUNS = 20;

    public static void main(String[] args) {
        System.exit(new CommandLine(new CpuBench()).execute(args));
    }

    // ---- rows -----------------------------------------------------------------------------

    /** Both sides of a row, built from the same data. */
    record Sides(Supplier<BenchOp> tessera, Function<ReferenceOps, BenchOp> torch) {}

    /**
     * A row: its data and ops are built only when it runs. flops counts 2 M N K per GEMM (0 when
     * GFLOP/s does not apply); noteKind picks the reference's remark about what it ran.
     */
    record Row(String name, String shape, double flops, boolean scalarFloor, String noteKind, BenchTargets.Kind target,
               Function<Random, Sides> prepare) {}

    static float[] randn(Random r, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextGaussian() * scale);
        return v;
    }

    private static Row gemm(String name, int m, int k, int n, boolean aT, boolean bT, boolean floor, BenchTargets.Kind target) {
        String shape = m + "x" + k + (aT ? " (A^T view)" : "") + " @ " + k + "x" + n + (bT ? " (B^T view)" : "");
        return new Row(name, shape, 2.0 * m * n * k, floor, "", target, r -> {
            float[] a = randn(r, m * k, 1), b = randn(r, k * n, 1);
            return new Sides(() -> TesseraOps.matmul(a, m, k, aT, b, n, bT), ref -> ref.matmul(a, m, k, aT, b, n, bT));
        });
    }

    private static Row rows(String name, int n, int c, String kind, boolean backward) {
        String shape = "(" + n + ", " + c + ")";
        String note = backward ? "fwdbwd" : kind.equals("gelu") ? "gelu-tanh" : kind.startsWith("ce") ? "ce" : "";
        BenchTargets.Kind target = kind.equals("neg") ? BenchTargets.Kind.NONE : BenchTargets.Kind.FUSED;
        return new Row(name, shape, 0, false, note, target, r -> {
            float[] x = randn(r, n * c, kind.startsWith("ce") ? 2 : 1);
            float[] g = backward && !kind.startsWith("ce") ? randn(r, n * c, 1) : null;
            float[] w = randn(r, c, 0.5), b = randn(r, c, 0.5);
            int[] targets = new int[n];
            for (int i = 0; i < n; i++) targets[i] = r.nextInt(c);
            return switch (kind) {
                case "softmax" -> backward
                        ? new Sides(() -> TesseraOps.softmaxForwardBackward(x, g, n, c), ref -> ref.softmaxForwardBackward(x, g, n, c))
                        : new Sides(() -> TesseraOps.softmax(x, n, c), ref -> ref.softmax(x, n, c));
                case "layernorm" -> backward
                        ? new Sides(() -> TesseraOps.layerNormForwardBackward(x, g, n, c, w, b), ref -> ref.layerNormForwardBackward(x, g, n, c, w, b))
                        : new Sides(() -> TesseraOps.layerNorm(x, n, c, w, b), ref -> ref.layerNorm(x, n, c, w, b));
                // GPT-2's tanh form on both sides (libtorch's through a TorchScript module, see TanhGeluScript)
                case "gelu" -> backward
                        ? new Sides(() -> TesseraOps.geluForwardBackward(x, g, n, c), ref -> ref.geluTanhForwardBackward(x, g, n, c))
                        : new Sides(() -> TesseraOps.gelu(x, n, c), ref -> ref.geluTanh(x, n, c));
                // the exact form, x Phi(x), on both sides (libtorch's default gelu)
                case "gelu-erf" -> backward
                        ? new Sides(() -> TesseraOps.geluErfForwardBackward(x, g, n, c), ref -> ref.geluForwardBackward(x, g, n, c))
                        : new Sides(() -> TesseraOps.geluErf(x, n, c), ref -> ref.gelu(x, n, c));
                case "ce" -> backward
                        ? new Sides(() -> TesseraOps.crossEntropyForwardBackward(x, n, c, targets), ref -> ref.crossEntropyForwardBackward(x, n, c, targets))
                        : new Sides(() -> TesseraOps.crossEntropy(x, n, c, targets), ref -> ref.crossEntropy(x, n, c, targets));
                case "neg" -> new Sides(() -> TesseraOps.neg(x, n, c), ref -> ref.neg(x, n, c));
                default -> throw new IllegalArgumentException("unknown row kind " + kind);
            };
        });
    }

    private static Row adamw(String name, int buffers, int perBuffer) {
        String shape = buffers + " x " + perBuffer + " = " + String.format(Locale.ROOT, "%.1fM", buffers * (double) perBuffer / 1e6) + " params";
        return new Row(name, shape, 0, false, "adamw", BenchTargets.Kind.FUSED, r -> {
            float[][] p = new float[buffers][], g = new float[buffers][];
            for (int i = 0; i < buffers; i++) {
                p[i] = randn(r, perBuffer, 0.02);
                g[i] = randn(r, perBuffer, 1e-3);
            }
            return new Sides(() -> TesseraOps.adamw(p, g), ref -> ref.adamw(p, g));
        });
    }

    private static Row mlp(String name, int rows, int in, int hidden) {
        String shape = rows + "x" + in + " -> " + hidden + " -> " + in + ", GELU";
        double flops = 3 * 2 * 2.0 * rows * in * hidden; // 2 GEMMs forward, 4 backward
        return new Row(name, shape, flops, false, "fwdbwd", BenchTargets.Kind.NONE, r -> {
            float[] x = randn(r, rows * in, 1), g = randn(r, rows * in, 1);
            float[] w1 = randn(r, in * hidden, 0.02), b1 = randn(r, hidden, 0.02);
            float[] w2 = randn(r, hidden * in, 0.02), b2 = randn(r, in, 0.02);
            return new Sides(() -> TesseraOps.mlpForwardBackward(x, rows, in, hidden, w1, b1, w2, b2, g),
                    ref -> ref.mlpForwardBackward(x, rows, in, hidden, w1, b1, w2, b2, g));
        });
    }

    /** The table's rows; --quick divides every size so the whole run takes seconds. */
    static List<Row> allRows(boolean quick) {
        int s = quick ? 16 : 1;
        int t = 4096 / s, c = 768 / s, h = 3072 / s, qkv = 2304 / s, vocab = quick ? 1000 : 50257;
        List<Row> rows = new ArrayList<>();
        BenchTargets.Kind gpt2 = BenchTargets.Kind.GEMM_GPT2;
        for (int n : quick ? new int[] {64, 128} : new int[] {512, 1024, 2048}) {
            rows.add(gemm("gemm " + n, n, n, n, false, false, n == 512 || quick, BenchTargets.Kind.GEMM_SQUARE));
        }
        rows.add(gemm("gpt2 qkv", t, c, qkv, false, false, false, gpt2));
        rows.add(gemm("gpt2 fc", t, c, h, false, false, false, gpt2));
        rows.add(gemm("gpt2 proj", t, h, c, false, false, false, gpt2));
        // backward of y = x @ W with W [in, out]: dX = dY @ W^T, dW = X^T @ dY
        rows.add(gemm("qkv dX", t, qkv, c, false, true, false, gpt2));
        rows.add(gemm("qkv dW", c, t, qkv, true, false, false, gpt2));
        rows.add(gemm("fc dX", t, h, c, false, true, false, gpt2));
        rows.add(gemm("fc dW", c, t, h, true, false, false, gpt2));
        rows.add(gemm("proj dX", t, c, h, false, true, false, gpt2));
        rows.add(gemm("proj dW", h, t, c, true, false, false, gpt2));
        // generating one token: a single row against a weight (few-rows path, no packing)
        rows.add(gemm("decode qkv", 1, c, qkv, false, false, false, BenchTargets.Kind.NONE));
        rows.add(gemm("decode lm head", 1, c, vocab, false, true, false, BenchTargets.Kind.NONE));
        rows.add(rows("softmax", t, c, "softmax", false));
        rows.add(rows("softmax fwd+bwd", t, c, "softmax", true));
        rows.add(rows("layernorm", t, c, "layernorm", false));
        rows.add(rows("layernorm fwd+bwd", t, c, "layernorm", true));
        // reads and writes what each GELU row does, with no arithmetic: the memory-bound floor
        rows.add(rows("neg (memory-bound)", t, c, "neg", false));
        rows.add(rows("gelu", t, c, "gelu", false));
        rows.add(rows("gelu fwd+bwd", t, c, "gelu", true));
        rows.add(rows("gelu erf", t, c, "gelu-erf", false));
        rows.add(rows("gelu erf fwd+bwd", t, c, "gelu-erf", true));
        rows.add(rows("cross entropy", t, c, "ce", false));
        rows.add(rows("cross entropy fwd+bwd", t, c, "ce", true));
        rows.add(rows("softmax vocab", t, vocab, "softmax", false));
        rows.add(rows("cross entropy vocab", t, vocab, "ce", false));
        rows.add(rows("cross entropy vocab fwd+bwd", t, vocab, "ce", true));
        rows.add(quick ? adamw("adamw", 4, 250_000) : adamw("adamw 124M", 4, 31_110_000));
        rows.add(mlp("mlp fwd+bwd (autograd)", t, c, h));
        return rows;
    }

    // ---- measuring ------------------------------------------------------------------------

    /** Result of one row. NaN where a side did not run; err* say why. */
    static final class Result {
        double tesseraMs = Double.NaN, torchMs = Double.NaN, floorMs = Double.NaN, relErr = Double.NaN;
        /** Quartiles of the per-round ratios (each Tessera sample over the libtorch sample beside it). */
        double ratioQ1 = Double.NaN, ratioQ3 = Double.NaN;
        /** Least bytes Tessera allocated per call over the samples (this thread and the pool's); -1: not measured. */
        long tesseraBytesPerCall = -1;
        String tesseraErr, torchErr;
    }

    static String reason(Throwable e) {
        Throwable t = e;
        while ((t instanceof InvocationTargetException || t instanceof ExceptionInInitializerError) && t.getCause() != null) t = t.getCause();
        String msg = t.getMessage();
        String s = t.getClass().getSimpleName() + (msg == null ? "" : ": " + msg.lines().findFirst().orElse(""));
        return s.length() > 160 ? s.substring(0, 157) + "..." : s;
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** Runs op for about ms (at least twice) and returns the time of one run in ms. */
    /**
     * Runs op once, then for at least ms milliseconds more and, within five times that, at least
     * WARM_RUNS times; returns the median of the last five runs (ms). The clock starts after the
     * first run, and runs are counted, for kernels whose first calls run interpreted for a long
     * time: exact GELU's first call took 1.4 s, after which a time-only warm-up had ended with the
     * JIT still compiling, and its row was sampled one slow call at a time (3.5-12 ms per call
     * instead of 2.4-2.6).
     */
    private static double warm(BenchOp op, long ms) {
        op.run();
        long start = System.nanoTime(), end = start + ms * 1_000_000L, cap = start + 5 * ms * 1_000_000L;
        double[] recent = new double[5];
        int runs = 0;
        long now;
        do {
            long s = System.nanoTime();
            op.run();
            now = System.nanoTime();
            recent[runs++ % recent.length] = (now - s) / 1e6;
        } while (runs < 2 || now < end || (runs < WARM_RUNS && now < cap));
        return median(recent, Math.min(runs, recent.length));
    }

    /** Runs per sample so that a sample lasts about SAMPLE_TARGET_MS (1 to 1000). */
    private static int repsFor(double onceMs) {
        return (int) Math.max(1, Math.min(1000, Math.round(SAMPLE_TARGET_MS / Math.max(onceMs, 1e-3))));
    }

    /** Mean ms per run over reps runs. */
    private static double sample(BenchOp op, int reps) {
        long t0 = System.nanoTime();
        for (int i = 0; i < reps; i++) op.run();
        return (System.nanoTime() - t0) / 1e6 / reps;
    }

    private static double median(double[] v, int n) {
        double[] s = Arrays.copyOf(v, n);
        Arrays.sort(s);
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    Result measure(Row row, ReferenceOps ref) {
        Result res = new Result();
        BenchOp tess = null, torch = null;
        try {
            Sides sides;
            try {
                sides = row.prepare().apply(new Random(row.name().hashCode()));
            } catch (Throwable e) {
                res.tesseraErr = res.torchErr = "setup failed: " + reason(e);
                return res;
            }
            if (ref != null) {
                try {
                    torch = sides.torch().apply(ref);
                } catch (Throwable e) {
                    res.torchErr = reason(e);
                }
            }
            try {
                tess = sides.tessera().get();
            } catch (Throwable e) {
                res.tesseraErr = reason(e);
            }
            sides = null; // let the raw input arrays go
            long warmMs = quick ? Math.min(warmupMs, 100) : warmupMs;
            double tessOnce = Double.NaN, torchOnce = Double.NaN;
            if (tess != null) {
                try {
                    tessOnce = warm(tess, warmMs);
                } catch (Throwable e) {
                    res.tesseraErr = reason(e);
                    tess = null;
                }
            }
            if (torch != null) {
                sleep(SLEEP_BETWEEN_SIDES_MS);
                try {
                    torchOnce = warm(torch, warmMs);
                } catch (Throwable e) {
                    res.torchErr = reason(e);
                    torch.close();
                    torch = null;
                }
            }
            int tessReps = tess == null ? 0 : repsFor(tessOnce);
            int torchReps = torch == null ? 0 : repsFor(torchOnce);
            int n = quick ? Math.min(rounds, 3) : rounds;
            double[] ts = new double[n], rs = new double[n];
            int nt = 0, nr = 0;
            long[] poolThreads = AllocationMeter.poolThreadIds();
            for (int round = 0; round < n; round++) {
                // alternate which side goes first so neither always follows the other's spin-down
                for (int side = 0; side < 2; side++) {
                    boolean tesseraTurn = (side == 0) == (round % 2 == 0);
                    if (tesseraTurn && tess != null) {
                        try {
                            long before = AllocationMeter.bytes(poolThreads);
                            ts[nt++] = sample(tess, tessReps);
                            if (before >= 0) {
                                long perCall = (AllocationMeter.bytes(poolThreads) - before) / tessReps;
                                res.tesseraBytesPerCall = res.tesseraBytesPerCall < 0 ? perCall : Math.min(res.tesseraBytesPerCall, perCall);
                            }
                        } catch (Throwable e) {
                            res.tesseraErr = reason(e);
                            tess = null;
                        }
                        sleep(SLEEP_BETWEEN_SIDES_MS);
                    } else if (!tesseraTurn && torch != null) {
                        try {
                            rs[nr++] = sample(torch, torchReps);
                        } catch (Throwable e) {
                            res.torchErr = reason(e);
                            torch = null;
                        }
                        sleep(SLEEP_BETWEEN_SIDES_MS);
                    }
                }
            }
            if (tess != null && nt > 0) res.tesseraMs = median(ts, nt);
            if (torch != null && nr > 0) res.torchMs = median(rs, nr);
            if (tess != null && torch != null && nt == n && nr == n && n >= 3) {
                double[] q = pairedQuartiles(ts, rs, n);
                res.ratioQ1 = q[0];
                res.ratioQ3 = q[1];
            }
            if (tess != null && torch != null && (row.noteKind().isEmpty() || row.noteKind().equals("gelu-tanh"))) {
                try {
                    res.relErr = relativeError(tess.output(), torch.output());
                } catch (Throwable e) {
                    // comparison is informative only; a failure here leaves the column empty
                    res.relErr = Double.NaN;
                }
            }
            if (row.scalarFloor()) res.floorMs = scalarFloor(row);
        } finally {
            if (torch != null) torch.close();
            if (tess != null) tess.close();
        }
        return res;
    }

    /** "q1-q3", or "-" when there were too few rounds. */
    private static String spread(double q1, double q3) {
        return Double.isNaN(q1) ? "-" : String.format(Locale.ROOT, "%.2f-%.2f", q1, q3);
    }

    /**
     * Quartiles of num[i] / den[i] over the rounds. Samples of one round sit next to each other in
     * time, so their ratio is less exposed to the machine's drift than the two medians are; its
     * spread shows the noise.
     */
    static double[] pairedQuartiles(double[] num, double[] den, int n) {
        double[] paired = new double[n];
        for (int i = 0; i < n; i++) paired[i] = num[i] / den[i];
        Arrays.sort(paired);
        return new double[] {paired[(n - 1) / 4], paired[n - 1 - (n - 1) / 4]};
    }

    /**
     * One row at 1 thread and at {@link #threads}: medians (ms) for Tessera 1, Tessera N,
     * libtorch 1, libtorch N, then the quartiles of each side's per-round speedup (Tessera q1, q3,
     * libtorch q1, q3; NaN with fewer than 3 rounds).
     */
    double[] measureScaling(Row row, ReferenceOps ref) {
        double[] out = new double[8];
        Arrays.fill(out, Double.NaN);
        Sides sides = row.prepare().apply(new Random(row.name().hashCode()));
        BenchOp tess = sides.tessera().get();
        BenchOp torch = ref == null ? null : sides.torch().apply(ref);
        try {
            int[] counts = {1, threads};
            BenchOp[] ops = {tess, tess, torch, torch};
            long warmMs = quick ? Math.min(warmupMs, 100) : warmupMs;
            int[] reps = new int[4];
            for (int c = 0; c < 4; c++) {
                if (ops[c] == null) continue;
                setThreads(c, counts[c % 2], ref);
                reps[c] = repsFor(warm(ops[c], warmMs));
                sleep(SLEEP_BETWEEN_SIDES_MS);
            }
            int n = quick ? Math.min(rounds, 3) : rounds;
            double[][] samples = new double[4][n];
            for (int round = 0; round < n; round++) {
                for (int i = 0; i < 4; i++) {
                    int c = (i + round) % 4; // rotate the order so that no configuration always follows another
                    if (ops[c] == null) continue;
                    setThreads(c, counts[c % 2], ref);
                    samples[c][round] = sample(ops[c], reps[c]);
                    sleep(SLEEP_BETWEEN_SIDES_MS);
                }
            }
            for (int c = 0; c < 4; c++) if (ops[c] != null) out[c] = median(samples[c], n);
            for (int side = 0; side < 2; side++) {
                if (ops[2 * side] == null || n < 3) continue;
                double[] q = pairedQuartiles(samples[2 * side], samples[2 * side + 1], n);
                out[4 + 2 * side] = q[0];
                out[5 + 2 * side] = q[1];
            }
        } finally {
            Parallel.setThreads(threads);
            if (ref != null) ref.setThreads(threads);
            if (torch != null) torch.close();
            tess.close();
        }
        return out;
    }

    private static void setThreads(int config, int n, ReferenceOps ref) {
        if (config < 2) Parallel.setThreads(n);
        else ref.setThreads(n);
    }

    /**
     * The exact GELU rows compare two kernels of different accuracy: prints each side's largest
     * relative error against x Phi(x) in double precision over intervals of the left tail.
     */
    static void printExactGeluAccuracy(ReferenceOps ref) {
        System.out.println();
        System.out.println("exact GELU, largest relative error against x Phi(x) in double precision (100,000 points per interval):");
        double[][] intervals = {{-1, 1}, {-3, -1}, {-5, -3}, {-8, -5}, {-13, -8}};
        for (double[] iv : intervals) {
            int n = 100_000;
            float[] x = new float[n];
            for (int i = 0; i < n; i++) x[i] = (float) (iv[0] + (iv[1] - iv[0]) * i / (n - 1));
            double tessera = maxRelativeToExactGelu(x, TesseraOps.geluErf(x, 1, n));
            double torch = maxRelativeToExactGelu(x, ref.gelu(x, 1, n));
            System.out.printf(Locale.ROOT, "  x in [%.0f, %.0f]: Tessera %.1e, libtorch %.1e%n", iv[0], iv[1], tessera, torch);
        }
    }

    private static double maxRelativeToExactGelu(float[] x, BenchOp op) {
        try {
            float[] y = op.output();
            double worst = 0;
            for (int i = 0; i < x.length; i++) {
                double want = x[i] * dev.tessera.tensor.SpecialFunctions.normalCdf(x[i]);
                if (want != 0) worst = Math.max(worst, Math.abs(y[i] - want) / Math.abs(want));
            }
            return worst;
        } finally {
            op.close();
        }
    }

    /** max |t - r| / max |r| over the outputs, or NaN when not comparable. */
    static double relativeError(float[] t, float[] r) {
        if (t == null || r == null || t.length != r.length) return Double.NaN;
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < t.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs((double) t[i] - r[i]));
            maxRef = Math.max(maxRef, Math.abs(r[i]));
        }
        return maxRef == 0 ? maxDiff : maxDiff / maxRef;
    }

    /** A plain scalar triple loop (i, k, j order) over float arrays: the floor a GEMM must clear. */
    private static double scalarFloor(Row row) {
        String[] dims = row.shape().split("[ x@]+");
        int m = Integer.parseInt(dims[0]), k = Integer.parseInt(dims[1]), n = Integer.parseInt(dims[3]);
        Random r = new Random(1);
        float[] a = randn(r, m * k, 1), b = randn(r, k * n, 1);
        double best = Double.MAX_VALUE;
        for (int rep = 0; rep < 3; rep++) {
            float[] c = new float[m * n];
            long t0 = System.nanoTime();
            for (int i = 0; i < m; i++) {
                for (int kk = 0; kk < k; kk++) {
                    float aik = a[i * k + kk];
                    for (int j = 0; j < n; j++) c[i * n + j] += aik * b[kk * n + j];
                }
            }
            best = Math.min(best, (System.nanoTime() - t0) / 1e6);
            if (c[0] == 12345.678f) System.out.print(""); // keep the loop's result alive
        }
        return best;
    }

    // ---- the command ----------------------------------------------------------------------

    /**
     * Runs Tessera's GEMM for about ms before anything is timed: its micro-kernel is large, C1
     * gives up on it, and it runs interpreted until C2 has compiled it, which a per-row warm-up of
     * one second does not always cover for the first GEMM row.
     */
    private static void warmGemm(long ms) {
        try {
            Random r = new Random(3);
            dev.tessera.tensor.NDArray a = dev.tessera.tensor.NDArray.fromArray(randn(r, 256 * 256, 1), 256, 256);
            dev.tessera.tensor.NDArray b = dev.tessera.tensor.NDArray.fromArray(randn(r, 256 * 256, 1), 256, 256);
            long end = System.nanoTime() + ms * 1_000_000L;
            while (System.nanoTime() < end) a.matmul(b);
        } catch (Throwable e) {
            // the GEMM rows will report the failure themselves
        }
    }

    private ReferenceOps loadTorch(StringBuilder why) {
        if (noTorch) {
            why.append("skipped (--no-torch)");
            return null;
        }
        Path dir = cacheDir;
        if (dir == null) {
            Path cwd = Path.of(System.getProperty("user.dir"));
            dir = Files.isDirectory(cwd.resolve("examples")) ? cwd.resolve("examples/target/djl-cache") : cwd.resolve("target/djl-cache");
        }
        try {
            Files.createDirectories(dir);
            return (ReferenceOps) Class.forName("dev.tessera.examples.bench.TorchReference")
                    .getConstructor(Path.class, int.class).newInstance(dir, threads);
        } catch (Throwable e) {
            why.append(reason(e)).append(" (cache dir ").append(dir).append(')');
            return null;
        }
    }

    /** Instruction-set limits set for libtorch's kernels (ATen, MKL, oneDNN) in the environment, if any. */
    static String isaLimits() {
        StringBuilder sb = new StringBuilder();
        for (String v : new String[] {"ATEN_CPU_CAPABILITY", "MKL_ENABLE_INSTRUCTIONS", "ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA"}) {
            String value = System.getenv(v);
            if (value != null && !value.isBlank()) sb.append(sb.length() == 0 ? "; limited by " : ", ").append(v).append('=').append(value.trim());
        }
        return sb.toString();
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) return line.substring(line.indexOf(':') + 1).trim();
            }
        } catch (Exception ignored) {
            // not Linux: fall through to the generic description
        }
        return System.getProperty("os.arch");
    }

    private static String fmt(double v, String pattern) { return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, pattern, v); }

    /**
     * The FMA probe's own speedup from 1 thread to {@link #threads}, interleaved: what this machine
     * gives compute-bound work at this moment (on a shared host, the second core is not always
     * all ours), so the GEMM rows can be read against it.
     */
    private void printProbeScaling(String when) {
        int n = quick ? Math.min(rounds, 3) : rounds;
        double[][] p = FmaProbe.scaling(threads, n, quick ? 20 : 100);
        double one = median(p[0], n), all = median(p[1], n);
        double[] q = pairedQuartiles(p[1], p[0], n);
        System.out.printf(Locale.ROOT, "FMA probe %s: 1 thread %.1f GFLOP/s, %d threads %.1f GFLOP/s, speedup %.2fx (q1-q3 %.2f-%.2f, %d rounds): "
                + "the ceiling for compute-bound rows%n", when, one, threads, all, all / one, q[0], q[1], n);
    }

    private void runScaling(List<Row> rows, ReferenceOps ref, double probeStart) {
        String head = String.format(Locale.ROOT, "%-16s %-34s %9s %9s %8s %11s %11s %11s %8s %11s",
                "row", "shape", "T 1t ms", "T " + threads + "t ms", "T x", "T q1-q3", "torch 1t ms", "torch " + threads + "t ms", "torch x", "torch q1-q3");
        System.out.println("thread scaling: 1 thread vs " + threads + " threads, the four configurations interleaved in every round");
        printProbeScaling("before the rows");
        System.out.println(head);
        System.out.println("-".repeat(head.length()));
        List<BenchTargets.Outcome> outcomes = new ArrayList<>();
        for (Row row : rows) {
            if (row.flops() <= 0) continue; // GEMM rows only
            System.err.println("[bench] scaling " + row.name() + " " + row.shape() + " ...");
            double[] m;
            try {
                m = measureScaling(row, ref);
            } catch (Throwable e) {
                System.out.println(row.name() + ": failed: " + reason(e));
                outcomes.add(new BenchTargets.Outcome(row.name(), row.target(), Double.NaN));
                continue;
            }
            outcomes.add(new BenchTargets.Outcome(row.name(), row.target(), m[0] / m[1]));
            System.out.println(String.format(Locale.ROOT, "%-16s %-34s %9s %9s %8s %11s %11s %11s %8s %11s", row.name(), row.shape(),
                    fmt(m[0], "%.2f"), fmt(m[1], "%.2f"), fmt(m[0] / m[1], "%.2f"), spread(m[4], m[5]),
                    fmt(m[2], "%.2f"), fmt(m[3], "%.2f"), fmt(m[2] / m[3], "%.2f"), spread(m[6], m[7])));
            System.out.flush();
            System.gc();
        }
        sleep(SETTLE_BEFORE_PROBE_MS);
        System.out.println();
        printProbeScaling("after the rows");
        double probeEnd = FmaProbe.allThreads(threads, quick ? 200 : 500);
        System.out.printf(Locale.ROOT, "FMA probe %.1f GFLOP/s on %d thread(s) at end (start %.1f)%n", probeEnd, threads, probeStart);
        System.out.println("x is the speedup of " + threads + " threads over 1 (time at 1 thread / time at " + threads + ", medians);"
                + " q1-q3: quartiles of the per-round speedups, the run's noise.");
        System.out.println(quick ? BenchTargets.NOT_CHECKED_QUICK : BenchTargets.scalingSummary(outcomes, threads));
    }

    @Override
    public Integer call() {
        if (threads < 1) throw new CommandLine.ParameterException(new CommandLine(this), "--threads must be >= 1");
        if (rounds < 1) throw new CommandLine.ParameterException(new CommandLine(this), "--rounds must be >= 1");
        List<Row> rows = new ArrayList<>();
        for (Row r : allRows(quick)) {
            if (rowFilter.isEmpty() || rowFilter.stream().anyMatch(f -> r.name().toLowerCase(Locale.ROOT).contains(f.toLowerCase(Locale.ROOT)))) rows.add(r);
        }
        if (list) {
            for (Row r : allRows(quick)) System.out.println(r.name() + "  " + r.shape());
            return 0;
        }
        if (pool) {
            PoolBench.run(threads, rounds, quick);
            return 0;
        }
        Parallel.setThreads(threads);
        String backend;
        try {
            backend = Backends.cpu().describe();
        } catch (Throwable e) {
            backend = "unavailable: " + reason(e);
        }
        StringBuilder why = new StringBuilder();
        ReferenceOps ref = loadTorch(why);
        try {
            System.out.println("Tessera bench cpu" + (quick ? " --quick (tiny shapes: a smoke test, not a measurement)" : ""));
            System.out.println("date      " + ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ISO_LOCAL_DATE_TIME).substring(0, 19) + " UTC");
            System.out.println("machine   " + cpuModel() + ", " + Runtime.getRuntime().availableProcessors() + " logical CPUs, "
                    + System.getProperty("os.name") + " " + System.getProperty("os.version"));
            System.out.println("JDK       " + System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version")
                    + ", max heap " + Runtime.getRuntime().maxMemory() / (1 << 20) + " MiB");
            System.out.println("Tessera   " + backend + "; threads " + threads);
            System.out.println(ref != null ? "reference " + ref.describe() + isaLimits() : "libtorch reference unavailable: " + why);
            warmGemm(quick ? 300 : 3000);
            double probeStart = FmaProbe.allThreads(threads, quick ? 200 : 500);
            System.out.printf(Locale.ROOT, "FMA probe %.1f GFLOP/s on %d thread(s) at start%n", probeStart, threads);
            System.out.println("timing    medians of " + (quick ? Math.min(rounds, 3) : rounds) + " interleaved rounds per row (Tessera, libtorch alternating), "
                    + (quick ? Math.min(warmupMs, 100) : warmupMs) + " ms warm-up per side (after " + (quick ? 300 : 3000) + " ms of GEMM JIT warm-up), " + SLEEP_BETWEEN_SIDES_MS + " ms pause after each block (both sides' threads spin for a while after work)");
            System.out.println();

            if (scaling) {
                runScaling(rows, ref, probeStart);
                return 0;
            }
            String head = String.format(Locale.ROOT, "%-28s %-34s %10s %10s %8s %11s %8s %8s %7s %9s %9s  %s",
                    "row", "shape", "Tessera ms", "torch ms", "T/torch", "q1-q3", "T GF/s", "torch GF/s", "T %peak", "floor ms", "rel err", "note");
            System.out.println(head);
            System.out.println("-".repeat(head.length()));
            List<BenchTargets.Outcome> outcomes = new ArrayList<>();
            List<AllocationMeter.RowAllocation> allocations = new ArrayList<>();
            for (Row row : rows) {
                System.err.println("[bench] " + row.name() + " " + row.shape() + " ...");
                Result r = measure(row, ref);
                double ratio = r.tesseraMs / r.torchMs;
                outcomes.add(new BenchTargets.Outcome(row.name(), row.target(), ratio));
                // autograd rows allocate their graph by design; the others should not allocate per element
                if (row.target() != BenchTargets.Kind.NONE) allocations.add(new AllocationMeter.RowAllocation(row.name(), r.tesseraBytesPerCall));
                double tg = row.flops() > 0 ? row.flops() / r.tesseraMs / 1e6 : Double.NaN;
                double rg = row.flops() > 0 ? row.flops() / r.torchMs / 1e6 : Double.NaN;
                String note = ref == null ? "" : ref.note(row.noteKind());
                if (r.tesseraErr != null) note = "Tessera n/a: " + r.tesseraErr + (note.isEmpty() ? "" : "; " + note);
                if (r.torchErr != null) note = note + (note.isEmpty() ? "" : "; ") + "libtorch n/a: " + r.torchErr;
                String spread = spread(r.ratioQ1, r.ratioQ3);
                System.out.println(String.format(Locale.ROOT, "%-28s %-34s %10s %10s %8s %11s %8s %8s %7s %9s %9s  %s",
                        row.name(), row.shape(), fmt(r.tesseraMs, "%.3f"), fmt(r.torchMs, "%.3f"), fmt(ratio, "%.2f"), spread,
                        fmt(tg, "%.0f"), fmt(rg, "%.0f"), fmt(100 * tg / probeStart, "%.0f%%"), fmt(r.floorMs, "%.1f"),
                        fmt(r.relErr, "%.1e"), note));
                System.out.flush();
                System.gc();
            }
            sleep(SETTLE_BEFORE_PROBE_MS);
            double probeEnd = FmaProbe.allThreads(threads, quick ? 200 : 500);
            System.out.println();
            System.out.printf(Locale.ROOT, "FMA probe %.1f GFLOP/s on %d thread(s) at end (start %.1f)%n", probeEnd, threads, probeStart);
            double drift = Math.abs(probeEnd - probeStart) / Math.max(probeStart, probeEnd);
            if (drift > 0.15) {
                System.out.printf(Locale.ROOT, "WARNING: noisy run: the FMA probe moved by %.0f%% between start and end; compare ratios within rows only.%n", 100 * drift);
            }
            System.out.println("T/torch is Tessera's time over libtorch's (below 1: Tessera faster), the ratio of the two medians;"
                    + " q1-q3: quartiles of the per-round ratios (Tessera's sample over libtorch's beside it), the run's noise.");
            System.out.println("GF/s counts 2MNK per GEMM;"
                    + " %peak is against the start probe. rel err: max|T - torch| / max|torch| where both compute the same function.");
            System.out.println("Tessera closes each output once used (libtorch frees its tensors), so kernels reuse recycled arrays: "
                    + dev.tessera.tensor.CpuArrayPool.report());
            System.out.println();
            if (quick) System.out.println(BenchTargets.NOT_CHECKED_QUICK);
            else BenchTargets.summary(outcomes).forEach(System.out::println);
            AllocationMeter.summary(allocations).forEach(System.out::println);
            if (ref != null && rows.stream().anyMatch(r -> r.name().equals("gelu erf"))) printExactGeluAccuracy(ref);
        } finally {
            if (ref != null) ref.close();
        }
        return 0;
    }
}
