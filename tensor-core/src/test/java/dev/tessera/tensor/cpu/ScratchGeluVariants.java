package dev.tessera.tensor.cpu;

import static dev.tessera.tensor.cpu.VecMath.F;
import static dev.tessera.tensor.cpu.VecMath.L;

import java.util.Arrays;
import java.util.Random;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/** Scratch: GELU-tanh formulations, speed (thread CPU time) and max relative error vs double. */
public final class ScratchGeluVariants {
    private ScratchGeluVariants() {}

    static final FloatVector HALF = VecMath.bc(0.5f), ONE = VecMath.bc(1f), K0 = VecMath.bc((float) VecMath.GELU_K0),
            K01 = VecMath.bc((float) (VecMath.GELU_K0 * VecMath.GELU_K1));

    static void svmlExpDiv(float[] a, float[] o, int n) {
        for (int i = 0; i + L <= n; i += L) {
            FloatVector x = FloatVector.fromArray(F, a, i);
            FloatVector u2 = x.mul(x).fma(VecMath.GT_A, VecMath.GT_B).mul(x);
            x.div(u2.lanewise(VectorOperators.EXP).add(ONE)).intoArray(o, i);
        }
    }

    static void polyExpDiv(float[] a, float[] o, int n) {
        for (int i = 0; i + L <= n; i += L) {
            FloatVector x = FloatVector.fromArray(F, a, i);
            FloatVector u2 = x.mul(x).fma(VecMath.GT_A, VecMath.GT_B).mul(x);
            x.div(VecMath.expPoly(u2).add(ONE)).intoArray(o, i);
        }
    }

    static void svmlTanh(float[] a, float[] o, int n) {
        for (int i = 0; i + L <= n; i += L) {
            FloatVector x = FloatVector.fromArray(F, a, i);
            FloatVector u = x.mul(x).fma(K01, K0).mul(x);
            FloatVector hx = x.mul(HALF);
            u.lanewise(VectorOperators.TANH).fma(hx, hx).intoArray(o, i);
        }
    }

    static void expOnly(float[] a, float[] o, int n) {
        for (int i = 0; i + L <= n; i += L) FloatVector.fromArray(F, a, i).lanewise(VectorOperators.EXP).intoArray(o, i);
    }

    static void polyOnly(float[] a, float[] o, int n) {
        for (int i = 0; i + L <= n; i += L) VecMath.expPoly(FloatVector.fromArray(F, a, i)).intoArray(o, i);
    }

    static void poly2Only(float[] a, float[] o, int n) {
        for (int i = 0; i + L <= n; i += L) expPoly2(FloatVector.fromArray(F, a, i)).intoArray(o, i);
    }

    static final FloatVector EXP_LO = VecMath.bc(-104f), EXP_HI = VecMath.bc(89f), V_LOG2E = VecMath.bc(1.44269504088896341f), V_MAGIC = VecMath.bc(12582912f),
            V_LN2_HI = VecMath.bc(0.693359375f), V_NEG_LN2_LO = VecMath.bc(2.12194440e-4f), NEG_QUARTER = VecMath.bc(-0.25f),
            V_P0 = VecMath.bc(1.9875691500E-4f), V_P1 = VecMath.bc(1.3981999507E-3f), V_P2 = VecMath.bc(8.3334519073E-3f),
            V_P3 = VecMath.bc(4.1665795894E-2f), V_P4 = VecMath.bc(1.6666665459E-1f), V_P5 = VecMath.bc(5.0000001201E-1f);
    static final jdk.incubator.vector.IntVector I_MAGIC = jdk.incubator.vector.IntVector.broadcast(VecMath.I, 0x4B400000),
            I_127 = jdk.incubator.vector.IntVector.broadcast(VecMath.I, 127), I_23 = jdk.incubator.vector.IntVector.broadcast(VecMath.I, 23);

    static FloatVector expPoly2(FloatVector x) {
        x = x.max(EXP_LO).min(EXP_HI);
        FloatVector fx = x.fma(V_LOG2E, V_MAGIC);
        FloatVector n = fx.sub(V_MAGIC);
        jdk.incubator.vector.IntVector ni = fx.reinterpretAsInts().sub(I_MAGIC);
        FloatVector r = n.fma(V_LN2_HI.neg(), x);
        r = n.fma(V_NEG_LN2_LO, r);
        FloatVector p = r.fma(V_P0, V_P1).fma(r, V_P2).fma(r, V_P3).fma(r, V_P4).fma(r, V_P5);
        p = p.fma(r.mul(r), r).add(ONE);
        jdk.incubator.vector.IntVector n1 = n.fma(HALF, NEG_QUARTER).add(V_MAGIC).reinterpretAsInts().sub(I_MAGIC);
        jdk.incubator.vector.IntVector n2 = ni.sub(n1);
        FloatVector s1 = n1.add(I_127).lanewise(VectorOperators.LSHL, I_23).reinterpretAsFloats();
        FloatVector s2 = n2.add(I_127).lanewise(VectorOperators.LSHL, I_23).reinterpretAsFloats();
        return p.mul(s1).mul(s2);
    }

    static void divOnly(float[] a, float[] o, int n) {
        for (int i = 0; i + L <= n; i += L) {
            FloatVector x = FloatVector.fromArray(F, a, i);
            x.div(x.add(ONE)).intoArray(o, i);
        }
    }

    static final jdk.incubator.vector.IntVector RCP_MAGIC = jdk.incubator.vector.IntVector.broadcast(VecMath.I, 0x7EF311C3);
    static final FloatVector CAP = VecMath.bc(88f);

    static void newtonDiv(float[] a, float[] o, int n) {
        for (int i = 0; i + L <= n; i += L) {
            FloatVector x = FloatVector.fromArray(F, a, i);
            FloatVector u2 = x.mul(x).fma(VecMath.GT_A, VecMath.GT_B).mul(x);
            FloatVector d = u2.min(CAP).lanewise(VectorOperators.EXP).add(ONE);
            FloatVector r = RCP_MAGIC.sub(d.reinterpretAsInts()).reinterpretAsFloats();
            r = r.fma(d.neg().fma(r, ONE), r);
            r = r.fma(d.neg().fma(r, ONE), r);
            r = r.fma(d.neg().fma(r, ONE), r);
            x.mul(r).intoArray(o, i);
        }
    }

    static void svmlTanhOnly(float[] a, float[] o, int n) {
        for (int i = 0; i + L <= n; i += L) FloatVector.fromArray(F, a, i).lanewise(VectorOperators.TANH).intoArray(o, i);
    }

    static final java.lang.management.ThreadMXBean MX = java.lang.management.ManagementFactory.getThreadMXBean();

    interface K { void run(float[] a, float[] o, int n); }

    static double timeSmall(K k, float[] a, float[] o) {
        int m = 8192;
        double[] t = new double[15];
        for (int i = 0; i < t.length; i++) {
            long t0 = MX.getCurrentThreadCpuTime();
            for (int rep = 0; rep < 400; rep++) k.run(a, o, m);
            t[i] = (MX.getCurrentThreadCpuTime() - t0) / (400.0 * m);
        }
        Arrays.sort(t);
        return t[t.length / 2];
    }

    static void copy(float[] a, float[] o, int n) {
        for (int i = 0; i + L <= n; i += L) FloatVector.fromArray(F, a, i).neg().intoArray(o, i);
    }

    static double time(K k, float[] a, float[] o) {
        for (int i = 0; i < 10; i++) k.run(a, o, a.length);
        double[] t = new double[15];
        for (int i = 0; i < t.length; i++) {
            long t0 = MX.getCurrentThreadCpuTime();
            k.run(a, o, a.length);
            t[i] = (MX.getCurrentThreadCpuTime() - t0) / (double) a.length;
        }
        Arrays.sort(t);
        return t[t.length / 2];
    }

    static double geluRef(double x) { return VecMath.geluTanh(x); }

    public static void main(String[] args) {
        int n = 4096 * 768;
        float[] a = new float[n], o = new float[n];
        Random r = new Random(3);
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * 2);
        // accuracy over a wide grid
        float[] grid = new float[1 << 22];
        for (int i = 0; i < grid.length; i++) grid[i] = -20f + 40f * i / grid.length;
        float[] go = new float[grid.length];
        for (int w = 0; w < 30; w++) copy(a, o, n);
        System.out.printf("neg %6.3f ns/el (in L1 %6.3f)%n", time(ScratchGeluVariants::copy, a, o), timeSmall(ScratchGeluVariants::copy, a, o));
        System.out.printf("exp %6.3f ns/el (in L1 %6.3f)%n", time(ScratchGeluVariants::expOnly, a, o), timeSmall(ScratchGeluVariants::expOnly, a, o));
        System.out.printf("poly %6.3f ns/el (in L1 %6.3f)%n", time(ScratchGeluVariants::polyOnly, a, o), timeSmall(ScratchGeluVariants::polyOnly, a, o));
        System.out.printf("poly2 %6.3f ns/el (in L1 %6.3f)%n", time(ScratchGeluVariants::poly2Only, a, o), timeSmall(ScratchGeluVariants::poly2Only, a, o));
        System.out.printf("exp %6.3f ns/el (in L1 %6.3f)%n", time(ScratchGeluVariants::expOnly, a, o), timeSmall(ScratchGeluVariants::expOnly, a, o));
        System.out.printf("div %6.3f ns/el (in L1 %6.3f)%n", time(ScratchGeluVariants::divOnly, a, o), timeSmall(ScratchGeluVariants::divOnly, a, o));
        System.out.printf("neg %6.3f ns/el (in L1 %6.3f)%n", time(ScratchGeluVariants::copy, a, o), timeSmall(ScratchGeluVariants::copy, a, o));
        String[] names = {"newtonDiv", "svmlExpDiv", "polyExpDiv", "svmlTanh(gelu)", "svmlTanh(tanh)"};
        K[] ks = {ScratchGeluVariants::newtonDiv, ScratchGeluVariants::svmlExpDiv, ScratchGeluVariants::polyExpDiv, ScratchGeluVariants::svmlTanh, ScratchGeluVariants::svmlTanhOnly};
        for (int v = 0; v < ks.length; v++) {
            ks[v].run(grid, go, grid.length);
            for (int w = 0; w < 20; w++) ks[v].run(grid, go, grid.length); // compiled
            ks[v].run(grid, go, grid.length);
            double maxRel = 0, maxUlp = 0, worstX = 0;
            for (int i = 0; i < grid.length; i++) {
                double ref = v == 4 ? Math.tanh(grid[i]) : geluRef(grid[i]);
                if (Math.abs(ref) < 1e-30) continue;
                double rel = Math.abs(go[i] - ref) / Math.abs(ref);
                double ulp = Math.abs(go[i] - ref) / Math.ulp((float) ref);
                if (rel > maxRel) { maxRel = rel; worstX = grid[i]; }
                maxUlp = Math.max(maxUlp, ulp);
            }
            System.out.printf("%-16s %6.3f ns/el (in L1 %6.3f) maxRel %.3g (x=%g) maxUlp %.2f%n", names[v], time(ks[v], a, o), timeSmall(ks[v], a, o), maxRel, worstX, maxUlp);
        }
    }
}
