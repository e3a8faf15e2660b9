package dev.tessera.examples.jmh;

import dev.tessera.tensor.NDArray;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Warmup;

/**
 * F32 GEMM at GPT-2 (124M) shapes with B*T = 4096 rows: the MLP's c_fc (768 -> 3072), its
 * backward dX (dY @ W^T, a transposed view) and the attention's c_attn (768 -> 2304).
 * Run: see {@link JmhMain}.
 */
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class GemmBenchmark extends KernelBenchmark {
    /** m x k @ k x n, with "T" marking a transposed B view. */
    @Param({"4096x768x3072", "4096x3072x768T", "4096x768x2304"})
    public String shape;

    // inputs, package-private: JmhBenchmarksTest checks results against them
    NDArray a;
    NDArray b;

    @Override
    protected void makeInputs() {
        boolean transposed = shape.endsWith("T");
        String[] d = shape.replace("T", "").split("x");
        int m = Integer.parseInt(d[0]), k = Integer.parseInt(d[1]), n = Integer.parseInt(d[2]);
        Random r = new Random(1);
        a = NDArray.fromArray(JmhData.gaussian(r, m * k), m, k);
        b = transposed ? NDArray.fromArray(JmhData.gaussian(r, n * k), n, k).mT() : NDArray.fromArray(JmhData.gaussian(r, k * n), k, n);
    }


    /** The first element of the product (closed, so its array is recycled for the next call). */
    @Benchmark
    public double matmul() {
        return JmhData.firstAndClose(a.matmul(b));
    }
}
