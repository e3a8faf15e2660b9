package dev.tessera.examples.jmh;

import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.NormGrads;
import dev.tessera.tensor.NormResult;
import java.util.Random;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;

/**
 * Layer norm over the last dimension of [R, C], forward and backward (input, weight and bias
 * gradients), R = 4096 (B*T), C = 768 (GPT-2 124M). Outputs are closed, so their arrays are recycled
 * as in training. Run: see {@link JmhMain}.
 */
public class LayerNormBenchmark extends KernelBenchmark {
    @Param({"4096"})
    public int rows;

    @Param({"768"})
    public int cols;

    // inputs, package-private: JmhBenchmarksTest checks results against them
    NDArray x;
    NDArray gradOut;
    NDArray weight;
    NDArray bias;
    NormResult forward;

    @Override
    protected void makeInputs() {
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
