/*
 * elementwise.cl: unary, unary backward, binary (already broadcast), binary with a scalar, where.
 * Compiled per element type T: float or double (IS_FLOAT), int or long (IS_INT), uchar (IS_BOOL: only
 * comparisons and where). SCALAR_T is the type of a scalar operand (T for floats; double, or float
 * without fp64, for integers so that x < 2.5 compares exactly as the reference does).
 * All inputs are views of one shape [...] with n elements (stride 0 on broadcast dims); outputs are
 * new contiguous arrays of that shape. One work-item per element.
 *
 * unary(x, xv, out, op, p, n):            out = op(x); op is UnaryOp's ordinal, p POW's exponent.
 * unary_backward(x, xv, g, gv, out, op, p, n): out = g * op'(x) (floats only).
 * binary(a, av, b, bv, out, op, n):       out = a op b for ADD..POW (BinaryOp ordinals 0..6).
 * compare(a, av, b, bv, out, op, n):      out (uchar 0/1) = a op b for EQ..GE (ordinals 7..12).
 * binary_scalar(a, av, out, op, s, n):    out = a op s; compare_scalar likewise into uchar.
 * where(c, cv, a, av, b, bv, out, n):     out = c ? a : b, c uchar.
 * GELU forward and backward live here: UnaryOp GELU (erf form) and GELU_TANH (GPT-2's tanh form).
 */

#ifdef IS_FLOAT
#define C(x) ((T) (x))

static inline T sigmoid_t(T x) { return C(1.0) / (C(1.0) + exp(-x)); }

static inline T unary_f(int op, T x, T p) {
    switch (op) {
        case 0: return -x;
        case 1: return fabs(x);
        case 2: return exp(x);
        case 3: return log(x);
        case 4: return sqrt(x);
        case 5: return C(1.0) / sqrt(x);
        case 6: return tanh(x);
        case 7: return sigmoid_t(x);
        case 8: return (x > C(0.0) || isnan(x)) ? x : C(0.0);
        /* x Phi(x) with Phi through erfc: no cancellation in the left tail */
        case 9: return x * C(0.5) * erfc(-x * C(0.70710678118654752440));
        /* 0.5 x (1 + tanh u) written as x sigmoid(2u): equal, without cancellation in the left tail */
        case 10: return x * sigmoid_t(C(2.0) * C(0.79788456080286535588) * (x + C(0.044715) * x * x * x));
        case 11: return x * sigmoid_t(x);
        case 12: return sin(x);
        case 13: return cos(x);
        case 14: return pow(x, p);
        default: return NAN;
    }
}

/* d op(x) / dx. */
static inline T unary_d(int op, T x, T p) {
    switch (op) {
        case 0: return C(-1.0);
        case 1: return x > C(0.0) ? C(1.0) : (x < C(0.0) ? C(-1.0) : C(0.0));
        case 2: return exp(x);
        case 3: return C(1.0) / x;
        case 4: return C(0.5) / sqrt(x);
        case 5: return C(-0.5) / (x * sqrt(x));
        case 6: { T c = cosh(x); return C(1.0) / (c * c); }      /* 1 - tanh^2 without cancellation */
        case 7: return sigmoid_t(x) * sigmoid_t(-x);              /* s (1 - s), 1 - s = s(-x) */
        case 8: return isnan(x) ? x : (x > C(0.0) ? C(1.0) : C(0.0));
        case 9: {
            T cdf = C(0.5) * erfc(-x * C(0.70710678118654752440));
            T pdf = exp(C(-0.5) * x * x) * C(0.39894228040143267794);
            return cdf + x * pdf;
        }
        case 10: {
            /* d/dx [x s(2u)] = s(2u) + 2 x s(2u) s(-2u) u' */
            T k = C(0.79788456080286535588);
            T u = k * (x + C(0.044715) * x * x * x);
            T du = k * (C(1.0) + C(3.0) * C(0.044715) * x * x);
            T s = sigmoid_t(C(2.0) * u), sc = sigmoid_t(C(-2.0) * u);
            return s + C(2.0) * x * s * sc * du;
        }
        case 11: { T s = sigmoid_t(x); return s + x * s * sigmoid_t(-x); }
        case 12: return cos(x);
        case 13: return -sin(x);
        case 14: return p == C(0.0) ? C(0.0) : p * pow(x, p - C(1.0));
        default: return NAN;
    }
}

static inline T max_nan(T a, T b) { return isnan(a) ? a : (isnan(b) ? b : (a >= b ? a : b)); }
static inline T min_nan(T a, T b) { return isnan(a) ? a : (isnan(b) ? b : (a <= b ? a : b)); }

static inline T binary_f(int op, T a, T b) {
    switch (op) {
        case 0: return a + b;
        case 1: return a - b;
        case 2: return a * b;
        case 3: return a / b;
        case 4: return max_nan(a, b);
        case 5: return min_nan(a, b);
        case 6: return pow(a, b);
        default: return NAN;
    }
}
#endif

#ifdef IS_INT
static inline T unary_f(int op, T x, T p) {
    switch (op) {
        case 0: return -x;
        case 1: return x < 0 ? -x : x;
        case 8: return x > 0 ? x : 0;
        default: return 0;
    }
}

static inline T binary_f(int op, T a, T b) {
    switch (op) {
        case 0: return a + b;
        case 1: return a - b;
        case 2: return a * b;
        case 4: return a >= b ? a : b;
        case 5: return a <= b ? a : b;
        default: return 0;
    }
}
#endif

#ifndef IS_BOOL
__kernel void unary(__global const T* x, const View xv, __global T* out, const int op, const T p, const int n) {
    int i = get_global_id(0);
    if (i < n) out[i] = unary_f(op, x[view_pos(&xv, i)], p);
}

__kernel void binary(__global const T* a, const View av, __global const T* b, const View bv, __global T* out,
                     const int op, const int n) {
    int i = get_global_id(0);
    if (i < n) out[i] = binary_f(op, a[view_pos(&av, i)], b[view_pos(&bv, i)]);
}

__kernel void binary_scalar(__global const T* a, const View av, __global T* out, const int op, const SCALAR_T s, const int n) {
    int i = get_global_id(0);
    if (i < n) out[i] = binary_f(op, a[view_pos(&av, i)], (T) s);
}
#endif

#ifdef IS_FLOAT
__kernel void unary_backward(__global const T* x, const View xv, __global const T* g, const View gv, __global T* out,
                             const int op, const T p, const int n) {
    int i = get_global_id(0);
    if (i < n) out[i] = g[view_pos(&gv, i)] * unary_d(op, x[view_pos(&xv, i)], p);
}
#endif

/* EQ NE LT LE GT GE; with NaN every comparison but NE is false, as in Java. */
#define COMPARE(op, a, b) ((op) == 7 ? (a) == (b) : (op) == 8 ? (a) != (b) : (op) == 9 ? (a) < (b) \
                          : (op) == 10 ? (a) <= (b) : (op) == 11 ? (a) > (b) : (a) >= (b))

__kernel void compare(__global const T* a, const View av, __global const T* b, const View bv, __global uchar* out,
                      const int op, const int n) {
    int i = get_global_id(0);
    if (i < n) {
        T x = a[view_pos(&av, i)], y = b[view_pos(&bv, i)];
        out[i] = COMPARE(op, x, y) ? (uchar) 1 : (uchar) 0;
    }
}

__kernel void compare_scalar(__global const T* a, const View av, __global uchar* out, const int op, const SCALAR_T s, const int n) {
    int i = get_global_id(0);
    if (i < n) {
        SCALAR_T x = (SCALAR_T) a[view_pos(&av, i)];
        out[i] = COMPARE(op, x, s) ? (uchar) 1 : (uchar) 0;
    }
}

__kernel void where(__global const uchar* c, const View cv, __global const T* a, const View av, __global const T* b,
                    const View bv, __global T* out, const int n) {
    int i = get_global_id(0);
    if (i < n) out[i] = c[view_pos(&cv, i)] ? a[view_pos(&av, i)] : b[view_pos(&bv, i)];
}
