package dev.tessera.tensor;

/**
 * Elementwise functions of one input. {@link #POW} takes the exponent as the op's scalar
 * parameter; the others ignore it. Formulas are the reference definitions every backend follows.
 */
public enum UnaryOp {
    /** -x */
    NEG,
    /** |x| */
    ABS,
    /** e^x */
    EXP,
    /** natural log */
    LOG,
    SQRT,
    /** 1 / sqrt(x) */
    RSQRT,
    TANH,
    /** 1 / (1 + e^-x) */
    SIGMOID,
    /** max(x, 0) */
    RELU,
    /** x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)), the exact GELU */
    GELU,
    /** 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), GPT-2's GELU */
    GELU_TANH,
    /** x * sigmoid(x) */
    SILU,
    SIN,
    COS,
    /** x^p with p the scalar parameter */
    POW;

    /** Whether the op is only defined for floating dtypes (all but NEG, ABS, RELU). */
    public boolean needsFloat() {
        return this != NEG && this != ABS && this != RELU;
    }
}
