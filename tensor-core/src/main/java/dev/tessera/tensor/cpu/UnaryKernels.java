package dev.tessera.tensor.cpu;

import static dev.tessera.tensor.cpu.VecMath.F;
import static dev.tessera.tensor.cpu.VecMath.L;

import dev.tessera.tensor.UnaryOp;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Contiguous-run kernels for unary ops and their gradients. F32 runs are vectorized with a scalar
 * (double precision) tail; F64 runs are plain loops. The op switch is outside every loop.
 */
final class UnaryKernels {
    private UnaryKernels() {}

    /** o[oo + i] = op(a[ao + i]) for i < n; a and o may be the same run. */
    // Entry points that run vector loops are kept above C2's FreqInlineSize (325 bytecodes) on
    // purpose, so that they are compiled as roots: inlined into the generic callers (Parallel,
    // Strided, lambdas) the Vector API call chains end up past MaxInlineLevel and get boxed,
    // several times slower. Hence the op switch is written out here rather than only in f32Body.

    static void f32(UnaryOp op, float[] a, int ao, float[] o, int oo, int n, float p) {
        int up = n - n % L;
        if (up > 0) {
            switch (op) {
                case NEG -> neg(a, ao, o, oo, up);
                case ABS -> abs(a, ao, o, oo, up);
                case EXP -> exp(a, ao, o, oo, up);
                case SQRT -> sqrt(a, ao, o, oo, up);
                case TANH -> tanh(a, ao, o, oo, up);
                case SIGMOID -> sigmoid(a, ao, o, oo, up);
                case RELU -> relu(a, ao, o, oo, up);
                case GELU -> gelu(a, ao, o, oo, up);
                case GELU_TANH -> geluTanh(a, ao, o, oo, up);
                case SILU -> silu(a, ao, o, oo, up);
                case POW -> {
                    if (p == 2f) square(a, ao, o, oo, up);
                    else if (p == 1f) System.arraycopy(a, ao, o, oo, up);
                    else f32Body(op, a, ao, o, oo, up, p);
                }
                default -> f32Body(op, a, ao, o, oo, up, p);
            }
        }
        if (up < n) {
            // The tail goes through the same vector code (padded), so every element gets the same
            // result wherever the run boundaries fall: results do not depend on the thread count.
            int rem = n - up;
            float[] buf = Scratch.floats(2 * L, 1);
            System.arraycopy(a, ao + up, buf, 0, rem);
            java.util.Arrays.fill(buf, rem, L, 0f);
            f32Body(op, buf, 0, buf, L, L, p);
            System.arraycopy(buf, L, o, oo + up, rem);
        }
    }

    private static void f32Body(UnaryOp op, float[] a, int ao, float[] o, int oo, int n, float p) {
        // One small method per op: the Vector API only avoids boxing when the whole loop body
        // inlines, which a single large method would defeat.
        switch (op) {
            case NEG -> neg(a, ao, o, oo, n);
            case ABS -> abs(a, ao, o, oo, n);
            case EXP -> exp(a, ao, o, oo, n);
            case SQRT -> sqrt(a, ao, o, oo, n);
            case TANH -> tanh(a, ao, o, oo, n);
            case SIGMOID -> sigmoid(a, ao, o, oo, n);
            case RELU -> relu(a, ao, o, oo, n);
            case GELU -> gelu(a, ao, o, oo, n);
            case GELU_TANH -> geluTanh(a, ao, o, oo, n);
            case SILU -> silu(a, ao, o, oo, n);
            case POW -> {
                if (p == 2f) square(a, ao, o, oo, n);
                else if (p == 1f) System.arraycopy(a, ao, o, oo, n);
                else for (int i = 0; i < n; i++) o[oo + i] = (float) Math.pow(a[ao + i], p);
            }
            default -> {
                for (int i = 0; i < n; i++) o[oo + i] = (float) scalar(op, a[ao + i], p);
            }
        }
    }

    private static void neg(float[] a, int ao, float[] o, int oo, int n) {
        int i = 0, up = n - n % L;
        for (; i < up; i += L) FloatVector.fromArray(F, a, ao + i).neg().intoArray(o, oo + i);
        for (; i < n; i++) o[oo + i] = -a[ao + i];
    }

    private static void abs(float[] a, int ao, float[] o, int oo, int n) {
        int i = 0, up = n - n % L;
        for (; i < up; i += L) FloatVector.fromArray(F, a, ao + i).abs().intoArray(o, oo + i);
        for (; i < n; i++) o[oo + i] = Math.abs(a[ao + i]);
    }

    private static void exp(float[] a, int ao, float[] o, int oo, int n) {
        int i = 0, up = n - n % L;
        for (; i < up; i += L) VecMath.exp(FloatVector.fromArray(F, a, ao + i)).intoArray(o, oo + i);
        for (; i < n; i++) o[oo + i] = (float) Math.exp(a[ao + i]);
    }

    private static void sqrt(float[] a, int ao, float[] o, int oo, int n) {
        int i = 0, up = n - n % L;
        for (; i < up; i += L) FloatVector.fromArray(F, a, ao + i).sqrt().intoArray(o, oo + i);
        for (; i < n; i++) o[oo + i] = (float) Math.sqrt(a[ao + i]);
    }

    private static void tanh(float[] a, int ao, float[] o, int oo, int n) {
        int i = 0, up = n - n % L;
        for (; i < up; i += L) VecMath.tanh(FloatVector.fromArray(F, a, ao + i)).intoArray(o, oo + i);
        for (; i < n; i++) o[oo + i] = (float) Math.tanh(a[ao + i]);
    }

    private static void sigmoid(float[] a, int ao, float[] o, int oo, int n) {
        int i = 0, up = n - n % L;
        for (; i < up; i += L) VecMath.sigmoid(FloatVector.fromArray(F, a, ao + i)).intoArray(o, oo + i);
        for (; i < n; i++) o[oo + i] = (float) VecMath.sigmoid(a[ao + i]);
    }

    private static void relu(float[] a, int ao, float[] o, int oo, int n) {
        int i = 0, up = n - n % L;
        for (; i < up; i += L) FloatVector.fromArray(F, a, ao + i).max(0f).intoArray(o, oo + i);
        for (; i < n; i++) o[oo + i] = Math.max(a[ao + i], 0f);
    }

    // ---- exact GELU: two loops per L1-sized chunk -------------------------------------------
    // As one loop the kernel has so many Vector API calls that C2 sometimes (depending on what
    // else the JVM has compiled) stops inlining them at its node budget (NodeCountInliningCutoff)
    // and leaves the rest as calls on boxed vectors: 5-12x slower, seen in benchmark runs. So the
    // exp (e^(-x^2/2), VecMath.gaussTimes2p64) runs in one loop into a scratch chunk and the rest
    // in a second loop, each called through a method handle held in a non-final field: C2 cannot
    // inline through a handle it does not know at compile time, so each loop is compiled on its
    // own, within budget, whatever calls it.

    /** Elements per chunk: 8 KiB of scratch, in L1 with the chunk's input and output. */
    private static final int GELU_CHUNK = 2048;
    // non-final on purpose (see above)
    private static MethodHandle geluGaussLoop = loop("geluGaussLoop", float[].class, int.class, float[].class, int.class);
    private static MethodHandle geluLoop = loop("geluLoop", float[].class, int.class, float[].class, float[].class, int.class, int.class);
    private static MethodHandle geluGradLoop = loop("geluGradLoop", float[].class, int.class, float[].class, float[].class, int.class,
            float[].class, int.class, int.class);

    private static RuntimeException unchecked(Throwable e) {
        if (e instanceof RuntimeException r) return r;
        if (e instanceof Error error) throw error;
        return new IllegalStateException(e); // the loops throw nothing checked
    }

    private static MethodHandle loop(String name, Class<?>... parameters) {
        try {
            return MethodHandles.lookup().findStatic(UnaryKernels.class, name, MethodType.methodType(void.class, parameters));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static void gelu(float[] a, int ao, float[] o, int oo, int n) {
        int up = n - n % L;
        float[] gauss = Scratch.floats(GELU_CHUNK, 2); // not o: o may be a (in place)
        try {
            for (int chunk = 0; chunk < up; chunk += GELU_CHUNK) {
                int len = Math.min(up - chunk, GELU_CHUNK);
                geluGaussLoop.invokeExact(a, ao + chunk, gauss, len);
                geluLoop.invokeExact(a, ao + chunk, gauss, o, oo + chunk, len);
            }
        } catch (Throwable e) {
            throw unchecked(e);
        }
        for (int i = up; i < n; i++) o[oo + i] = (float) (a[ao + i] * VecMath.phi(a[ao + i]));
    }

    /** gauss[j] = e^(-x^2/2) 2^64 for x = a[ao + j], j < len (a multiple of L). */
    private static void geluGaussLoop(float[] a, int ao, float[] gauss, int len) {
        for (int j = 0; j < len; j += L) VecMath.gaussTimes2p64(FloatVector.fromArray(F, a, ao + j)).intoArray(gauss, j);
    }

    private static void geluLoop(float[] a, int ao, float[] gauss, float[] o, int oo, int len) {
        for (int j = 0; j < len; j += L) {
            VecMath.geluFromGauss(FloatVector.fromArray(F, a, ao + j), FloatVector.fromArray(F, gauss, j)).intoArray(o, oo + j);
        }
    }

    private static void geluGradLoop(float[] x, int xo, float[] gauss, float[] g, int go, float[] o, int oo, int len) {
        for (int j = 0; j < len; j += L) {
            VecMath.geluGradFromGauss(FloatVector.fromArray(F, x, xo + j), FloatVector.fromArray(F, gauss, j))
                    .mul(FloatVector.fromArray(F, g, go + j)).intoArray(o, oo + j);
        }
    }

    private static void geluTanh(float[] a, int ao, float[] o, int oo, int n) {
        int i = 0, up = n - n % L;
        for (; i < up; i += L) VecMath.geluTanh(FloatVector.fromArray(F, a, ao + i)).intoArray(o, oo + i);
        for (; i < n; i++) o[oo + i] = (float) VecMath.geluTanh(a[ao + i]);
    }

    private static void silu(float[] a, int ao, float[] o, int oo, int n) {
        int i = 0, up = n - n % L;
        for (; i < up; i += L) {
            FloatVector x = FloatVector.fromArray(F, a, ao + i);
            x.mul(VecMath.sigmoid(x)).intoArray(o, oo + i);
        }
        for (; i < n; i++) o[oo + i] = (float) (a[ao + i] * VecMath.sigmoid(a[ao + i]));
    }

    private static void square(float[] a, int ao, float[] o, int oo, int n) {
        int i = 0, up = n - n % L;
        for (; i < up; i += L) {
            FloatVector x = FloatVector.fromArray(F, a, ao + i);
            x.mul(x).intoArray(o, oo + i);
        }
        for (; i < n; i++) o[oo + i] = a[ao + i] * a[ao + i];
    }

    /** F64: o = op(a) elementwise, a with stride as (0 allowed), o contiguous. */
    static void f64(UnaryOp op, double[] a, int ao, int as, double[] o, int oo, int n, double p) {
        for (int i = 0; i < n; i++) o[oo + i] = scalar(op, a[ao + i * as], p);
    }

    static double scalar(UnaryOp op, double x, double p) {
        return switch (op) {
            case NEG -> -x;
            case ABS -> Math.abs(x);
            case EXP -> Math.exp(x);
            case LOG -> Math.log(x);
            case SQRT -> Math.sqrt(x);
            case RSQRT -> 1.0 / Math.sqrt(x);
            case TANH -> Math.tanh(x);
            case SIGMOID -> VecMath.sigmoid(x);
            case RELU -> Math.max(x, 0.0);
            case GELU -> x * VecMath.phi(x);
            case GELU_TANH -> VecMath.geluTanh(x);
            case SILU -> x * VecMath.sigmoid(x);
            case SIN -> Math.sin(x);
            case COS -> Math.cos(x);
            case POW -> Math.pow(x, p);
        };
    }

    /** op'(x) in double (RELU' and ABS' are 0 at 0). */
    static double derivative(UnaryOp op, double x, double p) {
        return switch (op) {
            case NEG -> -1.0;
            case ABS -> x > 0 ? 1.0 : x < 0 ? -1.0 : (Double.isNaN(x) ? x : 0.0);
            case EXP -> Math.exp(x);
            case LOG -> 1.0 / x;
            case SQRT -> 0.5 / Math.sqrt(x);
            case RSQRT -> -0.5 / (x * Math.sqrt(x));
            case TANH -> {
                double t = Math.tanh(x);
                yield 1 - t * t;
            }
            case SIGMOID -> {
                double s = VecMath.sigmoid(x);
                yield s * (1 - s);
            }
            case RELU -> x > 0 ? 1.0 : 0.0;
            case GELU -> VecMath.phi(x) + x * VecMath.normalPdf(x);
            case GELU_TANH -> VecMath.geluTanhGrad(x);
            case SILU -> {
                double s = VecMath.sigmoid(x);
                yield s + x * s * (1 - s);
            }
            case SIN -> Math.cos(x);
            case COS -> -Math.sin(x);
            case POW -> p * Math.pow(x, p - 1);
        };
    }

    /** F32 gradient: o = g * op'(x) over contiguous runs (o may alias x or g); tails padded as in f32. */
    static void backwardF32(UnaryOp op, float[] x, int xo, float[] g, int go, float[] o, int oo, int n, float p) {
        int up = n - n % L;
        int done = 0;
        if (up > 0) {
            // written out rather than calling backwardBody: see the note above f32
            done = switch (op) {
                case EXP -> expGrad(x, xo, g, go, o, oo, up);
                case TANH -> tanhGrad(x, xo, g, go, o, oo, up);
                case SIGMOID -> sigmoidGrad(x, xo, g, go, o, oo, up);
                case RELU -> reluGrad(x, xo, g, go, o, oo, up);
                case GELU -> geluGrad(x, xo, g, go, o, oo, up);
                case GELU_TANH -> geluTanhGrad(x, xo, g, go, o, oo, up);
                case SILU -> siluGrad(x, xo, g, go, o, oo, up);
                default -> 0;
            };
        }
        if (done == up && up < n) {
            int rem = n - up;
            float[] buf = Scratch.floats(3 * L, 1);
            System.arraycopy(x, xo + up, buf, 0, rem);
            java.util.Arrays.fill(buf, rem, L, 0f);
            System.arraycopy(g, go + up, buf, L, rem);
            java.util.Arrays.fill(buf, L + rem, 2 * L, 0f);
            if (backwardBody(op, buf, 0, buf, L, buf, 2 * L, L, p) == L) {
                System.arraycopy(buf, 2 * L, o, oo + up, rem);
                done = n;
            }
        }
        for (int i = done; i < n; i++) o[oo + i] = (float) (g[go + i] * derivative(op, x[xo + i], p));
    }

    /** Vector part over n (a multiple of L) elements; returns how many were done (0 for scalar-only ops). */
    private static int backwardBody(UnaryOp op, float[] x, int xo, float[] g, int go, float[] o, int oo, int n, float p) {
        return switch (op) {
            case EXP -> expGrad(x, xo, g, go, o, oo, n);
            case TANH -> tanhGrad(x, xo, g, go, o, oo, n);
            case SIGMOID -> sigmoidGrad(x, xo, g, go, o, oo, n);
            case RELU -> reluGrad(x, xo, g, go, o, oo, n);
            case GELU -> geluGrad(x, xo, g, go, o, oo, n);
            case GELU_TANH -> geluTanhGrad(x, xo, g, go, o, oo, n);
            case SILU -> siluGrad(x, xo, g, go, o, oo, n);
            default -> 0;
        };
    }

    private static int expGrad(float[] x, int xo, float[] g, int go, float[] o, int oo, int n) {
        int i = 0, up = n - n % L;
        for (; i < up; i += L) {
            VecMath.exp(FloatVector.fromArray(F, x, xo + i)).mul(FloatVector.fromArray(F, g, go + i)).intoArray(o, oo + i);
        }
        return up;
    }

    private static int tanhGrad(float[] x, int xo, float[] g, int go, float[] o, int oo, int n) {
        int i = 0, up = n - n % L;
        for (; i < up; i += L) VecMath.tanhGrad(FloatVector.fromArray(F, x, xo + i)).mul(FloatVector.fromArray(F, g, go + i)).intoArray(o, oo + i);
        return up;
    }

    private static int sigmoidGrad(float[] x, int xo, float[] g, int go, float[] o, int oo, int n) {
        int i = 0, up = n - n % L;
        for (; i < up; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i);
            FloatVector e = VecMath.expCapped(v.neg());
            FloatVector s = VecMath.recip(e.add(VecMath.ONE));
            e.mul(s).mul(s).mul(FloatVector.fromArray(F, g, go + i)).intoArray(o, oo + i); // s (1 - s) = e s^2
        }
        return up;
    }

    private static int reluGrad(float[] x, int xo, float[] g, int go, float[] o, int oo, int n) {
        int i = 0, up = n - n % L;
        FloatVector zero = FloatVector.zero(F);
        for (; i < up; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i);
            zero.blend(FloatVector.fromArray(F, g, go + i), v.compare(VectorOperators.GT, 0f)).intoArray(o, oo + i);
        }
        return up;
    }

    private static int geluGrad(float[] x, int xo, float[] g, int go, float[] o, int oo, int n) {
        int up = n - n % L;
        float[] gauss = Scratch.floats(GELU_CHUNK, 2); // as in gelu: o may be x
        try {
            for (int chunk = 0; chunk < up; chunk += GELU_CHUNK) {
                int len = Math.min(up - chunk, GELU_CHUNK);
                geluGaussLoop.invokeExact(x, xo + chunk, gauss, len);
                geluGradLoop.invokeExact(x, xo + chunk, gauss, g, go + chunk, o, oo + chunk, len);
            }
        } catch (Throwable e) {
            throw unchecked(e);
        }
        return up;
    }

    private static int geluTanhGrad(float[] x, int xo, float[] g, int go, float[] o, int oo, int n) {
        int i = 0, up = n - n % L;
        for (; i < up; i += L) {
            VecMath.geluTanhGrad(FloatVector.fromArray(F, x, xo + i)).mul(FloatVector.fromArray(F, g, go + i)).intoArray(o, oo + i);
        }
        return up;
    }

    private static int siluGrad(float[] x, int xo, float[] g, int go, float[] o, int oo, int n) {
        int i = 0, up = n - n % L;
        for (; i < up; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i);
            FloatVector e = VecMath.expCapped(v.neg());
            FloatVector s = VecMath.recip(e.add(VecMath.ONE));
            // s + x s (1 - s) = s (1 + x e s)
            e.mul(s).mul(v).add(VecMath.ONE).mul(s).mul(FloatVector.fromArray(F, g, go + i)).intoArray(o, oo + i);
        }
        return up;
    }
}
