package dev.tessera.tensor.cpu;

/**
 * Per-thread scratch buffers for packing strided runs, so that kernels do not allocate per run.
 * Leaf kernels only (never held across a call into another kernel). Buffers above 1M elements
 * are not kept.
 */
final class Scratch {
    private static final int KEEP_LIMIT = 1 << 20;
    private static final ThreadLocal<float[][]> FLOATS = ThreadLocal.withInitial(() -> new float[3][]);

    private Scratch() {}

    /**
     * A float buffer of at least n elements; slots 0 and 1 give two independent buffers for callers
     * of kernels, slot 2 is used inside kernels (exact GELU's chunk buffer) and by nothing else.
     */
    static float[] floats(int n, int slot) {
        if (n > KEEP_LIMIT) return new float[n];
        float[][] bufs = FLOATS.get();
        float[] b = bufs[slot];
        if (b == null || b.length < n) {
            b = new float[Math.max(n, 256)];
            bufs[slot] = b;
        }
        return b;
    }
}
