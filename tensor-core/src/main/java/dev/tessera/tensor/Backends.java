package dev.tessera.tensor;

import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Finds the backend for a device. The CPU uses the Vector API backend; the scalar reference
 * backend is used for the CPU only when the user asks for it ({@code TESSERA_BACKEND=scalar}, the
 * system property {@code tessera.backend=scalar}, or {@link #useScalarCpu(boolean)}). Other device
 * kinds come from {@link BackendProvider}s found through ServiceLoader.
 */
public final class Backends {
    private static final Map<Device, Backend> BACKENDS = new ConcurrentHashMap<>();
    private static volatile Backend cpu;
    private static volatile Boolean scalarRequested;

    private Backends() {}

    /** The backend that runs ops for arrays on this device. */
    public static Backend forDevice(Device device) {
        if (device.isCpu()) return cpu();
        return BACKENDS.computeIfAbsent(device, Backends::openProvided);
    }

    /** The CPU backend in use (created, and its description logged once, on first call). */
    public static Backend cpu() {
        Backend b = cpu;
        if (b == null) {
            synchronized (Backends.class) {
                b = cpu;
                if (b == null) {
                    b = scalarRequested() ? ReferenceBackend.INSTANCE : VectorSupport.createCpuBackend();
                    if (!"true".equalsIgnoreCase(System.getProperty("tessera.quiet", System.getenv("TESSERA_QUIET")))) {
                        System.err.println("[tessera] " + b.describe());
                    }
                    cpu = b;
                }
            }
        }
        return b;
    }

    /** Selects the scalar reference backend (true) or the Vector API backend (false) for the CPU. */
    public static synchronized void useScalarCpu(boolean scalar) {
        scalarRequested = scalar;
        cpu = null;
    }

    private static boolean scalarRequested() {
        Boolean s = scalarRequested;
        if (s != null) return s;
        String v = System.getProperty("tessera.backend", System.getenv("TESSERA_BACKEND"));
        if (v == null || v.isBlank() || v.equalsIgnoreCase("vector") || v.equalsIgnoreCase("cpu")) return false;
        if (v.equalsIgnoreCase("scalar") || v.equalsIgnoreCase("reference")) return true;
        throw new IllegalArgumentException("TESSERA_BACKEND must be 'vector' or 'scalar', got '" + v + "'");
    }

    private static Backend openProvided(Device device) {
        StringBuilder kinds = new StringBuilder();
        for (BackendProvider p : ServiceLoader.load(BackendProvider.class)) {
            if (p.kind().equals(device.kind())) return p.open(device.index());
            kinds.append(kinds.length() == 0 ? "" : ", ").append(p.kind());
        }
        throw new IllegalStateException("no backend for device " + device + ": no provider of kind '" + device.kind()
                + "' is on the class path (found: " + (kinds.length() == 0 ? "none" : kinds)
                + "); for OpenCL add the dev.tessera:gpu-kernels module");
    }

    /** The provider for a device kind, or null when none is on the class path. */
    public static BackendProvider provider(String kind) {
        for (BackendProvider p : ServiceLoader.load(BackendProvider.class)) {
            if (p.kind().equals(kind)) return p;
        }
        return null;
    }
}
