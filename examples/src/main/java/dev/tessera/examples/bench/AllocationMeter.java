package dev.tessera.examples.bench;

import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Locale;

/**
 * Bytes allocated by the calling thread and Tessera's pool threads (HotSpot's per-thread
 * counters), to tell a kernel that runs on boxed vectors from one that does not: once compiled,
 * Tessera's kernels allocate a few KB per call (result objects, the job handed to the pool),
 * while a Vector API loop that C2 did not compile fully allocates an object per vector operation.
 */
final class AllocationMeter {
    /** Above this per call on a row with a speed target, the summary warns. */
    static final long WARN_BYTES_PER_CALL = 1L << 20;

    private static final com.sun.management.ThreadMXBean THREADS = threads();

    private AllocationMeter() {}

    private static com.sun.management.ThreadMXBean threads() {
        try {
            if (ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean t && t.isThreadAllocatedMemorySupported()) {
                t.setThreadAllocatedMemoryEnabled(true);
                return t;
            }
        } catch (RuntimeException | LinkageError e) {
            // no per-thread counters on this JVM: rows report -1 and the summary says so
        }
        return null;
    }

    static boolean available() { return THREADS != null; }

    /** Ids of Tessera's pool threads now (taken outside the measured window: listing threads allocates). */
    static long[] poolThreadIds() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith(dev.tessera.tensor.Parallel.WORKER_NAME_PREFIX)).mapToLong(Thread::getId).toArray();
    }

    /** Bytes allocated so far by this thread and the given pool threads; -1 without counters. */
    static long bytes(long[] poolThreadIds) {
        if (THREADS == null) return -1;
        long sum = THREADS.getThreadAllocatedBytes(Thread.currentThread().getId());
        for (long b : THREADS.getThreadAllocatedBytes(poolThreadIds)) sum += Math.max(0, b);
        return sum;
    }

    /** A row's least bytes per call over its samples; -1 if not measured. */
    record RowAllocation(String row, long bytesPerCall) {}

    /** The summary lines printed after the table (rows with a speed target only). */
    static List<String> summary(List<RowAllocation> rows) {
        if (!available()) return List.of("allocation per call: not measured (this JVM has no per-thread allocation counters)");
        List<RowAllocation> measured = rows.stream().filter(r -> r.bytesPerCall() >= 0).toList();
        if (measured.isEmpty()) return List.of("allocation per call: no row measured");
        List<String> lines = new java.util.ArrayList<>();
        for (RowAllocation r : measured) {
            if (r.bytesPerCall() > WARN_BYTES_PER_CALL) {
                lines.add(String.format(Locale.ROOT, "WARNING: %s allocated %s per call in Tessera: boxed vectors (a kernel not yet"
                        + " compiled, or compiled without full inlining) run several times slower, so its time is not the kernel's"
                        + " (docs/measurements/2026-11-29-kernel-allocation-session12.txt)", r.row(), human(r.bytesPerCall())));
            }
        }
        if (lines.isEmpty()) {
            RowAllocation most = measured.stream().max(java.util.Comparator.comparingLong(RowAllocation::bytesPerCall)).orElseThrow();
            lines.add(String.format(Locale.ROOT, "allocation per call (Tessera, rows with a speed target): at most %s (%s), no kernel on boxed vectors",
                    human(most.bytesPerCall()), most.row()));
        }
        return lines;
    }

    static String human(long bytes) {
        if (bytes < 10_000) return bytes + " B";
        if (bytes < 1_000_000) return String.format(Locale.ROOT, "%.1f KB", bytes / 1e3);
        return String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
    }
}
