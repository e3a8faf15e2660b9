package dev.tessera.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Conversions between all dtypes through NDArray, and the dtype every op returns. */
class DTypePromotionTest {
    @BeforeAll
    static void scalar() { ScalarCpu.use(); }

    @AfterAll
    static void restore() { ScalarCpu.restore(); }

    @Test
    void smallIntegersRoundTripThroughEveryDtype() {
        double[] v = new double[201];
        for (int i = 0; i < v.length; i++) v[i] = i - 100;
        DType[] chain = {DType.F32, DType.F64, DType.BF16, DType.F16, DType.I32, DType.I64, DType.F32, DType.F16, DType.I64, DType.BF16, DType.F64};
        NDArray x = NDArray.fromArray(DType.F32, v, v.length);
        for (DType t : chain) {
            x = x.to(t);
            assertEquals(t, x.dtype());
            assertArrayEquals(v, x.toDoubleArray(), "after converting to " + t);
        }
        NDArray b = NDArray.fromArray(DType.F64, new double[] {0, 1, 1, 0}, 4);
        for (DType t : DType.values()) {
            assertArrayEquals(new boolean[] {false, true, true, false}, b.to(t).to(DType.BOOL).toBooleanArray(), "0/1 via " + t);
            assertArrayEquals(new double[] {0, 1, 1, 0}, b.to(DType.BOOL).to(t).toDoubleArray(), "BOOL -> " + t);
        }
    }

    @Test
    void conversionRules() {
        NDArray f = NDArray.fromArray(new double[] {-2.7, -0.5, 0.5, 2.7, Double.NaN, 1e-40}, 6);
        assertArrayEquals(new long[] {-2, 0, 0, 2}, f.narrow(0, 0, 4).to(DType.I64).toLongArray(), "floats to ints truncate toward zero");
        assertArrayEquals(new boolean[] {true, true, true, true, true, true}, f.to(DType.BOOL).toBooleanArray(), "nonzero and NaN are true");
        assertEquals(0.0, NDArray.fromArray(new double[] {-0.0}, 1).to(DType.BOOL).toDoubleArray()[0]);
        NDArray big = NDArray.fromArray(new double[] {1e5, -1e5, 3.4e38 * 2}, 3);
        assertArrayEquals(new float[] {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY}, big.to(DType.F16).toFloatArray());
        assertEquals(Float.POSITIVE_INFINITY, big.to(DType.F32).toFloatArray()[2]);
        // F32 -> BF16 rounds to nearest even: 1 + 2^-8 is the midpoint between 1 and 1 + 2^-7
        NDArray mids = NDArray.fromArray(new float[] {1f + 0x1p-8f, 1f + 3 * 0x1p-8f}, 2);
        assertArrayEquals(new float[] {1f, 1f + 4 * 0x1p-8f}, mids.to(DType.BF16).toFloatArray());
        assertArrayEquals(new short[] {0x3F80, 0x3F82}, mids.to(DType.BF16).toBits());
        // half <-> half goes through the exact float value
        NDArray h = NDArray.fromArray(DType.F16, new double[] {0.1, 1000.5, 6e-8}, 3);
        assertArrayEquals(new short[] {HalfFloats.floatToBf16(HalfFloats.f16ToFloat(h.toBits()[0])),
                HalfFloats.floatToBf16(HalfFloats.f16ToFloat(h.toBits()[1])), HalfFloats.floatToBf16(HalfFloats.f16ToFloat(h.toBits()[2]))},
                h.to(DType.BF16).toBits());
        // I64 beyond 2^53 keeps its exact value through I64 and rounds once into F32
        long v = (1L << 60) + (1L << 36) + 1;
        NDArray l = NDArray.fromArray(new long[] {v}, 1);
        assertEquals(v, l.to(DType.I64).toLongArray()[0]);
        assertEquals((float) v, l.to(DType.F32).toFloatArray()[0]);
        assertEquals((int) v, l.to(DType.I32).toIntArray()[0], "I64 -> I32 wraps like a Java cast");
    }

    @Test
    void promotionTable() {
        assertEquals(DType.F32, DType.promote(DType.BF16, DType.F16));
        assertEquals(DType.F32, DType.promote(DType.F16, DType.F32));
        assertEquals(DType.F64, DType.promote(DType.F32, DType.F64));
        assertEquals(DType.BF16, DType.promote(DType.BF16, DType.I64));
        assertEquals(DType.I64, DType.promote(DType.I32, DType.I64));
        assertEquals(DType.I32, DType.promote(DType.BOOL, DType.I32));
        assertEquals(DType.BOOL, DType.promote(DType.BOOL, DType.BOOL));
        assertEquals(DType.F32, DType.promote(DType.I64, DType.F32));
    }

    @Test
    void halfDtypeOpsComputeInF32AndReturnTheHalfDtype() {
        for (DType half : new DType[] {DType.BF16, DType.F16}) {
            NDArray a = NDArray.fromArray(half, new double[] {1.1, -2.3, 3.7}, 3);
            NDArray b = NDArray.fromArray(half, new double[] {0.3, 0.7, -1.9}, 3);
            float[] af = a.toFloatArray(), bf = b.toFloatArray();
            NDArray sum = a.add(b);
            assertEquals(half, sum.dtype());
            for (int i = 0; i < 3; i++) {
                float exact = af[i] + bf[i];
                short want = half == DType.BF16 ? HalfFloats.floatToBf16(exact) : HalfFloats.floatToF16(exact);
                assertEquals(want, sum.toBits()[i], half + " add rounds the F32 result once");
            }
            assertEquals(half, a.exp().dtype());
            assertEquals(half == DType.BF16 ? HalfFloats.floatToBf16((float) Math.exp(af[0])) : HalfFloats.floatToF16((float) Math.exp(af[0])),
                    a.exp().toBits()[0]);
            assertEquals(half, a.mul(2).dtype());
            assertEquals(half, a.sum().dtype());
            assertEquals(half, a.softmax(0).dtype());
            assertEquals(half, a.matmul(b).dtype());
            assertEquals(DType.BOOL, a.lt(b).dtype());
            assertEquals(DType.BOOL, a.gt(0).dtype());
            assertEquals(DType.F32, a.add(NDArray.fromArray(new float[] {1, 1, 1}, 3)).dtype());
            assertEquals(DType.I64, a.argmax(0, false).dtype());
        }
        assertEquals(DType.F32, NDArray.fromArray(DType.BF16, new double[] {1}, 1).add(NDArray.fromArray(DType.F16, new double[] {1}, 1)).dtype());
    }

    @Test
    void integerArithmetic() {
        NDArray a = NDArray.fromArray(new int[] {7, -7, 9}, 3), b = NDArray.fromArray(new int[] {2, 2, 3}, 3);
        NDArray q = a.div(b);
        assertEquals(DType.F32, q.dtype(), "int division gives F32");
        assertArrayEquals(new float[] {3.5f, -3.5f, 3f}, q.toFloatArray());
        assertEquals(DType.F32, a.div(2).dtype());
        assertArrayEquals(new float[] {3.5f, -3.5f, 4.5f}, a.div(2).toFloatArray());
        assertEquals(DType.I32, a.add(b).dtype());
        assertArrayEquals(new int[] {14, -14, 27}, a.mul(b).toIntArray());
        assertEquals(DType.I32, a.add(2).dtype(), "integral scalar keeps the int dtype");
        assertEquals(DType.F32, a.add(2.5).dtype(), "fractional scalar promotes to F32");
        assertArrayEquals(new float[] {9.5f, -4.5f, 11.5f}, a.add(2.5).toFloatArray());
        assertEquals(DType.I64, a.add(NDArray.fromArray(new long[] {1, 1, 1}, 3)).dtype());
        assertEquals(DType.F32, a.add(NDArray.fromArray(new float[] {1, 1, 1}, 3)).dtype());
        assertEquals(DType.F32, a.pow(2).dtype());
        assertArrayEquals(new int[] {7, 7, 9}, a.abs().toIntArray());
        assertEquals(DType.I32, a.neg().dtype());
        assertEquals(DType.F32, a.exp().dtype(), "transcendental ops on ints compute in F32");
        long big = 1L << 62;
        NDArray l = NDArray.fromArray(new long[] {big + 1}, 1);
        assertEquals(big + 2, l.add(NDArray.fromArray(new long[] {1}, 1)).toLongArray()[0], "I64 add is exact");
        assertEquals(big + 4, l.add(3).toLongArray()[0], "I64 + integral scalar is exact");
    }

    @Test
    void comparisonsGiveBool() {
        NDArray a = NDArray.fromArray(new double[] {1, 2, 3}, 3);
        NDArray b = NDArray.fromArray(new int[] {3, 2, 1}, 3);
        assertEquals(DType.BOOL, a.eq(b).dtype());
        assertArrayEquals(new boolean[] {false, true, false}, a.eq(b).toBooleanArray());
        assertArrayEquals(new boolean[] {true, true, false}, a.le(b).toBooleanArray());
        assertArrayEquals(new boolean[] {false, false, true}, a.gt(2).toBooleanArray());
        assertArrayEquals(new boolean[] {true, false, true}, b.ne(2).toBooleanArray());
        assertArrayEquals(new boolean[] {true, false, false}, b.gt(2.5).toBooleanArray(), "int vs fractional scalar compares exactly");
        NDArray m = NDArray.fromArray(new boolean[] {true, false, true}, 3);
        assertArrayEquals(new boolean[] {true, false, true}, m.eq(NDArray.fromArray(new boolean[] {true, true, true}, 3)).toBooleanArray());
    }

    @Test
    void reductionDtypes() {
        NDArray i = NDArray.fromArray(new int[] {Integer.MAX_VALUE, Integer.MAX_VALUE}, 2);
        assertEquals(DType.I64, i.sum().dtype());
        assertEquals(2L * Integer.MAX_VALUE, i.sum().toLongArray()[0]);
        assertEquals(DType.I32, i.max().dtype());
        assertEquals(DType.F32, i.mean().dtype());
        NDArray bools = NDArray.fromArray(new boolean[] {true, false, true, true}, 4);
        assertEquals(3L, bools.sum().toLongArray()[0], "sum of BOOL counts");
        assertEquals(DType.I64, bools.sum().dtype());
        assertEquals(0.75, bools.mean().item(), 1e-7);
        NDArray f = NDArray.fromArray(new double[] {1, 2, 3, 4}, 2, 2);
        assertArrayEquals(new int[] {2, 1}, f.sum(true, 1).shape());
        assertArrayEquals(new double[] {3, 7}, f.sum(1).toDoubleArray());
        assertEquals(10.0, f.sum().item());
        assertEquals(1.25, f.var().item(), 1e-15);
        assertArrayEquals(new double[] {0.25, 0.25}, f.var(1).toDoubleArray(), 1e-15);
        assertArrayEquals(new long[] {1, 1}, f.argmax(1, false).toLongArray());
        assertArrayEquals(new long[] {0, 0}, f.argmin(0, false).toLongArray());
        assertEquals(DType.F64, NDArray.scalar(DType.F64, 3).var().dtype());
        assertEquals(0.0, NDArray.scalar(DType.F64, 3).var().item());
        assertEquals(DType.I64, NDArray.scalar(DType.I32, 3).sum().dtype());
        // a 0-dim array reduces with the same dtype rules as a one-element vector
        for (DType t : DType.values()) {
            for (ReduceOp op : ReduceOp.values()) {
                NDArray scalar = NDArray.scalar(t, 1).reduce(op, false);
                NDArray vector = NDArray.fromArray(t, new double[] {1}, 1).reduce(op, false);
                assertEquals(vector.dtype(), scalar.dtype(), op + " of a " + t + " scalar");
                assertEquals(0, scalar.rank());
                assertEquals(vector.item(), scalar.item());
            }
        }
        assertEquals(DType.F32, NDArray.scalar(DType.I32, 3).mean().dtype());
    }
}
