package dev.tessera.examples.jmh;

import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.NormGrads;
import dev.tessera.tensor.NormResult;
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
 * Layer norm over the last dimension of [R, C], forward and backward (input, weight and bias
 * gradients), R = 4096 (B*T), C = 768 (GPT-2 124M). Outputs are closed, so their arrays are recycled
 * as in training. Run: see {@link JmhMain}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class LayerNormBenchmark {
    @Param({"4096"})
    public int rows;

    @Param({"768"})
    public int cols;

    @Param({"2"})
    public int threads;

    // inputs, package-private: JmhBenchmarksTest checks results against them
    NDArray x;
    NDArray gradOut;
    NDArray weight;
    NDArray bias;
    NormResult forward;

    @Setup
    public void setup() {
        Parallel.setThreads(threads);
        int n = rows, c = cols;
        Random r = new Random(2);
        x = NDArray.fromArray(JmhData.gaussian(r, n * c), n, c);
        gradOut = NDArray.fromArray(JmhData.gaussian(r, n * c), n, c);
        weight = NDArray.fromArray(JmhData.gaussian(r, c), c);
        bias = NDArray.fromArray(JmhData.gaussian(r, c), c);
        forward = x.layerNorm(weight, bias, 1e-5);
    }

    /** The first output element. */
    @Benchmark
    public double forward() {
        NormResult result = x.layerNorm(weight, bias, 1e-5);
        result.mean().close();
        result.rstd().close();
        return JmhData.firstAndClose(result.out());
    }

    /** The first element of the input gradient (given the forward pass's saved mean and rstd). */
    @Benchmark
    public double backward() {
        NormGrads grads = x.layerNormBackward(gradOut, forward.mean(), forward.rstd(), weight, true);
        grads.weight().close();
        grads.bias().close();
        return JmhData.firstAndClose(grads.input());
    }
}
