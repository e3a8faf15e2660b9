package dev.tessera.examples.jmh;

import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.UnaryOp;
import java.util.Random;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;

/**
 * GELU forward and backward over [4096, 768] (GPT-2 124M's MLP input with B*T = 4096), in GPT-2's
 * tanh form and in the exact form x Phi(x). Outputs are closed, so their arrays are recycled as in
 * training. Run: see {@link JmhMain}.
 */
public class GeluBenchmark extends KernelBenchmark {
    @Param({"4096"})
    public int rows;

    @Param({"768"})
    public int cols;

    // inputs, package-private: JmhBenchmarksTest checks results against them
    NDArray x;
    NDArray gradOut;

    @Override
    protected void makeInputs() {
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
