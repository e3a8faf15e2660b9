package dev.tessera.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.tensor.BinaryOp;
import dev.tessera.tensor.CpuStorage;
import dev.tessera.tensor.CrossEntropyResult;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.NormGrads;
import dev.tessera.tensor.NormResult;
import dev.tessera.tensor.Parallel;
import dev.tessera.tensor.ReduceOp;
import dev.tessera.tensor.ReferenceBackend;
import dev.tessera.tensor.UnaryOp;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The hardest CpuBackend kernels against plain double loops written here: accuracy of the vector
 * exp / tanh / erf-based GELU over wide ranges, softmax with -inf and huge values, layer norm, cross
 * entropy with an ignore index and smoothing, AdamW; and the parallel paths on arrays large enough
 * to be split, with 1 and 3 threads, on contiguous and non-contiguous inputs.
 */
class CpuBackendKernelsTest {
    private static final CpuBackend B = new CpuBackend();
    private static final int BIG = 1_000_003;
    private final int savedThreads = Parallel.threads();

    @AfterEach
    void restoreThreads() { Parallel.setThreads(savedThreads); }

    private static NDArray f32(float[] v, int... shape) { return NDArray.fromArray(v, shape); }

    private static float[] randomFloats(long seed, int n, double scale) {
        Generator g = new Generator(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (g.nextGaussian() * scale);
        return v;
    }

    private static float[] values(NDArray x) { return ((CpuStorage) B.copy(x, DType.F32).storage()).f32(); }

    private static double[] dvalues(NDArray x) { return ((CpuStorage) B.copy(x, DType.F64).storage()).f64(); }

    /** Runs with 1 and with 3 threads and checks that both give bit-identical results. */
    private static float[] sameOnOneAndThreeThreads(Supplier<NDArray> op) {
        Parallel.setThreads(1);
        float[] one = values(op.get());
        Parallel.setThreads(3);
        float[] three = values(op.get());
        assertArrayEquals(one, three, "1 thread vs 3 threads");
        return three;
    }

    private static void assertRelClose(String what, double expected, double actual, double rtol, double atol) {
        if (Double.isNaN(expected) && Double.isNaN(actual)) return;
        if (expected == actual) return;
        double err = Math.abs(expected - actual);
        if (!(err <= atol + rtol * Math.abs(expected))) {
            throw new AssertionError(what + ": expected " + expected + " but was " + actual + " (rel err " + err / Math.abs(expected) + ")");
        }
    }

    // ---- vector math accuracy -------------------------------------------------------------

    private static double maxRelError(UnaryOp op, double lo, double hi, int n, double tinyBelow) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (lo + (hi - lo) * i / (n - 1));
        float[] y = values(B.unary(op, f32(x, n), 0));
        double worst = 0;
        for (int i = 0; i < n; i++) {
            double ref = ReferenceBackend.unaryValue(op, x[i], 0);
            if (ref == 0) {
                assertEquals(0f, y[i], op + "(" + x[i] + ")");
                continue;
            }
            if (Math.abs(ref) < tinyBelow || Double.isInfinite((float) ref)) {
                assertTrue(Math.abs(y[i] - ref) <= Math.max(tinyBelow, Math.ulp((float) ref)) || (float) ref == y[i], op + "(" + x[i] + ") = " + y[i] + ", expected " + ref);
                continue;
            }
            worst = Math.max(worst, Math.abs(y[i] - ref) / Math.abs(ref));
        }
        return worst;
    }

    @Test
    void vectorExpIsAccurateOverTheWholeFloatRange() {
        // normal results: within 1 ulp-ish; subnormal and overflowing results rounded as float
        double err = maxRelError(UnaryOp.EXP, -87, 88.7, 400_003, 0);
        assertTrue(err < 1.5e-7, "exp max relative error " + err);
        float[] special = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 88.73f, -100f, -103.5f, -104.5f, 0f,
                -0f, 1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f};
        float[] y = values(B.unary(UnaryOp.EXP, f32(special, special.length), 0));
        assertTrue(Float.isNaN(y[0]));
        assertEquals(Float.POSITIVE_INFINITY, y[1]);
        assertEquals(0f, y[2]);
        assertEquals(Float.POSITIVE_INFINITY, y[3]);
        assertEquals((float) Math.exp(-100), y[4], 1.5e-45f); // subnormal
        assertEquals((float) Math.exp(-103.5), y[5], 1.5e-45f);
        assertEquals(0f, y[6]);
        assertEquals(1f, y[7]);
        assertEquals(1f, y[8]);
    }

    @Test
    void polynomialExpIsAccurateIncludingSubnormalsAndSpecials() {
        // the fallback used where the JDK has no vector math library (and with TESSERA_CPU_EXP=poly)
        int n = 400_000;
        float[] x = new float[n + 16];
        for (int i = 0; i < n; i++) x[i] = (float) (-104 + 193.0 * i / (n - 1));
        float[] special = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 88.73f, -100f, -103.5f, -104.5f, 0f,
                -0f, 1f, 2f, 3f, 4f, 5f, 6f, 7f};
        System.arraycopy(special, 0, x, n, 16);
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i += VecMath.L) VecMath.expPoly(jdk.incubator.vector.FloatVector.fromArray(VecMath.F, x, i)).intoArray(y, i);
        double worstUlp = 0;
        for (int i = 0; i < n; i++) {
            double ref = Math.exp(x[i]);
            float rf = (float) ref;
            if (Float.isInfinite(rf)) {
                assertEquals(rf, y[i], "exp(" + x[i] + ")");
                continue;
            }
            worstUlp = Math.max(worstUlp, Math.abs(y[i] - ref) / Math.ulp(rf));
        }
        assertTrue(worstUlp < 1.5, "polynomial exp: max error " + worstUlp + " ulp (subnormal results included)");
        assertTrue(Float.isNaN(y[n]));
        assertEquals(Float.POSITIVE_INFINITY, y[n + 1]);
        assertEquals(0f, y[n + 2]);
        assertEquals(Float.POSITIVE_INFINITY, y[n + 3]);
        assertEquals(0f, y[n + 6]);
        assertEquals(1f, y[n + 7]);
        assertEquals(1f, y[n + 8]);
    }

    @Test
    void vectorTanhSigmoidSiluAreAccurate() {
        assertTrue(maxRelError(UnaryOp.TANH, -20, 20, 200_001, 0) < 3e-7);
        assertTrue(maxRelError(UnaryOp.TANH, -1e-3, 1e-3, 20_001, 0) < 3e-7, "tanh near 0 keeps relative accuracy");
        assertTrue(maxRelError(UnaryOp.SIGMOID, -80, 80, 200_001, 0) < 3e-7);
        assertTrue(maxRelError(UnaryOp.SILU, -80, 80, 200_001, 1e-30) < 3e-7);
        float[] y = values(B.unary(UnaryOp.TANH, f32(new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0f}, 4), 0));
        assertTrue(Float.isNaN(y[0]));
        assertEquals(1f, y[1]);
        assertEquals(-1f, y[2]);
        assertEquals(Float.floatToIntBits(-0f), Float.floatToIntBits(y[3]));
    }

    @Test
    void vectorGeluKeepsRelativeAccuracyInTheLeftTail() {
        double core = maxRelError(UnaryOp.GELU, -5, 20, 250_001, 0);
        assertTrue(core < 5e-7, "GELU on [-5, 20]: " + core);
        double tail = maxRelError(UnaryOp.GELU, -13, -5, 80_001, 1e-37);
        assertTrue(tail < 5e-7, "GELU on [-13, -5]: " + tail);
        // tanh-GELU forms its exponent 2u ~ x^3 in float: relative error grows like |2u| 2^-24 on the left
        double tanhRight = maxRelError(UnaryOp.GELU_TANH, -0.5, 20, 200_001, 0);
        assertTrue(tanhRight < 3e-7, "tanh-GELU on [-0.5, 20]: " + tanhRight);
        double tanhLeft = maxRelError(UnaryOp.GELU_TANH, -5, -0.5, 50_001, 0);
        assertTrue(tanhLeft < 3e-6, "tanh-GELU on [-5, -0.5]: " + tanhLeft);
        double nearZero = maxRelError(UnaryOp.GELU, -1e-3, 1e-3, 20_001, 0);
        assertTrue(nearZero < 5e-7, "GELU near 0: " + nearZero);
    }

    /** Largest relative error of op's derivative (unaryBackward with g = 1) over [lo, hi]; below tinyBelow absolute. */
    private static double maxRelDerivativeError(UnaryOp op, double lo, double hi, int n, double tinyBelow) {
        float[] x = new float[n], ones = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (lo + (hi - lo) * i / (n - 1));
            ones[i] = 1;
        }
        float[] d = values(B.unaryBackward(op, f32(x, n), f32(ones, n), 0));
        double worst = 0;
        for (int i = 0; i < n; i++) {
            double ref = ReferenceBackend.unaryDerivative(op, x[i], 0);
            double err = Math.abs(d[i] - ref);
            if (Math.abs(ref) < tinyBelow) assertTrue(err <= tinyBelow, op + "'(" + x[i] + ") = " + d[i] + ", expected " + ref);
            else worst = Math.max(worst, err / Math.abs(ref));
        }
        return worst;
    }

    @Test
    void exactGeluDerivativeKeepsRelativeAccuracyInTheLeftTail() {
        // Phi + x phi from one exp: the left tail (Phi ~ |x| phi / x^2, no cancellation below -2)
        // keeps relative accuracy down to where the result is subnormal
        double tail = maxRelDerivativeError(UnaryOp.GELU, -13, -2, 80_001, 1e-37);
        assertTrue(tail < 5e-7, "GELU' on [-13, -2]: " + tail);
        double right = maxRelDerivativeError(UnaryOp.GELU, 0, 20, 80_001, 0);
        assertTrue(right < 5e-7, "GELU' on [0, 20]: " + right);
    }

    @Test
    void exactGeluDerivativeOfInfinitiesAndNaNMatchesTheReference() {
        // Phi(x) + x phi(x): NaN at +-inf (inf * 0, as the reference and libtorch), 1 and 0 far out
        float[] specials = {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, -0f, 40f, -40f, 1e-30f, -1e-30f};
        float[] x = new float[24], ones = new float[24];
        for (int i = 8; i < 16; i++) x[i] = i * 0.25f - 2;
        System.arraycopy(specials, 0, x, 0, 8);
        System.arraycopy(specials, 0, x, 16, 8);
        java.util.Arrays.fill(ones, 1f);
        float[] d = values(B.unaryBackward(UnaryOp.GELU, f32(x, 24), f32(ones, 24), 0));
        for (int i = 0; i < 24; i++) {
            double want = ReferenceBackend.unaryDerivative(UnaryOp.GELU, x[i], 0);
            if (Double.isNaN(want)) assertTrue(Float.isNaN(d[i]), "GELU'(" + x[i] + ") = " + d[i] + ", want NaN");
            else assertRelClose("GELU'(" + x[i] + ")", want, d[i], 1e-6, 1e-37);
        }
    }

    @Test
    void geluOfInfinitiesAndNaNMatchesTheReference() {
        // Specials at vector positions (0-7) and in the scalar tail (16-23) of a 24-element array:
        // x Phi(x) gives +inf at +inf and NaN at -inf (-inf * 0, as libtorch), NaN stays NaN.
        float[] specials = {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, -0f, 40f, -40f, 1e-30f, -1e-30f};
        float[] x = new float[24];
        for (int i = 8; i < 16; i++) x[i] = i * 0.25f - 2;
        System.arraycopy(specials, 0, x, 0, 8);
        System.arraycopy(specials, 0, x, 16, 8);
        for (UnaryOp op : new UnaryOp[] {UnaryOp.GELU, UnaryOp.GELU_TANH}) {
            float[] y = values(B.unary(op, f32(x, 24), 0));
            for (int i = 0; i < 24; i++) {
                double want = ReferenceBackend.unaryValue(op, x[i], 0);
                if (Double.isNaN(want)) {
                    assertTrue(Float.isNaN(y[i]), op + "(" + x[i] + ") = " + y[i] + ", want NaN");
                } else if (Double.isInfinite(want) || want == 0) {
                    assertEquals((float) want, y[i], op + "(" + x[i] + ")");
                } else {
                    assertRelClose(op + "(" + x[i] + ")", want, y[i], 1e-6, 1e-37);
                }
            }
        }
        assertEquals(0.0, dev.tessera.tensor.SpecialFunctions.normalCdf(Double.NEGATIVE_INFINITY));
        assertEquals(1.0, dev.tessera.tensor.SpecialFunctions.normalCdf(Double.POSITIVE_INFINITY));
    }

    @Test
    void vectorGradientsMatchDoubleDerivatives() {
        int n = 100_003;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (-12 + 24.0 * i / (n - 1));
        float[] g = randomFloats(7, n, 1);
        for (UnaryOp op : new UnaryOp[] {UnaryOp.EXP, UnaryOp.TANH, UnaryOp.SIGMOID, UnaryOp.RELU, UnaryOp.GELU, UnaryOp.GELU_TANH, UnaryOp.SILU}) {
            float[] xs = op == UnaryOp.EXP ? x.clone() : x;
            float[] d = values(B.unaryBackward(op, f32(xs, n), f32(g, n), 0));
            for (int i = 0; i < n; i++) {
                double ref = g[i] * ReferenceBackend.unaryDerivative(op, xs[i], 0);
                assertRelClose(op + "' at " + xs[i], ref, d[i], 1e-6, 1e-7 * Math.abs(g[i]) + 1e-30);
            }
        }
    }

    // ---- softmax ----------------------------------------------------------------------------

    @Test
    void softmaxHandlesMinusInfinityAndHugeLogits() {
        int rows = 5, c = 50_257;
        float[] v = randomFloats(3, rows * c, 4);
        for (int j = 0; j < c; j += 3) v[j] = Float.NEGATIVE_INFINITY; // row 0: masked entries
        for (int j = 0; j < c; j++) v[c + j] += 1e30f; // row 1: huge, must not overflow
        v[2 * c + 17] = 80f; // row 2: one dominant logit
        NDArray x = f32(v, rows, c);
        for (boolean log : new boolean[] {false, true}) {
            float[] y = values(B.softmax(x, log));
            for (int r = 0; r < rows; r++) {
                double m = Double.NEGATIVE_INFINITY, s = 0;
                for (int j = 0; j < c; j++) m = Math.max(m, v[r * c + j]);
                for (int j = 0; j < c; j++) s += Math.exp(v[r * c + j] - m);
                for (int j = 0; j < c; j++) {
                    double e = log ? v[r * c + j] - m - Math.log(s) : Math.exp(v[r * c + j] - m) / s;
                    if (Double.isInfinite(e)) {
                        assertEquals(e, y[r * c + j], "row " + r + " col " + j);
                    } else {
                        assertRelClose((log ? "logSoftmax" : "softmax") + " row " + r + " col " + j, e, y[r * c + j], 2e-5, 1e-9);
                    }
                }
            }
        }
    }

    @Test
    void softmaxOverTransposedInputAndParallelRows() {
        int n = 3001, c = 333;
        NDArray base = f32(randomFloats(11, n * c, 3), c, n);
        NDArray xt = base.mT(); // [n, c], last dim strided
        float[] y = sameOnOneAndThreeThreadsClose(() -> B.softmax(xt, false));
        float[] v = values(xt);
        for (int r = 0; r < n; r += 97) {
            double m = Double.NEGATIVE_INFINITY, s = 0;
            for (int j = 0; j < c; j++) m = Math.max(m, v[r * c + j]);
            for (int j = 0; j < c; j++) s += Math.exp(v[r * c + j] - m);
            for (int j = 0; j < c; j++) assertRelClose("softmax", Math.exp(v[r * c + j] - m) / s, y[r * c + j], 2e-5, 1e-9);
        }
    }

    // ---- layer norm -------------------------------------------------------------------------

    @Test
    void layerNormForwardAndBackwardAgainstDoubleLoops() {
        int n = 2049, c = 771;
        float[] xv = randomFloats(5, n * c, 2);
        for (int i = 0; i < xv.length; i++) xv[i] += 100f; // offset: a one-pass variance would lose digits
        float[] wv = randomFloats(6, c, 1), bv = randomFloats(7, c, 1), gv = randomFloats(8, n * c, 1);
        NDArray x = f32(xv, n, c), w = f32(wv, c), b = f32(bv, c), g = f32(gv, n, c);
        Parallel.setThreads(3);
        NormResult r = B.layerNorm(x, w, b, 1e-5);
        NormGrads gr = B.layerNormBackward(g, x, r.mean(), r.rstd(), w, true);
        float[] out = values(r.out()), dx = values(gr.input()), dw = values(gr.weight()), db = values(gr.bias());
        double[] dwRef = new double[c], dbRef = new double[c];
        for (int row = 0; row < n; row++) {
            double mean = 0;
            for (int j = 0; j < c; j++) mean += xv[row * c + j];
            mean /= c;
            double var = 0;
            for (int j = 0; j < c; j++) var += (xv[row * c + j] - mean) * (xv[row * c + j] - mean);
            double rstd = 1 / Math.sqrt(var / c + 1e-5);
            double s1 = 0, s2 = 0;
            for (int j = 0; j < c; j++) {
                double xh = (xv[row * c + j] - mean) * rstd;
                double gw = gv[row * c + j] * (double) wv[j];
                s1 += gw;
                s2 += gw * xh;
                dwRef[j] += gv[row * c + j] * xh;
                dbRef[j] += gv[row * c + j];
                if (row % 64 == 0) assertRelClose("layerNorm out", xh * wv[j] + bv[j], out[row * c + j], 1e-4, 1e-5);
            }
            if (row % 64 != 0) continue;
            for (int j = 0; j < c; j++) {
                double xh = (xv[row * c + j] - mean) * rstd;
                double gw = gv[row * c + j] * (double) wv[j];
                double e = rstd * (gw - s1 / c - xh * s2 / c);
                assertRelClose("layerNorm dx", e, dx[row * c + j], 1e-3, 1e-5);
            }
        }
        for (int j = 0; j < c; j++) {
            assertRelClose("dweight", dwRef[j], dw[j], 1e-4, 1e-3);
            assertRelClose("dbias", dbRef[j], db[j], 1e-4, 1e-3);
        }
    }

    @Test
    void layerNormOfConstantRowsIsExactlyZero() {
        NDArray x = f32(new float[] {3.3f}, 1, 1).expand(7, 771);
        NormResult r = B.layerNorm(x, null, null, 1e-5);
        for (float v : values(r.out())) assertEquals(0f, v);
        NormGrads g = B.layerNormBackward(f32(new float[] {0.7f}, 1, 1).expand(7, 771), x, r.mean(), r.rstd(), null, false);
        for (float v : values(g.input())) assertEquals(0f, v, 1e-6f);
    }

    // ---- cross entropy ------------------------------------------------------------------------

    @Test
    void crossEntropyWithIgnoreIndexAndSmoothingAgainstDoubleLoops() {
        int n = 9, v = 50_257;
        float[] lv = randomFloats(9, n * v, 3);
        long[] t = {5, -100, 50_256, 0, -100, 123, 77, 40_000, 9};
        NDArray logits = f32(lv, n, v), targets = NDArray.fromArray(t, n);
        for (double s : new double[] {0.0, 0.1}) {
            CrossEntropyResult r = B.crossEntropy(logits, targets, -100, s);
            assertEquals(7, r.validCount());
            float[] loss = values(r.loss()), lse = values(r.logSumExp());
            double scale = 1.0 / 7;
            float[] grad = values(B.crossEntropyBackward(logits, targets, r.logSumExp(), -100, s, scale));
            for (int row = 0; row < n; row++) {
                double m = Double.NEGATIVE_INFINITY, se = 0, sx = 0;
                for (int j = 0; j < v; j++) m = Math.max(m, lv[row * v + j]);
                for (int j = 0; j < v; j++) {
                    se += Math.exp(lv[row * v + j] - m);
                    sx += lv[row * v + j];
                }
                double l = m + Math.log(se);
                assertRelClose("logSumExp row " + row, l, lse[row], 1e-6, 1e-6);
                if (t[row] == -100) {
                    assertEquals(0f, loss[row]);
                    for (int j = 0; j < v; j++) assertEquals(0f, grad[row * v + j]);
                    continue;
                }
                double expected = (1 - s) * (l - lv[row * v + (int) t[row]]) + s * (l - sx / v);
                assertRelClose("loss row " + row, expected, loss[row], 1e-5, 1e-6);
                for (int j = 0; j < v; j += 7) {
                    double q = s / v + (j == t[row] ? 1 - s : 0);
                    assertRelClose("grad", scale * (Math.exp(lv[row * v + j] - l) - q), grad[row * v + j], 1e-5, 1e-9);
                }
                int tj = (int) t[row];
                assertRelClose("grad at target", scale * (Math.exp(lv[row * v + tj] - l) - (s / v + 1 - s)), grad[row * v + tj], 1e-5, 1e-9);
            }
        }
    }

    // ---- AdamW ------------------------------------------------------------------------------

    @Test
    void adamwMatchesScalarLoopOnOneAndThreeThreads() {
        int n = BIG;
        float[] p0 = randomFloats(1, n, 1), g1 = randomFloats(2, n, 0.1f), g2 = randomFloats(3, n, 0.1f);
        float[][] results = new float[2][];
        for (int k = 0; k < 2; k++) {
            Parallel.setThreads(k == 0 ? 1 : 3);
            NDArray p = f32(p0.clone(), n), m = NDArray.zeros(DType.F32, n), v = NDArray.zeros(DType.F32, n);
            B.adamwStep(p, f32(g1, n), m, v, 1e-3, 0.9, 0.999, 1e-8, 0.1, 1);
            B.adamwStep(p, f32(g2, n), m, v, 1e-3, 0.9, 0.999, 1e-8, 0.1, 2);
            results[k] = values(p);
        }
        assertArrayEquals(results[0], results[1], "1 vs 3 threads");
        for (int i = 0; i < n; i += 101) {
            double p = p0[i], m = 0, v = 0;
            float[][] gs = {g1, g2};
            for (int step = 1; step <= 2; step++) {
                double g = gs[step - 1][i];
                m = 0.9 * m + 0.1 * g;
                v = 0.999 * v + 0.001 * g * g;
                p -= 1e-3 * 0.1 * p;
                p -= 1e-3 * (m / (1 - Math.pow(0.9, step))) / (Math.sqrt(v / (1 - Math.pow(0.999, step))) + 1e-8);
            }
            assertRelClose("param " + i, p, results[1][i], 1e-6, 1e-7);
        }
    }

    // ---- parallel and strided paths -----------------------------------------------------------

    @Test
    void elementwiseOnLargeStridedAndBroadcastInputs() {
        int rows = 1001, cols = 999;
        float[] av = randomFloats(21, rows * cols, 1), rowv = randomFloats(22, cols, 1);
        NDArray a = f32(av, cols, rows).mT(); // [rows, cols] transposed view
        NDArray bias = f32(rowv, cols).expand(rows, cols); // stride-0 rows
        float[] sum = sameOnOneAndThreeThreads(() -> B.binary(BinaryOp.ADD, a, bias));
        // exact GELU uses its own exp, never the JDK's vector math library: bit-identical whether
        // interpreted or compiled, so on any thread count
        float[] gelu = sameOnOneAndThreeThreads(() -> B.unary(UnaryOp.GELU, a, 0));
        NDArray stepped = f32(randomFloats(23, BIG * 2, 1), BIG * 2).slice(0, 1, BIG * 2, 2); // step 2
        float[] sv = values(stepped);
        float[] scaled = sameOnOneAndThreeThreads(() -> B.binaryScalar(BinaryOp.MUL, stepped, 3.0));
        for (int r = 0; r < rows; r += 13) {
            for (int c = 0; c < cols; c++) {
                float x = av[c * rows + r];
                assertEquals(x + rowv[c], sum[r * cols + c]);
                assertRelClose("gelu", ReferenceBackend.unaryValue(UnaryOp.GELU, x, 0), gelu[r * cols + c], 1e-6, 1e-7);
            }
        }
        for (int i = 0; i < sv.length; i += 7) assertEquals(sv[i] * 3f, scaled[i]);
    }

    @Test
    void reductionsOverLargeArraysAnyDims() {
        int d0 = 67, d1 = 71, d2 = 65; // 309_205 elements: still split across threads
        float[] v = randomFloats(31, d0 * d1 * d2, 1);
        NDArray x = f32(v, d0, d1, d2);
        for (int[] dims : new int[][] {{0, 1, 2}, {2}, {0}, {0, 2}}) {
            for (ReduceOp op : ReduceOp.values()) {
                float[] got = sameOnOneAndThreeThreadsClose(() -> B.reduce(op, x, dims, false));
                float[] ref = values(ReferenceBackend.INSTANCE.reduce(op, x, dims, false));
                assertEquals(ref.length, got.length);
                for (int i = 0; i < ref.length; i++) {
                    double tol = op == ReduceOp.SUM ? 2e-6 * Math.sqrt(v.length / ref.length) * 4 : 1e-5;
                    assertRelClose(op + " dims " + java.util.Arrays.toString(dims) + " at " + i, ref[i], got[i], 1e-5, tol);
                }
            }
        }
        // a permuted view reduced over its (strided) last dim, and argmax
        NDArray p = x.permute(2, 0, 1);
        float[] s = values(B.reduce(ReduceOp.SUM, p, new int[] {2}, true));
        float[] sr = values(ReferenceBackend.INSTANCE.reduce(ReduceOp.SUM, p, new int[] {2}, true));
        for (int i = 0; i < s.length; i++) assertRelClose("permuted sum", sr[i], s[i], 1e-5, 1e-4);
        long[] am = B.argReduce(true, p, 1, false).toLongArray();
        assertArrayEquals(ReferenceBackend.INSTANCE.argReduce(true, p, 1, false).toLongArray(), am);
    }

    /** Reductions may be split differently with 3 threads: results agree closely, not bitwise. */
    private static float[] sameOnOneAndThreeThreadsClose(Supplier<NDArray> op) {
        Parallel.setThreads(1);
        float[] one = values(op.get());
        Parallel.setThreads(3);
        float[] three = values(op.get());
        for (int i = 0; i < one.length; i++) assertRelClose("1 vs 3 threads at " + i, one[i], three[i], 1e-5, 1e-5);
        return three;
    }

    /** Ops whose parity cases are too small to be split: on a large transposed / stepped / broadcast view, 3 threads. */
    @Test
    void largeStridedViewsMatchTheReferenceOnThreeThreads() {
        Parallel.setThreads(3);
        ReferenceBackend ref = ReferenceBackend.INSTANCE;
        int r = 577, c = 601;
        NDArray x = f32(randomFloats(81, r * c * 2, 2), c, 2 * r).mT().slice(0, 0, 2 * r, 2); // [r, c], strides (2, 2r)
        NDArray g = f32(randomFloats(82, r * c, 1), r, c);
        NDArray col = f32(randomFloats(83, r, 1), r, 1).expand(r, c); // stride-0 inner dim
        // GELU' = Phi(x) + x phi(x) cancels near x = -0.75: absolute error against |g| ~ 1, as in the parity suite
        assertClose("unaryBackward GELU", ref.unaryBackward(UnaryOp.GELU, x, g, 0), B.unaryBackward(UnaryOp.GELU, x, g, 0), 1e-6, 1e-6);
        assertClose("unary TANH", ref.unary(UnaryOp.TANH, x, 0), B.unary(UnaryOp.TANH, x, 0), 1e-6, 1e-7);
        assertClose("binary MUL", ref.binary(BinaryOp.MUL, x, col), B.binary(BinaryOp.MUL, x, col), 1e-7, 0);
        assertClose("binary SUB col-first", ref.binary(BinaryOp.SUB, col, x), B.binary(BinaryOp.SUB, col, x), 1e-7, 0);
        NDArray lt = B.binary(BinaryOp.LT, x, col);
        assertArrayEquals(ref.binary(BinaryOp.LT, x, col).toBooleanArray(), lt.toBooleanArray());
        assertClose("where", ref.where(lt, x, col), B.where(lt, x, col), 0, 0);
        assertArrayEquals(ref.copy(x, DType.BF16).toBits(), B.copy(x, DType.BF16).toBits());
        assertArrayEquals(ref.copy(x, DType.I32).toIntArray(), B.copy(x, DType.I32).toIntArray());
        assertClose("reduce VAR dim 0", ref.reduce(ReduceOp.VAR, x, new int[] {0}, false), B.reduce(ReduceOp.VAR, x, new int[] {0}, false), 1e-5, 1e-6);
        assertClose("reduce MEAN dim 1", ref.reduce(ReduceOp.MEAN, x, new int[] {1}, true), B.reduce(ReduceOp.MEAN, x, new int[] {1}, true), 1e-5, 1e-6);
        assertArrayEquals(ref.argReduce(false, x, 0, false).toLongArray(), B.argReduce(false, x, 0, false).toLongArray());
        assertClose("triangle", ref.triangle(x, 3, false), B.triangle(x, 3, false), 0, 0);
        Generator gen = new Generator(84);
        long[] idx = new long[r * 7];
        for (int i = 0; i < idx.length; i++) idx[i] = gen.nextLong(c);
        NDArray index = NDArray.fromArray(idx, r, 7);
        assertClose("gather dim 1", ref.gather(x, 1, index), B.gather(x, 1, index), 0, 0);
        NDArray logSm = B.softmax(x, true);
        assertClose("logSoftmax of a strided view", ref.softmax(x, true), logSm, 1e-5, 1e-5);
    }

    private static void assertClose(String what, NDArray expected, NDArray actual, double rtol, double atol) {
        assertArrayEquals(expected.shape(), actual.shape(), what + " shape");
        double[] e = dvalues(expected), a = dvalues(actual);
        for (int i = 0; i < e.length; i++) assertRelClose(what + " at " + i, e[i], a[i], rtol, atol);
    }

    @Test
    void copiesCastsAndOverlappingAssign() {
        float[] v = randomFloats(41, BIG, 10);
        NDArray x = f32(v, BIG);
        short[] bf = B.copy(x, DType.BF16).toBits();
        short[] h = B.copy(x, DType.F16).toBits();
        for (int i = 0; i < BIG; i += 11) {
            assertEquals(dev.tessera.tensor.HalfFloats.floatToBf16(v[i]), bf[i]);
            assertEquals(dev.tessera.tensor.HalfFloats.floatToF16(v[i]), h[i]);
        }
        // overlapping shift inside one storage: x[1:] = x[:-1]
        NDArray y = f32(v.clone(), BIG);
        B.assign(y.narrow(0, 1, BIG - 1), y.narrow(0, 0, BIG - 1));
        float[] yv = values(y);
        assertEquals(v[0], yv[0]);
        for (int i = 1; i < BIG; i += 17) assertEquals(v[i - 1], yv[i]);
        // fill a strided view leaves the gaps alone
        NDArray z = NDArray.zeros(DType.F32, 10, 10);
        B.fill(z.slice(1, 0, 10, 3), 2.5);
        float[] zv = values(z);
        for (int i = 0; i < 100; i++) assertEquals(i % 10 % 3 == 0 ? 2.5f : 0f, zv[i]);
    }

    @Test
    void embeddingLookupAndGradientOnManyRows() {
        int vocab = 5003, c = 129, n = 20_011;
        NDArray table = f32(randomFloats(51, vocab * c, 1), vocab, c);
        Generator g = new Generator(52);
        long[] ids = new long[n];
        for (int i = 0; i < n; i++) ids[i] = g.nextLong(vocab);
        NDArray idx = NDArray.fromArray(ids, n);
        float[] rows = sameOnOneAndThreeThreads(() -> B.indexSelect(table, 0, idx));
        float[] tv = values(table);
        for (int i = 0; i < n; i += 31) for (int j = 0; j < c; j++) assertEquals(tv[(int) ids[i] * c + j], rows[i * c + j]);
        NDArray src = f32(randomFloats(53, n * c, 1), n, c);
        float[] sv = values(src);
        float[] got = sameOnOneAndThreeThreads(() -> {
            NDArray dst = NDArray.zeros(DType.F32, vocab, c);
            B.indexAddInPlace(dst, 0, idx, src);
            return dst;
        });
        double[] ref = new double[vocab * c];
        for (int i = 0; i < n; i++) for (int j = 0; j < c; j++) ref[(int) ids[i] * c + j] += sv[i * c + j];
        for (int i = 0; i < ref.length; i++) assertRelClose("indexAdd", ref[i], got[i], 1e-5, 1e-5);
    }

    @Test
    void scatterAddWithManyCollisionsHasNoRaces() {
        int rows = 64, cols = 1031, n = 600;
        Generator g = new Generator(61);
        long[] idx = new long[n * cols];
        for (int i = 0; i < idx.length; i++) idx[i] = g.nextLong(rows);
        NDArray index = NDArray.fromArray(idx, n, cols);
        float[] sv = randomFloats(62, n * cols, 1);
        NDArray src = f32(sv, n, cols);
        float[] got = sameOnOneAndThreeThreads(() -> {
            NDArray dst = NDArray.zeros(DType.F32, rows, cols);
            B.scatterAddInPlace(dst, 0, index, src);
            return dst;
        });
        double[] ref = new double[rows * cols];
        for (int i = 0; i < n; i++) for (int j = 0; j < cols; j++) ref[(int) idx[i * cols + j] * cols + j] += sv[i * cols + j];
        for (int i = 0; i < ref.length; i++) assertRelClose("scatterAdd", ref[i], got[i], 1e-4, 1e-4);
    }

    @Test
    void outOfRangeIndicesNameTheOpTheIndexAndTheSize() {
        NDArray x = f32(new float[12], 4, 3);
        var e1 = assertThrows(IndexOutOfBoundsException.class, () -> B.indexSelect(x, 0, NDArray.fromArray(new long[] {1, 7})));
        assertTrue(e1.getMessage().contains("indexSelect") && e1.getMessage().contains("7") && e1.getMessage().contains("4"), e1.getMessage());
        var e2 = assertThrows(IndexOutOfBoundsException.class, () -> B.gather(x, 1, NDArray.fromArray(new int[] {0, -2}, 1, 2)));
        assertTrue(e2.getMessage().contains("gather") && e2.getMessage().contains("-2") && e2.getMessage().contains("3"), e2.getMessage());
        var e3 = assertThrows(IndexOutOfBoundsException.class,
                () -> B.scatterAddInPlace(x, 0, NDArray.fromArray(new long[] {9}, 1, 1), f32(new float[] {1}, 1, 1)));
        assertTrue(e3.getMessage().contains("scatterAdd") && e3.getMessage().contains("9"), e3.getMessage());
        var e4 = assertThrows(IndexOutOfBoundsException.class,
                () -> B.indexAddInPlace(x, 1, NDArray.fromArray(new long[] {5}, 1), f32(new float[4], 4, 1)));
        assertTrue(e4.getMessage().contains("indexAdd") && e4.getMessage().contains("5") && e4.getMessage().contains("3"), e4.getMessage());
        var e5 = assertThrows(IndexOutOfBoundsException.class,
                () -> B.crossEntropy(f32(new float[6], 2, 3), NDArray.fromArray(new long[] {0, 3}), -100, 0));
        assertTrue(e5.getMessage().contains("crossEntropy") && e5.getMessage().contains("3 classes"), e5.getMessage());
    }

    @Test
    void f32ScalarOperandsAreRoundedToFloat() {
        NDArray x = f32(new float[] {0.1f, 0.2f, 0.3f}, 3);
        assertArrayEquals(new boolean[] {true, false, false}, B.binaryScalar(BinaryOp.EQ, x, 0.1).toBooleanArray());
        assertArrayEquals(new boolean[] {false, true, true}, B.binaryScalar(BinaryOp.GT, x, 0.1).toBooleanArray());
    }

    @Test
    void describeIsOneLineWithSpeciesAndThreads() {
        Parallel.setThreads(3);
        String d = B.describe();
        assertFalse(d.contains("\n"));
        assertTrue(d.contains("cpu-vector") && d.contains(VecMath.L + " x f32 lanes") && d.contains("3 threads") && d.contains("exp: "), d);
        assertEquals("cpu-vector", B.name());
    }

    @Test
    void vectorWidthIsTheOneTheBuildAskedFor() {
        // the build runs the CPU tests once more with -XX:UseAVX=2: on x86-64 that must give 8 lanes
        String arch = System.getProperty("os.arch");
        if (Boolean.getBoolean("tessera.test.avx2") && (arch.equals("amd64") || arch.equals("x86_64"))) {
            assertEquals(8, VecMath.L, B.describe());
        }
    }

    @Test
    void expFollowsTheSetting() {
        // the build runs this class once more with tessera.cpu.exp=poly: check it took effect
        String forced = System.getProperty("tessera.cpu.exp", "").trim();
        boolean library = forced.isEmpty() ? VecMath.VECTOR_LIBRARY_EXP : forced.equalsIgnoreCase("svml");
        String d = B.describe();
        assertEquals(library, VecMath.VECTOR_LIBRARY_EXP, d);
        assertTrue(d.contains(library ? "exp: JDK vector math library" : "exp: polynomial"), d);
    }

    @Test
    void float64PathsUseDoublePrecision() {
        int n = 4099;
        double[] v = new double[n];
        Generator g = new Generator(71);
        for (int i = 0; i < n; i++) v[i] = g.nextGaussian() * 3;
        NDArray x = NDArray.fromArray(v, n);
        double[] ge = dvalues(B.unary(UnaryOp.GELU, x, 0));
        for (int i = 0; i < n; i++) assertRelClose("f64 gelu", ReferenceBackend.unaryValue(UnaryOp.GELU, v[i], 0), ge[i], 1e-13, 1e-300);
        double[] sm = dvalues(B.softmax(x.view(1, n), true));
        double m = Double.NEGATIVE_INFINITY, s = 0;
        for (double a : v) m = Math.max(m, a);
        for (double a : v) s += Math.exp(a - m);
        for (int i = 0; i < n; i++) assertRelClose("f64 logSoftmax", v[i] - m - Math.log(s), sm[i], 1e-13, 1e-13);
    }
}
