package dev.tessera.tensor;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;

/**
 * The one thread pool all CPU kernels share. Its size is {@code TESSERA_THREADS} (environment
 * variable or system property {@code tessera.threads}) or the number of cores, and can be changed
 * with {@link #setThreads(int)}.
 *
 * <p>Work is handed out from a shared counter rather than split statically, so a slow core does
 * not hold the others back. Calls made from inside a pool thread, or from inside a task the
 * calling thread runs, run serially (no nested fan-out). Calls from several threads at once take
 * turns.
 *
 * <p>Between jobs the pool threads spin for a while ({@code TESSERA_SPIN_MICROS} or system
 * property {@code tessera.spin.micros}, default {@value #DEFAULT_SPIN_MICROS} microseconds, or
 * {@link #setSpinMicros(long)}) before
 * they park, as OpenMP runtimes do: waking a parked thread took 10-35 us on the development
 * machine (a VM), longer than many kernels' whole parallel phase, so back-to-back kernels and the
 * phases of one kernel (the GEMM's packing and tiles) lost their second thread. Set it to 0 to
 * park at once (for machines shared with other busy processes).
 */
public final class Parallel {
    /** Spin time of the pool's threads between jobs when TESSERA_SPIN_MICROS is not set, in microseconds. */
    public static final int DEFAULT_SPIN_MICROS = 1000;
    /** Names of the pool's threads start with this (tools that count per-thread work find them by it). */
    public static final String WORKER_NAME_PREFIX = "tessera-worker-";
    private static volatile long spinNanos = parseSpinMicros() * 1000L;

    private static volatile Pool pool;
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

    private static long parseSpinMicros() {
        String s = System.getProperty("tessera.spin.micros", System.getenv("TESSERA_SPIN_MICROS"));
        if (s == null || s.isBlank()) return DEFAULT_SPIN_MICROS;
        try {
            long v = Long.parseLong(s.trim());
            if (v >= 0) return v;
        } catch (NumberFormatException ignored) {
            // fall through to the error below
        }
        throw new IllegalArgumentException("TESSERA_SPIN_MICROS must be a non-negative integer (microseconds), got '" + s + "'");
    }

    /** Number of threads kernels use (including the calling thread). */
    public static int threads() { return threads; }

    /** How long pool threads spin for new work before they park, in microseconds. */
    public static long spinMicros() { return spinNanos / 1000; }

    /** Sets how long pool threads spin for new work before they park (0: park at once); takes effect at once. */
    public static void setSpinMicros(long micros) {
        if (micros < 0) throw new IllegalArgumentException("spin time must be >= 0 microseconds, got " + micros);
        spinNanos = micros * 1000L;
    }

    /**
     * Sets the number of threads kernels use; takes effect for the next kernel. Lowering it keeps
     * the pool's threads (the spare ones park and are not woken); raising it past the pool's size
     * replaces the pool.
     */
    public static synchronized void setThreads(int n) {
        if (n < 1) throw new IllegalArgumentException("thread count must be >= 1, got " + n);
        threads = n;
        Pool old = pool;
        if (old != null && old.workers.length < n - 1) {
            pool = null;
            old.shutdown();
        }
    }

    private static Pool pool() {
        Pool p = pool;
        if (p == null) {
            synchronized (Parallel.class) {
                p = pool;
                if (p == null) {
                    p = new Pool(Math.max(1, threads - 1));
                    pool = p;
                }
            }
        }
        return p;
    }

    /**
     * Runs body(i) for every i in [0, tasks) on up to {@link #threads()} threads, the caller
     * included, and returns when all are done. The first exception from any task is rethrown
     * (tasks not yet started are then skipped).
     */
    public static void forEach(int tasks, IntConsumer body) {
        int n = Math.min(threads, tasks);
        if (n <= 1 || Thread.currentThread() instanceof Worker) {
            for (int i = 0; i < tasks; i++) body.accept(i);
            return;
        }
        Pool p = pool();
        if (p.lock.isHeldByCurrentThread()) { // called from a task this thread runs
            for (int i = 0; i < tasks; i++) body.accept(i);
            return;
        }
        p.lock.lock();
        try {
            Job job = new Job(++p.jobs, tasks, body, n - 1);
            p.publish(job, n - 1);
            job.work();
            job.awaitHelpers();
            Throwable failure = job.failure.get();
            if (failure instanceof RuntimeException e) throw e;
            if (failure instanceof Error e) throw e;
            if (failure != null) throw new IllegalStateException(failure);
        } finally {
            p.current = null; // the job's body holds the kernel's arrays
            p.lock.unlock();
        }
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

    /** One forEach call: tasks handed out from a counter to the caller and up to maxHelpers pool threads. */
    private static final class Job {
        final long id;
        final int tasks;
        final IntConsumer body;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger helperSlots;
        final AtomicInteger active = new AtomicInteger();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final Thread caller = Thread.currentThread();
        volatile boolean callerParked;

        Job(long id, int tasks, IntConsumer body, int maxHelpers) {
            this.id = id;
            this.tasks = tasks;
            this.body = body;
            this.helperSlots = new AtomicInteger(maxHelpers);
        }

        /** Takes tasks until none are left. A thread counts itself active before it takes any. */
        void work() {
            active.incrementAndGet();
            try {
                for (int i; (i = next.getAndIncrement()) < tasks; ) body.accept(i);
            } catch (Throwable e) {
                failure.compareAndSet(null, e);
                next.set(tasks); // stop handing out work
            } finally {
                if (active.decrementAndGet() == 0 && callerParked) LockSupport.unpark(caller);
            }
        }

        /** Works on the job if a helper slot is left; whether it did. */
        boolean help() {
            if (helperSlots.getAndDecrement() <= 0) return false;
            work();
            return true;
        }

        /**
         * Returns once no helper is inside a task. Called after the caller's own work() returned,
         * i.e. after every task was handed out; a helper that arrives later finds none left and
         * touches nothing but the counters.
         */
        void awaitHelpers() {
            long start = System.nanoTime();
            while (active.get() != 0) {
                if (System.nanoTime() - start < spinNanos) {
                    Thread.onSpinWait();
                } else {
                    callerParked = true;
                    if (active.get() != 0) LockSupport.park(this);
                    callerParked = false;
                }
            }
        }
    }

    /** Pool threads: run each published job once, spin for spinNanos after it, then park. */
    private static final class Pool {
        final ReentrantLock lock = new ReentrantLock();
        final Worker[] workers;
        long jobs; // ids handed out, under lock
        volatile Job current;
        volatile boolean shutdown;

        Pool(int size) {
            workers = new Worker[size];
            for (int i = 0; i < size; i++) {
                workers[i] = new Worker(this, i);
                workers[i].start();
            }
        }

        /** Makes the job visible to spinning threads and wakes parked ones, as many as it has helper slots. */
        void publish(Job job, int helpers) {
            current = job;
            for (int i = 0; i < Math.min(helpers, workers.length); i++) if (workers[i].parked) LockSupport.unpark(workers[i]);
        }

        /**
         * The published job if its id is not seen, else null. Workers read current only through
         * this, so a finished job never sits in a parked worker's frame (interpreted frames keep
         * dead locals reachable) and with it the arrays its tasks capture.
         */
        Job jobAfter(long seen) {
            Job job = current;
            return job != null && job.id != seen ? job : null;
        }

        void shutdown() {
            shutdown = true;
            for (Worker w : workers) LockSupport.unpark(w);
        }
    }

    private static final class Worker extends Thread {
        private final Pool owner;
        volatile boolean parked;

        Worker(Pool owner, int index) {
            super(WORKER_NAME_PREFIX + index);
            this.owner = owner;
            setDaemon(true);
        }

        @Override
        public void run() {
            long seen = 0; // the last job id taken up: an id, so that no job (and the arrays its tasks capture) stays referenced
            long idleSince = System.nanoTime();
            while (!owner.shutdown) {
                Job job = owner.jobAfter(seen);
                if (job != null) {
                    seen = job.id;
                    // a thread left out (threads lowered, or fewer tasks) keeps counting its idle time
                    if (job.help()) idleSince = System.nanoTime();
                } else if (System.nanoTime() - idleSince < spinNanos) {
                    Thread.onSpinWait();
                } else {
                    // publish() writes current, then reads parked; we write parked, then read
                    // current: one of the two sees the other's write, so no job is missed
                    parked = true;
                    if (owner.jobAfter(seen) == null && !owner.shutdown) LockSupport.park(this);
                    parked = false;
                    idleSince = System.nanoTime();
                }
            }
        }
    }
}
