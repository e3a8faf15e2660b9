package dev.tessera.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The shared pool: every task once, failures rethrown, nested and concurrent calls, thread changes. */
class ParallelTest {
    private int saved;

    @BeforeEach
    void save() { saved = Parallel.threads(); }

    @AfterEach
    void restore() { Parallel.setThreads(saved); }

    /** Runs tasks that each stay busy for the given time, plus extra work per task; returns the names of the threads that ran them. */
    private static Set<String> threadsRunning(int tasks, long nanosPerTask, IntConsumer alsoDo) {
        Set<String> names = ConcurrentHashMap.newKeySet();
        Parallel.forEach(tasks, i -> {
            alsoDo.accept(i);
            names.add(Thread.currentThread().getName());
            long end = System.nanoTime() + nanosPerTask;
            while (System.nanoTime() < end) Thread.onSpinWait();
        });
        return names;
    }

    private static boolean poolThreadAmong(Set<String> names) {
        return names.stream().anyMatch(n -> n.startsWith(Parallel.WORKER_NAME_PREFIX));
    }

    private static void assertEachOnce(AtomicIntegerArray runs) {
        for (int i = 0; i < runs.length(); i++) assertEquals(1, runs.get(i), "task " + i);
    }

    @Test
    void everyTaskRunsExactlyOnceAtEveryThreadCount() {
        for (int threads : new int[] {1, 2, 3, 5}) {
            Parallel.setThreads(threads);
            for (int tasks : new int[] {0, 1, 2, 7, 1000}) {
                for (int repeat = 0; repeat < 20; repeat++) { // back to back: pool threads still spinning
                    AtomicIntegerArray runs = new AtomicIntegerArray(tasks);
                    Parallel.forEach(tasks, runs::incrementAndGet);
                    assertEachOnce(runs);
                }
            }
        }
    }

    @Test
    void workIsSharedWithPoolThreads() {
        Parallel.setThreads(3);
        // tasks long enough (1 ms each) that pool threads take some however late they wake
        Set<String> names = threadsRunning(30, 1_000_000, i -> { });
        assertTrue(poolThreadAmong(names), "pool threads took no task: " + names);
        assertTrue(names.contains(Thread.currentThread().getName()), "the caller takes tasks too: " + names);
    }

    @Test
    void loweringTheThreadCountLimitsHowManyThreadsTakeTasks() {
        Parallel.setThreads(4);
        Parallel.forEach(8, i -> { }); // the pool now has 3 threads
        Parallel.setThreads(2);
        for (int repeat = 0; repeat < 5; repeat++) {
            Set<String> names = threadsRunning(40, 200_000, i -> { });
            assertTrue(names.size() <= 2, "more threads than set took tasks: " + names);
        }
    }

    @Test
    void firstFailureIsRethrownAndThePoolStaysUsable() {
        Parallel.setThreads(2);
        IllegalStateException boom = new IllegalStateException("task 13 failed");
        IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> Parallel.forEach(100, i -> {
            if (i == 13) throw boom;
        }));
        assertSame(boom, thrown);
        AssertionError error = new AssertionError("an Error stays an Error");
        assertSame(error, assertThrows(AssertionError.class, () -> Parallel.forEach(100, i -> {
            if (i == 50) throw error;
        })));
        AtomicIntegerArray runs = new AtomicIntegerArray(500);
        Parallel.forEach(500, runs::incrementAndGet);
        assertEachOnce(runs);
    }

    @Test
    void nestedCallsRunSeriallyInsideTheirTask() {
        Parallel.setThreads(2);
        int outer = 16, inner = 50;
        AtomicIntegerArray runs = new AtomicIntegerArray(outer * inner);
        Parallel.forEach(outer, i -> {
            String thread = Thread.currentThread().getName();
            Parallel.forEach(inner, j -> {
                assertEquals(thread, Thread.currentThread().getName(), "nested tasks stay on their thread");
                runs.incrementAndGet(i * inner + j);
            });
        });
        assertEachOnce(runs);
    }

    @Test
    void callersOnSeveralThreadsTakeTurns() throws InterruptedException {
        Parallel.setThreads(2);
        int callers = 4, calls = 200, tasks = 64;
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < callers; t++) {
            Thread th = new Thread(() -> {
                try {
                    for (int c = 0; c < calls; c++) {
                        AtomicIntegerArray runs = new AtomicIntegerArray(tasks);
                        Parallel.forEach(tasks, runs::incrementAndGet);
                        assertEachOnce(runs);
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            });
            threads.add(th);
            th.start();
        }
        for (Thread th : threads) th.join(60_000);
        for (Thread th : threads) assertTrue(!th.isAlive(), "a caller is stuck");
        if (failure.get() != null) throw new AssertionError(failure.get());
    }

    @Test
    void afterAnIdlePauseParkedThreadsAreWoken() throws InterruptedException {
        Parallel.setThreads(2);
        Parallel.forEach(4, i -> { });
        Thread.sleep(Parallel.spinMicros() / 1000 + 50); // past the spin: pool threads park
        Set<String> names = threadsRunning(20, 2_000_000, i -> { });
        assertTrue(poolThreadAmong(names), "parked pool thread not woken: " + names);
    }

    @Test
    void parkingAtOnceStillHandsEveryJobOut() {
        Parallel.setThreads(2);
        long spin = Parallel.spinMicros();
        try {
            Parallel.setSpinMicros(0);
            for (int repeat = 0; repeat < 50; repeat++) {
                AtomicIntegerArray runs = new AtomicIntegerArray(64);
                Parallel.forEach(64, runs::incrementAndGet);
                assertEachOnce(runs);
            }
            assertThrows(IllegalArgumentException.class, () -> Parallel.setSpinMicros(-1));
        } finally {
            Parallel.setSpinMicros(spin);
        }
    }

    /**
     * Runs a job whose tasks capture a fresh array, with pool threads taking part; returns a weak
     * reference to it. A pool thread descheduled for the whole job (8 ms) takes no task, so the job
     * is tried again with a new array, a few times at most.
     */
    private static WeakReference<float[]> jobCapturingAnArray() {
        Set<String> names = Set.of();
        for (int attempt = 0; attempt < 5; attempt++) {
            float[] big = new float[1 << 20];
            names = threadsRunning(8, 1_000_000, i -> big[i] = i);
            if (poolThreadAmong(names)) return new WeakReference<>(big);
        }
        throw new AssertionError("pool threads took no task in 5 jobs: " + names);
    }

    @Test
    void finishedJobsDoNotKeepTheirArraysAlive() throws InterruptedException {
        Parallel.setThreads(2);
        WeakReference<float[]> ref = jobCapturingAnArray();
        // the pool threads are still spinning (or parked) after the job: neither may hold it
        for (int i = 0; i < 20 && ref.get() != null; i++) {
            System.gc();
            Thread.sleep(10);
        }
        assertTrue(ref.get() == null, "a finished job's captured array is still reachable"); // (not assertNull: it would print 1M floats)
    }

    @Test
    void threadsThatParkAtOnceDoNotKeepTheLastJobAlive() throws InterruptedException {
        // with no spin a pool thread parks right after its tasks, often before the caller has
        // cleared the published job: what it read then must not stay in its frame while parked
        Parallel.setThreads(2);
        long spin = Parallel.spinMicros();
        try {
            Parallel.setSpinMicros(0);
            for (int repeat = 0; repeat < 10; repeat++) {
                WeakReference<float[]> ref = jobCapturingAnArray();
                for (int i = 0; i < 20 && ref.get() != null; i++) {
                    System.gc();
                    Thread.sleep(10);
                }
                assertTrue(ref.get() == null, "round " + repeat + ": a parked pool thread keeps the finished job's array reachable");
            }
        } finally {
            Parallel.setSpinMicros(spin);
        }
    }

    @Test
    void rangesCoverEveryIndexOnce() {
        Parallel.setThreads(3);
        for (int n : new int[] {1, 5, 97, 10_000}) {
            AtomicIntegerArray runs = new AtomicIntegerArray(n);
            Parallel.forRange(n, 7, (s, e) -> {
                for (int i = s; i < e; i++) runs.incrementAndGet(i);
            });
            assertEachOnce(runs);
        }
    }

    @Test
    void rejectsBadThreadCountsAndDefaultsTheSpin() {
        assertThrows(IllegalArgumentException.class, () -> Parallel.setThreads(0));
        if (System.getenv("TESSERA_SPIN_MICROS") == null && System.getProperty("tessera.spin.micros") == null) {
            assertEquals(Parallel.DEFAULT_SPIN_MICROS, Parallel.spinMicros(), "default spin");
        }
    }
}
