package dev.tessera.tensor;

/**
 * Double-precision special functions shared by the backends' scalar paths (the reference
 * backend and the CPU backend's F64 kernels and scalar tails): erf, erfc and the standard normal
 * CDF/PDF, with full relative accuracy in the tails (about 1e-15).
 */
public final class SpecialFunctions {
    private static final double SQRT_PI = Math.sqrt(Math.PI);
    private static final double INV_SQRT_2 = 1.0 / Math.sqrt(2.0);
    private static final double INV_SQRT_2PI = 1.0 / Math.sqrt(2.0 * Math.PI);

    private SpecialFunctions() {}

    /**
     * erf(x) in double precision (relative error about 1e-15). Below |x| = 2.5 it sums the
     * series erf(x) = 2/sqrt(pi) e^(-x^2) sum_n 2^n x^(2n+1) / (1*3*...*(2n+1)), whose terms are
     * all positive (no cancellation); above it uses 1 - erfc(|x|).
     */
    public static double erf(double x) {
        if (Double.isNaN(x)) return x;
        double ax = Math.abs(x);
        if (ax < 2.5) return erfSeries(x);
        double r = 1.0 - erfcContinuedFraction(ax);
        return x < 0 ? -r : r;
    }

    /** erfc(x) = 1 - erf(x) without cancellation for large x (relative error about 1e-15). */
    public static double erfc(double x) {
        if (Double.isNaN(x)) return x;
        if (x >= 2.5) return erfcContinuedFraction(x);
        if (x <= -2.5) return 2.0 - erfcContinuedFraction(-x);
        if (x < 0.5) return 1.0 - erfSeries(x); // result >= 0.47: the subtraction loses no digits
        // 0.5 <= x < 2.5: 1 - erf(x) would lose up to 3 digits, so run the continued fraction here too
        return erfcContinuedFraction(x);
    }

    private static double erfSeries(double x) {
        double x2 = x * x;
        double term = x, sum = x;
        for (int n = 1; n < 200; n++) {
            term *= 2.0 * x2 / (2 * n + 1);
            sum += term;
            if (Math.abs(term) <= 1e-17 * Math.abs(sum)) break;
        }
        return 2.0 / SQRT_PI * expMinusSquare(x) * sum;
    }

    /**
     * erfc(x) for x >= 0.5 from Laplace's continued fraction sqrt(pi) e^(x^2) erfc(x) =
     * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), evaluated with the modified Lentz method.
     */
    private static double erfcContinuedFraction(double x) {
        if (x > 27.3) return 0.0; // underflows double
        return expMinusSquare(x) / SQRT_PI / laplaceFraction(x);
    }

    /** The continued fraction x + (1/2)/(x + 1/(x + (3/2)/(x + ...))) for x >= 0.5. */
    private static double laplaceFraction(double x) {
        final double tiny = 1e-300;
        double f = x, c = x, d = 0.0;
        for (int n = 1; n < 5000; n++) {
            double a = n * 0.5;
            d = x + a * d;
            if (d == 0) d = tiny;
            c = x + a / c;
            if (c == 0) c = tiny;
            d = 1.0 / d;
            double delta = c * d;
            f *= delta;
            if (Math.abs(delta - 1.0) < 1e-16) break;
        }
        return f;
    }

    /**
     * e^(-x^2). The rounding error of x*x is recovered with an fma, because e^(-s) turns an
     * absolute error in s into a relative error of the result (1e-14 at x = 7 otherwise).
     */
    private static double expMinusSquare(double x) {
        double s = x * x;
        double err = Math.fma(x, x, -s);
        return Math.exp(-s) * (1.0 - err);
    }

    /** e^(-x^2/2), as {@link #expMinusSquare} (halving is exact). */
    private static double expMinusHalfSquare(double x) {
        double s = x * x;
        double err = Math.fma(x, x, -s);
        return Math.exp(-0.5 * s) * (1.0 - 0.5 * err);
    }

    /** Standard normal CDF Phi(x), with full relative accuracy in the lower tail. */
    public static double normalCdf(double x) {
        if (Double.isNaN(x)) return x;
        if (x == Double.NEGATIVE_INFINITY) return 0.0; // the tail formula below gives NaN there
        if (x >= -0.75) return 0.5 * (1.0 + erf(x * INV_SQRT_2));
        double z = -x * INV_SQRT_2;
        // Phi(x) = erfc(z) / 2 with e^(-z^2) taken as e^(-x^2/2) straight from x (z = -x/sqrt2 is rounded)
        return 0.5 * expMinusHalfSquare(x) / SQRT_PI / laplaceFraction(z);
    }

    /** Standard normal density phi(x) = e^(-x^2/2) / sqrt(2 pi). */
    public static double normalPdf(double x) {
        return INV_SQRT_2PI * expMinusHalfSquare(x);
    }
}
