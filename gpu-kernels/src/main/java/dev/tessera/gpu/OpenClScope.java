package dev.tessera.gpu;

import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.Storage;
import java.util.ArrayDeque;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * A region whose device allocations are released together: every OpenCL storage allocated on this
 * thread while the scope is the innermost open one is closed when the scope closes, except those
 * passed to {@link #keep}. Scopes nest; kept storages move to the enclosing scope (or to nobody).
 * <pre>{@code
 * try (OpenClScope scope = OpenCl.scope()) {
 *     NDArray loss = step(x);            // temporaries of the step
 *     scope.keep(loss);                  // survives the scope
 * }                                      // everything else is back in the allocator's cache
 * }</pre>
 */
public final class OpenClScope implements AutoCloseable {
    private static final ThreadLocal<ArrayDeque<OpenClScope>> STACK = ThreadLocal.withInitial(ArrayDeque::new);

    private final Set<OpenClStorage> owned = new LinkedHashSet<>();
    private final Thread thread = Thread.currentThread();
    private boolean closed;

    OpenClScope() { STACK.get().push(this); }

    static void register(OpenClStorage s) {
        OpenClScope top = STACK.get().peek();
        if (top != null) top.owned.add(s);
    }

    /** Keeps these arrays' storages alive past this scope (they move to the enclosing scope, if any). */
    public NDArray keep(NDArray array) {
        Storage s = array.storage();
        if (s instanceof OpenClStorage cl && owned.remove(cl)) {
            boolean seenSelf = false;
            for (OpenClScope sc : STACK.get()) {
                if (seenSelf) {
                    sc.owned.add(cl);
                    break;
                }
                seenSelf = sc == this;
            }
        }
        return array;
    }

    /** Number of storages this scope will release. */
    public int size() { return owned.size(); }

    @Override
    public void close() {
        if (closed) return;
        if (Thread.currentThread() != thread) throw new IllegalStateException("OpenClScope closed on another thread than the one that opened it");
        ArrayDeque<OpenClScope> stack = STACK.get();
        if (stack.peek() != this) throw new IllegalStateException("OpenClScope closed out of order: close inner scopes first");
        stack.pop();
        closed = true;
        for (OpenClStorage s : owned) s.close();
        owned.clear();
    }
}
