package dev.tessera.tensor.testing;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.Device;
import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.ReferenceBackend;
import java.util.Arrays;

/**
 * Comparison of NDArrays for tests. An element passes when {@code |expected - actual| <= atol +
 * rtol * scale}, where scale is |expected| (elementwise), the largest |expected| of the array
 * (normwise, for results computed with cancellation), or a per-element magnitude the caller gives
 * (e.g. sum of |terms| of a dot product). NaN equals NaN, an infinity equals the same infinity.
 * Failure messages name the first bad index, both values, the tolerance and the number of bad elements.
 */
public final class Approx {
    private Approx() {}

    /** How close two arrays must be. */
    public record Tolerance(double rtol, double atol, boolean normwise) {
        /** Bit-for-bit equal values (NaN equal to NaN). */
        public static Tolerance exact() { return new Tolerance(0, 0, false); }

        /** |e - a| <= atol + rtol * |e| per element. */
        public static Tolerance of(double rtol, double atol) { return new Tolerance(rtol, atol, false); }

        /** |e - a| <= atol + rtol * max|e| over the whole array. */
        public static Tolerance normwise(double rtol, double atol) { return new Tolerance(rtol, atol, true); }

        public boolean isExact() { return rtol == 0 && atol == 0; }

        @Override
        public String toString() {
            return isExact() ? "exact" : "rtol " + rtol + ", atol " + atol + (normwise ? " (normwise)" : "");
        }
    }

    /** Same shape, same dtype, values within rtol/atol elementwise. */
    public static void assertClose(String what, NDArray expected, NDArray actual, double rtol, double atol) {
        assertClose(what, expected, actual, Tolerance.of(rtol, atol));
    }

    /** Same shape, same dtype, values within tol. */
    public static void assertClose(String what, NDArray expected, NDArray actual, Tolerance tol) {
        checkDtype(what, expected, actual);
        assertValuesClose(what, expected, actual, tol, null);
    }

    /** Same shape and dtype; bit-equal values (NaN equal to NaN). */
    public static void assertExact(String what, NDArray expected, NDArray actual) {
        assertClose(what, expected, actual, Tolerance.exact());
    }

    /**
     * Same shape, values within tol where the per-element scale is max(|expected|, scale[i])
     * (normwise tolerances use the array's largest such value). Dtypes must match.
     */
    public static void assertCloseScaled(String what, NDArray expected, NDArray actual, Tolerance tol, double[] scale) {
        checkDtype(what, expected, actual);
        assertValuesClose(what, expected, actual, tol, scale);
    }

    /** Like {@link #assertClose} but the dtypes may differ (values compared as doubles). */
    public static void assertValuesClose(String what, NDArray expected, NDArray actual, Tolerance tol) {
        assertValuesClose(what, expected, actual, tol, null);
    }

    private static void checkDtype(String what, NDArray expected, NDArray actual) {
        if (expected.dtype() != actual.dtype()) {
            throw new AssertionError(what + ": dtype " + actual.dtype() + " but expected " + expected.dtype()
                    + " (shapes " + Arrays.toString(expected.shape()) + ")");
        }
    }

    private static void assertValuesClose(String what, NDArray expected, NDArray actual, Tolerance tol, double[] scale) {
        if (!Arrays.equals(expected.shape(), actual.shape())) {
            throw new AssertionError(what + ": shape " + Arrays.toString(actual.shape()) + " but expected " + Arrays.toString(expected.shape()));
        }
        NDArray e = expected.to(Device.CPU), a = actual.to(Device.CPU);
        int n = e.numel();
        int[] shape = e.shape();
        boolean exactInts = !e.dtype().isFloating() && !a.dtype().isFloating();
        if (exactInts) {
            long[] ev = longs(e), av = longs(a);
            for (int i = 0; i < n; i++) {
                if (ev[i] != av[i]) {
                    int bad = 0;
                    for (int k = 0; k < n; k++) if (ev[k] != av[k]) bad++;
                    throw new AssertionError(what + ": at index " + Arrays.toString(coords(shape, i)) + " expected " + ev[i] + " but was " + av[i]
                            + " (" + bad + " of " + n + " elements differ, shape " + Arrays.toString(shape) + ", " + e.dtype() + ")");
                }
            }
            return;
        }
        double[] ev = doubles(e), av = doubles(a);
        double norm = 0;
        if (tol.normwise()) {
            for (int i = 0; i < n; i++) {
                double s = Math.abs(ev[i]);
                if (scale != null) s = Math.max(s, scale[i]);
                if (Double.isFinite(s)) norm = Math.max(norm, s);
            }
        }
        int firstBad = -1, bad = 0;
        double worst = 0;
        for (int i = 0; i < n; i++) {
            double limit = limit(tol, ev[i], scale == null ? 0 : scale[i], norm);
            if (!close(ev[i], av[i], limit)) {
                if (firstBad < 0) firstBad = i;
                bad++;
                double ratio = Math.abs(ev[i] - av[i]) / Math.max(limit, Double.MIN_VALUE);
                worst = Double.isNaN(ratio) ? Double.POSITIVE_INFINITY : Math.max(worst, ratio);
            }
        }
        if (firstBad >= 0) {
            double limit = limit(tol, ev[firstBad], scale == null ? 0 : scale[firstBad], norm);
            throw new AssertionError(what + ": at index " + Arrays.toString(coords(shape, firstBad)) + " expected " + ev[firstBad]
                    + " but was " + av[firstBad] + " (difference " + Math.abs(ev[firstBad] - av[firstBad]) + ", allowed " + limit
                    + " from " + tol + "); " + bad + " of " + n + " elements off, worst by " + String.format("%.3g", worst)
                    + "x the allowance; shape " + Arrays.toString(shape) + ", " + e.dtype() + (e.dtype() != a.dtype() ? " vs " + a.dtype() : ""));
        }
    }

    private static double limit(Tolerance tol, double expected, double scale, double norm) {
        double s = tol.normwise() ? norm : Math.max(Math.abs(expected), scale);
        return tol.atol() + tol.rtol() * s;
    }

    /** Whether a and b agree within limit (NaN equals NaN; infinities must be equal). */
    public static boolean close(double expected, double actual, double limit) {
        if (Double.isNaN(expected) || Double.isNaN(actual)) return Double.isNaN(expected) && Double.isNaN(actual);
        if (Double.isInfinite(expected) || Double.isInfinite(actual)) return expected == actual;
        return Math.abs(expected - actual) <= limit;
    }

    /** Whether two arrays have one shape and dtype and values within tol. */
    public static boolean allClose(NDArray expected, NDArray actual, Tolerance tol) {
        try {
            assertClose("allClose", expected, actual, tol);
            return true;
        } catch (AssertionError e) {
            return false;
        }
    }

    /** Row-major logical coordinates of linear index i. */
    public static int[] coords(int[] shape, int i) {
        int[] c = new int[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            c[d] = i % shape[d];
            i /= shape[d];
        }
        return c;
    }

    // Read through the reference backend so that a comparison never depends on the backend under test.
    static double[] doubles(NDArray x) {
        NDArray c = ReferenceBackend.INSTANCE.copy(x.to(Device.CPU), DType.F64);
        return (double[]) ReferenceBackend.INSTANCE.toHost(c.storage(), 0, c.numel());
    }

    static long[] longs(NDArray x) {
        NDArray c = ReferenceBackend.INSTANCE.copy(x.to(Device.CPU), DType.I64);
        return (long[]) ReferenceBackend.INSTANCE.toHost(c.storage(), 0, c.numel());
    }
}
