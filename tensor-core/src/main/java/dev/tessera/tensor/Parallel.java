package dev.tessera.tensor;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * The one thread pool all CPU kernels share. Its size is {@code TESSERA_THREADS} (environment
 * variable or system property {@code tessera.threads}) or the number of cores, and can be changed
 * with {@link #setThreads(int)}.
 *
 * <p>Work is handed out from a shared counter rather than split statically, so a slow core does
 * not hold the others back. Calls made from inside a pool thread run serially (no nested fan-out).
 */
public final class Parallel {
    private static volatile ForkJoinPool pool;
    private static volatile int threads = initialThreads();

    private Parallel() {}

    private static int initialThreads() {
        String s = System.getProperty("tessera.threads", System.getenv("TESSERA_THREADS"));
        if (s != null && !s.isBlank()) {
            try {
                int n = Integer.parseInt(s.trim());
                if (n >= 1) return n;
            } catch (NumberFormatException ignored) {
                // fall through to the error below
            }
            throw new IllegalArgumentException("TESSERA_THREADS must be a positive integer, got '" + s + "'");
        }
        return Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    /** Number of threads kernels use (including the calling thread). */
    public static int threads() { return threads; }

    /** Sets the number of threads kernels use; takes effect for the next kernel. */
    public static synchronized void setThreads(int n) {
        if (n < 1) throw new IllegalArgumentException("thread count must be >= 1, got " + n);
        if (n != threads) {
            ForkJoinPool old = pool;
            pool = null;
            threads = n;
            if (old != null) old.shutdown();
        }
    }

    private static ForkJoinPool pool() {
        ForkJoinPool p = pool;
        if (p == null) {
            synchronized (Parallel.class) {
                p = pool;
                if (p == null) {
                    p = new ForkJoinPool(Math.max(1, threads - 1), fj -> {
                        var t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(fj);
                        t.setName("tessera-worker-" + t.getPoolIndex());
                        t.setDaemon(true);
                        return t;
                    }, null, false);
                    pool = p;
                }
            }
        }
        return p;
    }

    /**
     * Runs body(i) for every i in [0, tasks) on up to {@link #threads()} threads, the caller
     * included, and returns when all are done. Exceptions from any task are rethrown.
     */
    public static void forEach(int tasks, IntConsumer body) {
        int n = Math.min(threads, tasks);
        if (n <= 1 || ForkJoinTask.inForkJoinPool()) {
            for (int i = 0; i < tasks; i++) body.accept(i);
            return;
        }
        AtomicInteger next = new AtomicInteger();
        Runnable worker = () -> {
            for (int i; (i = next.getAndIncrement()) < tasks; ) body.accept(i);
        };
        ForkJoinPool p = pool();
        ForkJoinTask<?>[] helpers = new ForkJoinTask<?>[n - 1];
        for (int h = 0; h < helpers.length; h++) helpers[h] = p.submit(worker);
        RuntimeException failure = null;
        try {
            worker.run();
        } catch (RuntimeException | Error e) {
            next.set(tasks); // stop handing out work
            failure = e instanceof RuntimeException re ? re : new RuntimeException(e);
        }
        for (ForkJoinTask<?> h : helpers) {
            try {
                h.join();
            } catch (RuntimeException e) {
                if (failure == null) failure = e;
            }
        }
        if (failure != null) throw failure;
    }

    /**
     * Splits [0, n) into chunks of at least minChunk elements (about 4 per thread) and runs
     * body(start, end) on each in parallel.
     */
    public static void forRange(int n, int minChunk, RangeBody body) {
        if (n <= 0) return;
        int chunk = Math.max(Math.max(1, minChunk), (n + threads * 4 - 1) / (threads * 4));
        int tasks = (n + chunk - 1) / chunk;
        if (tasks == 1) {
            body.run(0, n);
            return;
        }
        final int c = chunk;
        forEach(tasks, t -> body.run(t * c, Math.min(n, (t + 1) * c)));
    }

    @FunctionalInterface
    public interface RangeBody {
        void run(int start, int end);
    }
}
