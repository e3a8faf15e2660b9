package dev.tessera.examples.jmh;

import dev.tessera.autograd.Tensor;
import dev.tessera.tensor.NDArray;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Forward and backward of GPT-2's MLP through autograd: y = gelu_tanh(x W1 + b1) W2 + b2 with x
 * [R, C], W1 [C, 4C], W2 [4C, C], R = 4096 (B*T), C = 768, and the backward of sum(y * g) for a fixed
 * random g, so the graph's own overhead shows beside its GEMM and GELU kernels (the same row as
 * {@code bench cpu}'s "mlp fwd+bwd"). Run: see {@link JmhMain}.
 */
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
public class MlpBenchmark extends KernelBenchmark {
    @Param({"4096"})
    public int rows;

    @Param({"768"})
    public int width;

    // inputs, package-private: JmhBenchmarksTest checks results against them
    Tensor x;
    Tensor w1;
    Tensor b1;
    Tensor w2;
    Tensor b2;
    Tensor gradOut;

    @Override
    protected void makeInputs() {
        int hidden = 4 * width;
        Random r = new Random(7);
        float scale1 = (float) (1 / Math.sqrt(width)), scale2 = (float) (1 / Math.sqrt(hidden));
        x = Tensor.of(NDArray.fromArray(JmhData.gaussian(r, rows * width), rows, width), true);
        w1 = Tensor.parameter(NDArray.fromArray(scaled(JmhData.gaussian(r, width * hidden), scale1), width, hidden));
        b1 = Tensor.parameter(NDArray.fromArray(JmhData.gaussian(r, hidden), hidden));
        w2 = Tensor.parameter(NDArray.fromArray(scaled(JmhData.gaussian(r, hidden * width), scale2), hidden, width));
        b2 = Tensor.parameter(NDArray.fromArray(JmhData.gaussian(r, width), width));
        gradOut = Tensor.of(NDArray.fromArray(JmhData.gaussian(r, rows * width), rows, width));
    }

    private static float[] scaled(float[] v, float s) {
        for (int i = 0; i < v.length; i++) v[i] *= s;
        return v;
    }

    /** sum(y * g); the gradients of x, W1, b1, W2, b2 are left in the leaves. */
    @Benchmark
    public double forwardBackward() {
        for (Tensor leaf : leaves()) leaf.zeroGrad();
        Tensor y = x.matmul(w1).add(b1).geluTanh().matmul(w2).add(b2);
        Tensor objective = y.mul(gradOut).sum();
        objective.backward();
        return objective.data().item();
    }

    /** x, W1, b1, W2, b2. */
    Tensor[] leaves() {
        return new Tensor[] {x, w1, b1, w2, b2};
    }
}
