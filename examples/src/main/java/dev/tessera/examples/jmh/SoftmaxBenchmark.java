package dev.tessera.examples.jmh;

import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.Parallel;
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
 * Softmax over the last dimension of [R, C], forward and forward+backward: C = 768 (attention-sized
 * rows at GPT-2 width) and C = 50257 (GPT-2's vocabulary), R = 4096 (B*T). Outputs are closed, so
 * their arrays are recycled as in training. Run: see {@link JmhMain}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class SoftmaxBenchmark {
    @Param({"4096"})
    public int rows;

    @Param({"768", "50257"})
    public int cols;

    @Param({"2"})
    public int threads;

    // inputs, package-private: JmhBenchmarksTest checks results against them
    NDArray x;
    NDArray gradOut;

    @Setup
    public void setup() {
        Parallel.setThreads(threads);
        Random r = new Random(4);
        x = NDArray.fromArray(JmhData.gaussian(r, rows * cols), rows, cols);
        gradOut = NDArray.fromArray(JmhData.gaussian(r, rows * cols), rows, cols);
    }

    @Benchmark
    public double forward() {
        return JmhData.firstAndClose(x.softmax(-1));
    }

    @Benchmark
    public double forwardBackward() {
        NDArray y = x.softmax(-1);
        NDArray dx = y.softmaxBackward(gradOut, -1, false);
        y.close();
        return JmhData.firstAndClose(dx);
    }
}
