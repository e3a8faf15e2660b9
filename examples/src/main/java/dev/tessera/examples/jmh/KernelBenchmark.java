package dev.tessera.examples.jmh;

import dev.tessera.tensor.Parallel;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What every benchmark of this package shares (JMH reads these annotations through subclasses,
 * which override them where their calls take milliseconds): average time per call, one fork with
 * the Vector API module, and a {@code threads} parameter applied before the inputs are made.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public abstract class KernelBenchmark {
    @Param({"2"})
    public int threads;

    /** Sets Tessera's thread count, then makes the inputs. */
    @Setup
    public void setup() {
        Parallel.setThreads(threads);
        makeInputs();
    }

    /** Makes the benchmark's inputs from its parameters (seeded: every fork measures the same data). */
    protected abstract void makeInputs();
}
