package dev.tessera.examples.jmh;

import dev.tessera.tensor.NDArray;
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

/** Layer norm forward and backward over [4096, 768] (GPT-2 124M with B*T = 4096). Run: see {@link JmhMain}. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class LayerNormBenchmark {
    @Param({"2"})
    public int threads;

    private NDArray x;
    private NDArray gradOut;
    private NDArray weight;
    private NDArray bias;
    private NormResult forward;

    @Setup
    public void setup() {
        Parallel.setThreads(threads);
        int n = 4096, c = 768;
        Random r = new Random(2);
        x = NDArray.fromArray(random(r, n * c), n, c);
        gradOut = NDArray.fromArray(random(r, n * c), n, c);
        weight = NDArray.fromArray(random(r, c), c);
        bias = NDArray.fromArray(random(r, c), c);
        forward = x.layerNorm(weight, bias, 1e-5);
    }

    private static float[] random(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
        return v;
    }

    @Benchmark
    public NormResult forward() {
        return x.layerNorm(weight, bias, 1e-5);
    }

    @Benchmark
    public Object backward() {
        return x.layerNormBackward(gradOut, forward.mean(), forward.rstd(), weight, true);
    }
}
