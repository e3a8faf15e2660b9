package dev.tessera.tensor.cpu;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.management.ObjectName;

/**
 * Asks HotSpot to compile the GEMM micro-kernels with C2 only.
 *
 * <p>C1 cannot compile the micro-kernels with profiling ("out of virtual registers"). When C2's
 * queue is long at the moment they become hot (start-up, with many classes loading), the tiered
 * policy compiles them at C1's limited-profiling tier instead, never moves them on, and every
 * product then runs about 100x slower for the life of the process (seen in benchmark runs with
 * libtorch loaded: a 512^3 product took 260 ms instead of 2). A compiler directive that excludes
 * C1 for these methods sends them from the interpreter straight to C2.
 *
 * <p>The directive is added once, through the DiagnosticCommand MBean (what {@code jcmd
 * Compiler.directives_add} does; it needs the {@code jdk.management} module, and in a jlink-ed
 * runtime also {@code jdk.jfr}, without which the MBean lists no compiler commands; it costs
 * about 0.2 s of start-up). Whether it was applied is part of the CPU backend's description. Set
 * {@code -Dtessera.jit.hints=false} to leave the JIT alone.
 */
final class JitHints {
    /** Methods C1 must not compile (class/method patterns of HotSpot's compiler directives). */
    static final String[] C2_ONLY = {
            "dev/tessera/tensor/cpu/GemmF32.kernel8x3",
            "dev/tessera/tensor/cpu/GemmF32.kernel7x3",
            "dev/tessera/tensor/cpu/GemmF32.kernel12x2",
            "dev/tessera/tensor/cpu/GemmF32.kernel6x2",
    };

    /** What happened, for the backend's description: "C2 only" or why not. */
    static final String STATUS = apply();

    private JitHints() {}

    /** Forces the class's initialisation (the directive must be in place before the kernels get hot). */
    static String status() { return STATUS; }

    private static String apply() {
        if ("false".equalsIgnoreCase(System.getProperty("tessera.jit.hints", "true").trim())) {
            return "JIT hints off (tessera.jit.hints=false)";
        }
        Path file = null;
        try {
            StringBuilder json = new StringBuilder("[{ match: [");
            for (int i = 0; i < C2_ONLY.length; i++) json.append(i == 0 ? "" : ", ").append('"').append(C2_ONLY[i]).append('"');
            json.append("], c1: { Exclude: true } }]");
            file = Files.createTempFile("tessera-jit-", ".json");
            Files.writeString(file, json);
            Object reply = ManagementFactory.getPlatformMBeanServer().invoke(new ObjectName("com.sun.management:type=DiagnosticCommand"),
                    "compilerDirectivesAdd", new Object[] {new String[] {file.toString()}}, new String[] {String[].class.getName()});
            String text = String.valueOf(reply).trim();
            return text.startsWith("1 compiler directives added") ? "GEMM kernels compiled by C2 only"
                    : "GEMM kernels' JIT directive not applied (" + text.lines().findFirst().orElse("no reply") + ")";
        } catch (Exception | LinkageError e) {
            return "GEMM kernels' JIT directive not applied (" + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage().lines().findFirst().orElse("")) + ")";
        } finally {
            if (file != null) {
                try {
                    Files.deleteIfExists(file);
                } catch (Exception ignored) {
                    // a leftover temp file of a few bytes is not worth failing over
                }
            }
        }
    }
}
