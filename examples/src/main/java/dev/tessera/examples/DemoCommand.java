package dev.tessera.examples;

import dev.tessera.autograd.AdamW;
import dev.tessera.autograd.Tensor;
import dev.tessera.tensor.Backends;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.NormResult;
import dev.tessera.tensor.io.Safetensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A short demonstration of the engine: which backend runs, a batched matrix product checked
 * against a second evaluation order, softmax and layer norm statistics, a small MLP trained with
 * autograd and AdamW, and a safetensors round trip of its weights. Needs no data files.
 */
@Command(name = "demo", description = "Show the backend in use and run a small computation.")
public final class DemoCommand implements Callable<Integer> {

    @Option(names = "--seed", description = "Random seed (default: ${DEFAULT-VALUE}).")
    long seed = 42;

    @Option(names = "--size", description = "Matrix size C for the [4, C, C] products (default: ${DEFAULT-VALUE}).")
    int size = 256;

    @Override
    public Integer call() throws IOException {
        System.out.println("Tessera demo");
        System.out.println(Backends.cpu().describe());
        Generator gen = new Generator(seed);
        int c = size;

        // Batched matmul: x [B, T, C] @ w [C, C], and associativity as a cross-check.
        NDArray x = NDArray.normal(gen, DType.F32, 0, 1, 4, c, c);
        NDArray w = NDArray.normal(gen, DType.F32, 0, 1.0 / Math.sqrt(c), c, c);
        NDArray v = NDArray.normal(gen, DType.F32, 0, 1, c);
        NDArray y = null;
        double ms = Double.MAX_VALUE;
        for (int rep = 0; rep < 5; rep++) { // the first calls include JIT compilation
            long t0 = System.nanoTime();
            y = x.matmul(w);
            ms = Math.min(ms, (System.nanoTime() - t0) / 1e6);
        }
        double flops = 2.0 * 4 * c * c * c;
        NDArray left = y.matmul(v);                 // (x w) v
        NDArray right = x.matmul(w.matmul(v));      // x (w v)
        double diff = left.sub(right).abs().max().item();
        double scale = left.abs().max().item();
        System.out.printf("matmul [4, %d, %d] @ [%d, %d]: best of 5 %.2f ms (%.1f GFLOP/s)%n",
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

        trainAndSave(gen);
        return 0;
    }

    /**
     * Fits y = sin(3 x0) + x1^2 with a 2-32-1 GELU MLP (autograd + AdamW), then writes the weights
     * to safetensors and reads them back.
     */
    private static void trainAndSave(Generator gen) throws IOException {
        int n = 256, hidden = 32;
        NDArray xs = NDArray.uniform(gen, DType.F32, -1, 1, n, 2);
        NDArray targets = xs.select(1, 0).mul(3.0).sin().add(xs.select(1, 1).pow(2.0)).unsqueeze(1);
        Tensor x = Tensor.of(xs), t = Tensor.of(targets);
        Tensor w1 = Tensor.parameter(NDArray.normal(gen, DType.F32, 0, 0.7, 2, hidden));
        Tensor b1 = Tensor.parameter(NDArray.zeros(DType.F32, hidden));
        Tensor w2 = Tensor.parameter(NDArray.normal(gen, DType.F32, 0, 1.0 / Math.sqrt(hidden), hidden, 1));
        Tensor b2 = Tensor.parameter(NDArray.zeros(DType.F32, 1));
        AdamW opt = new AdamW(List.of(w1, b1, w2, b2), 0.02);
        System.out.println("training a 2-32-1 GELU MLP on y = sin(3 x0) + x1^2 with AdamW:");
        for (int step = 1; step <= 300; step++) {
            opt.zeroGrad();
            Tensor loss = x.matmul(w1).add(b1).gelu().matmul(w2).add(b2).sub(t).pow(2.0).mean();
            loss.backward();
            opt.step();
            if (step == 1 || step % 100 == 0) System.out.printf("  step %3d  mse %.5f%n", step, loss.item());
        }
        Path dir = Files.createTempDirectory("tessera-demo");
        Path file = dir.resolve("mlp.safetensors");
        Map<String, NDArray> weights = Map.of("fc1.weight", w1.data(), "fc1.bias", b1.data(),
                "fc2.weight", w2.data(), "fc2.bias", b2.data());
        Safetensors.write(file, weights, Map.of("format", "pt"));
        Map<String, NDArray> back = Safetensors.load(file);
        boolean same = weights.entrySet().stream().allMatch(e ->
                java.util.Arrays.equals(e.getValue().toFloatArray(), back.get(e.getKey()).toFloatArray()));
        System.out.printf("saved %d tensors to %s (%d bytes); read back identical: %s%n",
                back.size(), file, Files.size(file), same);
        Files.delete(file);
        Files.delete(dir);
    }
}
