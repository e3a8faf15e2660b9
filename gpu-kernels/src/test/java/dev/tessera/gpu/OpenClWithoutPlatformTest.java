package dev.tessera.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A machine whose OpenCL loader finds no driver: a child JVM runs with OCL_ICD_VENDORS pointing at
 * an empty folder. The backend must report what to install, and opening a device or moving data to
 * it must throw that message: no crash, no silent CPU fallback.
 */
class OpenClWithoutPlatformTest {
    @Test
    void noPlatformGivesAClearMessageNamingWhatToInstall(@TempDir Path empty) throws IOException, InterruptedException {
        // Needs the OpenCL loader library (without it the same message comes from the missing library).
        assumeTrue(OpenCl.isAvailable(), () -> "needs an OpenCL loader on this machine: " + OpenCl.unavailableReason());
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(List.of(java, "--add-modules", "jdk.incubator.vector", "-cp",
                System.getProperty("java.class.path"), NoPlatformProbe.class.getName()));
        pb.environment().put("OCL_ICD_VENDORS", empty.toString());
        pb.environment().put("OCL_ICD_FILENAMES", "");
        pb.environment().put("TESSERA_QUIET", "true");
        pb.redirectErrorStream(true);
        Path log = empty.resolve("probe.log");
        pb.redirectOutput(log.toFile());
        Process p = pb.start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "probe JVM did not finish");
        String out = Files.readString(log, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("available=false") && out.contains("devices=0"), out);
        assertTrue(out.contains("report=OpenCL: no device available: no OpenCL platform found"), out);
        assertTrue(out.contains("pocl-opencl-icd") && out.contains("nvidia"), "the message names what to install: " + out);
        assertTrue(out.contains("open=opencl:0 cannot be opened: no OpenCL platform found"), out);
        assertTrue(out.contains("transfer=OpenClUnavailableException: opencl:0 cannot be opened"), out);
    }
}
