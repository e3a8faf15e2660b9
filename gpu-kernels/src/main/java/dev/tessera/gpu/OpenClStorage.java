package dev.tessera.gpu;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.Device;
import dev.tessera.tensor.Storage;
import java.lang.ref.Cleaner;
import org.jocl.cl_mem;

/**
 * Device storage: one cl_mem buffer from the device's caching allocator. {@link #close()} (directly,
 * through NDArray.close(), or when the {@link OpenClScope} it was allocated in closes) returns the
 * buffer to the allocator. A Cleaner returns it too if the storage becomes unreachable unclosed, as a
 * safety net only.
 */
public final class OpenClStorage extends Storage {
    private static final Cleaner CLEANER = Cleaner.create();

    private final DeviceContext context;
    private final cl_mem mem;
    private final Cleaner.Cleanable cleanable;

    OpenClStorage(DeviceContext context, DType dtype, int size) {
        super(dtype, size);
        this.context = context;
        long[] cls = new long[1];
        BufferPool pool = context.pool();
        this.mem = pool.acquire((long) size * dtype.byteSize(), cls);
        cl_mem m = mem;
        long c = cls[0];
        this.cleanable = CLEANER.register(this, () -> pool.release(m, c));
        OpenClScope.register(this);
    }

    @Override
    public Device device() { return context.device(); }

    DeviceContext context() { return context; }

    /** The OpenCL buffer (for kernels written outside this module). */
    public cl_mem buffer() { return mem; }

    @Override
    protected void release() { cleanable.clean(); }
}
