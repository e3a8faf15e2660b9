package dev.tessera.gpu;

import static org.jocl.CL.*;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import org.jocl.CLException;
import org.jocl.cl_context;
import org.jocl.cl_mem;

/**
 * The caching allocator of one device: freed buffers go to a free list of their size class and the
 * next request of that class reuses them, so a training step repeated with the same shapes makes no
 * driver allocation after the first. Size classes are powers of two up to 1 MiB and steps of 1/8 of
 * a power of two above (at most 12.5% slack). Thread-safe (storages may be released by the Cleaner).
 */
final class BufferPool {
    private static final long MIN_BYTES = 256;

    private final cl_context context;
    private final String deviceLabel;
    private final long maxAllocBytes;
    private final Map<Long, ArrayDeque<cl_mem>> free = new HashMap<>();
    private long bytesInUse, bytesCached, peak, driverAllocations, cacheHits, live;

    BufferPool(cl_context context, String deviceLabel, long maxAllocBytes) {
        this.context = context;
        this.deviceLabel = deviceLabel;
        this.maxAllocBytes = maxAllocBytes;
    }

    static long sizeClass(long bytes) {
        long b = Math.max(MIN_BYTES, bytes);
        long hi = Long.highestOneBit(b);
        if (hi == b) return b;
        if (b <= (1L << 20)) return hi << 1;
        long step = hi >> 3;
        return (b + step - 1) / step * step;
    }

    /**
     * A buffer of at least bytes bytes (contents undefined); its size class is returned in classOut[0].
     * When the driver is out of memory, storages that became unreachable without being closed may still
     * hold buffers: the garbage collector is asked to run (outside the lock, so that the Cleaner can give
     * them back) and the allocation is tried once more before failing.
     */
    cl_mem acquire(long bytes, long[] classOut) {
        try {
            return acquireLocked(bytes, classOut);
        } catch (DriverOutOfMemory first) {
            System.gc();
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            try {
                return acquireLocked(bytes, classOut);
            } catch (DriverOutOfMemory e) {
                throw new OpenClOutOfMemoryException(deviceLabel + ": out of device memory allocating " + bytes + " bytes ("
                        + e.getCause().getMessage() + "); " + describe(), e.getCause());
            }
        }
    }

    /** The driver refused a buffer even after the cache was emptied. */
    private static final class DriverOutOfMemory extends RuntimeException {
        DriverOutOfMemory(CLException cause) { super(cause); }
    }

    private synchronized cl_mem acquireLocked(long bytes, long[] classOut) {
        long cls = sizeClass(bytes);
        classOut[0] = cls;
        ArrayDeque<cl_mem> list = free.get(cls);
        cl_mem mem = list == null ? null : list.pollLast();
        if (mem != null) {
            cacheHits++;
            bytesCached -= cls;
        } else {
            if (cls > maxAllocBytes) {
                throw new OpenClOutOfMemoryException(deviceLabel + ": cannot allocate " + bytes + " bytes: the device's largest "
                        + "buffer (CL_DEVICE_MAX_MEM_ALLOC_SIZE) is " + maxAllocBytes + " bytes; " + describe(), null);
            }
            mem = create(bytes, cls);
        }
        bytesInUse += cls;
        live++;
        peak = Math.max(peak, bytesInUse);
        return mem;
    }

    private cl_mem create(long bytes, long cls) {
        try {
            driverAllocations++;
            return clCreateBuffer(context, CL_MEM_READ_WRITE, cls, null, null);
        } catch (CLException first) {
            // Give every cached buffer back to the driver and try once more before failing.
            emptyCacheLocked();
            try {
                return clCreateBuffer(context, CL_MEM_READ_WRITE, cls, null, null);
            } catch (CLException e) {
                driverAllocations--;
                throw new DriverOutOfMemory(e);
            }
        }
    }

    synchronized void release(cl_mem mem, long cls) {
        bytesInUse -= cls;
        live--;
        free.computeIfAbsent(cls, k -> new ArrayDeque<>()).addLast(mem);
        bytesCached += cls;
    }

    /** Returns every cached (free) buffer to the driver. */
    synchronized void emptyCache() { emptyCacheLocked(); }

    private void emptyCacheLocked() {
        for (ArrayDeque<cl_mem> list : free.values()) {
            for (cl_mem m : list) clReleaseMemObject(m);
        }
        free.clear();
        bytesCached = 0;
    }

    synchronized MemoryStats stats() {
        return new MemoryStats(bytesInUse, bytesCached, peak, driverAllocations, cacheHits, live);
    }

    private synchronized String describe() {
        MemoryStats s = stats();
        return "allocator: " + s.bytesInUse() + " bytes in use in " + s.liveBuffers() + " buffers, " + s.bytesCached() + " cached";
    }
}
