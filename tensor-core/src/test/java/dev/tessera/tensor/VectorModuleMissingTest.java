package dev.tessera.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A JVM started without {@code --add-modules jdk.incubator.vector} gets a message naming that
 * flag on first use of the CPU backend, and the scalar backend only when asked for.
 */
class VectorModuleMissingTest {

    /** Runs in the child JVM: one op on the default CPU backend. */
    public static final class Probe {
        public static void main(String[] args) {
            try {
                NDArray a = NDArray.fromArray(new float[] {1, 2, 3});
                System.out.println("sum=" + a.add(a).sum().item() + " backend=" + Backends.cpu().name());
            } catch (RuntimeException e) {
                System.out.println("error: " + e.getMessage());
                System.exit(3);
            }
        }
    }

    private static Result runChild(String... extraProps) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new java.util.ArrayList<>(List.of(java));
        cmd.addAll(List.of(extraProps));
        cmd.addAll(List.of("-Dtessera.quiet=true", "-cp", System.getProperty("java.class.path"), Probe.class.getName()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().remove("TESSERA_BACKEND");
        pb.environment().remove("JDK_JAVA_OPTIONS");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM did not finish");
        return new Result(p.exitValue(), out);
    }

    private record Result(int code, String output) {}

    @Test
    void missingModuleNamesTheFlag() throws Exception {
        Result r = runChild();
        assertEquals(3, r.code(), r.output());
        assertTrue(r.output().contains("--add-modules jdk.incubator.vector"), r.output());
        assertTrue(r.output().contains("TESSERA_BACKEND=scalar"), r.output());
    }

    @Test
    void scalarBackendOnlyWhenAskedFor() throws Exception {
        Result r = runChild("-Dtessera.backend=scalar");
        assertEquals(0, r.code(), r.output());
        assertTrue(r.output().contains("sum=12.0 backend=cpu-reference"), r.output());
    }

    @Test
    void withTheModuleTheVectorBackendRuns() throws Exception {
        Result r = runChild("--add-modules", "jdk.incubator.vector");
        assertEquals(0, r.code(), r.output());
        assertTrue(r.output().contains("sum=12.0 backend=cpu-vector"), r.output());
    }
}
