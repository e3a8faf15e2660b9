package dev.tessera.tensor;

/**
 * A flat buffer of {@code size} elements of one dtype on one device. Arrays are views over a
 * storage (shape, strides, offset). Storage is owned: device buffers are released by {@link #close()}
 * (CPU storage is Java heap memory: closing marks it closed and lets a later kernel output reuse
 * the array, see {@link CpuArrayPool}).
 */
public abstract class Storage implements AutoCloseable {
    private final DType dtype;
    private final int size;
    private volatile boolean closed;

    protected Storage(DType dtype, int size) {
        if (size < 0) throw new IllegalArgumentException("storage size must be >= 0, got " + size);
        this.dtype = dtype;
        this.size = size;
    }

    public final DType dtype() { return dtype; }

    /** Number of elements. */
    public final int size() { return size; }

    public abstract Device device();

    public final boolean isClosed() { return closed; }

    /** Throws if this storage was closed; backends call it before touching the data. */
    public final void checkOpen() {
        if (closed) throw new IllegalStateException("storage of " + size + " " + dtype + " on " + device() + " was already closed");
    }

    @Override
    public final void close() {
        if (!closed) {
            closed = true;
            release();
        }
    }

    /** Frees the underlying buffer; called once. */
    protected abstract void release();
}
