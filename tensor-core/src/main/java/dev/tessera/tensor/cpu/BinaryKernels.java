package dev.tessera.tensor.cpu;

import static dev.tessera.tensor.cpu.VecMath.F;
import static dev.tessera.tensor.cpu.VecMath.L;

import dev.tessera.tensor.BinaryOp;
import jdk.incubator.vector.FloatVector;

/** Run kernels for arithmetic binary ops: vector-vector, vector-scalar and scalar-vector F32 variants. */
final class BinaryKernels {
    private BinaryKernels() {}

    // One small method per op and operand kind: a method holding several vector loops can exceed
    // C2's inlining budget, and a vector op that is not inlined is boxed (an order of magnitude slower).

    /**
     * One run of o = a op b with a and b of stride 0 (scalar), 1 (run) or anything else (packed
     * first: a into the output run, b into scratch). Kept above C2's FreqInlineSize so that it is
     * compiled as a root (see UnaryKernels.f32), hence the dispatch written out here.
     */
    static void run(BinaryOp op, float[] a, int ao, int as, float[] b, int bo, int bs, float[] o, int oo, int n) {
        if (as != 0 && as != 1) {
            for (int i = 0, j = ao; i < n; i++, j += as) o[oo + i] = a[j];
            a = o;
            ao = oo;
            as = 1;
        }
        if (bs != 0 && bs != 1) {
            float[] t = Scratch.floats(n, 0);
            for (int i = 0, j = bo; i < n; i++, j += bs) t[i] = b[j];
            b = t;
            bo = 0;
            bs = 1;
        }
        int done;
        if (as == 1 && bs == 1) {
            done = switch (op) {
                case ADD -> vvAdd(a, ao, b, bo, o, oo, n);
                case SUB -> vvSub(a, ao, b, bo, o, oo, n);
                case MUL -> vvMul(a, ao, b, bo, o, oo, n);
                case DIV -> vvDiv(a, ao, b, bo, o, oo, n);
                case MAXIMUM -> vvMaximum(a, ao, b, bo, o, oo, n);
                case MINIMUM -> vvMinimum(a, ao, b, bo, o, oo, n);
                default -> 0;
            };
            for (int i = done; i < n; i++) o[oo + i] = scalar(op, a[ao + i], b[bo + i]);
        } else if (as == 1) {
            float s = b[bo];
            done = switch (op) {
                case ADD -> vsAdd(a, ao, s, o, oo, n);
                case SUB -> vsSub(a, ao, s, o, oo, n);
                case MUL -> vsMul(a, ao, s, o, oo, n);
                case DIV -> vsDiv(a, ao, s, o, oo, n);
                case MAXIMUM -> vsMaximum(a, ao, s, o, oo, n);
                case MINIMUM -> vsMinimum(a, ao, s, o, oo, n);
                case POW -> s == 2f ? vsSquare(a, ao, o, oo, n) : 0;
                default -> 0;
            };
            for (int i = done; i < n; i++) o[oo + i] = scalar(op, a[ao + i], s);
        } else if (bs == 1) {
            float s = a[ao];
            done = switch (op) {
                case ADD -> svAdd(s, b, bo, o, oo, n);
                case SUB -> svSub(s, b, bo, o, oo, n);
                case MUL -> svMul(s, b, bo, o, oo, n);
                case DIV -> svDiv(s, b, bo, o, oo, n);
                case MAXIMUM -> svMaximum(s, b, bo, o, oo, n);
                case MINIMUM -> svMinimum(s, b, bo, o, oo, n);
                default -> 0;
            };
            for (int i = done; i < n; i++) o[oo + i] = scalar(op, s, b[bo + i]);
        } else {
            java.util.Arrays.fill(o, oo, oo + n, scalar(op, a[ao], b[bo]));
        }
    }

    /** o = a op b, both contiguous runs (o may alias a or b). */
    static void vv(BinaryOp op, float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
        int done = switch (op) {
            case ADD -> vvAdd(a, ao, b, bo, o, oo, n);
            case SUB -> vvSub(a, ao, b, bo, o, oo, n);
            case MUL -> vvMul(a, ao, b, bo, o, oo, n);
            case DIV -> vvDiv(a, ao, b, bo, o, oo, n);
            case MAXIMUM -> vvMaximum(a, ao, b, bo, o, oo, n);
            case MINIMUM -> vvMinimum(a, ao, b, bo, o, oo, n);
            default -> 0;
        };
        for (int i = done; i < n; i++) o[oo + i] = scalar(op, a[ao + i], b[bo + i]);
    }

    /** o = a op s, a a contiguous run. */
    static void vs(BinaryOp op, float[] a, int ao, float s, float[] o, int oo, int n) {
        int done = switch (op) {
            case ADD -> vsAdd(a, ao, s, o, oo, n);
            case SUB -> vsSub(a, ao, s, o, oo, n);
            case MUL -> vsMul(a, ao, s, o, oo, n);
            case DIV -> vsDiv(a, ao, s, o, oo, n);
            case MAXIMUM -> vsMaximum(a, ao, s, o, oo, n);
            case MINIMUM -> vsMinimum(a, ao, s, o, oo, n);
            case POW -> s == 2f ? vsSquare(a, ao, o, oo, n) : 0;
            default -> 0;
        };
        for (int i = done; i < n; i++) o[oo + i] = scalar(op, a[ao + i], s);
    }

    /** o = s op b, b a contiguous run. */
    static void sv(BinaryOp op, float s, float[] b, int bo, float[] o, int oo, int n) {
        int done = switch (op) {
            case ADD -> svAdd(s, b, bo, o, oo, n);
            case SUB -> svSub(s, b, bo, o, oo, n);
            case MUL -> svMul(s, b, bo, o, oo, n);
            case DIV -> svDiv(s, b, bo, o, oo, n);
            case MAXIMUM -> svMaximum(s, b, bo, o, oo, n);
            case MINIMUM -> svMinimum(s, b, bo, o, oo, n);
            default -> 0;
        };
        for (int i = done; i < n; i++) o[oo + i] = scalar(op, s, b[bo + i]);
    }

    private static int vvAdd(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
        int up = n - n % L;
        for (int i = 0; i < up; i += L) FloatVector.fromArray(F, a, ao + i).add(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
        return up;
    }

    private static int vsAdd(float[] a, int ao, float s, float[] o, int oo, int n) {
        int up = n - n % L;
        FloatVector sv = FloatVector.broadcast(F, s);
        for (int i = 0; i < up; i += L) FloatVector.fromArray(F, a, ao + i).add(sv).intoArray(o, oo + i);
        return up;
    }

    private static int svAdd(float s, float[] b, int bo, float[] o, int oo, int n) {
        int up = n - n % L;
        FloatVector sv = FloatVector.broadcast(F, s);
        for (int i = 0; i < up; i += L) sv.add(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
        return up;
    }

    private static int vvSub(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
        int up = n - n % L;
        for (int i = 0; i < up; i += L) FloatVector.fromArray(F, a, ao + i).sub(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
        return up;
    }

    private static int vsSub(float[] a, int ao, float s, float[] o, int oo, int n) {
        int up = n - n % L;
        FloatVector sv = FloatVector.broadcast(F, s);
        for (int i = 0; i < up; i += L) FloatVector.fromArray(F, a, ao + i).sub(sv).intoArray(o, oo + i);
        return up;
    }

    private static int svSub(float s, float[] b, int bo, float[] o, int oo, int n) {
        int up = n - n % L;
        FloatVector sv = FloatVector.broadcast(F, s);
        for (int i = 0; i < up; i += L) sv.sub(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
        return up;
    }

    private static int vvMul(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
        int up = n - n % L;
        for (int i = 0; i < up; i += L) FloatVector.fromArray(F, a, ao + i).mul(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
        return up;
    }

    private static int vsMul(float[] a, int ao, float s, float[] o, int oo, int n) {
        int up = n - n % L;
        FloatVector sv = FloatVector.broadcast(F, s);
        for (int i = 0; i < up; i += L) FloatVector.fromArray(F, a, ao + i).mul(sv).intoArray(o, oo + i);
        return up;
    }

    private static int svMul(float s, float[] b, int bo, float[] o, int oo, int n) {
        int up = n - n % L;
        FloatVector sv = FloatVector.broadcast(F, s);
        for (int i = 0; i < up; i += L) sv.mul(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
        return up;
    }

    private static int vvDiv(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
        int up = n - n % L;
        for (int i = 0; i < up; i += L) FloatVector.fromArray(F, a, ao + i).div(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
        return up;
    }

    private static int vsDiv(float[] a, int ao, float s, float[] o, int oo, int n) {
        int up = n - n % L;
        FloatVector sv = FloatVector.broadcast(F, s);
        for (int i = 0; i < up; i += L) FloatVector.fromArray(F, a, ao + i).div(sv).intoArray(o, oo + i);
        return up;
    }

    private static int svDiv(float s, float[] b, int bo, float[] o, int oo, int n) {
        int up = n - n % L;
        FloatVector sv = FloatVector.broadcast(F, s);
        for (int i = 0; i < up; i += L) sv.div(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
        return up;
    }

    private static int vvMaximum(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
        int up = n - n % L;
        for (int i = 0; i < up; i += L) FloatVector.fromArray(F, a, ao + i).max(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
        return up;
    }

    private static int vsMaximum(float[] a, int ao, float s, float[] o, int oo, int n) {
        int up = n - n % L;
        FloatVector sv = FloatVector.broadcast(F, s);
        for (int i = 0; i < up; i += L) FloatVector.fromArray(F, a, ao + i).max(sv).intoArray(o, oo + i);
        return up;
    }

    private static int svMaximum(float s, float[] b, int bo, float[] o, int oo, int n) {
        int up = n - n % L;
        FloatVector sv = FloatVector.broadcast(F, s);
        for (int i = 0; i < up; i += L) sv.max(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
        return up;
    }

    private static int vvMinimum(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
        int up = n - n % L;
        for (int i = 0; i < up; i += L) FloatVector.fromArray(F, a, ao + i).min(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
        return up;
    }

    private static int vsMinimum(float[] a, int ao, float s, float[] o, int oo, int n) {
        int up = n - n % L;
        FloatVector sv = FloatVector.broadcast(F, s);
        for (int i = 0; i < up; i += L) FloatVector.fromArray(F, a, ao + i).min(sv).intoArray(o, oo + i);
        return up;
    }

    private static int svMinimum(float s, float[] b, int bo, float[] o, int oo, int n) {
        int up = n - n % L;
        FloatVector sv = FloatVector.broadcast(F, s);
        for (int i = 0; i < up; i += L) sv.min(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
        return up;
    }

    private static int vsSquare(float[] a, int ao, float[] o, int oo, int n) {
        int up = n - n % L;
        for (int i = 0; i < up; i += L) {
            FloatVector v = FloatVector.fromArray(F, a, ao + i);
            v.mul(v).intoArray(o, oo + i);
        }
        return up;
    }

    static float scalar(BinaryOp op, float a, float b) {
        return switch (op) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case MAXIMUM -> Math.max(a, b);
            case MINIMUM -> Math.min(a, b);
            case POW -> (float) Math.pow(a, b);
            default -> throw new IllegalArgumentException("not an arithmetic op: " + op);
        };
    }

    static double scalar(BinaryOp op, double a, double b) {
        return switch (op) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case MAXIMUM -> Math.max(a, b);
            case MINIMUM -> Math.min(a, b);
            case POW -> Math.pow(a, b);
            default -> throw new IllegalArgumentException("not an arithmetic op: " + op);
        };
    }

    /** Integer arithmetic (ADD, SUB, MUL, MAXIMUM, MINIMUM) in 64 bits; callers narrow to the dtype. */
    static long scalar(BinaryOp op, long a, long b) {
        return switch (op) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case MAXIMUM -> Math.max(a, b);
            case MINIMUM -> Math.min(a, b);
            default -> throw new IllegalArgumentException(op.name().toLowerCase() + ": not an integer op");
        };
    }

    static boolean compare(BinaryOp op, double a, double b) {
        return switch (op) {
            case EQ -> a == b;
            case NE -> a != b;
            case LT -> a < b;
            case LE -> a <= b;
            case GT -> a > b;
            case GE -> a >= b;
            default -> throw new IllegalArgumentException("not a comparison: " + op);
        };
    }

    static boolean compare(BinaryOp op, long a, long b) {
        return switch (op) {
            case EQ -> a == b;
            case NE -> a != b;
            case LT -> a < b;
            case LE -> a <= b;
            case GT -> a > b;
            case GE -> a >= b;
            default -> throw new IllegalArgumentException("not a comparison: " + op);
        };
    }
}
