package dev.tessera.tensor.cpu;

import dev.tessera.tensor.UnaryOp;

/** Scratch: max error of the F32 GELU-tanh gradient kernel against the double formula over [-20, 20]. */
public final class ScratchGeluGradAccuracy {
    private ScratchGeluGradAccuracy() {}

    public static void main(String[] args) {
        int n = 1 << 22;
        float[] x = new float[n], g = new float[n], o = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = -20f + 40f * i / n;
            g[i] = 1f;
        }
        for (int w = 0; w < 30; w++) UnaryKernels.backwardF32(UnaryOp.GELU_TANH, x, 0, g, 0, o, 0, n, 0);
        double maxRel = 0, maxUlp = 0, worst = 0, maxAbs = 0;
        for (int i = 0; i < n; i++) {
            double ref = VecMath.geluTanhGrad((double) x[i]);
            if (Math.abs(ref) < 1e-30) continue;
            double err = Math.abs(o[i] - ref);
            maxAbs = Math.max(maxAbs, err);
            if (Math.abs(ref) < 1e-2) continue; // near the zero of GELU' (x ~ -0.75) only absolute error means anything
            if (err / Math.abs(ref) > maxRel) {
                maxRel = err / Math.abs(ref);
                worst = x[i];
            }
            maxUlp = Math.max(maxUlp, err / Math.ulp((float) ref));
        }
        System.out.printf("geluTanh grad: max abs %.3g; where |grad| >= 1e-2: max rel %.3g at x = %g, max ulp %.2f%n", maxAbs, maxRel, worst, maxUlp);
    }
}
