package dev.tessera.tensor;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Recycles the Java arrays of closed CPU storages for the outputs of later kernels.
 *
 * <p>Why: a new large Java array is memory the caches have not seen, and the JVM zeroes it before
 * the kernel writes it again. For a memory-bound kernel (softmax, layer norm, GELU over a
 * (4096, 768) activation) that costs as much as the kernel itself. An array handed back by
 * {@link Storage#close()} is usually still in the caches and needs no zeroing, since every kernel
 * that takes one writes all of it.
 *
 * <p>Only arrays Tessera allocated itself are recycled (never one passed to
 * {@link CpuStorage#wrap}), only from {@link #MIN_ELEMENTS} elements up (small arrays are cheap to
 * allocate), and only up to a byte budget: {@code TESSERA_CPU_POOL_MB} (environment) or
 * {@code tessera.cpu.poolMb} (system property), by default a quarter of the maximum heap; 0 turns
 * recycling off. Nothing is recycled unless arrays are closed. When a closed array does not fit,
 * the arrays kept longest are let go first (to the garbage collector), so the pool follows the
 * sizes in use now (a training step's activations, an evaluation's) rather than the first ones
 * seen; an array larger than the whole budget is not kept.
 *
 * <p>Kept arrays are live to the garbage collector, so they must never cost the program memory it
 * needs: when a new array cannot be allocated, {@link CpuStorage} lets every kept array go and tries
 * once more before the {@link OutOfMemoryError} reaches the caller ({@link #retryAfterReleasing}).
 *
 * <p>With {@code tessera.cpu.poison=true} every array handed out for overwriting is first filled
 * with NaN (floats) or a large odd value (integers), recycled or new, so a kernel that forgets to
 * write an element fails the tests instead of leaking old data. The test builds turn it on.
 */
public final class CpuArrayPool {
    /** Smallest array (in elements) worth recycling. */
    public static final int MIN_ELEMENTS = 1 << 14;
    static final boolean POISON = Boolean.getBoolean("tessera.cpu.poison");

    /** A kept array and when it was given back (a running count), for letting the oldest go first. */
    private record Kept(Object array, long order) {}

    /** Kept arrays by dtype and length, oldest first. */
    private static final Map<Long, ArrayDeque<Kept>> FREE = new HashMap<>();
    private static long budgetBytes = initialBudget();
    private static long heldBytes;
    private static long givenCount;
    private static long reused, recycled, evicted, dropped, releases;

    private CpuArrayPool() {}

    private static long initialBudget() {
        String s = System.getProperty("tessera.cpu.poolMb", System.getenv("TESSERA_CPU_POOL_MB"));
        if (s == null || s.isBlank()) return Runtime.getRuntime().maxMemory() / 4;
        try {
            long mb = Long.parseLong(s.trim());
            if (mb >= 0) return mb << 20;
        } catch (NumberFormatException ignored) {
            // fall through to the error below
        }
        throw new IllegalArgumentException("TESSERA_CPU_POOL_MB must be a non-negative integer (MiB), got '" + s + "'");
    }

    private static long key(DType dtype, int size) { return ((long) dtype.ordinal() << 32) | size; }

    private static long bytes(DType dtype, int size) { return (long) size * dtype.byteSize(); }

    /** A recycled array of exactly this dtype and length, or null. Its contents are arbitrary. */
    static synchronized Object take(DType dtype, int size) {
        if (size < MIN_ELEMENTS) return null;
        ArrayDeque<Kept> q = FREE.get(key(dtype, size));
        Kept k = q == null ? null : q.pollLast(); // most recently closed: most likely still cached
        if (k == null) return null;
        if (q.isEmpty()) FREE.remove(key(dtype, size));
        heldBytes -= bytes(dtype, size);
        reused++;
        return k.array();
    }

    /**
     * Keeps a no longer used array for a later take, if it is large enough; the arrays kept longest
     * are let go until it fits the budget, and one larger than the whole budget is not kept.
     */
    static synchronized void give(DType dtype, Object array, int size) {
        if (size < MIN_ELEMENTS) return;
        long b = bytes(dtype, size);
        if (b > budgetBytes) {
            dropped++;
            return; // left to the garbage collector
        }
        while (heldBytes + b > budgetBytes) evictOldest();
        FREE.computeIfAbsent(key(dtype, size), k -> new ArrayDeque<>()).addLast(new Kept(array, givenCount++));
        heldBytes += b;
        recycled++;
    }

    /** Lets the longest-kept array go (the oldest head among the per-size queues; there are few sizes). */
    private static void evictOldest() {
        Map.Entry<Long, ArrayDeque<Kept>> oldest = null;
        for (Map.Entry<Long, ArrayDeque<Kept>> e : FREE.entrySet()) {
            if (oldest == null || e.getValue().peekFirst().order() < oldest.getValue().peekFirst().order()) oldest = e;
        }
        Kept k = oldest.getValue().pollFirst();
        if (oldest.getValue().isEmpty()) FREE.remove(oldest.getKey());
        long key = oldest.getKey();
        heldBytes -= bytes(DType.values()[(int) (key >>> 32)], (int) key);
        evicted++;
    }

    /** Lets every kept array go; returns how many bytes they held. */
    static synchronized long releaseAll() {
        long held = heldBytes;
        FREE.clear();
        heldBytes = 0;
        return held;
    }

    /**
     * Runs an allocation; if the heap is out of memory and arrays are kept here, lets them all go
     * and runs it once more (a failed allocation of one array leaves the heap intact). With nothing
     * kept, the error is the caller's.
     */
    static <T> T retryAfterReleasing(Supplier<T> allocation) {
        try {
            return allocation.get();
        } catch (OutOfMemoryError e) {
            if (releaseAll() == 0) throw e;
            synchronized (CpuArrayPool.class) {
                releases++;
            }
            return allocation.get();
        }
    }

    /** Fills an array handed out for overwriting with values no kernel produces by accident. */
    static void poison(Object a) {
        if (a instanceof float[] f) Arrays.fill(f, Float.NaN);
        else if (a instanceof double[] d) Arrays.fill(d, Double.NaN);
        else if (a instanceof short[] s) Arrays.fill(s, (short) 0x7fc1); // NaN in BF16 and F16
        else if (a instanceof int[] i) Arrays.fill(i, 0x5a5a5a5b);
        else if (a instanceof long[] l) Arrays.fill(l, 0x5a5a5a5a5a5a5a5bL);
        else if (a instanceof byte[] b) Arrays.fill(b, (byte) 0x5b);
    }

    /** Drops every kept array and sets the budget in MiB (0: no recycling). */
    public static synchronized void configure(long budgetMiB) {
        if (budgetMiB < 0) throw new IllegalArgumentException("pool budget must be >= 0 MiB, got " + budgetMiB);
        releaseAll();
        budgetBytes = budgetMiB << 20;
    }

    /** Bytes of arrays kept for reuse now. */
    public static synchronized long heldBytes() { return heldBytes; }

    /** The budget in bytes. */
    public static synchronized long budgetBytes() { return budgetBytes; }

    /** One line: budget, held, and how many arrays were recycled, reused, let go and not kept so far. */
    public static synchronized String report() {
        return String.format("CPU array pool: budget %d MiB, holding %.1f MiB; %d arrays recycled, %d reused, %d let go oldest first"
                        + " to stay in budget, %d not kept (larger than the budget), %d releases on low memory%s",
                budgetBytes >> 20, heldBytes / 1048576.0, recycled, reused, evicted, dropped, releases, POISON ? "; poison on" : "");
    }
}
