package dev.tessera.examples.jmh;

import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.Parallel;
import dev.tessera.tensor.UnaryOp;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
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
 * GELU forward and backward over [4096, 768] (GPT-2 124M's MLP input with B*T = 4096), in GPT-2's
 * tanh form and in the exact form x Phi(x). Outputs are closed, so their arrays are recycled as in
 * training. Run: see {@link JmhMain}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class GeluBenchmark {
    @Param({"4096"})
    public int rows;

    @Param({"768"})
    public int cols;

    @Param({"2"})
    public int threads;

    // inputs, package-private: JmhBenchmarksTest checks results against them
    NDArray x;
    NDArray gradOut;

    @Setup
    public void setup() {
        Parallel.setThreads(threads);
        Random r = new Random(3);
        x = NDArray.fromArray(JmhData.gaussian(r, rows * cols), rows, cols);
        gradOut = NDArray.fromArray(JmhData.gaussian(r, rows * cols), rows, cols);
    }

    @Benchmark
    public double tanhForward() {
        return JmhData.firstAndClose(x.geluTanh());
    }

    @Benchmark
    public double exactForward() {
        return JmhData.firstAndClose(x.gelu());
    }

    @Benchmark
    public double tanhBackward() {
        return JmhData.firstAndClose(x.unaryBackward(UnaryOp.GELU_TANH, gradOut, 0));
    }

    @Benchmark
    public double exactBackward() {
        return JmhData.firstAndClose(x.unaryBackward(UnaryOp.GELU, gradOut, 0));
    }
}
