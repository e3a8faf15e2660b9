package dev.tessera.autograd;

/**
 * Whether Functions applied on this thread record a graph. On by default; turned off inside a
 * {@link NoGrad} scope. The flag is per thread, as in PyTorch.
 */
public final class GradMode {
    private static final ThreadLocal<Boolean> ENABLED = ThreadLocal.withInitial(() -> Boolean.TRUE);

    private GradMode() {}

    /** Whether graph recording is on for the current thread. */
    public static boolean isEnabled() { return ENABLED.get(); }

    static void set(boolean enabled) { ENABLED.set(enabled); }
}
