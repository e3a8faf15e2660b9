package dev.tessera.gpu;

import dev.tessera.tensor.Backend;
import dev.tessera.tensor.Backends;
import dev.tessera.tensor.Device;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Entry point of the OpenCL backend: device discovery and selection, memory scopes, allocator
 * statistics and the debug switch. Arrays reach a device with {@code x.to(Device.opencl(i))}; ops on
 * them then run this module's kernels (found through ServiceLoader by tensor-core).
 * <pre>{@code
 * System.out.println(OpenCl.report());               // what was found
 * Device gpu = OpenCl.device("H200");                  // or Device.opencl(0)
 * try (OpenClScope scope = OpenCl.scope()) {
 *     NDArray y = x.to(gpu).matmul(w.to(gpu)).gelu();
 *     float[] host = y.toFloatArray();                  // the only transfer back
 * }                                                     // device buffers released here
 * }</pre>
 * Debug: {@code -Dtessera.opencl.debug=true}, {@code TESSERA_OPENCL_DEBUG=1} or {@link #setDebug}
 * prints every kernel launch with its sizes (and each program build) to stderr.
 * Tuning: {@code -Dtessera.opencl.gemmTile=64|128} forces the GEMM tile (default 128 on GPUs, 64 elsewhere).
 */
public final class OpenCl {
    private static volatile boolean debug = initialDebug();

    private OpenCl() {}

    private static boolean initialDebug() {
        String v = System.getProperty("tessera.opencl.debug", System.getenv("TESSERA_OPENCL_DEBUG"));
        return v != null && (v.equals("1") || v.equalsIgnoreCase("true") || v.equalsIgnoreCase("yes"));
    }

    /** Whether at least one OpenCL device was found. */
    public static boolean isAvailable() { return OpenClRuntime.unavailableReason() == null; }

    /** Why OpenCL cannot be used (what is missing and what to install), or null when a device exists. */
    public static String unavailableReason() { return OpenClRuntime.unavailableReason(); }

    /** Every OpenCL device of every platform, in the order of {@code Device.opencl(i)}; empty when none. */
    public static List<OpenClDeviceInfo> devices() {
        List<OpenClDeviceInfo> out = new ArrayList<>();
        for (OpenClRuntime.Entry e : OpenClRuntime.entries()) out.add(e.info());
        return out;
    }

    /** A readable report of the platforms and devices found, or of what is missing. */
    public static String report() {
        List<OpenClDeviceInfo> devs = devices();
        if (devs.isEmpty()) return "OpenCL: no device available: " + unavailableReason();
        StringBuilder sb = new StringBuilder("OpenCL: " + devs.size() + " device(s)");
        for (OpenClDeviceInfo d : devs) sb.append("\n  ").append(d.describe());
        return sb.toString();
    }

    /**
     * The first device whose name, vendor or platform contains the text (case-insensitive), e.g.
     * "H200", "nvidia", "pthread". Throws listing the devices found when none matches.
     */
    public static Device device(String nameContains) {
        String want = nameContains.toLowerCase(Locale.ROOT);
        for (OpenClDeviceInfo d : devices()) {
            String all = (d.name() + " " + d.vendor() + " " + d.platformName()).toLowerCase(Locale.ROOT);
            if (all.contains(want)) return Device.opencl(d.index());
        }
        throw new OpenClUnavailableException("no OpenCL device matches '" + nameContains + "'. " + report());
    }

    /** The backend of an OpenCL device (opened on first use, then shared). */
    public static OpenClBackend backend(Device device) {
        if (!Device.OPENCL_KIND.equals(device.kind())) throw new IllegalArgumentException("not an OpenCL device: " + device);
        Backend b = Backends.forDevice(device);
        return (OpenClBackend) b;
    }

    /** Opens a scope: OpenCL storages allocated on this thread until it closes are released when it closes. */
    public static OpenClScope scope() { return new OpenClScope(); }

    /** The caching allocator's counters for a device. */
    public static MemoryStats memoryStats(Device device) { return backend(device).memoryStats(); }

    public static boolean debug() { return debug; }

    /** Turns the printing of every kernel launch (kernel, global and local sizes, scalar arguments) on or off. */
    public static void setDebug(boolean on) { debug = on; }
}
