package dev.tessera.examples.jmh;

import dev.tessera.tensor.NDArray;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One AdamW step (GPT-2's settings: lr 6e-4, betas 0.9/0.95, eps 1e-8, weight decay 0.1) over
 * P = tensors x size parameters; the default is GPT-2 124M's count as four tensors of 31.11M
 * (parameters, gradients and both moments: 2 GB, so the fork asks for an 8 GB heap). Run: see
 * {@link JmhMain}.
 */
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx8g"})
public class AdamWBenchmark extends KernelBenchmark {
    @Param({"4"})
    public int tensors;

    @Param({"31110000"})
    public int size;

    // inputs, package-private: JmhBenchmarksTest checks results against them
    NDArray[] params;
    NDArray[] grads;
    NDArray[] firstMoments;
    NDArray[] secondMoments;
    private long step;

    @Override
    protected void makeInputs() {
        Random r = new Random(6);
        params = new NDArray[tensors];
        grads = new NDArray[tensors];
        firstMoments = new NDArray[tensors];
        secondMoments = new NDArray[tensors];
        for (int i = 0; i < tensors; i++) {
            params[i] = NDArray.fromArray(JmhData.gaussian(r, size), size);
            grads[i] = NDArray.fromArray(JmhData.gaussian(r, size), size);
            firstMoments[i] = NDArray.fromArray(new float[size], size);
            secondMoments[i] = NDArray.fromArray(new float[size], size);
        }
        step = 0;
    }

    /** The step number taken (the parameters and moments are updated in place). */
    @Benchmark
    public long step() {
        step++;
        for (int i = 0; i < tensors; i++) {
            params[i].adamwStep(grads[i], firstMoments[i], secondMoments[i], 6e-4, 0.9, 0.95, 1e-8, 0.1, step);
        }
        return step;
    }
}
