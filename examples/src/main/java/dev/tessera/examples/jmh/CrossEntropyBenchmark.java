package dev.tessera.examples.jmh;

import dev.tessera.tensor.CrossEntropyResult;
import dev.tessera.tensor.NDArray;
import java.util.Random;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;

/**
 * Cross entropy of logits [R, V] against R class indices, forward (the R per-row losses) and
 * forward+backward (also the gradient of their mean with respect to the logits): V = 768 and
 * V = 50257 (GPT-2's vocabulary, the language-model loss), R = 4096 (B*T). Run: see {@link JmhMain}.
 */
public class CrossEntropyBenchmark extends KernelBenchmark {
    @Param({"4096"})
    public int rows;

    @Param({"768", "50257"})
    public int classes;

    // inputs, package-private: JmhBenchmarksTest checks results against them
    NDArray logits;
    NDArray targets;

    @Override
    protected void makeInputs() {
        Random r = new Random(5);
        logits = NDArray.fromArray(JmhData.gaussian(r, rows * classes), rows, classes);
        targets = NDArray.fromArray(JmhData.targets(r, rows, classes), rows);
    }

    /** The first row's loss. */
    @Benchmark
    public double forward() {
        CrossEntropyResult result = logits.crossEntropy(targets, -100, 0);
        result.logSumExp().close();
        return JmhData.firstAndClose(result.loss());
    }

    /** The first element of the gradient of the mean loss with respect to the logits. */
    @Benchmark
    public double forwardBackward() {
        CrossEntropyResult result = logits.crossEntropy(targets, -100, 0);
        NDArray dLogits = logits.crossEntropyBackward(targets, result.logSumExp(), -100, 0, 1.0 / Math.max(1, result.validCount()));
        result.loss().close();
        result.logSumExp().close();
        return JmhData.firstAndClose(dLogits);
    }
}
