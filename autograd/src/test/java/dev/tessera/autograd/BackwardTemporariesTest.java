package dev.tessera.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.tensor.AllocationLog;
import dev.tessera.tensor.CpuArrayPool;
import dev.tessera.tensor.CpuStorage;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.NDArray;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The engine closes the arrays it made during backward, except the gradients it stores. */
class BackwardTemporariesTest {

    private static Tensor[] mlp(Generator gen) {
        Tensor x = Tensor.of(NDArray.normal(gen, DType.F32, 0, 1, 64, 96), true);
        Tensor w1 = Tensor.parameter(NDArray.normal(gen, DType.F32, 0, 0.1, 96, 384));
        Tensor b1 = Tensor.parameter(NDArray.normal(gen, DType.F32, 0, 0.1, 384));
        Tensor w2 = Tensor.parameter(NDArray.normal(gen, DType.F32, 0, 0.1, 384, 96));
        return new Tensor[] {x, w1, b1, w2};
    }

    private static Tensor forward(Tensor[] p, Tensor g) {
        return p[0].matmul(p[1]).add(p[2]).geluTanh().matmul(p[3]).mul(g).sum();
    }

    @Test
    void temporariesAreClosedAndGradientsMatchAFreshRun() {
        Generator gen = new Generator(5);
        Tensor[] p = mlp(gen);
        Tensor g = Tensor.of(NDArray.normal(gen, DType.F32, 0, 1, 64, 96));

        // Watch what backward allocates: an outer log receives what the engine's own log recorded.
        List<CpuStorage> made;
        Tensor hidden = p[0].matmul(p[1]).add(p[2]).geluTanh(); // a forward output the caller keeps
        Tensor loss = hidden.matmul(p[3]).mul(g).sum();
        try (AllocationLog outer = AllocationLog.start()) {
            loss.backward();
            made = new ArrayList<>(outer.storages());
        }
        assertFalse(made.isEmpty(), "backward allocates intermediate gradients");
        int closed = 0, open = 0;
        StringBuilder openSizes = new StringBuilder();
        for (CpuStorage s : made) {
            if (s.isClosed()) closed++;
            else if (s.size() > 1) { // the one-element seed is made before the engine starts its log
                open++;
                openSizes.append(' ').append(s.size());
            }
        }
        assertTrue(closed > 0, "intermediate gradients are released");
        assertTrue(open == 4, "only the four stored gradients stay open, got " + open + ":" + openSizes);
        for (Tensor t : p) assertFalse(t.grad().storage().isClosed(), "stored gradients stay usable");
        assertFalse(hidden.data().storage().isClosed(), "forward outputs are not touched");
        assertFalse(g.data().storage().isClosed(), "inputs are not touched");
        float[] hiddenValues = hidden.data().toFloatArray(); // still readable

        // A second, identical step that reuses the released arrays gives the same gradients.
        float[][] first = new float[p.length][];
        for (int i = 0; i < p.length; i++) first[i] = p[i].grad().toFloatArray();
        for (Tensor t : p) t.zeroGrad();
        forward(p, g).backward();
        for (int i = 0; i < p.length; i++) assertArrayEquals(first[i], p[i].grad().toFloatArray(), "gradient " + i);
        assertArrayEquals(hiddenValues, hidden.data().toFloatArray());
    }

    @Test
    void anExplicitGradOutputStaysTheCallers() {
        Generator gen = new Generator(6);
        Tensor w = Tensor.parameter(NDArray.normal(gen, DType.F32, 0, 1, 128, 160));
        Tensor y = w.mul(2.0).exp();
        NDArray gradOut = NDArray.normal(gen, DType.F32, 0, 1, 128, 160);
        long heldBefore = CpuArrayPool.heldBytes();
        y.backward(gradOut);
        assertFalse(gradOut.storage().isClosed());
        assertFalse(y.data().storage().isClosed());
        assertTrue(CpuArrayPool.heldBytes() >= heldBefore, "released temporaries went to the pool");
    }

    @Test
    void retainedGradientsOfNonLeavesStayOpen() {
        Generator gen = new Generator(7);
        Tensor w = Tensor.parameter(NDArray.normal(gen, DType.F32, 0, 1, 128, 160));
        Tensor h = w.mul(3.0);
        h.retainGrad();
        h.exp().sum().backward();
        assertFalse(h.grad().storage().isClosed());
        assertFalse(w.grad().storage().isClosed());
        float[] hv = h.data().toFloatArray(), hg = h.grad().toFloatArray(), wg = w.grad().toFloatArray();
        for (int i = 0; i < hv.length; i++) {
            assertTrue(Math.abs(hg[i] - Math.exp(hv[i])) <= 1e-5 * Math.exp(hv[i]) + 1e-6, "dL/dh");
            assertTrue(Math.abs(wg[i] - 3 * hg[i]) <= 1e-5 * Math.abs(wg[i]) + 1e-6, "dL/dw");
        }
    }
}
