package dev.tessera.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The program's commands run end to end in-process. */
class ProgramTest {

    private static String run(String... args) {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
            System.setOut(out);
            int code = new CommandLine(new Main()).execute(args);
            assertEquals(0, code, "exit code of " + String.join(" ", args));
        } finally {
            System.setOut(old);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    @Test
    void demoTrainsAndRoundTripsWeights() {
        String out = run("demo", "--size", "32");
        assertTrue(out.contains("cpu-vector"), out);
        assertTrue(out.contains("row sums in [1.000000, 1.000000]"), out);
        assertTrue(out.contains("read back identical: true"), out);
        // the MLP really learned: last reported loss well below the first
        var m = java.util.regex.Pattern.compile("step +(\\d+) +mse ([0-9.]+)").matcher(out);
        double first = -1, last = -1;
        while (m.find()) {
            double v = Double.parseDouble(m.group(2));
            if (first < 0) first = v;
            last = v;
        }
        assertTrue(first > 0 && last < first / 20, "loss went from " + first + " to " + last);
    }

    @Test
    void benchPoolComparesBothSettingsAndRestoresTheSpin() {
        long before = dev.tessera.tensor.Parallel.spinMicros();
        String out = run("bench", "cpu", "--pool", "--quick", "--threads", "2");
        var handOff = java.util.regex.Pattern.compile("hand-off: us to a pool thread's first task +([0-9.]+) +([0-9.]+) +([0-9.]+)").matcher(out);
        assertTrue(handOff.find(), out);
        assertTrue(Double.parseDouble(handOff.group(1)) > 0 && Double.parseDouble(handOff.group(2)) > 0, out);
        assertTrue(out.contains("GEMM 256^3 at 2 threads") && out.contains("GEMM 512^3 at 2 threads"), out);
        assertEquals(before, dev.tessera.tensor.Parallel.spinMicros(), "the spin setting is restored");
    }

    @Test
    void benchScalingPrintsTheProbesOwnSpeedupBesideTheRows() {
        String out = run("bench", "cpu", "--scaling", "--quick", "--no-torch", "--rows", "gemm", "--threads", "2");
        for (String when : new String[] {"before", "after"}) {
            var probe = java.util.regex.Pattern.compile("FMA probe " + when
                    + " the rows: 1 thread ([0-9.]+) GFLOP/s, 2 threads ([0-9.]+) GFLOP/s, speedup ([0-9.]+)x").matcher(out);
            assertTrue(probe.find(), out);
            double one = Double.parseDouble(probe.group(1)), two = Double.parseDouble(probe.group(2));
            assertTrue(one > 0 && two > 0, out);
            assertEquals(two / one, Double.parseDouble(probe.group(3)), 0.5, "the speedup is the ratio of the two medians: " + out);
        }
        assertTrue(out.lines().anyMatch(l -> l.startsWith("gemm ") && !l.contains("failed")), out);
        assertTrue(out.contains("targets: not checked (--quick runs tiny shapes"), out);
    }

    @Test
    void benchWithoutTheReferenceSaysItsRatioTargetsWereNotMeasured() {
        // full shapes (the targets are not checked on --quick's), one short round of the smallest rows
        String out = run("bench", "cpu", "--no-torch", "--rows", "gpt2 qkv,layernorm", "--rounds", "1", "--warmup-ms", "50");
        assertTrue(out.contains("targets, from this run's medians:"), out);
        assertTrue(out.contains("GEMM on the GPT-2 shapes, at least 0.8x libtorch's GFLOP/s (T/torch <= 1.25): not measured (gpt2 qkv: a side did not run)"), out);
        assertTrue(out.contains("at least libtorch's speed (T/torch <= 1.00): not measured (layernorm, layernorm fwd+bwd: a side did not run)"), out);
        // the allocation check ran (whether it warns depends on how far the JIT got in 50 ms)
        assertTrue(out.contains("allocation per call (Tessera, rows with a speed target): at most") || out.contains("per call in Tessera: boxed vectors"), out);
    }

    @Test
    void devicesListsTheCpuBackend() {
        String out = run("devices");
        assertTrue(out.startsWith("cpu: "), out);
        assertTrue(out.contains("opencl"), out);
    }
}
