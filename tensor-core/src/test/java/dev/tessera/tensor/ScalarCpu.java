package dev.tessera.tensor;

/**
 * Runs tensor-core's behaviour tests on the scalar reference backend, so that they test NDArray's
 * semantics and not the Vector API backend (which has its own parity tests). {@link #restore()}
 * puts back the selection the JVM was started with, for test classes that run later.
 */
final class ScalarCpu {
    private ScalarCpu() {}

    static void use() { Backends.useScalarCpu(true); }

    static void restore() {
        String v = System.getProperty("tessera.backend", System.getenv("TESSERA_BACKEND"));
        Backends.useScalarCpu(v != null && (v.equalsIgnoreCase("scalar") || v.equalsIgnoreCase("reference")));
    }
}
