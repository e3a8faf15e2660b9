package dev.tessera.autograd;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.NDArray;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The fused AdamW update against the formula written out in scalar Java. */
class AdamWTest {
    @Test
    void twoStepsMatchTheFormula() {
        double[] p0 = {0.5, -1.0, 2.0};
        Tensor p = Tensor.parameter(NDArray.fromArray(p0.clone(), 3));
        Tensor unused = Tensor.parameter(NDArray.fromArray(new double[] {1}, 1));
        double lr = 0.1, b1 = 0.9, b2 = 0.99, eps = 1e-8, wd = 0.05;
        AdamW opt = new AdamW(List.of(p, unused), lr, b1, b2, eps, wd);
        double[] expected = p0.clone(), m = new double[3], v = new double[3];
        for (int step = 1; step <= 2; step++) {
            p.mul(p).mul(Tensor.fromArray(new double[] {1, 2, 3}, 3)).sum().backward(); // grad = 2 * c * p
            double[] g = p.grad().toDoubleArray();
            opt.step();
            opt.zeroGrad();
            for (int i = 0; i < 3; i++) {
                m[i] = b1 * m[i] + (1 - b1) * g[i];
                v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
                expected[i] -= lr * wd * expected[i];
                double mh = m[i] / (1 - Math.pow(b1, step)), vh = v[i] / (1 - Math.pow(b2, step));
                expected[i] -= lr * mh / (Math.sqrt(vh) + eps);
            }
            assertArrayEquals(expected, p.toDoubleArray(), 1e-12, "step " + step);
        }
        assertArrayEquals(new double[] {1}, unused.toDoubleArray(), 0, "a parameter without gradient is not touched");
        assertNull(opt.moments(unused));
    }

    @Test
    void minimizesAQuadratic() {
        Tensor p = Tensor.parameter(NDArray.fromArray(new float[] {3, -4}, 2));
        AdamW opt = new AdamW(List.of(p), 0.1, 0.9, 0.999, 1e-8, 0.0);
        for (int i = 0; i < 300; i++) {
            p.sub(1.0).square().sum().backward();
            opt.step();
            opt.zeroGrad();
        }
        assertArrayEquals(new double[] {1, 1}, p.toDoubleArray(), 0.05);
    }

    @Test
    void refusesNonLeafOrNonTrainableParameters() {
        Tensor p = Tensor.parameter(NDArray.zeros(DType.F32, 2));
        assertThrows(IllegalArgumentException.class, () -> new AdamW(List.of(p.mul(2.0)), 0.1));
        assertThrows(IllegalArgumentException.class, () -> new AdamW(List.of(Tensor.zeros(DType.F32, 2)), 0.1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new AdamW(List.of(p), -1));
        assertTrue(e.getMessage().contains("lr"), e.getMessage());
    }
}
