package dev.tessera.examples;

import dev.tessera.tensor.Backends;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.NormResult;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A short demonstration of the engine: which backend runs, a batched matrix product checked
 * against a second evaluation order, softmax and layer norm statistics. Needs no data files.
 */
@Command(name = "demo", description = "Show the backend in use and run a small computation.")
public final class DemoCommand implements Callable<Integer> {

    @Option(names = "--seed", description = "Random seed (default: ${DEFAULT-VALUE}).")
    long seed = 42;

    @Option(names = "--size", description = "Matrix size C for the [4, C, C] products (default: ${DEFAULT-VALUE}).")
    int size = 256;

    @Override
    public Integer call() {
        System.out.println("Tessera demo");
        System.out.println("backend: " + Backends.cpu().describe());
        Generator gen = new Generator(seed);
        int c = size;

        // Batched matmul: x [B, T, C] @ w [C, C], and associativity as a cross-check.
        NDArray x = NDArray.normal(gen, DType.F32, 0, 1, 4, c, c);
        NDArray w = NDArray.normal(gen, DType.F32, 0, 1.0 / Math.sqrt(c), c, c);
        NDArray v = NDArray.normal(gen, DType.F32, 0, 1, c);
        long t0 = System.nanoTime();
        NDArray y = x.matmul(w);
        double ms = (System.nanoTime() - t0) / 1e6;
        double flops = 2.0 * 4 * c * c * c;
        NDArray left = y.matmul(v);                 // (x w) v
        NDArray right = x.matmul(w.matmul(v));      // x (w v)
        double diff = left.sub(right).abs().max().item();
        double scale = left.abs().max().item();
        System.out.printf("matmul [4, %d, %d] @ [%d, %d]: %.2f ms (%.1f GFLOP/s, first call includes JIT warm-up)%n",
                c, c, c, c, ms, flops / ms / 1e6);
        System.out.printf("  (x w) v vs x (w v): max |difference| %.3g relative to max |value| %.3g%n", diff, scale);

        // Softmax rows sum to 1; layer norm rows have mean 0 and variance 1.
        NDArray p = y.softmax(-1);
        NDArray rowSums = p.sum(-1);
        System.out.printf("softmax over the last dim: row sums in [%.6f, %.6f]%n",
                rowSums.min().item(), rowSums.max().item());
        NormResult ln = y.layerNorm(null, null, 1e-5);
        System.out.printf("layer norm: mean of row means %.2e, mean row variance %.6f%n",
                ln.out().mean(-1).abs().max().item(), ln.out().var(-1).mean().item());

        // GELU, reductions and argmax on a small vector, printed in full.
        NDArray small = NDArray.fromArray(new float[] {-2f, -0.5f, 0f, 0.5f, 2f});
        System.out.println("gelu(" + java.util.Arrays.toString(small.toFloatArray()) + ") = "
                + java.util.Arrays.toString(small.gelu().toFloatArray()));
        System.out.println("argmax of the first row of y: " + (long) y.select(0, 0).select(0, 0).argmax(0, false).item());
        return 0;
    }
}
