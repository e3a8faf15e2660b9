package dev.tessera.examples.bench;

import dev.tessera.tensor.Parallel;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code bench cpu --pool}: what the pool's threads spinning between jobs buys against parking at
 * once ({@link Parallel#setSpinMicros}), the two settings interleaved round by round in one
 * process. Measures the hand-off itself (time from handing out a job to a pool thread's first
 * task) and small GEMMs, whose three parallel phases each pay it.
 */
final class PoolBench {
    /** Each job: one task per thread, each busy for this long, and this pause between jobs. */
    private static final long TASK_NANOS = 30_000, PAUSE_NANOS = 20_000;
    private static final int JOBS_PER_SAMPLE = 200;
    private static final int[] GEMM_SIZES = {256, 512};

    private PoolBench() {}

    static void run(int threads, int rounds, boolean quick) {
        long configured = Parallel.spinMicros();
        long spin = configured > 0 ? configured : Parallel.DEFAULT_SPIN_MICROS;
        long[] settings = {spin, 0};
        Parallel.setThreads(threads);
        int n = quick ? Math.min(rounds, 3) : rounds;
        System.out.println("Tessera bench cpu --pool, " + java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC)
                .format(java.time.format.DateTimeFormatter.ISO_LOCAL_DATE_TIME).substring(0, 19) + " UTC, "
                + Runtime.getRuntime().availableProcessors() + " logical CPUs, JDK " + System.getProperty("java.runtime.version"));
        System.out.println("pool hand-off: pool threads spinning " + spin + " us between jobs against parking at once, "
                + threads + " threads, " + n + " rounds, the two settings alternating in every round");
        if (threads < 2) {
            System.out.println("nothing to measure with one thread (use --threads 2 or more)");
            return;
        }
        double[][] latency = new double[2][n], alone = new double[2][n];
        double[][][] gemm = new double[GEMM_SIZES.length][2][n];
        BenchOp[] products = new BenchOp[GEMM_SIZES.length];
        Random random = new Random(7);
        for (int g = 0; g < GEMM_SIZES.length; g++) {
            int s = GEMM_SIZES[g];
            products[g] = TesseraOps.matmul(CpuBench.randn(random, s * s, 1), s, s, false, CpuBench.randn(random, s * s, 1), s, false);
        }
        try {
            // the GEMM's kernels run interpreted until C2 has compiled them (1-3 s)
            long warmEnd = System.nanoTime() + (quick ? 300 : 3000) * 1_000_000L;
            while (System.nanoTime() < warmEnd) for (BenchOp p : products) p.run();
            for (int round = -2; round < n; round++) { // two warm-up rounds
                for (int k = 0; k < 2; k++) {
                    int setting = (k + Math.max(round, 0)) % 2; // alternate which setting goes first
                    Parallel.setSpinMicros(settings[setting]);
                    CpuBench.sleep(5); // let threads left spinning by the other setting park
                    double[] handOff = handOff(threads);
                    for (int g = 0; g < GEMM_SIZES.length; g++) {
                        products[g].run();
                        long t0 = System.nanoTime();
                        int reps = quick ? 3 : 20;
                        for (int i = 0; i < reps; i++) products[g].run();
                        if (round >= 0) gemm[g][setting][round] = (System.nanoTime() - t0) / 1e6 / reps;
                    }
                    if (round >= 0) {
                        latency[setting][round] = handOff[0];
                        alone[setting][round] = handOff[1];
                    }
                }
            }
        } finally {
            Parallel.setSpinMicros(configured);
            for (BenchOp p : products) p.close();
        }
        System.out.printf(Locale.ROOT, "%-44s %12s %12s %10s%n", "", "spin " + spin + " us", "park at once", "spin/park");
        System.out.printf(Locale.ROOT, "%-44s %12.1f %12.1f %10.2f%n", "hand-off: us to a pool thread's first task",
                median(latency[0]), median(latency[1]), median(latency[0]) / median(latency[1]));
        System.out.printf(Locale.ROOT, "%-44s %11.0f%% %11.0f%%%n", "jobs finished before a helper arrived",
                100 * median(alone[0]), 100 * median(alone[1]));
        for (int g = 0; g < GEMM_SIZES.length; g++) {
            int s = GEMM_SIZES[g];
            double a = median(gemm[g][0]), b = median(gemm[g][1]);
            System.out.printf(Locale.ROOT, "%-44s %12.3f %12.3f %10.2f%n", "GEMM " + s + "^3 at " + threads + " threads, ms", a, b, a / b);
        }
        System.out.println("hand-off: jobs of " + threads + " tasks of " + TASK_NANOS / 1000 + " us, " + PAUSE_NANOS / 1000
                + " us apart, " + JOBS_PER_SAMPLE + " per sample; medians over the rounds of each sample's median.");
    }

    /**
     * Median microseconds from handing out a job to the first task a pool thread starts (jobs the
     * caller finished alone excluded), and the share of jobs the caller finished alone.
     */
    private static double[] handOff(int threads) {
        double[] waits = new double[JOBS_PER_SAMPLE];
        int counted = 0, callerAlone = 0;
        Thread caller = Thread.currentThread();
        for (int j = 0; j < JOBS_PER_SAMPLE; j++) {
            AtomicLong firstHelper = new AtomicLong(Long.MAX_VALUE);
            AtomicBoolean helped = new AtomicBoolean();
            long submitted = System.nanoTime();
            Parallel.forEach(threads, i -> {
                long start = System.nanoTime();
                if (Thread.currentThread() != caller) {
                    helped.set(true);
                    firstHelper.accumulateAndGet(start, Math::min);
                }
                while (System.nanoTime() - start < TASK_NANOS) Thread.onSpinWait();
            });
            if (helped.get()) waits[counted++] = (firstHelper.get() - submitted) / 1e3;
            else callerAlone++;
            long pauseEnd = System.nanoTime() + PAUSE_NANOS;
            while (System.nanoTime() < pauseEnd) Thread.onSpinWait();
        }
        return new double[] {counted == 0 ? Double.NaN : median(Arrays.copyOf(waits, counted)), callerAlone / (double) JOBS_PER_SAMPLE};
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }
}
