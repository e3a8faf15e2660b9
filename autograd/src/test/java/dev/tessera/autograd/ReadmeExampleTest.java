package dev.tessera.autograd;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.NDArray;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/** The README's autograd snippet, kept compiling and running. */
class ReadmeExampleTest {
    @Test
    void readmeSnippet() {
        Generator gen = new Generator(0);
        Tensor w = Tensor.parameter(NDArray.normal(gen, DType.F32, 0, 0.1, 4, 3));   // leaf, requires grad
        Tensor b = Tensor.parameter(NDArray.zeros(DType.F32, 3));
        Tensor x = Tensor.of(NDArray.normal(gen, DType.F32, 0, 1, 8, 4));             // data, no grad
        Tensor targets = Tensor.fromArray(new long[] {0, 1, 2, 0, 1, 2, 0, 1}, 8);

        Tensor loss = x.matmul(w).add(b).gelu().crossEntropy(targets);              // records the graph
        loss.backward();                                                             // w.grad(), b.grad() filled; graph freed
        NDArray dw = w.grad();

        try (NoGrad g = NoGrad.enter()) {                                            // inference: nothing recorded
            Tensor logits = x.matmul(w).add(b);
            assertFalse(logits.requiresGrad());
        }
        assertNotNull(dw);
        assertArrayEquals(new int[] {4, 3}, dw.shape());
        assertNotNull(b.grad());
    }
}
