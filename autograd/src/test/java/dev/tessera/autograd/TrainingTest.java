package dev.tessera.autograd;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.NDArray;
import org.junit.jupiter.api.Test;

import java.lang.ref.WeakReference;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Learning and memory behaviour over many steps. */
class TrainingTest {
    /** A two-layer MLP: x [N, I] -> tanh(x W1 + b1) W2 + b2 -> [N, O]. */
    static final class Mlp {
        final Tensor w1, b1, w2, b2;

        Mlp(Generator g, int in, int hidden, int out) {
            w1 = Tensor.parameter(NDArray.normal(g, DType.F32, 0, 1 / Math.sqrt(in), in, hidden));
            b1 = Tensor.parameter(NDArray.zeros(DType.F32, hidden));
            w2 = Tensor.parameter(NDArray.normal(g, DType.F32, 0, 1 / Math.sqrt(hidden), hidden, out));
            b2 = Tensor.parameter(NDArray.zeros(DType.F32, out));
        }

        Tensor forward(Tensor x) { return x.matmul(w1).add(b1).tanh().matmul(w2).add(b2); }

        List<Tensor> parameters() { return List.of(w1, b1, w2, b2); }

        void sgd(double lr) {
            try (NoGrad g = NoGrad.enter()) {
                for (Tensor p : parameters()) {
                    p.data().assign(p.data().sub(p.grad().mul(lr)));
                    p.zeroGrad();
                }
            }
        }
    }

    /** y = 0.5 sin(2 x0) + x1^2 - 0.3 on x uniform in [-1, 1]^2. */
    static NDArray[] toyRegression(Generator g, int n) {
        NDArray x = NDArray.uniform(g, DType.F32, -1, 1, n, 2);
        NDArray y = x.select(1, 0).mul(2.0).sin().mul(0.5).add(x.select(1, 1).pow(2.0)).sub(0.3).unsqueeze(1);
        return new NDArray[] {x, y};
    }

    @Test
    void tinyMlpLearnsAToyRegressionWithPlainSgd() {
        Generator g = new Generator(2024);
        NDArray[] data = toyRegression(g, 128);
        Tensor x = Tensor.of(data[0]), y = Tensor.of(data[1]);
        Mlp mlp = new Mlp(g, 2, 24, 1);
        double first = Double.NaN, last = Double.NaN;
        for (int step = 0; step < 3000; step++) {
            Tensor loss = mlp.forward(x).sub(y).square().mean();
            if (step == 0) first = loss.item();
            last = loss.item();
            loss.backward();
            mlp.sgd(0.2);
        }
        // The target has variance ~0.1; predicting its mean gives that loss. Learning must go far below.
        assertTrue(first > 0.05, "initial loss " + first);
        assertTrue(last < 0.005, "loss after training " + last + " (initial " + first + ")");
        NDArray[] test = toyRegression(new Generator(7), 64);
        try (NoGrad ng = NoGrad.enter()) {
            double testLoss = mlp.forward(Tensor.of(test[0])).sub(Tensor.of(test[1])).square().mean().item();
            assertTrue(testLoss < 0.01, "held-out loss " + testLoss);
        }
    }

    @Test
    void tenThousandTrainingStepsKeepTheHeapFlat() {
        Generator g = new Generator(1);
        NDArray[] data = toyRegression(g, 16);
        Tensor x = Tensor.of(data[0]), y = Tensor.of(data[1]);
        Mlp mlp = new Mlp(g, 2, 16, 1);
        AdamW opt = new AdamW(mlp.parameters(), 1e-3);
        long atThousand = 0;
        for (int step = 1; step <= 10_000; step++) {
            Tensor loss = mlp.forward(x).sub(y).square().mean();
            loss.backward();
            opt.step();
            opt.zeroGrad();
            if (step == 1_000) atThousand = usedHeapAfterGc();
        }
        long atTenThousand = usedHeapAfterGc();
        long growth = atTenThousand - atThousand;
        assertTrue(growth < 4L << 20, "heap grew by " + (growth >> 10) + " KiB between step 1,000 (" + (atThousand >> 10)
                + " KiB) and step 10,000 (" + (atTenThousand >> 10) + " KiB)");
        assertEquals(10_000, opt.stepCount());
    }

    @Test
    void backwardReleasesActivationsEvenWhileTheLossIsStillHeld() {
        Generator g = new Generator(3);
        Tensor w = Tensor.parameter(NDArray.normal(g, DType.F32, 0, 1, 64, 64));
        Tensor x = Tensor.of(NDArray.normal(g, DType.F32, 0, 1, 8, 64));
        Tensor hidden = x.matmul(w).tanh();
        WeakReference<NDArray> activation = new WeakReference<>(hidden.data());
        Tensor loss = hidden.matmul(w).sum();
        hidden = null;
        loss.backward(true);
        usedHeapAfterGc();
        assertNotNull(activation.get(), "a retained graph keeps its saved activations");
        loss.backward();
        usedHeapAfterGc();
        assertNull(activation.get(), "after backward the graph's saved activations must be collectable");
        assertNotNull(loss.data());
    }

    static long usedHeapAfterGc() {
        Runtime rt = Runtime.getRuntime();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            System.gc();
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            used = Math.min(used, rt.totalMemory() - rt.freeMemory());
        }
        return used;
    }
}
