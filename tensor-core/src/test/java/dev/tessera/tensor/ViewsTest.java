package dev.tessera.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** View operations: they share storage, compute the right strides, and copy only when they must. */
class ViewsTest {
    @BeforeAll
    static void scalar() { ScalarCpu.use(); }

    @AfterAll
    static void restore() { ScalarCpu.restore(); }

    /** 0, 1, 2, ... as F64 of the given shape. */
    private static NDArray iota(int... shape) {
        int n = Shapes.numel(shape);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = i;
        return NDArray.fromArray(v, shape);
    }

    private static double[] range(int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = i;
        return v;
    }

    @Test
    void reshapeOfContiguousIsAViewOnTheSameStorage() {
        NDArray x = iota(2, 3, 4);
        NDArray r = x.reshape(4, -1);
        assertArrayEquals(new int[] {4, 6}, r.shape());
        assertSame(x.storage(), r.storage());
        assertArrayEquals(range(24), r.toDoubleArray());
        assertSame(x.storage(), x.view(24).storage());
        assertSame(x.storage(), x.flatten().storage());
    }

    @Test
    void viewOfPermutedArrayThatIsNotViewableThrowsAndReshapeCopies() {
        NDArray x = iota(2, 3);
        NDArray t = x.mT(); // [3, 2], strides [1, 3]
        var e = assertThrows(IllegalArgumentException.class, () -> t.view(6));
        assertTrue(e.getMessage().contains("view") && e.getMessage().contains("[3, 2]") && e.getMessage().contains("[6]")
                && e.getMessage().contains("contiguous()"), e.getMessage());
        NDArray r = t.reshape(6);
        assertNotSame(x.storage(), r.storage());
        assertArrayEquals(new double[] {0, 3, 1, 4, 2, 5}, r.toDoubleArray());
    }

    @Test
    void viewOfPermutedArrayMergesDimsThatStayContiguous() {
        NDArray x = iota(2, 3, 4);
        NDArray p = x.permute(2, 0, 1); // [4, 2, 3] strides [1, 12, 4]
        assertArrayEquals(new int[] {1, 12, 4}, p.strides());
        NDArray v = p.view(4, 6);
        assertSame(x.storage(), v.storage());
        assertArrayEquals(new int[] {1, 4}, v.strides());
        assertArrayEquals(p.contiguous().toDoubleArray(), v.toDoubleArray());
        // splitting a strided dim is a view too: [6, 4] strides [1, 6] -> [2, 3, 4] strides [3, 1, 6]
        NDArray t = iota(4, 6).mT();
        NDArray s = t.view(2, 3, 4);
        assertArrayEquals(new int[] {3, 1, 6}, s.strides());
        assertArrayEquals(t.contiguous().toDoubleArray(), s.toDoubleArray());
        assertThrows(IllegalArgumentException.class, () -> iota(2, 3, 4).permute(1, 0, 2).view(6, 4));
    }

    @Test
    void viewAndReshapeInferMinusOneAndRejectWrongCounts() {
        NDArray x = iota(3, 4);
        assertArrayEquals(new int[] {2, 2, 3}, x.view(2, -1, 3).shape());
        var e = assertThrows(IllegalArgumentException.class, () -> x.reshape(5, -1));
        assertTrue(e.getMessage().contains("reshape") && e.getMessage().contains("[5, -1]") && e.getMessage().contains("[3, 4]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> x.reshape(7));
        assertTrue(e.getMessage().contains("reshape") && e.getMessage().contains("[3, 4]") && e.getMessage().contains("[7]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> x.view(-1, -1));
        NDArray empty = NDArray.zeros(DType.F32, 0, 3);
        assertArrayEquals(new int[] {3, 0}, empty.reshape(3, 0).shape());
    }

    @Test
    void permuteMatchesGatheringByThePermutedIndex() {
        int[] shape = {2, 3, 4, 5};
        NDArray x = iota(shape);
        int[] perm = {2, 0, 3, 1};
        NDArray p = x.permute(perm).contiguous();
        int[] ps = p.shape();
        assertArrayEquals(new int[] {4, 2, 5, 3}, ps);
        double[] got = p.toDoubleArray();
        int k = 0;
        for (int a = 0; a < ps[0]; a++) for (int b = 0; b < ps[1]; b++) for (int c = 0; c < ps[2]; c++) for (int d = 0; d < ps[3]; d++) {
            int[] in = new int[4];
            in[perm[0]] = a; in[perm[1]] = b; in[perm[2]] = c; in[perm[3]] = d;
            double want = ((in[0] * 3 + in[1]) * 4 + in[2]) * 5 + in[3];
            assertEquals(want, got[k++], "at " + a + "," + b + "," + c + "," + d);
        }
    }

    @Test
    void transposeNarrowSliceSelect() {
        NDArray x = iota(3, 4);
        NDArray t = x.transpose(0, 1);
        assertArrayEquals(new int[] {4, 3}, t.shape());
        assertEquals(9.0, t.getDouble(1, 2));
        assertSame(x.storage(), t.storage());
        NDArray n = x.narrow(1, 1, 2);
        assertArrayEquals(new double[] {1, 2, 5, 6, 9, 10}, n.toDoubleArray());
        assertEquals(1, n.offset());
        assertFalse(n.isContiguous());
        NDArray s = x.slice(1, 0, 4, 2);
        assertArrayEquals(new double[] {0, 2, 4, 6, 8, 10}, s.toDoubleArray());
        assertArrayEquals(new int[] {4, 2}, s.strides());
        assertArrayEquals(new double[] {9, 11}, x.slice(0, -1, 3, 1).slice(1, 1, 100, 2).toDoubleArray(), "negative start, clamped end");
        assertEquals(0, x.slice(1, 3, 1, 1).size(1), "empty slice");
        assertArrayEquals(new double[] {2, 6, 10}, x.select(1, 2).toDoubleArray());
        assertArrayEquals(new double[] {8, 9, 10, 11}, x.select(0, -1).toDoubleArray());
        assertEquals(11.0, x.select(0, 2).select(0, 3).item());
        assertEquals(0, x.select(0, 2).select(0, 3).rank());
    }

    @Test
    void expandGivesStrideZeroWithoutCopying() {
        NDArray x = NDArray.fromArray(new double[] {1, 2, 3}, 3, 1);
        NDArray e = x.expand(2, 3, 4);
        assertArrayEquals(new int[] {0, 1, 0}, e.strides());
        assertSame(x.storage(), e.storage());
        assertEquals(24, e.numel());
        assertEquals(3.0, e.getDouble(1, 2, 3));
        assertArrayEquals(new int[] {3, 5}, x.expand(-1, 5).shape());
        var err = assertThrows(IllegalArgumentException.class, () -> x.expand(4, 4));
        assertTrue(err.getMessage().contains("expand") && err.getMessage().contains("[3, 1]") && err.getMessage().contains("[4, 4]"), err.getMessage());
        assertArrayEquals(e.toDoubleArray(), x.broadcastTo(2, 3, 4).toDoubleArray());
    }

    @Test
    void squeezeAndUnsqueeze() {
        NDArray x = iota(1, 3, 1, 2);
        assertArrayEquals(new int[] {3, 2}, x.squeeze().shape());
        assertArrayEquals(new int[] {1, 3, 2}, x.squeeze(2).shape());
        assertArrayEquals(new int[] {3, 1, 2}, x.squeeze(0).shape());
        assertThrows(IllegalArgumentException.class, () -> x.squeeze(1));
        NDArray y = iota(3, 2);
        assertArrayEquals(new int[] {1, 3, 2}, y.unsqueeze(0).shape());
        assertArrayEquals(new int[] {3, 1, 2}, y.unsqueeze(1).shape());
        assertArrayEquals(new int[] {3, 2, 1}, y.unsqueeze(2).shape());
        assertArrayEquals(new int[] {3, 2, 1}, y.unsqueeze(-1).shape());
        assertArrayEquals(new int[] {3, 1, 2}, y.unsqueeze(-2).shape());
        assertTrue(y.unsqueeze(1).isContiguous());
        assertTrue(y.unsqueeze(2).isContiguous());
        // unsqueeze of a transposed view keeps it a view and keeps the values
        NDArray t = y.mT().unsqueeze(1);
        assertArrayEquals(new int[] {2, 1, 3}, t.shape());
        assertArrayEquals(y.mT().contiguous().toDoubleArray(), t.toDoubleArray());
        assertArrayEquals(y.mT().contiguous().toDoubleArray(), t.reshape(6).toDoubleArray());
        assertArrayEquals(new int[] {1}, NDArray.scalar(DType.F32, 1).unsqueeze(0).shape());
    }

    @Test
    void contiguousCopiesOnlyWhenNeeded() {
        NDArray x = iota(3, 4);
        assertSame(x, x.contiguous());
        NDArray t = x.mT();
        NDArray c = t.contiguous();
        assertNotSame(t.storage(), c.storage());
        assertTrue(c.isContiguous());
        assertArrayEquals(new double[] {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}, c.toDoubleArray());
        // a size-1 dim with an odd stride is still contiguous
        NDArray odd = new NDArray(x.storage(), new int[] {1, 4}, new int[] {99, 1}, 4);
        assertTrue(odd.isContiguous());
        assertSame(odd, odd.contiguous());
        assertArrayEquals(new double[] {4, 5, 6, 7}, odd.toDoubleArray());
        NDArray copy = x.copy();
        assertNotSame(x.storage(), copy.storage());
        copy.fill(0);
        assertEquals(5.0, x.getDouble(1, 1), "copy() is independent");
    }

    @Test
    void writesThroughViewsReachTheBase() {
        NDArray x = NDArray.zeros(DType.F32, 3, 4);
        x.mT().select(0, 1).fill(7); // column 1
        x.slice(1, 2, 4, 1).select(0, 2).assign(NDArray.fromArray(new float[] {5, 6}, 2));
        assertArrayEquals(new float[] {0, 7, 0, 0, 0, 7, 0, 0, 0, 7, 5, 6}, x.toFloatArray());
        x.narrow(0, 0, 2).assign(NDArray.fromArray(new float[] {1, 2, 3, 4}, 4)); // broadcast row
        assertArrayEquals(new float[] {1, 2, 3, 4, 1, 2, 3, 4, 0, 7, 5, 6}, x.toFloatArray());
    }

    @Test
    void constructorRejectsViewsOutsideStorage() {
        Storage s = CpuStorage.allocate(DType.F32, 6);
        var e = assertThrows(IllegalArgumentException.class, () -> new NDArray(s, new int[] {2, 3}, new int[] {3, 1}, 1));
        assertTrue(e.getMessage().contains("outside") && e.getMessage().contains("6 elements"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new NDArray(s, new int[] {2, 3}, new int[] {3}, 0));
        new NDArray(s, new int[] {3, 2}, new int[] {-2, 1}, 4); // negative strides inside storage are fine
    }
}
