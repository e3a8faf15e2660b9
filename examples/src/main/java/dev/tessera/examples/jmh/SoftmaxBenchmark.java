package dev.tessera.examples.jmh;

import dev.tessera.tensor.NDArray;
import java.util.Random;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;

/**
 * Softmax over the last dimension of [R, C], forward and forward+backward: C = 768 (attention-sized
 * rows at GPT-2 width) and C = 50257 (GPT-2's vocabulary), R = 4096 (B*T). Outputs are closed, so
 * their arrays are recycled as in training. Run: see {@link JmhMain}.
 */
public class SoftmaxBenchmark extends KernelBenchmark {
    @Param({"4096"})
    public int rows;

    @Param({"768", "50257"})
    public int cols;

    // inputs, package-private: JmhBenchmarksTest checks results against them
    NDArray x;
    NDArray gradOut;

    @Override
    protected void makeInputs() {
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
