package dev.tessera.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.tensor.testing.Approx;
import dev.tessera.tensor.testing.Approx.Tolerance;
import dev.tessera.tensor.testing.RandomArrays;
import dev.tessera.tensor.testing.RandomArrays.Layout;
import dev.tessera.tensor.testing.RandomArrays.ViewCase;
import dev.tessera.tensor.testing.TensorArbitraries;
import java.util.Arrays;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/** The shared test utilities do what their Javadoc says (other modules' tests rely on them). */
class TestingUtilitiesTest {
    @BeforeContainer
    static void scalar() { ScalarCpu.use(); }

    @AfterContainer
    static void restore() { ScalarCpu.restore(); }

    @Provide
    Arbitrary<int[]> shapes() { return TensorArbitraries.shapes(); }

    @Property(tries = 100)
    void sameValueLayoutsKeepValuesAndReproduceStrides(@ForAll("shapes") int[] shape, @ForAll long seed) {
        Generator g = new Generator(seed);
        NDArray v = RandomArrays.random(g, DType.F32, shape);
        for (Layout layout : new Layout[] {Layout.CONTIGUOUS, Layout.PERMUTED, Layout.SLICED, Layout.UNIT_DIMS_STRIDE_ZERO}) {
            ViewCase c = RandomArrays.view(g, v, layout);
            NDArray x = c.array();
            assertArrayEquals(shape, x.shape(), layout.toString());
            assertArrayEquals(v.toFloatArray(), x.toFloatArray(), layout + " " + c);
            assertTrue(c.base().isContiguous() && c.base().offset() == 0, "bases are plain contiguous arrays");
            NDArray again = c.on(b -> ReferenceBackend.INSTANCE.copy(b, b.dtype()));
            assertArrayEquals(x.strides(), again.strides());
            assertEquals(x.offset(), again.offset());
            if (layout == Layout.SLICED && Arrays.stream(shape).anyMatch(d -> d > 1)) assertFalse(x.isContiguous(), "sliced views have gaps: " + c);
            if (layout == Layout.UNIT_DIMS_STRIDE_ZERO) {
                for (int d = 0; d < shape.length; d++) if (shape[d] == 1) assertEquals(0, x.stride(d), c.toString());
            }
        }
        ViewCase e = RandomArrays.view(g, v, Layout.EXPANDED);
        assertArrayEquals(shape, e.array().shape());
        if (Arrays.stream(shape).anyMatch(d -> d > 1)) assertTrue(Arrays.stream(e.array().strides()).anyMatch(s -> s == 0), "expanded has a stride-0 dim: " + e);
        ViewCase copy = e.copy();
        assertFalse(copy.base().storage() == e.base().storage());
        assertArrayEquals(e.array().toFloatArray(), copy.array().toFloatArray());
    }

    @Property(tries = 200)
    void broadcastPairsBroadcast(@ForAll("pairs") int[][] pair) {
        int[] out = Shapes.broadcast("test", pair[0], pair[1]);
        assertTrue(out.length <= 4);
        for (int d : out) assertTrue(d >= 1 && d <= 7);
    }

    @Provide
    Arbitrary<int[][]> pairs() { return TensorArbitraries.broadcastPairs(); }

    @Property(tries = 50)
    void shapesRespectBounds(@ForAll("bounded") int[] shape) {
        assertTrue(shape.length >= 1 && shape.length <= 3);
        for (int d : shape) assertTrue(d >= 2 && d <= 5);
        assertTrue(Shapes.numel(shape) <= 30);
    }

    @Provide
    Arbitrary<int[]> bounded() { return TensorArbitraries.shapes(1, 3, 2, 5, 30); }

    @Example
    void randomValuesAreNeverAllZeroAndRespectRanges() {
        Generator g = new Generator(1);
        for (DType t : DType.values()) {
            NDArray x = RandomArrays.random(g, t, 50);
            assertTrue(Arrays.stream(x.toDoubleArray()).anyMatch(v -> v != 0), t.toString());
        }
        NDArray ints = RandomArrays.integers(g, DType.I32, -3, 4, 1000);
        assertTrue(Arrays.stream(ints.toIntArray()).allMatch(v -> v >= -3 && v < 4));
        NDArray u = RandomArrays.uniform(g, DType.F64, 2, 3, 1000);
        assertTrue(Arrays.stream(u.toDoubleArray()).allMatch(v -> v >= 2 && v < 3));
        int[] odd = RandomArrays.oddShape(g, 2, 4, 65, 500);
        assertTrue(Arrays.stream(RandomArrays.ODD_SIZES).anyMatch(s -> s == odd[odd.length - 1]));
        assertTrue(Shapes.numel(odd) <= 500 || odd[odd.length - 1] > 500);
        NDArray s = RandomArrays.strided(g, RandomArrays.random(g, DType.F32, 3, 4));
        assertFalse(s.isContiguous());
    }

    @Example
    void approxComparesAndExplainsFailures() {
        NDArray e = NDArray.fromArray(new double[] {1, 2, Double.NaN, Double.POSITIVE_INFINITY}, 2, 2);
        Approx.assertClose("same", e, NDArray.fromArray(new double[] {1 + 1e-9, 2, Double.NaN, Double.POSITIVE_INFINITY}, 2, 2), 1e-8, 0);
        AssertionError err = assertThrows(AssertionError.class,
                () -> Approx.assertClose("myop [ctx]", e, NDArray.fromArray(new double[] {1, 2.1, Double.NaN, Double.POSITIVE_INFINITY}, 2, 2), 1e-3, 1e-6));
        String m = err.getMessage();
        assertTrue(m.startsWith("myop [ctx]") && m.contains("at index [0, 1]") && m.contains("expected 2.0") && m.contains("but was 2.1")
                && m.contains("rtol 0.001") && m.contains("1 of 4"), m);
        assertThrows(AssertionError.class, () -> Approx.assertExact("nan", e, NDArray.fromArray(new double[] {1, 2, 0, Double.POSITIVE_INFINITY}, 2, 2)));
        assertThrows(AssertionError.class, () -> Approx.assertExact("inf", e, NDArray.fromArray(new double[] {1, 2, Double.NaN, Double.NEGATIVE_INFINITY}, 2, 2)));
        err = assertThrows(AssertionError.class, () -> Approx.assertExact("dtype", e, e.to(DType.F32)));
        assertTrue(err.getMessage().contains("dtype f32") && err.getMessage().contains("f64"), err.getMessage());
        err = assertThrows(AssertionError.class, () -> Approx.assertExact("shape", e, e.reshape(4)));
        assertTrue(err.getMessage().contains("[4]") && err.getMessage().contains("[2, 2]"), err.getMessage());
        Approx.assertValuesClose("dtypes may differ", e, e.to(DType.F32), Tolerance.exact());
        // normwise: a small absolute error on a tiny element passes when the array has large elements
        NDArray big = NDArray.fromArray(new double[] {1000, 1e-6}, 2);
        Approx.assertClose("normwise", big, NDArray.fromArray(new double[] {1000, 2e-6}, 2), Tolerance.normwise(1e-8, 0));
        assertThrows(AssertionError.class, () -> Approx.assertClose("elementwise", big, NDArray.fromArray(new double[] {1000, 2e-6}, 2), Tolerance.of(1e-8, 0)));
        Approx.assertCloseScaled("scaled", big, NDArray.fromArray(new double[] {1000, 2e-6}, 2), Tolerance.of(1e-6, 0), new double[] {0, 10});
        NDArray ints = NDArray.fromArray(new long[] {1L << 60, 3}, 2);
        err = assertThrows(AssertionError.class, () -> Approx.assertExact("ints", ints, NDArray.fromArray(new long[] {(1L << 60) + 1, 3}, 2)));
        assertTrue(err.getMessage().contains("1152921504606846977"), "integers compared exactly: " + err.getMessage());
        assertTrue(Approx.allClose(ints, ints, Tolerance.exact()));
    }
}
