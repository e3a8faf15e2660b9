package dev.tessera.examples.bench;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Register-only FMA throughput: 16 independent vector FMA chains per thread, no memory traffic.
 * What a perfect kernel could reach right now (median of short windows); a drop between the
 * start and the end of a run means the machine was busy (or its clock changed) while measuring.
 */
final class FmaProbe {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static volatile float sink;

    private FmaProbe() {}

    /** GFLOP/s of one thread running the FMA loop for about millis. */
    static double singleThread(long millis) {
        return singleThread(millis, true);
    }

    /** As above; without warm-up when the loop has been compiled already (repeated probes). */
    static double singleThread(long millis, boolean warm) {
        // Many short calls get the loop compiled by C2 before timing (a few long ones would not).
        long warmEnd = System.nanoTime() + 300_000_000L;
        for (int i = 0; warm && (i < 20_000 || System.nanoTime() < warmEnd); i++) {
            burst(500);
            if (i > 200_000) break;
        }
        // Many short windows and their median: one window that hits a recompilation of the loop
        // (which happens after long runs, when classes loaded meanwhile invalidate its code)
        // cannot drag the figure down the way one long timed call could.
        long end = System.nanoTime() + millis * 1_000_000L;
        double[] rates = new double[4096];
        int n = 0;
        while ((System.nanoTime() < end || n < 5) && n < rates.length) {
            long t0 = System.nanoTime();
            long flops = burst(50_000);
            rates[n++] = flops / (double) (System.nanoTime() - t0);
        }
        java.util.Arrays.sort(rates, 0, n);
        return rates[n / 2];
    }

    /** Summed GFLOP/s of threads running the loop at the same time. */
    static double allThreads(int threads, long millis) {
        return allThreads(threads, millis, true);
    }

    /** As above, warming the loop up first or not. */
    static double allThreads(int threads, long millis, boolean warm) {
        double[] result = new double[threads];
        Thread[] ts = new Thread[threads];
        for (int i = 0; i < threads; i++) {
            int id = i;
            ts[i] = new Thread(() -> result[id] = singleThread(millis, warm), "fma-probe-" + i);
            ts[i].start();
        }
        double sum = 0;
        for (int i = 0; i < threads; i++) {
            try {
                ts[i].join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while probing", e);
            }
            sum += result[i];
        }
        return sum;
    }

    /**
     * The machine's own thread scaling right now, the ceiling for compute-bound work: the probe on
     * 1 thread and on threads, alternating for rounds rounds of about millis each. Returns the
     * per-round GFLOP/s, [0] at 1 thread and [1] at threads.
     */
    static double[][] scaling(int threads, int rounds, long millis) {
        allThreads(threads, 50, true);
        double[][] samples = new double[2][rounds];
        for (int r = 0; r < rounds; r++) {
            // alternate which goes first, so that neither always follows the other
            for (int i = 0; i < 2; i++) {
                int config = (i + r) % 2;
                samples[config][r] = allThreads(config == 0 ? 1 : threads, millis, false);
            }
        }
        return samples;
    }

    /**
     * Runs iters iterations of 16 FMAs and returns the flops done. Must stay a separate compiled
     * method: when C2 inlined an earlier, smaller version (under the 325-byte FreqInlineSize) into
     * the timing loop of {@link #singleThread}, it spilled the accumulators to the stack on every
     * iteration and the probe read a third of the machine's speed at the end of every bench run.
     * Sixteen chains keep the bytecode above that size, so C2 compiles it on its own.
     */
    private static long burst(int iters) {
        FloatVector m = FloatVector.broadcast(S, 0.999999f), c = FloatVector.broadcast(S, 1e-7f);
        FloatVector a0 = FloatVector.broadcast(S, 1f), a1 = a0.add(1e-3f), a2 = a0.add(2e-3f), a3 = a0.add(3e-3f);
        FloatVector a4 = a0.add(4e-3f), a5 = a0.add(5e-3f), a6 = a0.add(6e-3f), a7 = a0.add(7e-3f);
        FloatVector a8 = a0.add(8e-3f), a9 = a0.add(9e-3f), a10 = a0.add(1e-2f), a11 = a0.add(1.1e-2f);
        FloatVector a12 = a0.add(1.2e-2f), a13 = a0.add(1.3e-2f), a14 = a0.add(1.4e-2f), a15 = a0.add(1.5e-2f);
        for (int i = 0; i < iters; i++) {
            a0 = a0.fma(m, c); a1 = a1.fma(m, c); a2 = a2.fma(m, c); a3 = a3.fma(m, c);
            a4 = a4.fma(m, c); a5 = a5.fma(m, c); a6 = a6.fma(m, c); a7 = a7.fma(m, c);
            a8 = a8.fma(m, c); a9 = a9.fma(m, c); a10 = a10.fma(m, c); a11 = a11.fma(m, c);
            a12 = a12.fma(m, c); a13 = a13.fma(m, c); a14 = a14.fma(m, c); a15 = a15.fma(m, c);
        }
        sink = a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11)
                .add(a12).add(a13).add(a14).add(a15).reduceLanes(VectorOperators.ADD);
        return 2L * S.length() * 16 * iters;
    }
}
