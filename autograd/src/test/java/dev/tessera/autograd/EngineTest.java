package dev.tessera.autograd;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.NDArray;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Graph semantics: leaves, accumulation, NoGrad, detach, freeing, dtype rules. */
class EngineTest {
    static Tensor leaf(double... v) { return Tensor.of(NDArray.fromArray(v, v.length), true); }

    @Test
    void chainRuleThroughSharedSubexpressions() {
        // y = sum(x * x + x), x used three times: dy/dx = 2x + 1
        Tensor x = leaf(1.5, -2.0, 0.25);
        Tensor y = x.mul(x).add(x).sum();
        assertEquals(1.5 * 1.5 + 1.5 + 4 - 2 + 0.0625 + 0.25, y.item(), 1e-12);
        y.backward();
        assertArrayEquals(new double[] {4.0, -3.0, 1.5}, x.grad().toDoubleArray(), 1e-12);
    }

    @Test
    void gradientsFromSeveralConsumersOfANonLeafAdd() {
        // h = sin(x) feeds three consumers: y = sum(h * h + h); dy/dx = (2 sin x + 1) cos x
        Tensor x = leaf(0.3, -1.1, 2.0);
        Tensor h = x.sin();
        h.mul(h).add(h).sum().backward();
        double[] g = x.grad().toDoubleArray();
        double[] xs = {0.3, -1.1, 2.0};
        for (int i = 0; i < 3; i++) assertEquals((2 * Math.sin(xs[i]) + 1) * Math.cos(xs[i]), g[i], 1e-12);
        // The same through GradCheck, with a non-leaf shared by two branches of different depth.
        dev.tessera.autograd.check.GradCheck.of(in -> {
            Tensor s = in[0].tanh();
            return s.exp().mul(s.sum(true, 0)).add(s);
        }).verify(dev.tessera.autograd.check.GradArbitraries.tensor(new int[] {3, 2},
                dev.tessera.autograd.check.GradArbitraries.values(), dev.tessera.autograd.check.GradArbitraries.Layout.TRANSPOSED, 4));
    }

    @Test
    void gradientsAccumulateOverTwoBackwardPasses() {
        Tensor x = leaf(1, 2, 3);
        x.mul(3.0).sum().backward();
        x.mul(x).sum().backward();
        assertArrayEquals(new double[] {3 + 2, 3 + 4, 3 + 6}, x.grad().toDoubleArray(), 1e-12);
        x.zeroGrad();
        assertNull(x.grad());
        x.sum().backward();
        assertArrayEquals(new double[] {1, 1, 1}, x.grad().toDoubleArray(), 1e-12);
    }

    @Test
    void noGradRecordsNothing() {
        Tensor x = leaf(1, 2, 3);
        Tensor y;
        try (NoGrad g = NoGrad.enter()) {
            assertFalse(GradMode.isEnabled());
            y = x.exp().mul(x).sum();
            try (NoGrad inner = NoGrad.enableGrad()) {
                assertTrue(x.mul(2.0).requiresGrad());
            }
            assertFalse(GradMode.isEnabled());
        }
        assertTrue(GradMode.isEnabled());
        assertFalse(y.requiresGrad());
        assertNull(y.gradFn());
        assertTrue(y.isLeaf());
        assertThrows(IllegalStateException.class, y::backward);
        assertNull(x.grad());
    }

    @Test
    void detachCutsTheGraph() {
        Tensor x = leaf(2, 3);
        Tensor d = x.mul(x).detach();
        assertFalse(d.requiresGrad());
        assertTrue(d.isLeaf());
        Tensor y = x.mul(d).sum(); // d is a constant: dy/dx = d = x^2
        y.backward();
        assertArrayEquals(new double[] {4, 9}, x.grad().toDoubleArray(), 1e-12);
        assertSame(x.data().storage(), x.detach().data().storage());
    }

    @Test
    void integerAndBoolTensorsRefuseRequiresGrad() {
        Tensor ints = Tensor.fromArray(new long[] {1, 2}, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ints.requiresGrad(true));
        assertTrue(e.getMessage().contains("only floating tensors") && e.getMessage().contains("i64") && e.getMessage().contains("[2]"), e.getMessage());
        Tensor bools = Tensor.fromArray(new boolean[] {true}, 1);
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.of(bools.data(), true));
        assertTrue(e.getMessage().contains("bool"), e.getMessage());
        Tensor i32 = Tensor.fromArray(new int[] {1}, 1);
        assertThrows(IllegalArgumentException.class, () -> i32.requiresGrad(true));
    }

    @Test
    void leafAndNonLeafSemantics() {
        Tensor x = leaf(1, 2);
        Tensor h = x.mul(2.0);
        Tensor k = h.mul(3.0).retainGrad();
        assertTrue(x.isLeaf());
        assertFalse(h.isLeaf());
        assertTrue(h.requiresGrad());
        assertThrows(IllegalStateException.class, () -> h.requiresGrad(false));
        k.sum().backward();
        assertNull(h.grad(), "non-leaf gradients are not kept unless retainGrad() was called");
        assertArrayEquals(new double[] {1, 1}, k.grad().toDoubleArray(), 0);
        assertArrayEquals(new double[] {6, 6}, x.grad().toDoubleArray(), 0);
        // An op on a tensor that does not require grad gives a plain tensor.
        Tensor c = Tensor.fromArray(new double[] {1, 2}, 2);
        assertFalse(c.mul(c).requiresGrad());
        assertNull(c.mul(c).gradFn());
        // Comparisons and argmax are never differentiable.
        assertFalse(x.gt(1.5).requiresGrad());
        assertEquals(DType.BOOL, x.gt(1.5).dtype());
        assertFalse(x.argmax(0, false).requiresGrad());
    }

    @Test
    void secondBackwardOverAFreedGraphIsAClearError() {
        Tensor x = leaf(1, 2);
        Tensor loss = x.exp().sum();
        loss.backward();
        IllegalStateException e = assertThrows(IllegalStateException.class, loss::backward);
        assertTrue(e.getMessage().contains("already freed") && e.getMessage().contains("retainGraph"), e.getMessage());
    }

    @Test
    void retainedGraphAllowsASecondBackward() {
        Tensor x = leaf(1, 2);
        Tensor loss = x.exp().sum();
        loss.backward(true);
        loss.backward();
        double[] g = x.grad().toDoubleArray();
        assertEquals(2 * Math.exp(1), g[0], 1e-12);
        assertEquals(2 * Math.exp(2), g[1], 1e-12);
        assertThrows(IllegalStateException.class, loss::backward);
    }

    @Test
    void freedNodesDropSavedArraysAndParents() {
        Tensor x = leaf(1, 2);
        Tensor h = x.exp();
        Tensor loss = h.sum();
        loss.backward();
        assertTrue(h.gradFn().isFreed());
        assertTrue(loss.gradFn().isFreed());
    }

    @Test
    void backwardWithExplicitGradient() {
        Tensor x = leaf(1, 2, 3);
        Tensor y = x.mul(x);
        y.backward(NDArray.fromArray(new double[] {1, 0, -1}, 3));
        assertArrayEquals(new double[] {2, 0, -6}, x.grad().toDoubleArray(), 0);
        Tensor z = x.mul(2.0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, z::backward);
        assertTrue(e.getMessage().contains("one-element"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> x.mul(2.0).backward(NDArray.zeros(DType.F64, 2)));
    }

    @Test
    void gradientHasTheLeafDtypeAndShapeAndIsNotAliased() {
        Tensor a = Tensor.of(NDArray.fromArray(new float[] {1, 2}, 2), true);
        Tensor b = Tensor.of(NDArray.fromArray(new float[] {3, 4}, 2), true);
        a.add(b).sum().backward();
        assertEquals(DType.F32, a.grad().dtype());
        assertArrayEquals(new int[] {2}, a.grad().shape());
        a.grad().fill(7); // in-place change of one gradient must not show in the other
        assertArrayEquals(new double[] {1, 1}, b.grad().toDoubleArray(), 0);
    }

    @Test
    void broadcastGradientsAreSummedBackToTheInputShape() {
        Tensor a = Tensor.of(NDArray.fromArray(new double[] {1, 2, 3, 4, 5, 6}, 2, 3), true);
        Tensor b = Tensor.of(NDArray.fromArray(new double[] {10, 20, 30}, 3), true);
        Tensor c = Tensor.of(NDArray.fromArray(new double[] {2, 3}, 2, 1), true);
        a.mul(b).add(c).sum().backward();
        assertArrayEquals(new double[] {5, 7, 9}, b.grad().toDoubleArray(), 0);
        assertArrayEquals(new int[] {2, 1}, c.grad().shape());
        assertArrayEquals(new double[] {3, 3}, c.grad().toDoubleArray(), 0);
    }

    @Test
    void viewGradientsRouteToTheBase() {
        Tensor x = Tensor.of(NDArray.fromArray(new double[] {1, 2, 3, 4, 5, 6}, 2, 3), true);
        x.narrow(1, 1, 2).sum().backward();
        assertArrayEquals(new double[] {0, 1, 1, 0, 1, 1}, x.grad().toDoubleArray(), 0);
        x.zeroGrad();
        x.transpose(0, 1).select(0, 2).mul(Tensor.fromArray(new double[] {5, 7}, 2)).sum().backward();
        assertArrayEquals(new double[] {0, 0, 5, 0, 0, 7}, x.grad().toDoubleArray(), 0);
        x.zeroGrad();
        x.reshape(3, 2).expand(4, 3, 2).sum().backward();
        assertArrayEquals(new double[] {4, 4, 4, 4, 4, 4}, x.grad().toDoubleArray(), 0);
    }

    @Test
    void deepChainsDoNotOverflowTheStack() {
        Tensor x = leaf(0.5);
        Tensor y = x;
        for (int i = 0; i < 20_000; i++) y = y.mul(1.0);
        y.sum().backward();
        assertEquals(1.0, x.grad().item(), 0);
    }

    @Test
    void functionInstancesAreSingleUse() {
        var f = new dev.tessera.autograd.functions.Unary(dev.tessera.tensor.UnaryOp.EXP);
        Tensor x = leaf(1);
        f.apply(x);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> f.apply(x));
        assertTrue(e.getMessage().contains("applied only once"), e.getMessage());
    }

    @Test
    void wrongGradientShapeFromACustomFunctionIsReported() {
        Function bad = new Function() {
            @Override protected NDArray forward(NDArray... in) { return in[0].mul(2.0); }
            @Override protected NDArray[] backward(NDArray g) { return new NDArray[] {g.sum()}; }
            @Override public String name() { return "Bad"; }
        };
        Tensor x = leaf(1, 2);
        Tensor y = bad.apply(x);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> y.sum().backward());
        assertTrue(e.getMessage().contains("Bad") && e.getMessage().contains("input 0") && e.getMessage().contains("[2]"), e.getMessage());
    }

    @Test
    void integerOutputsOfFloatInputsDoNotRequireGrad() {
        Tensor x = leaf(1.7, 2.2);
        Tensor i = x.to(DType.I64);
        assertFalse(i.requiresGrad());
        assertNotNull(i.data());
    }
}
