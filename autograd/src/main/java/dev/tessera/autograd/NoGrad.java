package dev.tessera.autograd;

/**
 * A scope in which no graph is recorded: results of ops on tensors that require gradients do not
 * require gradients themselves, and no Function keeps its inputs. Use with try-with-resources:
 *
 * <pre>{@code
 * try (NoGrad g = NoGrad.enter()) {
 *     Tensor prediction = model.forward(x);   // no graph, no saved activations
 * }
 * }</pre>
 *
 * Scopes nest; closing one restores the mode that was in force when it was entered.
 */
public final class NoGrad implements AutoCloseable {
    private final boolean previous;
    private final Thread owner;
    private boolean closed;

    private NoGrad(boolean enable) {
        this.previous = GradMode.isEnabled();
        this.owner = Thread.currentThread();
        GradMode.set(enable);
    }

    /** Turns recording off until the returned scope is closed. */
    public static NoGrad enter() { return new NoGrad(false); }

    /** Turns recording back on (inside an outer NoGrad) until the returned scope is closed. */
    public static NoGrad enableGrad() { return new NoGrad(true); }

    /** Runs body with recording off and returns its result. */
    public static <T> T run(java.util.function.Supplier<T> body) {
        try (NoGrad g = enter()) {
            return body.get();
        }
    }

    @Override
    public void close() {
        if (closed) return;
        if (Thread.currentThread() != owner) {
            throw new IllegalStateException("NoGrad: a scope must be closed on the thread that entered it (" + owner.getName() + ")");
        }
        closed = true;
        GradMode.set(previous);
    }
}
