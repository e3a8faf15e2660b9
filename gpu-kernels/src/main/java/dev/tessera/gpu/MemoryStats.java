package dev.tessera.gpu;

/**
 * Counters of one device's caching allocator.
 *
 * @param bytesInUse        bytes of the buffers held by live storages (size classes, not requests)
 * @param bytesCached       bytes of freed buffers kept for reuse
 * @param peakBytesInUse    highest bytesInUse seen
 * @param driverAllocations buffers created through clCreateBuffer so far
 * @param cacheHits         allocations served from the cache
 * @param liveBuffers       storages not yet released
 */
public record MemoryStats(long bytesInUse, long bytesCached, long peakBytesInUse, long driverAllocations, long cacheHits,
                          long liveBuffers) {}
