package dev.tessera.autograd.check;

import dev.tessera.autograd.Function;
import dev.tessera.autograd.Tensor;
import dev.tessera.autograd.check.GradArbitraries.Layout;
import dev.tessera.autograd.check.GradArbitraries.Values;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.NDArray;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GradCheck passes correct gradients, catches wrong ones, and says where. */
class GradCheckTest {
    /** x^3 with a correct backward. */
    static final class Cube extends Function {
        @Override protected NDArray forward(NDArray... in) {
            saveForBackward(in[0]);
            return in[0].pow(3);
        }
        @Override protected NDArray[] backward(NDArray g) {
            NDArray x = saved(0);
            return new NDArray[] {g.mul(x.mul(x).mul(3.0))};
        }
    }

    /** x^3 whose backward forgets the factor 3 for the second input element onwards. */
    static final class WrongCube extends Function {
        @Override protected NDArray forward(NDArray... in) {
            saveForBackward(in[0]);
            return in[0].pow(3);
        }
        @Override protected NDArray[] backward(NDArray g) {
            NDArray x = saved(0);
            NDArray d = x.mul(x).mul(3.0);
            d.narrow(0, 1, d.size(0) - 1).assign(x.mul(x).narrow(0, 1, d.size(0) - 1));
            return new NDArray[] {g.mul(d)};
        }
    }

    @Test
    void correctFunctionPasses() {
        Tensor x = GradArbitraries.tensor(new int[] {5}, Values.between(-2, 2), Layout.STRIDED, 11);
        GradCheck.Result r = GradCheck.ofFunction(Cube::new).run(x);
        assertTrue(r.passed(), r.message());
        assertEquals(5, r.checkedElements());
        assertNull(x.grad(), "GradCheck restores the inputs' gradients");
        double[] before = x.toDoubleArray();
        GradCheck.ofFunction(Cube::new).verify(x);
        assertArrayEquals(before, x.toDoubleArray(), 0.0, "GradCheck restores the perturbed values");
    }

    @Test
    void wrongGradientFailsWithInputElementAnalyticNumericAndTolerance() {
        Tensor a = Tensor.of(NDArray.fromArray(new double[] {1, 2}, 2), false);
        Tensor x = Tensor.of(NDArray.fromArray(new double[] {0.5, 1.5, -1.0}, 3), true);
        GradCheckFailure f = assertThrows(GradCheckFailure.class,
                () -> GradCheck.of(in -> in[0].sum().add(new WrongCube().apply(in[1]).sum())).name("wrongCube").verify(a, x));
        String m = f.getMessage();
        assertTrue(m.contains("GradCheck failed for wrongCube"), m);
        assertTrue(m.contains("2 of 3 gradient elements"), m);
        assertTrue(m.contains("input 1, element [1]"), m);
        assertTrue(m.contains("input 1, element [2]"), m);
        assertFalse(m.contains("element [0]"), m);
        assertTrue(m.contains("analytic") && m.contains("numeric") && m.contains("allowed"), m);
        GradCheck.Mismatch first = f.result().mismatches().get(0);
        assertEquals(1, first.input());
        // The loss is sum(w * y); the weight of element 1 scales both sides, so compare ratio 1/3.
        assertEquals(1.0 / 3.0, first.analytic() / first.numeric(), 1e-6);
    }

    @Test
    void refusesNonF64AndOverlappingInputs() {
        Tensor f32 = Tensor.of(NDArray.fromArray(new float[] {1, 2}, 2), true);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GradCheck.ofFunction(Cube::new).verify(f32));
        assertTrue(e.getMessage().contains("F64"), e.getMessage());
        Tensor expanded = Tensor.of(NDArray.fromArray(new double[] {1}, 1).expand(3), true);
        e = assertThrows(IllegalArgumentException.class, () -> GradCheck.ofFunction(Cube::new).verify(expanded));
        assertTrue(e.getMessage().contains("stride 0"), e.getMessage());
    }

    @Test
    void layoutsHaveTheRequestedStridesAndLogicalValues() {
        int[] shape = {2, 3};
        Values v = Values.between(-1, 1);
        double[] expected = GradArbitraries.tensor(shape, v, Layout.CONTIGUOUS, 5).toDoubleArray();
        for (Layout l : Layout.values()) {
            Tensor t = GradArbitraries.tensor(shape, v, l, 5);
            assertArrayEquals(shape, t.shape());
            assertArrayEquals(expected, t.toDoubleArray(), 0.0, l.name());
            assertEquals(DType.F64, t.dtype());
            assertTrue(t.requiresGrad() && t.isLeaf());
            assertEquals(l == Layout.CONTIGUOUS, t.data().isContiguous() && t.data().offset() == 0, l.name());
        }
        double[] away = GradArbitraries.tensor(new int[] {200}, Values.between(-1, 1).awayFrom(0.2, 0.0), Layout.CONTIGUOUS, 9).toDoubleArray();
        for (double d : away) assertTrue(Math.abs(d) >= 0.2, "value " + d + " too close to the kink");
        double[] distinct = GradArbitraries.tensor(new int[] {50}, Values.between(0, 1).distinctValues(), Layout.CONTIGUOUS, 9).toDoubleArray();
        java.util.Arrays.sort(distinct);
        for (int i = 1; i < distinct.length; i++) assertTrue(distinct[i] - distinct[i - 1] > 0.004, "values too close: " + distinct[i - 1] + ", " + distinct[i]);
    }
}
