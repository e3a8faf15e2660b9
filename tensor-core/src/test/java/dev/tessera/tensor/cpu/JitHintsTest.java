package dev.tessera.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class JitHintsTest {
    @Test
    void directiveNamesMethodsThatExist() {
        // A renamed kernel would leave the directive matching nothing, silently.
        for (String pattern : JitHints.C2_ONLY) {
            String cls = pattern.substring(0, pattern.lastIndexOf('.')).replace('/', '.');
            String method = pattern.substring(pattern.lastIndexOf('.') + 1);
            assertEquals(GemmF32.class.getName(), cls, pattern);
            assertTrue(Arrays.stream(GemmF32.class.getDeclaredMethods()).map(Method::getName).anyMatch(method::equals),
                    "GemmF32 has no method " + method);
        }
    }

    @Test
    void appliedOnHotSpotAndReportedByTheBackend() {
        String status = JitHints.status();
        if (System.getProperty("java.vm.name", "").contains("HotSpot") || System.getProperty("java.vm.name", "").startsWith("OpenJDK")) {
            assertEquals("GEMM kernels compiled by C2 only", status);
        }
        assertTrue(new CpuBackend().describe().endsWith(status), new CpuBackend().describe());
    }
}
