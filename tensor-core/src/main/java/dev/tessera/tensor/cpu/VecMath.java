package dev.tessera.tensor.cpu;

import dev.tessera.tensor.SpecialFunctions;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vectorized float math for the CPU kernels, with scalar double-precision twins used for loop
 * tails and F64 arrays.
 *
 * <ul>
 *   <li>exp: range reduction x = n ln2 + r (|r| <= ln2/2, ln2 split in two parts), Cephes'
 *       degree-6 polynomial for e^r, and 2^n applied in two halves so that results in the
 *       subnormal range round once. Clamped to [-104, 89] (0 and +inf beyond), NaN kept.</li>
 *   <li>Phi (normal CDF, for exact GELU): erfc(z) = t exp(-z^2 + P(t)), t = 1/(1 + z/2)
 *       (Numerical Recipes' Chebyshev fit, relative error below 1.2e-7 for all z >= 0), so the
 *       left tail keeps its relative accuracy.</li>
 *   <li>tanh: Cephes' odd polynomial for |x| < 0.625, (1 - e^-2|x|) / (1 + e^-2|x|) above.</li>
 *   <li>sigmoid, SiLU, tanh-GELU: one exp and one division, written as x / (1 + e^-u) so that
 *       nothing cancels.</li>
 * </ul>
 * We use these rather than {@code lanewise(VectorOperators.EXP)}: on JDK 17 the latter is many times
 * slower when the JIT does not have a vector math library stub, and these inline into the loops.
 */
final class VecMath {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();

    private static final float LOG2E = 1.44269504088896341f;
    private static final float MAGIC = 12582912f; // 1.5 * 2^23: adding it rounds to an integer
    private static final int MAGIC_BITS = 0x4B400000;
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float P0 = 1.9875691500E-4f, P1 = 1.3981999507E-3f, P2 = 8.3334519073E-3f,
            P3 = 4.1665795894E-2f, P4 = 1.6666665459E-1f, P5 = 5.0000001201E-1f;

    static final double GELU_K0 = 0.79788456080286535588; // sqrt(2/pi)
    static final double GELU_K1 = 0.044715;

    private VecMath() {}

    // ---- vector functions -------------------------------------------------------------------
    // Constants are static final vectors rather than scalar operands: each scalar operand costs a
    // broadcast in the compiled graph, and kernels that combine exp with a division and a blend
    // otherwise exceed C2's inlining node budget and fall back to boxed vectors (10x slower).

    static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;

    static FloatVector bc(float v) { return FloatVector.broadcast(F, v); }

    private static IntVector ibc(int v) { return IntVector.broadcast(I, v); }

    static final FloatVector ONE = bc(1f), HALF = bc(0.5f), ZERO = bc(0f), NEG_TWO = bc(-2f), NEG_HALF = bc(-0.5f);
    private static final FloatVector EXP_LO = bc(-104f), EXP_HI = bc(89f), V_LOG2E = bc(LOG2E), V_MAGIC = bc(MAGIC),
            V_LN2_HI = bc(LN2_HI), V_NEG_LN2_LO = bc(-LN2_LO),
            V_P0 = bc(P0), V_P1 = bc(P1), V_P2 = bc(P2), V_P3 = bc(P3), V_P4 = bc(P4), V_P5 = bc(P5);
    private static final IntVector I_MAGIC = ibc(MAGIC_BITS), I_127 = ibc(127), I_2P23 = ibc(1 << 23), I_SIGN = ibc(0x80000000);
    private static final FloatVector NEG_QUARTER = bc(-0.25f);
    private static final FloatVector T0 = bc(-5.70498872745E-3f), T1 = bc(2.06390887954E-2f), T2 = bc(-5.37397155531E-2f),
            T3 = bc(1.33314422036E-1f), T4 = bc(-3.33332819422E-1f), TANH_SMALL = bc(0.625f);
    private static final FloatVector E0 = bc(0.17087277f), E1 = bc(-0.82215223f), E2 = bc(1.48851587f), E3 = bc(-1.13520398f),
            E4 = bc(0.27886807f), E5 = bc(-0.18628806f), E6 = bc(0.09678418f), E7 = bc(0.37409196f), E8 = bc(1.00002368f),
            E9 = bc(-1.26551223f), V_SQRT1_2 = bc((float) 0.70710678118654752440), V_INV_SQRT_2PI = bc((float) 0.39894228040143267794);
    static final FloatVector GT_A = bc((float) (-2 * 0.79788456080286535588 * 0.044715)), GT_B = bc((float) (-2 * 0.79788456080286535588));

    /**
     * Whether {@link #exp} uses the JDK's vector math library ({@code lanewise(EXP)}, SVML on
     * x86: about 2x faster than {@link #expPoly} here, within 1 ulp) instead of the polynomial.
     * Chosen when the JDK ships the library (lib/libjsvml.so, bin/jsvml.dll); without it
     * lanewise(EXP) falls back to one Math.exp per lane. Forced with the system property
     * tessera.cpu.exp (or TESSERA_CPU_EXP) = svml | poly. The polynomial gives bit-identical
     * results in interpreted and compiled code; the library only once the JIT has compiled a loop.
     */
    static final boolean VECTOR_LIBRARY_EXP = chooseVectorLibraryExp();

    private static boolean chooseVectorLibraryExp() {
        String v = System.getProperty("tessera.cpu.exp", System.getenv("TESSERA_CPU_EXP"));
        if (v != null && !v.isBlank()) {
            if (v.trim().equalsIgnoreCase("svml")) return true;
            if (v.trim().equalsIgnoreCase("poly")) return false;
            throw new IllegalArgumentException("TESSERA_CPU_EXP must be 'svml' or 'poly', got '" + v + "'");
        }
        java.nio.file.Path home = java.nio.file.Path.of(System.getProperty("java.home", ""));
        return java.nio.file.Files.exists(home.resolve("lib").resolve("libjsvml.so"))
                || java.nio.file.Files.exists(home.resolve("bin").resolve("jsvml.dll"));
    }

    /** Name of the exp implementation in use, for the backend description. */
    static String expName() {
        return VECTOR_LIBRARY_EXP ? "exp: JDK vector math library" : "exp: polynomial";
    }

    static FloatVector exp(FloatVector x) {
        return VECTOR_LIBRARY_EXP ? x.lanewise(VectorOperators.EXP) : expPoly(x);
    }

    static FloatVector expPoly(FloatVector x) {
        x = x.max(EXP_LO).min(EXP_HI);
        FloatVector fx = x.fma(V_LOG2E, V_MAGIC);
        FloatVector n = fx.sub(V_MAGIC);
        IntVector ni = fx.reinterpretAsInts().sub(I_MAGIC);
        FloatVector r = n.mul(V_LN2_HI).neg().add(x); // n * LN2_HI is exact (LN2_HI has 9 bits)
        r = n.fma(V_NEG_LN2_LO, r);
        FloatVector p = r.fma(V_P0, V_P1).fma(r, V_P2).fma(r, V_P3).fma(r, V_P4).fma(r, V_P5);
        p = p.fma(r.mul(r), r).add(ONE);
        // 2^n as 2^n1 * 2^n2 with n1 = floor(n/2), so that subnormal results round once. No
        // shifts: a vector shift count costs an extra broadcast deep in the inline tree, past C2's
        // inlining depth when exp is itself inlined two levels down (GELU), which boxes every op.
        IntVector n1 = n.fma(HALF, NEG_QUARTER).add(V_MAGIC).reinterpretAsInts().sub(I_MAGIC);
        IntVector n2 = ni.sub(n1);
        FloatVector s1 = n1.add(I_127).mul(I_2P23).reinterpretAsFloats();
        FloatVector s2 = n2.add(I_127).mul(I_2P23).reinterpretAsFloats();
        return p.mul(s1).mul(s2);
    }

    private static final FloatVector CAP = bc(88f), FOUR = bc(4f);

    /** e^min(x, 88): finite, so that e * s with s = 1/(1+e) never becomes inf * 0. */
    static FloatVector expCapped(FloatVector x) {
        return exp(x.blend(CAP, x.compare(VectorOperators.GT, CAP))); // a compare and blend: cheaper than a Java-semantics min, NaN kept
    }

    /**
     * 1 - tanh(x)^2 without cancellation: 4e / (1+e)^2 with e = e^-2|x| above |x| = 0.625, the
     * polynomial tanh squared below (where tanh^2 < 0.31).
     */
    static FloatVector tanhGrad(FloatVector x) {
        FloatVector a = x.abs();
        FloatVector e = exp(a.mul(NEG_TWO));
        FloatVector d = e.add(ONE);
        FloatVector big = e.mul(FOUR).div(d.mul(d));
        FloatVector z = x.mul(x);
        FloatVector t = z.fma(T0, T1).fma(z, T2).fma(z, T3).fma(z, T4).mul(z).fma(x, x);
        FloatVector small = t.neg().fma(t, ONE);
        return big.blend(small, a.compare(VectorOperators.LT, TANH_SMALL));
    }


    private static final FloatVector GT_2K0 = bc((float) (2 * 0.79788456080286535588)),
            GT_6K01 = bc((float) (6 * 0.79788456080286535588 * 0.044715));

    /**
     * d/dx [x / (1 + e^-2u)] = s (1 + x (2u') (e s)), e = e^-2u, s = 1/(1+e); e s <= 1 is formed
     * first (e alone may be ~1e38). -2u is capped at 88 by a compare and blend (cheaper than a
     * Java-semantics min; a NaN passes through to the result).
     */
    static FloatVector geluTanhGrad(FloatVector x) {
        FloatVector x2 = x.mul(x);
        FloatVector u2 = x2.fma(GT_A, GT_B).mul(x); // -2u
        FloatVector e = exp(u2.blend(CAP, u2.compare(VectorOperators.GT, CAP)));
        FloatVector s = ONE.div(e.add(ONE));
        FloatVector du2 = x2.fma(GT_6K01, GT_2K0); // 2u'
        return e.mul(s).mul(x).fma(du2, ONE).mul(s);
    }

    /** 1 / (1 + e^-x). */
    static FloatVector sigmoid(FloatVector x) {
        return ONE.div(exp(x.neg()).add(ONE));
    }

    static FloatVector recip(FloatVector d) {
        return ONE.div(d);
    }

    static FloatVector tanh(FloatVector x) {
        FloatVector a = x.abs();
        FloatVector e = exp(a.mul(NEG_TWO));
        FloatVector big = ONE.sub(e).div(e.add(ONE));
        FloatVector z = x.mul(x);
        FloatVector small = z.fma(T0, T1).fma(z, T2).fma(z, T3).fma(z, T4).mul(z).fma(a, a);
        // |tanh| from either branch, then x's sign (keeps -0 and the sign of tiny x)
        FloatVector r = big.blend(small, a.compare(VectorOperators.LT, TANH_SMALL));
        return r.reinterpretAsInts().or(x.reinterpretAsInts().and(I_SIGN)).reinterpretAsFloats();
    }

    /**
     * 20: above it Phi(x) is 1 in float, so callers may cap x there (a compare and blend; a
     * Java-semantics min cost the GELU kernel 20%) to keep inf - inf out of the error terms of
     * {@link #phi}, which gives NaN at +-inf.
     */
    static final FloatVector PHI_HI = bc(20f);

    /** Normal CDF Phi(x) = erfc(-x / sqrt 2) / 2; NaN at +-inf (see {@link #PHI_HI}). */
    static FloatVector phi(FloatVector x) {
        FloatVector z = x.mul(V_SQRT1_2);
        FloatVector a = z.abs();
        FloatVector t = ONE.div(a.fma(HALF, ONE));
        // The degree-9 polynomial in Estrin's form: four dependent FMAs instead of Horner's nine
        // (the kernel is bound by this chain's latency: 21% faster per vector, measured).
        FloatVector t2 = t.mul(t), t4 = t2.mul(t2);
        FloatVector q0 = t2.fma(t.fma(E6, E7), t.fma(E8, E9));
        FloatVector q1 = t2.fma(t.fma(E2, E3), t.fma(E4, E5));
        FloatVector poly = t4.fma(t4.fma(t.fma(E0, E1), q1), q0);
        // exp(-a^2 + poly) with the argument kept in two parts: its float rounding would otherwise
        // turn into a relative error of |argument| * 2^-24 (1e-6 at x = -5).
        // and a^2 = z^2 = x^2/2 is formed from x itself, not from the rounded z (that would cost
        // 2 z^2 2^-24 relative).
        FloatVector xx = x.mul(x);
        FloatVector sq = xx.mul(HALF);
        FloatVector sqErr = x.fma(x, xx.neg()).mul(HALF); // x*x/2 - sq, exact
        FloatVector h = poly.sub(sq);
        FloatVector bb = h.add(sq); // 2Sum of poly and -sq: h + err == poly - sq exactly
        FloatVector err = poly.sub(bb).add(h.sub(bb).neg().sub(sq));
        FloatVector halfErfc = t.mul(exp(h)).mul(err.sub(sqErr).add(ONE)).mul(HALF); // erfc(|z|) / 2
        return ONE.sub(halfErfc).blend(halfErfc, z.compare(VectorOperators.LT, ZERO));
    }

    /** e^(-x^2/2) / sqrt(2 pi). */
    static FloatVector normalPdf(FloatVector x) {
        return exp(x.mul(x).mul(NEG_HALF)).mul(V_INV_SQRT_2PI);
    }

    /** 0.5 x (1 + tanh(u)) = x / (1 + e^-2u), u = sqrt(2/pi)(x + 0.044715 x^3). */
    static FloatVector geluTanh(FloatVector x) {
        FloatVector u2 = x.mul(x).fma(GT_A, GT_B).mul(x); // -2u
        return x.div(exp(u2).add(ONE));
    }

    // ---- scalar twins (double precision) ---------------------------------------------------

    static double sigmoid(double x) { return 1.0 / (1.0 + Math.exp(-x)); }

    /** Normal CDF in double (see SpecialFunctions). */
    static double phi(double x) { return SpecialFunctions.normalCdf(x); }

    static double normalPdf(double x) { return SpecialFunctions.normalPdf(x); }

    static double geluTanh(double x) {
        double u = GELU_K0 * (x + GELU_K1 * x * x * x);
        return x / (1.0 + Math.exp(-2 * u));
    }

    /** d/dx of x / (1 + e^-2u) = s (1 + 2 x u' e s) with e = e^-2u, s = 1/(1+e): no 1 - s cancellation. */
    static double geluTanhGrad(double x) {
        double u = GELU_K0 * (x + GELU_K1 * x * x * x);
        double e = Math.exp(Math.min(-2 * u, 700));
        double s = 1.0 / (1.0 + e);
        double du = GELU_K0 * (1 + 3 * GELU_K1 * x * x);
        return s * (1 + 2 * x * du * e * s);
    }
}
