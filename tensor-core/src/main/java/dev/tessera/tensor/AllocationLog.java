package dev.tessera.tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Records the CPU storages Tessera allocates on the current thread while it is open, so that a
 * caller that knows which of them escape can close the rest (their arrays then go to
 * {@link CpuArrayPool}). The autograd engine uses it around a backward pass: every array made
 * there is a temporary except the gradients it stores in tensors.
 *
 * <p>Logs nest: allocations go to the innermost open log, and what an inner log recorded moves to
 * the enclosing one when it closes. Storages wrapped around caller arrays are never recorded.
 */
public final class AllocationLog implements AutoCloseable {
    private static final ThreadLocal<AllocationLog> CURRENT = new ThreadLocal<>();

    private final AllocationLog outer;
    private final Thread thread = Thread.currentThread();
    private final List<CpuStorage> storages = new ArrayList<>();
    private boolean closed;

    private AllocationLog(AllocationLog outer) { this.outer = outer; }

    /** Starts recording on this thread. */
    public static AllocationLog start() {
        AllocationLog log = new AllocationLog(CURRENT.get());
        CURRENT.set(log);
        return log;
    }

    static void record(CpuStorage s) {
        AllocationLog log = CURRENT.get();
        if (log != null) log.storages.add(s);
    }

    /** The storages recorded so far, oldest first. */
    public List<CpuStorage> storages() { return Collections.unmodifiableList(storages); }

    /** Stops recording; the recorded storages pass to the enclosing log, if any. */
    @Override
    public void close() {
        if (closed) return;
        if (Thread.currentThread() != thread) {
            throw new IllegalStateException("an AllocationLog must be closed on the thread that started it (" + thread.getName() + ")");
        }
        if (CURRENT.get() != this) {
            throw new IllegalStateException("AllocationLog closed out of order: close the logs started after it first");
        }
        closed = true;
        CURRENT.set(outer);
        if (outer != null) outer.storages.addAll(storages);
    }
}
