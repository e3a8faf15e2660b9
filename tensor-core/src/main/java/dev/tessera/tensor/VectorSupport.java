package dev.tessera.tensor;

/**
 * Checks that the incubating Vector API module is present before any class that uses it is
 * loaded, so a missing flag gives a message saying exactly what to add instead of a
 * NoClassDefFoundError deep inside a kernel.
 */
public final class VectorSupport {
    public static final String FLAG = "--add-modules jdk.incubator.vector";

    private VectorSupport() {}

    /** Whether jdk.incubator.vector is in the boot layer of this JVM. */
    public static boolean available() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }

    /** Throws with the flag to add when the module is missing. */
    public static void require() {
        if (!available()) {
            throw new IllegalStateException("Tessera's CPU backend needs the Vector API module, which this JVM was started without. "
                    + "Add '" + FLAG + "' to the java command (or JDK_JAVA_OPTIONS), "
                    + "or choose the slow scalar backend explicitly with TESSERA_BACKEND=scalar.");
        }
    }

    static Backend createCpuBackend() {
        require();
        try {
            return (Backend) Class.forName("dev.tessera.tensor.cpu.CpuBackend").getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("could not create the Vector API CPU backend: " + e, e);
        }
    }
}
