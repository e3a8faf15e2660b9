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
 *       degree-6 polynomial for e^r in Estrin's form, and 2^n applied in two halves so that
 *       results in the subnormal range round once. Clamped to [-104, 89] (0 and +inf beyond),
 *       NaN kept. Within 1.03 ulp (tested: 1.5).</li>
 *   <li>exact GELU x Phi(x) and its derivative Phi(x) + x phi(x): with a = min(|x|, 14.5),
 *       Phi(-a) = e^(-a^2/2) N(a) / D(a) / 2, N/D of degrees 4 and 5 (our own relative-error fit
 *       of erfcx(a / sqrt 2) on [0, 14.5], 2e-8 in exact arithmetic with float coefficients), so
 *       the left tail keeps its relative accuracy; one exp serves Phi and phi.</li>
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

    static final FloatVector ONE = bc(1f), HALF = bc(0.5f), NEG_TWO = bc(-2f);
    private static final FloatVector EXP_LO = bc(-104f), EXP_HI = bc(89f), V_LOG2E = bc(LOG2E), V_MAGIC = bc(MAGIC),
            V_NEG_LN2_HI = bc(-LN2_HI), V_NEG_LN2_LO = bc(-LN2_LO),
            V_P0 = bc(P0), V_P1 = bc(P1), V_P2 = bc(P2), V_P3 = bc(P3), V_P4 = bc(P4), V_P5 = bc(P5);
    private static final IntVector I_MAGIC = ibc(MAGIC_BITS), I_127 = ibc(127), I_SIGN = ibc(0x80000000);
    private static final FloatVector T0 = bc(-5.70498872745E-3f), T1 = bc(2.06390887954E-2f), T2 = bc(-5.37397155531E-2f),
            T3 = bc(1.33314422036E-1f), T4 = bc(-3.33332819422E-1f), TANH_SMALL = bc(0.625f);
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
        if (VECTOR_LIBRARY_EXP) return "exp: JDK vector math library";
        // Measured (README, TESSERA_CPU_EXP): JDK 17's C2 compiled the softmax and cross-entropy
        // loops with the polynomial 2-2.5x slower in some processes (their vector
        // accumulators kept on the heap); JDK 25 never did in the same test.
        return Runtime.version().feature() == 17
                ? "exp: polynomial (on JDK 17 its softmax and cross-entropy loops compile 2-2.5x slower in some processes; not seen on JDK 25)"
                : "exp: polynomial";
    }

    static FloatVector exp(FloatVector x) {
        return VECTOR_LIBRARY_EXP ? x.lanewise(VectorOperators.EXP) : expPoly(x);
    }

    static FloatVector expPoly(FloatVector x) {
        // compare and blend: NaN fails both compares and passes through; Java-semantics max and min
        // compile to six instructions each on JDK 17 (NaN and -0 checks), these to two
        x = x.blend(EXP_LO, x.compare(VectorOperators.LT, EXP_LO)).blend(EXP_HI, x.compare(VectorOperators.GT, EXP_HI));
        FloatVector fx = x.fma(V_LOG2E, V_MAGIC);
        FloatVector n = fx.sub(V_MAGIC);
        FloatVector r = n.fma(V_NEG_LN2_HI, x); // n * LN2_HI is exact (LN2_HI has 9 bits): one rounding
        r = n.fma(V_NEG_LN2_LO, r);
        // Estrin's form: a shorter dependency chain than Horner's, which is what bounds these loops
        FloatVector r2 = r.mul(r);
        FloatVector p = r.fma(V_P0, V_P1).fma(r2, r.fma(V_P2, V_P3)).fma(r2, r.fma(V_P4, V_P5));
        p = p.fma(r2, r).add(ONE);
        // 2^n as 2^n1 * 2^n2 with n1 = floor(n/2), so that subnormal results round once; shifts,
        // not an integer multiply by 2^23 (10 cycles of latency on the chain)
        IntVector ni = fx.reinterpretAsInts().sub(I_MAGIC);
        IntVector n1 = ni.lanewise(VectorOperators.ASHR, 1);
        IntVector n2 = ni.sub(n1);
        FloatVector s1 = n1.add(I_127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector s2 = n2.add(I_127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
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

    // ---- exact GELU ---------------------------------------------------------------------------
    // Phi(x) for x < 0 is erfc(a / sqrt 2) / 2 with a = |x|, written as e^(-a^2/2) N(a) / D(a) / 2
    // with N/D a rational fit of erfcx(a / sqrt 2) (degrees 4 and 5, all coefficients positive;
    // docs/derivations/gelu_erfcx_rational_fit.py): erfcx is smooth and slowly varying, so the
    // quotient keeps relative accuracy deep in the left tail, and e^(-a^2/2) is also the normal
    // density, so the derivative needs no second exp. a is capped at 14.5: beyond it Phi(-a) rounds
    // to 0 and Phi(a) to 1 in float, and the cap keeps the exp argument in [-105.2, 0], so its 2^n
    // scale needs no clamps (see gaussTimes2p64). Each helper stays under HotSpot's hot-inlining
    // size (325 bytecodes): a bigger kernel is called rather than inlined, and its vectors are
    // boxed (3x slower, measured).
    // The loops run at the speed of their longest dependency chain rather than of their operation
    // count (the scheduler fills up with operations waiting on it; removing three operations off the
    // chain measured no faster), so both halves are written for short chains: N and D evaluate side
    // by side and the one division comes last (before: a division first, then a degree-8 Horner
    // polynomial in 1/(1 + a/(2 sqrt 2)) after it), and exp's polynomial is in Estrin's form with the
    // rounding error of -a^2/2 folded into its reduced argument rather than applied as a factor at
    // the end. Measured against that previous form in one process: each loop 12-23% faster, worst
    // relative error 3.7e-7 instead of 4.2e-7.
    private static final float GELU_SCALE = 0x1p-65f; // 1/2 for erfc -> Phi, 2^-64 against gaussTimes2p64
    // The exact GELU's float constants are scalars, broadcast where used (see f), not static final
    // vectors as elsewhere in this class: C2 reads a constant vector's lanes from its payload array
    // inside the loop, and that payload (a float[]) may alias the loop's float[] stores, so the
    // lanes are reloaded after every store (six reloads per vector in the exp loop); a broadcast
    // of a constant is a pure value that C2 keeps in a register. Measured: the exp loop 15-25%
    // faster, exact GELU forward and backward 20-30% (same-process ratio to the tanh GELU).
    // Unrolling the loops 2x gains another 10% in isolation but puts them past C2's node budget.
    private static final float N0 = 1f * GELU_SCALE, N1 = 0.8765094876289368f * GELU_SCALE,
            N2 = 0.3664073944091797f * GELU_SCALE, N3 = 0.0812443271279335f * GELU_SCALE,
            N4 = 0.008229086175560951f * GELU_SCALE,
            D1 = 1.6743944883346558f, D2 = 1.202376127243042f, D3 = 0.4693872630596161f,
            D4 = 0.1018311157822609f, D5 = 0.010313509963452816f,
            PDF_SCALE = (float) (0.39894228040143267794 * 0x1p-64);
    private static final IntVector ABS_BITS = ibc(0x7FFFFFFF), I_NEG_ONE = ibc(Float.floatToIntBits(-1f)), GELU_CAP_BITS = ibc(Float.floatToIntBits(14.5f)), I_BIAS_64 = ibc(127 + 64);

    /** The constant v in every lane (see above). */
    private static FloatVector f(float v) {
        return FloatVector.broadcast(F, v);
    }

    /**
     * min(|x|, 14.5) as an integer min on the bit patterns (non-negative floats order like their
     * bits): two instructions where a float compare and blend takes five on JDK 17. NaN becomes
     * 14.5; callers multiply the result by x, which brings the NaN back.
     */
    private static FloatVector cappedAbs(FloatVector x) {
        return x.reinterpretAsInts().and(ABS_BITS).min(GELU_CAP_BITS).reinterpretAsFloats();
    }

    /**
     * Phi(-a) given gauss = e^(-a^2/2) 2^64: gauss N(a) 2^-65 / D(a), N and D by Horner's rule side
     * by side, the division last.
     */
    private static FloatVector lowerTail(FloatVector a, FloatVector gauss) {
        FloatVector num = a.fma(f(N4), f(N3)).fma(a, f(N2)).fma(a, f(N1)).fma(a, f(N0));
        FloatVector den = a.fma(f(D5), f(D4)).fma(a, f(D3)).fma(a, f(D2)).fma(a, f(D1)).fma(a, f(1f));
        return gauss.mul(num).div(den);
    }

    /**
     * e^(-x^2/2) 2^64 for |x| capped at 14.5 (a = cappedAbs(x)): the first half of exact GELU and
     * its derivative, which callers store and finish with {@link #geluFromGauss} /
     * {@link #geluGradFromGauss} in a second loop over the same L1-resident chunk. As one loop the
     * kernel is so large that C2 sometimes stops inlining (NodeCountInliningCutoff, depending on
     * what else the JVM has compiled) and boxes every vector: 5-12x slower, seen in benchmark runs
     * (see UnaryKernels.gelu).
     *
     * <p>Cephes' reduction and polynomial as {@link #expPoly}: n = round(y log2 e) from the rounded
     * y = -a^2/2, then r = -a^2/2 - n ln2 with the exact a^2/2 (a times -a/2 inside one FMA whose
     * addend n LN2_HI is exact, LN2_HI having 9 bits), so y's rounding error never enters. The
     * polynomial is in Estrin's form. 2^(n+64) is built from the rounding sum's low bits, so it stays
     * normal down to n = -152; the caller's other factor carries the 2^-64, and a subnormal result
     * is rounded once, in the final product.
     */
    static FloatVector gaussTimes2p64(FloatVector x) {
        FloatVector a = cappedAbs(x);
        FloatVector negHalfA = a.mul(f(-0.5f));
        FloatVector fx = a.mul(negHalfA).fma(f(LOG2E), f(MAGIC));
        FloatVector n = fx.sub(f(MAGIC));
        FloatVector r = a.fma(negHalfA, n.mul(f(-LN2_HI)));
        r = n.fma(f(-LN2_LO), r);
        FloatVector r2 = r.mul(r);
        FloatVector p = r.fma(f(P0), f(P1)).fma(r2, r.fma(f(P2), f(P3))).fma(r2, r.fma(f(P4), f(P5)));
        p = p.fma(r2, r).add(f(1f));
        // fx's bits are MAGIC_BITS + n and MAGIC_BITS has nine low zero bits: the shift drops them
        return p.mul(fx.reinterpretAsInts().add(I_BIAS_64).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
    }

    /**
     * Phi(x) from Phi(-|x|): {@code lowerTail} where x's sign bit is set (-0 and negative NaN
     * included), 1 - lowerTail elsewhere, as s lowerTail + (1 - s)/2 with s = -+1 taken from x's
     * sign bit (bit operations and two FMAs, no mask).
     */
    private static FloatVector phiFromLowerTail(FloatVector x, FloatVector lowerTail) {
        FloatVector s = x.reinterpretAsInts().and(I_SIGN).lanewise(VectorOperators.XOR, I_NEG_ONE).reinterpretAsFloats();
        return s.fma(lowerTail, s.fma(f(-0.5f), f(0.5f)));
    }

    /** x Phi(x) given gauss = {@link #gaussTimes2p64}(x). gelu(+inf) = +inf, gelu(-inf) = NaN (-inf * 0, as libtorch and the reference). */
    static FloatVector geluFromGauss(FloatVector x, FloatVector gauss) {
        return x.mul(phiFromLowerTail(x, lowerTail(cappedAbs(x), gauss)));
    }

    /** Phi(x) + x phi(x) given gauss = {@link #gaussTimes2p64}(x); NaN at +-inf (inf * 0, as the reference). */
    static FloatVector geluGradFromGauss(FloatVector x, FloatVector gauss) {
        return x.fma(gauss.mul(f(PDF_SCALE)), phiFromLowerTail(x, lowerTail(cappedAbs(x), gauss)));
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
