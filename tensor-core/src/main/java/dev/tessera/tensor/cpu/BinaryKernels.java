package dev.tessera.tensor.cpu;

import static dev.tessera.tensor.cpu.VecMath.F;
import static dev.tessera.tensor.cpu.VecMath.L;

import dev.tessera.tensor.BinaryOp;
import jdk.incubator.vector.FloatVector;

/** Run kernels for arithmetic binary ops: vector-vector, vector-scalar and scalar-vector F32 variants. */
final class BinaryKernels {
    private BinaryKernels() {}

    /** o = a op b, both contiguous runs (o may alias a or b). */
    static void vv(BinaryOp op, float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
        int i = 0, up = n - n % L;
        switch (op) {
            case ADD -> { for (; i < up; i += L) FloatVector.fromArray(F, a, ao + i).add(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i); }
            case SUB -> { for (; i < up; i += L) FloatVector.fromArray(F, a, ao + i).sub(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i); }
            case MUL -> { for (; i < up; i += L) FloatVector.fromArray(F, a, ao + i).mul(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i); }
            case DIV -> { for (; i < up; i += L) FloatVector.fromArray(F, a, ao + i).div(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i); }
            case MAXIMUM -> { for (; i < up; i += L) FloatVector.fromArray(F, a, ao + i).max(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i); }
            case MINIMUM -> { for (; i < up; i += L) FloatVector.fromArray(F, a, ao + i).min(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i); }
            default -> { }
        }
        for (; i < n; i++) o[oo + i] = scalar(op, a[ao + i], b[bo + i]);
    }

    /** o = a op s, a a contiguous run. */
    static void vs(BinaryOp op, float[] a, int ao, float s, float[] o, int oo, int n) {
        int i = 0, up = n - n % L;
        switch (op) {
            case ADD -> { for (; i < up; i += L) FloatVector.fromArray(F, a, ao + i).add(s).intoArray(o, oo + i); }
            case SUB -> { for (; i < up; i += L) FloatVector.fromArray(F, a, ao + i).sub(s).intoArray(o, oo + i); }
            case MUL -> { for (; i < up; i += L) FloatVector.fromArray(F, a, ao + i).mul(s).intoArray(o, oo + i); }
            case DIV -> { for (; i < up; i += L) FloatVector.fromArray(F, a, ao + i).div(s).intoArray(o, oo + i); }
            case MAXIMUM -> { for (; i < up; i += L) FloatVector.fromArray(F, a, ao + i).max(s).intoArray(o, oo + i); }
            case MINIMUM -> { for (; i < up; i += L) FloatVector.fromArray(F, a, ao + i).min(s).intoArray(o, oo + i); }
            case POW -> {
                if (s == 2f) for (; i < up; i += L) {
                    FloatVector v = FloatVector.fromArray(F, a, ao + i);
                    v.mul(v).intoArray(o, oo + i);
                }
            }
            default -> { }
        }
        for (; i < n; i++) o[oo + i] = scalar(op, a[ao + i], s);
    }

    /** o = s op b, b a contiguous run. */
    static void sv(BinaryOp op, float s, float[] b, int bo, float[] o, int oo, int n) {
        int i = 0, up = n - n % L;
        FloatVector sv = FloatVector.broadcast(F, s);
        switch (op) {
            case ADD -> { for (; i < up; i += L) sv.add(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i); }
            case SUB -> { for (; i < up; i += L) sv.sub(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i); }
            case MUL -> { for (; i < up; i += L) sv.mul(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i); }
            case DIV -> { for (; i < up; i += L) sv.div(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i); }
            case MAXIMUM -> { for (; i < up; i += L) sv.max(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i); }
            case MINIMUM -> { for (; i < up; i += L) sv.min(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i); }
            default -> { }
        }
        for (; i < n; i++) o[oo + i] = scalar(op, s, b[bo + i]);
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
