package dev.tessera.tensor;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

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
 * {@code tessera.cpu.poolMb} (system property), by default an eighth of the maximum heap and at
 * most 1024 MiB; 0 turns recycling off. Nothing is recycled unless arrays are closed.
 *
 * <p>With {@code tessera.cpu.poison=true} every array handed out for overwriting is first filled
 * with NaN (floats) or a large odd value (integers), recycled or new, so a kernel that forgets to
 * write an element fails the tests instead of leaking old data. The test builds turn it on.
 */
public final class CpuArrayPool {
    /** Smallest array (in elements) worth recycling. */
    public static final int MIN_ELEMENTS = 1 << 14;
    static final boolean POISON = Boolean.getBoolean("tessera.cpu.poison");

    private static final Map<Long, ArrayDeque<Object>> FREE = new HashMap<>();
    private static long budgetBytes = initialBudget();
    private static long heldBytes;
    private static long reused, recycled, dropped;

    private CpuArrayPool() {}

    private static long initialBudget() {
        String s = System.getProperty("tessera.cpu.poolMb", System.getenv("TESSERA_CPU_POOL_MB"));
        if (s == null || s.isBlank()) return Math.min(1024L << 20, Runtime.getRuntime().maxMemory() / 8);
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
        ArrayDeque<Object> q = FREE.get(key(dtype, size));
        Object a = q == null ? null : q.pollLast(); // most recently closed: most likely still cached
        if (a != null) {
            heldBytes -= bytes(dtype, size);
            reused++;
        }
        return a;
    }

    /** Keeps a no longer used array for a later take, if it is large enough and the budget allows. */
    static synchronized void give(DType dtype, Object array, int size) {
        if (size < MIN_ELEMENTS) return;
        long b = bytes(dtype, size);
        if (heldBytes + b > budgetBytes) {
            dropped++;
            return; // left to the garbage collector
        }
        FREE.computeIfAbsent(key(dtype, size), k -> new ArrayDeque<>()).addLast(array);
        heldBytes += b;
        recycled++;
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
        FREE.clear();
        heldBytes = 0;
        budgetBytes = budgetMiB << 20;
    }

    /** Bytes of arrays kept for reuse now. */
    public static synchronized long heldBytes() { return heldBytes; }

    /** The budget in bytes. */
    public static synchronized long budgetBytes() { return budgetBytes; }

    /** One line: budget, held, and how many arrays were recycled, reused and dropped so far. */
    public static synchronized String report() {
        return String.format("CPU array pool: budget %d MiB, holding %.1f MiB; %d arrays recycled, %d reused, %d dropped (over budget)%s",
                budgetBytes >> 20, heldBytes / 1048576.0, recycled, reused, dropped, POISON ? "; poison on" : "");
    }
}
