package dev.tessera.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The oracle's own tests: hand-computed small cases (values from the formulas, checked with
 * mpmath at 30 digits where a special function is involved), and every backward checked against
 * central finite differences of the reference forward in F64.
 */
class ReferenceBackendTest {
    private static final ReferenceBackend R = ReferenceBackend.INSTANCE;

    // NDArray.zeros and friends allocate through the default CPU backend: make that the reference
    @BeforeAll
    static void scalar() { ScalarCpu.use(); }

    @AfterAll
    static void restore() { ScalarCpu.restore(); }

    private static NDArray f64(double[] v, int... shape) { return NDArray.fromArray(v, shape); }

    private static void close(double[] expected, double[] actual, double tol) {
        assertEquals(expected.length, actual.length, "length");
        for (int i = 0; i < expected.length; i++) {
            double scale = Math.max(1.0, Math.abs(expected[i]));
            assertTrue(Math.abs(expected[i] - actual[i]) <= tol * scale,
                    "index " + i + ": expected " + expected[i] + " got " + actual[i] + " (tol " + tol + ")");
        }
    }

    private static void relClose(double expected, double actual, double rel, String what) {
        assertTrue(Math.abs(expected - actual) <= rel * Math.abs(expected),
                what + ": expected " + expected + " got " + actual + " (relative error " + Math.abs(expected - actual) / Math.abs(expected) + ")");
    }

    // ---- special functions ----------------------------------------------------------------

    @Test
    void erfMatchesHighPrecisionValues() {
        double[][] cases = {
            {0.1, 0.1124629160182849, 0.8875370839817152},
            {0.5, 0.5204998778130465, 0.4795001221869535},
            {1, 0.8427007929497149, 0.15729920705028513},
            {2, 0.9953222650189527, 0.004677734981047266},
            {2.49, 0.9995707121322661, 0.0004292878677339134},
            {2.5, 0.999593047982555, 0.0004069520174449589},
            {2.51, 0.9996142945182758, 0.00038570548172427936},
            {3, 0.9999779095030014, 2.209049699858544e-05},
            {4, 0.9999999845827421, 1.541725790028002e-08},
            {-0.5, -0.5204998778130465, 1.5204998778130465},
            {-3, -0.9999779095030014, 1.9999779095030015},
            {1e-3, 0.0011283787909692365, 0.9988716212090307},
            {0.7, 0.6778011938374184, 0.3221988061625815},
            {1.5, 0.9661051464753108, 0.033894853524689274},
        };
        for (double[] c : cases) {
            relClose(c[1], SpecialFunctions.erf(c[0]), 2e-15, "erf(" + c[0] + ")");
            relClose(c[2], SpecialFunctions.erfc(c[0]), 5e-15, "erfc(" + c[0] + ")");
        }
        relClose(1.537459794428035e-12, SpecialFunctions.erfc(5), 5e-15, "erfc(5)");
        relClose(2.088487583762545e-45, SpecialFunctions.erfc(10), 5e-15, "erfc(10)");
        relClose(5.395865611607901e-176, SpecialFunctions.erfc(20), 5e-14, "erfc(20)");
        relClose(2.1519736712498913e-17, SpecialFunctions.erfc(6), 5e-15, "erfc(6)");
        // x^2 not exact in double: e^(-x^2) needs the rounding error of x*x back (fma) to stay accurate;
        // the expected values are for the double nearest the decimal (mpmath.mpf(float), 50 digits)
        relClose(9.94923478511827e-52, SpecialFunctions.erfc(10.7), 5e-15, "erfc(10.7)");
        relClose(2.985318180601636e-181, SpecialFunctions.erfc(20.3), 5e-15, "erfc(20.3)");
        relClose(4.197513816747158e-15, SpecialFunctions.erfc(5.55), 5e-15, "erfc(5.55)");
        relClose(4.069478844476608e-238, SpecialFunctions.erfc(23.3), 5e-15, "erfc(23.3)"); // x*x off by 4.7e-14
        relClose(2.21616449634844e-141, SpecialFunctions.erfc(17.9), 5e-15, "erfc(17.9)");
        relClose(5.5149401896856385e-276, SpecialFunctions.erfc(25.1), 5e-15, "erfc(25.1)");
        assertEquals(0.0, SpecialFunctions.erf(0.0));
        assertEquals(1.0, SpecialFunctions.erf(30.0));
        assertEquals(-1.0, SpecialFunctions.erf(Double.NEGATIVE_INFINITY));
        assertTrue(Double.isNaN(SpecialFunctions.erf(Double.NaN)));
    }

    @Test
    void erfIsOddAndMonotone() {
        double prev = -1.0;
        for (double x = -6; x <= 6; x += 1.0 / 64) {
            double e = SpecialFunctions.erf(x);
            assertEquals(-e, SpecialFunctions.erf(-x), 0.0, "odd at " + x);
            assertTrue(e >= prev, "monotone at " + x);
            assertEquals(1.0 - e, SpecialFunctions.erfc(x), 1e-15 + 4e-15 * Math.abs(1 - e), "erfc = 1 - erf at " + x);
            prev = e;
        }
    }

    @Test
    void geluValues() {
        NDArray x = f64(new double[] {1, -1, -5, -10, 3, 0});
        double[] y = R.unary(UnaryOp.GELU, x, 0).toDoubleArray();
        double[] want = {0.8413447460685429, -0.15865525393145705, -1.4332578593959695e-06, -7.619853024160526e-23, 2.99595030590511, 0};
        double[] tails = R.unary(UnaryOp.GELU, f64(new double[] {-12.3, -7.7}), 0).toDoubleArray();
        relClose(-5.570309556075305e-34, tails[0], 5e-15, "gelu(-12.3)");
        relClose(-5.2385498863959505e-14, tails[1], 5e-15, "gelu(-7.7)");
        double[] far = R.unary(UnaryOp.GELU, f64(new double[] {-25.1, -23.3}), 0).toDoubleArray();
        relClose(-6.24151707251339e-138, far[0], 5e-15, "gelu(-25.1)");
        relClose(-5.16473578091614e-119, far[1], 5e-15, "gelu(-23.3)");
        double[] tailGrads = R.unaryBackward(UnaryOp.GELU, f64(new double[] {-12.3, -7.7}), f64(new double[] {1, 1}), 0).toDoubleArray();
        relClose(-6.850900949792137e-33, tailGrads[0], 5e-14, "gelu'(-12.3)");
        relClose(-4.0315611312270337e-13, tailGrads[1], 5e-14, "gelu'(-7.7)");
        for (int i = 0; i < want.length; i++) {
            if (want[i] == 0) assertEquals(0.0, y[i]);
            else relClose(want[i], y[i], 5e-15, "gelu(" + x.getDouble(i) + ")");
        }
        // GELU_TANH and derivatives keep full relative accuracy in the tails (values from mpmath at 100 digits)
        double[] xs = {1, -2, -5, -10, 3};
        double[] tanhForm = {0.8411919906082767, -0.04540230591222498, -2.291796196629506e-07, -1.204092348209806e-37, 2.996362607918227};
        double[] tanhFormGrad = {1.0829640838457826, -0.08609925662361838, -1.5463619875325946e-06, -2.7576380638540315e-36, 1.0115841666309697};
        double[] t = R.unary(UnaryOp.GELU_TANH, f64(xs), 0).toDoubleArray();
        double[] dt = R.unaryBackward(UnaryOp.GELU_TANH, f64(xs), f64(new double[] {1, 1, 1, 1, 1}), 0).toDoubleArray();
        for (int i = 0; i < xs.length; i++) {
            relClose(tanhForm[i], t[i], 1e-14, "gelu_tanh(" + xs[i] + ")");
            relClose(tanhFormGrad[i], dt[i], 1e-14, "gelu_tanh'(" + xs[i] + ")");
        }
        double[] dtanh = R.unaryBackward(UnaryOp.TANH, f64(new double[] {10, -20, 0.5}), f64(new double[] {1, 1, 1}), 0).toDoubleArray();
        relClose(8.244614455767397e-09, dtanh[0], 1e-14, "tanh'(10)");
        relClose(1.6993417021166355e-17, dtanh[1], 1e-14, "tanh'(-20)");
        relClose(0.7864477329659274, dtanh[2], 1e-15, "tanh'(0.5)");
    }

    @Test
    void unaryValuesOnF32AndIntegers() {
        NDArray x = NDArray.fromArray(new float[] {-2f, -0.5f, 0f, 0.5f, 4f});
        assertArrayEquals(new float[] {2f, 0.5f, -0f, -0.5f, -4f}, R.unary(UnaryOp.NEG, x, 0).toFloatArray());
        assertArrayEquals(new float[] {0f, 0f, 0f, 0.5f, 4f}, R.unary(UnaryOp.RELU, x, 0).toFloatArray());
        assertArrayEquals(new float[] {4f, 0.25f, 0f, 0.25f, 16f}, R.unary(UnaryOp.POW, x, 2).toFloatArray());
        assertArrayEquals(new float[] {(float) Math.exp(-2), (float) Math.exp(-0.5), 1f, (float) Math.exp(0.5), (float) Math.exp(4)},
                R.unary(UnaryOp.EXP, x, 0).toFloatArray());
        assertEquals(0.5f, R.unary(UnaryOp.RSQRT, NDArray.fromArray(new float[] {4f}), 0).toFloatArray()[0]);
        float[] sig = R.unary(UnaryOp.SIGMOID, NDArray.fromArray(new float[] {0f, -800f, 800f}), 0).toFloatArray();
        assertArrayEquals(new float[] {0.5f, 0f, 1f}, sig);
        NDArray ints = NDArray.fromArray(new long[] {-3, 0, 5, Long.MAX_VALUE});
        assertArrayEquals(new long[] {3, 0, 5, Long.MAX_VALUE}, R.unary(UnaryOp.ABS, ints, 0).toLongArray());
        assertArrayEquals(new long[] {0, 0, 5, Long.MAX_VALUE}, R.unary(UnaryOp.RELU, ints, 0).toLongArray());
        assertEquals(DType.I64, R.unary(UnaryOp.NEG, ints, 0).dtype());
        assertTrue(Double.isNaN(R.unary(UnaryOp.RELU, f64(new double[] {Double.NaN}), 0).item()), "relu keeps NaN");
    }

    // ---- elementwise binary ------------------------------------------------------------------

    @Test
    void binaryOnBroadcastViewsAndIntegers() {
        NDArray a = f64(new double[] {1, 2, 3}, 3, 1).expand(3, 2);
        NDArray b = f64(new double[] {10, 20}, 1, 2).expand(3, 2);
        assertArrayEquals(new double[] {11, 21, 12, 22, 13, 23}, R.binary(BinaryOp.ADD, a, b).toDoubleArray());
        assertArrayEquals(new double[] {0.1, 0.05, 0.2, 0.1, 0.3, 0.15}, R.binary(BinaryOp.DIV, a, b).toDoubleArray(), 1e-16);
        NDArray big = NDArray.fromArray(new long[] {(1L << 60) + 1, -7});
        NDArray one = NDArray.fromArray(new long[] {1, 3});
        assertArrayEquals(new long[] {(1L << 60) + 2, -4}, R.binary(BinaryOp.ADD, big, one).toLongArray(), "exact long add");
        assertArrayEquals(new long[] {(1L << 60) + 1, -21}, R.binary(BinaryOp.MUL, big, one).toLongArray());
        assertArrayEquals(new long[] {(1L << 60) + 1, 3}, R.binary(BinaryOp.MAXIMUM, big, one).toLongArray());
        NDArray cmp = R.binary(BinaryOp.LT, big, one);
        assertEquals(DType.BOOL, cmp.dtype());
        assertArrayEquals(new boolean[] {false, true}, cmp.toBooleanArray());
        NDArray nan = f64(new double[] {Double.NaN, 1});
        NDArray two = f64(new double[] {2, 2});
        assertTrue(Double.isNaN(R.binary(BinaryOp.MAXIMUM, nan, two).toDoubleArray()[0]), "maximum propagates NaN");
        assertArrayEquals(new boolean[] {false, false}, R.binary(BinaryOp.EQ, nan, two).toBooleanArray());
        assertArrayEquals(new boolean[] {true, true}, R.binary(BinaryOp.NE, nan, two).toBooleanArray());
        NDArray i32 = NDArray.fromArray(new int[] {Integer.MAX_VALUE, 5});
        assertArrayEquals(new long[] {Integer.MIN_VALUE + 4, 10}, R.binaryScalar(BinaryOp.ADD, i32, 5).toLongArray(), "I32 wraps like Java int");
        assertArrayEquals(new boolean[] {true, false}, R.binaryScalar(BinaryOp.GT, i32, 5.5).toBooleanArray());
    }

    @Test
    void scalarOperandIsRoundedToTheInputDtype() {
        NDArray f = NDArray.fromArray(new float[] {0.1f, 1f}, 2);
        assertArrayEquals(new boolean[] {true, false}, R.binaryScalar(BinaryOp.EQ, f, 0.1).toBooleanArray(), "0.1f == 0.1 as torch");
        assertArrayEquals(new float[] {0.1f + (float) Math.PI, 1f + (float) Math.PI}, R.binaryScalar(BinaryOp.ADD, f, Math.PI).toFloatArray());
        NDArray d = NDArray.fromArray(new double[] {0.1, 1}, 2);
        assertArrayEquals(new boolean[] {true, false}, R.binaryScalar(BinaryOp.EQ, d, 0.1).toBooleanArray());
        assertArrayEquals(new boolean[] {false, false}, R.binaryScalar(BinaryOp.EQ, d, (float) 0.1).toBooleanArray(), "F64 keeps the scalar exact");
        assertArrayEquals(new float[] {(float) Math.pow(2, (float) (1.0 / 3))}, R.unary(UnaryOp.POW, NDArray.fromArray(new float[] {2f}, 1), 1.0 / 3).toFloatArray());
    }

    @Test
    void whereSelects() {
        NDArray c = NDArray.fromArray(new boolean[] {true, false, true});
        NDArray a = NDArray.fromArray(new long[] {1, 2, 3});
        NDArray b = NDArray.fromArray(new long[] {-1, -2, -3});
        assertArrayEquals(new long[] {1, -2, 3}, R.where(c, a, b).toLongArray());
    }

    // ---- reductions -----------------------------------------------------------------------

    @Test
    void reductionsOverDims() {
        NDArray x = f64(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        assertArrayEquals(new double[] {5, 7, 9}, R.reduce(ReduceOp.SUM, x, new int[] {0}, false).toDoubleArray());
        NDArray kept = R.reduce(ReduceOp.MEAN, x, new int[] {1}, true);
        assertArrayEquals(new int[] {2, 1}, kept.shape());
        assertArrayEquals(new double[] {2, 5}, kept.toDoubleArray());
        assertArrayEquals(new double[] {21}, R.reduce(ReduceOp.SUM, x, new int[] {0, 1}, false).toDoubleArray());
        assertEquals(0, R.reduce(ReduceOp.SUM, x, new int[] {0, 1}, false).rank());
        assertArrayEquals(new double[] {2.0 / 3, 2.0 / 3}, R.reduce(ReduceOp.VAR, x, new int[] {1}, false).toDoubleArray(), 1e-15);
        assertArrayEquals(new double[] {3, 6}, R.reduce(ReduceOp.MAX, x, new int[] {1}, false).toDoubleArray());
        assertArrayEquals(new double[] {1, 2, 3}, R.reduce(ReduceOp.MIN, x, new int[] {0}, false).toDoubleArray());
        // transposed view: reduce over what is now dim 1
        assertArrayEquals(new double[] {5, 7, 9}, R.reduce(ReduceOp.SUM, x.mT(), new int[] {1}, false).toDoubleArray());
        NDArray ints = NDArray.fromArray(new int[] {Integer.MAX_VALUE, Integer.MAX_VALUE, -3}, 3);
        NDArray s = R.reduce(ReduceOp.SUM, ints, new int[] {0}, false);
        assertEquals(DType.I64, s.dtype());
        assertEquals(2L * Integer.MAX_VALUE - 3, s.toLongArray()[0]);
        assertEquals(DType.I32, R.reduce(ReduceOp.MAX, ints, new int[] {0}, false).dtype());
        NDArray withNan = f64(new double[] {1, Double.NaN, 3});
        assertTrue(Double.isNaN(R.reduce(ReduceOp.MAX, withNan, new int[] {0}, false).item()));
        assertTrue(Double.isNaN(R.reduce(ReduceOp.MIN, withNan, new int[] {0}, false).item()));
    }

    @Test
    void argReduceTakesFirstOnTies() {
        NDArray x = f64(new double[] {1, 5, 5, 0, 0, 2}, 2, 3);
        assertArrayEquals(new long[] {1, 2}, R.argReduce(true, x, 1, false).toLongArray());
        assertArrayEquals(new long[] {0, 0}, R.argReduce(false, x, 1, false).toLongArray());
        assertArrayEquals(new long[] {0, 0, 0}, R.argReduce(true, x, 0, false).toLongArray());
        NDArray k = R.argReduce(true, x, 0, true);
        assertArrayEquals(new int[] {1, 3}, k.shape());
        assertEquals(DType.I64, k.dtype());
        assertArrayEquals(new long[] {1}, R.argReduce(true, f64(new double[] {0, Double.NaN, 9, Double.NaN}), 0, false).toLongArray(), "first NaN wins");
        NDArray ints = NDArray.fromArray(new long[] {3, 7, 7, -2, -2, 0}, 6);
        assertArrayEquals(new long[] {1}, R.argReduce(true, ints, 0, false).toLongArray(), "first of tied integer maxima");
        assertArrayEquals(new long[] {3}, R.argReduce(false, ints, 0, false).toLongArray(), "first of tied integer minima");
    }

    // ---- softmax and norms ------------------------------------------------------------------

    @Test
    void softmaxOfOneTwoThree() {
        NDArray x = f64(new double[] {1, 2, 3, 1001, 1002, 1003}, 2, 3);
        double[] sm = R.softmax(x, false).toDoubleArray();
        double[] want = {0.09003057317038046, 0.24472847105479767, 0.6652409557748219};
        close(want, java.util.Arrays.copyOfRange(sm, 0, 3), 1e-15);
        close(want, java.util.Arrays.copyOfRange(sm, 3, 6), 1e-15); // max-subtracted: no overflow
        double[] lsm = R.softmax(x, true).toDoubleArray();
        close(new double[] {-2.40760596444438, -1.40760596444438, -0.40760596444438}, java.util.Arrays.copyOfRange(lsm, 0, 3), 1e-14);
    }

    @Test
    void layerNormOfKnownRow() {
        NDArray x = f64(new double[] {1, 2, 3, 4}, 1, 4);
        NormResult r = R.layerNorm(x, null, null, 0.0);
        double a = 1.3416407864998738, b = 0.4472135954999579;
        close(new double[] {-a, -b, b, a}, r.out().toDoubleArray(), 1e-15);
        assertArrayEquals(new int[] {1}, r.mean().shape());
        assertEquals(2.5, r.mean().item(), 0);
        assertEquals(1 / Math.sqrt(1.25), r.rstd().item(), 1e-15);
        NormResult w = R.layerNorm(x, f64(new double[] {1, 2, 3, 4}), f64(new double[] {0, 0, 0, 1}), 0.0);
        close(new double[] {-a, -2 * b, 3 * b, 4 * a + 1}, w.out().toDoubleArray(), 1e-15);
        NormResult rms = R.rmsNorm(f64(new double[] {3, 4}, 1, 2), null, 0.0);
        double rs = 1 / Math.sqrt(12.5);
        close(new double[] {3 * rs, 4 * rs}, rms.out().toDoubleArray(), 1e-15);
        assertNull(rms.mean());
    }

    // ---- matmul and indexing -----------------------------------------------------------------

    @Test
    void matmulTwoByThreeTimesThreeByTwo() {
        NDArray a = f64(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        NDArray b = f64(new double[] {7, 8, 9, 10, 11, 12}, 3, 2);
        NDArray c = R.matmul(a, b);
        assertArrayEquals(new int[] {2, 2}, c.shape());
        assertArrayEquals(new double[] {58, 64, 139, 154}, c.toDoubleArray());
        // transposed operands read in place: (b^T a^T) = (a b)^T
        assertArrayEquals(new double[] {58, 139, 64, 154}, R.matmul(b.mT(), a.mT()).toDoubleArray());
        // stride-0 batch
        NDArray batched = R.matmul(a.unsqueeze(0).expand(3, 2, 3), b.unsqueeze(0).expand(3, 3, 2));
        assertArrayEquals(new int[] {3, 2, 2}, batched.shape());
        assertArrayEquals(new double[] {58, 64, 139, 154, 58, 64, 139, 154, 58, 64, 139, 154}, batched.toDoubleArray());
    }

    @Test
    void gatherIndexSelectScatterAndIndexAdd() {
        NDArray x = f64(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        NDArray idx = NDArray.fromArray(new long[] {2, 0, 1, 1}, 2, 2);
        assertArrayEquals(new double[] {3, 1, 5, 5}, R.gather(x, 1, idx).toDoubleArray());
        NDArray rows = R.indexSelect(x, 0, NDArray.fromArray(new int[] {1, 1, 0}));
        assertArrayEquals(new int[] {3, 3}, rows.shape());
        assertArrayEquals(new double[] {4, 5, 6, 4, 5, 6, 1, 2, 3}, rows.toDoubleArray());
        NDArray dst = NDArray.zeros(DType.F64, 2, 3);
        R.scatterAddInPlace(dst, 1, idx, f64(new double[] {10, 20, 30, 40}, 2, 2));
        assertArrayEquals(new double[] {20, 0, 10, 0, 70, 0}, dst.toDoubleArray());
        NDArray acc = NDArray.zeros(DType.F64, 3, 2);
        R.indexAddInPlace(acc, 0, NDArray.fromArray(new long[] {2, 0, 2}), f64(new double[] {1, 2, 3, 4, 5, 6}, 3, 2));
        assertArrayEquals(new double[] {3, 4, 0, 0, 6, 8}, acc.toDoubleArray(), "repeated index accumulates");
        NDArray view = NDArray.zeros(DType.I64, 4, 3).slice(0, 0, 4, 2); // [2, 3] every other row
        R.scatterAddInPlace(view, 0, NDArray.fromArray(new long[] {1, 1, 0}, 1, 3), NDArray.fromArray(new long[] {7, 8, 9}, 1, 3));
        assertArrayEquals(new long[] {0, 0, 9, 7, 8, 0}, view.toLongArray());
    }

    @Test
    void indexErrorsNameOpValueAndSize() {
        NDArray x = f64(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        var e = assertThrows(IndexOutOfBoundsException.class, () -> R.gather(x, 1, NDArray.fromArray(new long[] {3}, 1, 1)));
        assertTrue(e.getMessage().contains("gather") && e.getMessage().contains("3") && e.getMessage().contains("size 3"), e.getMessage());
        e = assertThrows(IndexOutOfBoundsException.class, () -> R.indexSelect(x, 0, NDArray.fromArray(new long[] {-1})));
        assertTrue(e.getMessage().contains("indexSelect") && e.getMessage().contains("-1") && e.getMessage().contains("size 2"), e.getMessage());
        NDArray dst = NDArray.zeros(DType.F64, 2, 3);
        e = assertThrows(IndexOutOfBoundsException.class,
                () -> R.scatterAddInPlace(dst, 0, NDArray.fromArray(new long[] {0, 5}, 1, 2), f64(new double[] {1, 1}, 1, 2)));
        assertTrue(e.getMessage().contains("scatterAdd") && e.getMessage().contains("5"), e.getMessage());
        assertArrayEquals(new double[6], dst.toDoubleArray(), "dst untouched after a bad index");
        e = assertThrows(IndexOutOfBoundsException.class,
                () -> R.indexAddInPlace(dst, 1, NDArray.fromArray(new long[] {7}), f64(new double[] {1, 1}, 2, 1)));
        assertTrue(e.getMessage().contains("indexAdd") && e.getMessage().contains("7") && e.getMessage().contains("size 3"), e.getMessage());
        e = assertThrows(IndexOutOfBoundsException.class,
                () -> R.crossEntropy(x, NDArray.fromArray(new long[] {0, 3}), -100, 0));
        assertTrue(e.getMessage().contains("crossEntropy") && e.getMessage().contains("3") && e.getMessage().contains("size 3"), e.getMessage());
    }

    @Test
    void triangleKeepsDiagonalBand() {
        NDArray x = f64(new double[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, 3, 3);
        assertArrayEquals(new double[] {1, 0, 0, 4, 5, 0, 7, 8, 9}, R.triangle(x, 0, false).toDoubleArray());
        assertArrayEquals(new double[] {1, 2, 0, 4, 5, 6, 7, 8, 9}, R.triangle(x, 1, false).toDoubleArray());
        assertArrayEquals(new double[] {0, 0, 0, 4, 0, 0, 7, 8, 0}, R.triangle(x, -1, false).toDoubleArray());
        assertArrayEquals(new double[] {1, 2, 3, 0, 5, 6, 0, 0, 9}, R.triangle(x, 0, true).toDoubleArray());
        assertArrayEquals(new double[] {0, 0, 3, 0, 0, 0, 0, 0, 0}, R.triangle(x, 2, true).toDoubleArray());
    }

    @Test
    void crossEntropyOfKnownLogits() {
        NDArray logits = f64(new double[] {1, 2, 3, 1, 2, 3, 5, 5, 5}, 3, 3);
        NDArray targets = NDArray.fromArray(new long[] {2, -100, 0});
        CrossEntropyResult r = R.crossEntropy(logits, targets, -100, 0.0);
        assertEquals(2, r.validCount());
        close(new double[] {0.40760596444438, 0, Math.log(3)}, r.loss().toDoubleArray(), 1e-14);
        close(new double[] {3.40760596444438, 3.40760596444438, 5 + Math.log(3)}, r.logSumExp().toDoubleArray(), 1e-14);
        CrossEntropyResult s = R.crossEntropy(logits, targets, -100, 0.1);
        close(new double[] {3.40760596444438 - 0.9 * 3 - 0.1 / 3 * 6, 0, Math.log(3)}, s.loss().toDoubleArray(), 1e-14);
        NDArray g = R.crossEntropyBackward(logits, targets, r.logSumExp(), -100, 0.0, 0.5);
        double[] sm = {0.09003057317038046, 0.24472847105479767, 0.6652409557748219};
        close(new double[] {0.5 * sm[0], 0.5 * sm[1], 0.5 * (sm[2] - 1), 0, 0, 0, 0.5 * (1.0 / 3 - 1), 0.5 / 3, 0.5 / 3},
                g.toDoubleArray(), 1e-15);
    }

    @Test
    void adamwStepMatchesHandComputation() {
        NDArray p = f64(new double[] {1.0, -2.0});
        NDArray m = NDArray.zeros(DType.F64, 2), v = NDArray.zeros(DType.F64, 2);
        NDArray g = f64(new double[] {0.5, -0.25});
        double lr = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.01;
        R.adamwStep(p, g, m, v, lr, b1, b2, eps, wd, 1);
        // step 1: mhat = g, vhat = g^2, update = g/(|g| + eps) ~ sign(g)
        double p0 = 1.0 - lr * wd * 1.0 - lr * 0.5 / (0.5 + eps);
        double p1 = -2.0 - lr * wd * -2.0 - lr * -0.25 / (0.25 + eps);
        assertArrayEquals(new double[] {p0, p1}, p.toDoubleArray(), 1e-15);
        assertArrayEquals(new double[] {0.05, -0.025}, m.toDoubleArray(), 1e-16);
        assertArrayEquals(new double[] {0.001 * 0.25, 0.001 * 0.0625}, v.toDoubleArray(), 1e-18);
        R.adamwStep(p, g, m, v, lr, b1, b2, eps, wd, 2);
        double m2 = 0.9 * 0.05 + 0.1 * 0.5, v2 = 0.999 * 0.00025 + 0.001 * 0.25;
        double q0 = p0 - lr * wd * p0 - lr * (m2 / (1 - 0.81)) / (Math.sqrt(v2 / (1 - 0.999 * 0.999)) + eps);
        assertEquals(q0, p.toDoubleArray()[0], 1e-15);
    }

    @Test
    void copyAssignFillConvert() {
        NDArray x = f64(new double[] {1.5, -2.5, 3.25, 1e10}, 2, 2);
        assertArrayEquals(new int[] {1, -2}, R.copy(x.narrow(0, 0, 1).reshape(2), DType.I32).toIntArray(), "truncates toward zero");
        assertArrayEquals(new float[] {1.5f, 3.25f}, R.copy(x.mT().select(0, 0), DType.F32).toFloatArray());
        NDArray dst = NDArray.zeros(DType.F32, 3, 2);
        R.assign(dst.slice(0, 0, 3, 2), f64(new double[] {7, 8}, 1, 2).expand(2, 2));
        assertArrayEquals(new float[] {7, 8, 0, 0, 7, 8}, dst.toFloatArray());
        R.fill(dst.mT().select(0, 1), -1);
        assertArrayEquals(new float[] {7, -1, 0, -1, 7, -1}, dst.toFloatArray());
        long big = (1L << 60) + 3;
        assertEquals(big, R.copy(NDArray.fromArray(new long[] {big}), DType.I64).toLongArray()[0]);
        assertEquals((float) big, R.copy(NDArray.fromArray(new long[] {big}), DType.F32).toFloatArray()[0]);
    }

    // ---- backward against finite differences (F64) ------------------------------------------

    private static final Generator GEN = new Generator(7);

    private static NDArray randn(int... shape) { return NDArray.normal(GEN, DType.F64, 0, 1, shape); }

    /** Central difference of scalar f at x along every element: [numel] gradient. */
    private static double[] numericGrad(Function<NDArray, Double> f, NDArray x, double h) {
        double[] v = x.toDoubleArray();
        double[] g = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            double[] plus = v.clone(), minus = v.clone();
            plus[i] += h;
            minus[i] -= h;
            g[i] = (f.apply(f64(plus, x.shape())) - f.apply(f64(minus, x.shape()))) / (2 * h);
        }
        return g;
    }

    private static double dot(NDArray a, NDArray b) {
        double[] x = a.toDoubleArray(), y = b.toDoubleArray();
        double s = 0;
        for (int i = 0; i < x.length; i++) s += x[i] * y[i];
        return s;
    }

    private static void gradClose(double[] numeric, double[] analytic, String what) {
        for (int i = 0; i < numeric.length; i++) {
            double tol = 1e-7 * Math.max(1.0, Math.abs(numeric[i]));
            assertTrue(Math.abs(numeric[i] - analytic[i]) <= tol,
                    what + " index " + i + ": numeric " + numeric[i] + " analytic " + analytic[i]);
        }
    }

    @Test
    void unaryBackwardMatchesFiniteDifferences() {
        for (UnaryOp op : UnaryOp.values()) {
            for (double p : op == UnaryOp.POW ? new double[] {2, 3, 0.5, -1.5} : new double[] {0}) {
                boolean positive = op == UnaryOp.LOG || op == UnaryOp.SQRT || op == UnaryOp.RSQRT || (op == UnaryOp.POW && p != Math.rint(p));
                NDArray x = randn(3, 5);
                // keep away from kinks (ABS, RELU at 0) and from 0 for the positive-domain ops
                double[] xv = x.toDoubleArray();
                for (int i = 0; i < xv.length; i++) {
                    if (positive) xv[i] = 0.2 + Math.abs(xv[i]);
                    else if (Math.abs(xv[i]) < 0.05) xv[i] += 0.1;
                }
                NDArray xs = f64(xv, 3, 5);
                NDArray g = randn(3, 5);
                final double pp = p;
                double[] numeric = numericGrad(t -> dot(R.unary(op, t, pp), g), xs, 1e-6);
                gradClose(numeric, R.unaryBackward(op, xs, g, p).toDoubleArray(), op + " p=" + p);
            }
        }
        // kinks: derivative defined as 0 at 0
        NDArray zero = f64(new double[] {0});
        NDArray one = f64(new double[] {1});
        assertEquals(0.0, R.unaryBackward(UnaryOp.RELU, zero, one, 0).item());
        assertEquals(0.0, R.unaryBackward(UnaryOp.ABS, zero, one, 0).item());
    }

    @Test
    void softmaxBackwardMatchesFiniteDifferences() {
        for (boolean log : new boolean[] {false, true}) {
            NDArray x = randn(4, 7);
            NDArray g = randn(4, 7);
            double[] numeric = numericGrad(t -> dot(R.softmax(t, log), g), x, 1e-6);
            gradClose(numeric, R.softmaxBackward(R.softmax(x, log), g, log).toDoubleArray(), "softmax log=" + log);
        }
    }

    @Test
    void layerNormBackwardMatchesFiniteDifferences() {
        NDArray x = randn(3, 6), w = randn(6), b = randn(6), g = randn(3, 6);
        double eps = 1e-5;
        NormResult r = R.layerNorm(x, w, b, eps);
        NormGrads grads = R.layerNormBackward(g, x, r.mean(), r.rstd(), w, true);
        gradClose(numericGrad(t -> dot(R.layerNorm(t, w, b, eps).out(), g), x, 1e-6), grads.input().toDoubleArray(), "layerNorm dx");
        gradClose(numericGrad(t -> dot(R.layerNorm(x, t, b, eps).out(), g), w, 1e-6), grads.weight().toDoubleArray(), "layerNorm dw");
        gradClose(numericGrad(t -> dot(R.layerNorm(x, w, t, eps).out(), g), b, 1e-6), grads.bias().toDoubleArray(), "layerNorm db");
        NormResult plain = R.layerNorm(x, null, null, eps);
        NormGrads pg = R.layerNormBackward(g, x, plain.mean(), plain.rstd(), null, false);
        assertNull(pg.weight());
        assertNull(pg.bias());
        gradClose(numericGrad(t -> dot(R.layerNorm(t, null, null, eps).out(), g), x, 1e-6), pg.input().toDoubleArray(), "layerNorm dx (no affine)");
    }

    @Test
    void rmsNormBackwardMatchesFiniteDifferences() {
        NDArray x = randn(3, 5), w = randn(5), g = randn(3, 5);
        double eps = 1e-6;
        NormResult r = R.rmsNorm(x, w, eps);
        NormGrads grads = R.rmsNormBackward(g, x, r.rstd(), w);
        gradClose(numericGrad(t -> dot(R.rmsNorm(t, w, eps).out(), g), x, 1e-6), grads.input().toDoubleArray(), "rmsNorm dx");
        gradClose(numericGrad(t -> dot(R.rmsNorm(x, t, eps).out(), g), w, 1e-6), grads.weight().toDoubleArray(), "rmsNorm dw");
        assertNull(grads.bias());
        NormGrads plain = R.rmsNormBackward(g, x, R.rmsNorm(x, null, eps).rstd(), null);
        gradClose(numericGrad(t -> dot(R.rmsNorm(t, null, eps).out(), g), x, 1e-6), plain.input().toDoubleArray(), "rmsNorm dx (no weight)");
    }

    @Test
    void crossEntropyBackwardMatchesFiniteDifferences() {
        NDArray logits = randn(4, 6);
        NDArray targets = NDArray.fromArray(new long[] {3, -1, 0, 5});
        for (double s : new double[] {0.0, 0.1}) {
            double scale = 1.0 / 3;
            Function<NDArray, Double> loss = t -> scale * R.reduce(ReduceOp.SUM, R.crossEntropy(t, targets, -1, s).loss(), new int[] {0}, false).item();
            CrossEntropyResult r = R.crossEntropy(logits, targets, -1, s);
            assertEquals(3, r.validCount());
            gradClose(numericGrad(loss, logits, 1e-6),
                    R.crossEntropyBackward(logits, targets, r.logSumExp(), -1, s, scale).toDoubleArray(), "crossEntropy s=" + s);
        }
    }

    @Test
    void matmulBackwardIdentityHolds() {
        // d(sum(g * (a b)))/da = g b^T: checks matmul is linear in a with the expected layout
        NDArray a = randn(3, 4), b = randn(4, 5), g = randn(3, 5);
        gradClose(numericGrad(t -> dot(R.matmul(t, b), g), a, 1e-6), R.matmul(g, b.mT()).toDoubleArray(), "matmul da");
    }
}
