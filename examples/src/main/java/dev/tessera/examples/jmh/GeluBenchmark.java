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
    @Param({"2"})
    public int threads;

    private NDArray x;
    private NDArray gradOut;

    @Setup
    public void setup() {
        Parallel.setThreads(threads);
        int n = 4096, c = 768;
        Random r = new Random(3);
        float[] xv = new float[n * c], gv = new float[n * c];
        for (int i = 0; i < xv.length; i++) {
            xv[i] = (float) r.nextGaussian();
            gv[i] = (float) r.nextGaussian();
        }
        x = NDArray.fromArray(xv, n, c);
        gradOut = NDArray.fromArray(gv, n, c);
    }

    @Benchmark
    public void tanhForward() {
        x.geluTanh().close();
    }

    @Benchmark
    public void exactForward() {
        x.gelu().close();
    }

    @Benchmark
    public void tanhBackward() {
        x.unaryBackward(UnaryOp.GELU_TANH, gradOut, 0).close();
    }

    @Benchmark
    public void exactBackward() {
        x.unaryBackward(UnaryOp.GELU, gradOut, 0).close();
    }
}
