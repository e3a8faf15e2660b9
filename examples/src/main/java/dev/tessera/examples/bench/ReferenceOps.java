package dev.tessera.examples.bench;

/**
 * The reference side of {@code bench cpu} (libtorch through DJL), behind an interface without DJL
 * types so the benchmark still runs, and says why, when DJL cannot be loaded. Inputs are row-major
 * float data; each method returns a prepared operation (see {@link BenchOp}).
 */
public interface ReferenceOps extends AutoCloseable {
    /** Engine name and version, threads. */
    String describe();

    /**
     * a [M, K] @ b [K, N]; when aTransposed, a holds [K, M] row-major and the product uses its
     * transposed view (likewise b, holding [N, K]).
     */
    BenchOp matmul(float[] a, int m, int k, boolean aTransposed, float[] b, int n, boolean bTransposed);

    BenchOp softmax(float[] x, int rows, int cols);

    /** softmax forward, then backward with output gradient g, through autograd. */
    BenchOp softmaxForwardBackward(float[] x, float[] g, int rows, int cols);

    BenchOp layerNorm(float[] x, int rows, int cols, float[] weight, float[] bias);

    BenchOp layerNormForwardBackward(float[] x, float[] g, int rows, int cols, float[] weight, float[] bias);

    /** -x: an elementwise op with no arithmetic to speak of, the memory-bound floor for the GELU rows. */
    BenchOp neg(float[] x, int rows, int cols);

    BenchOp gelu(float[] x, int rows, int cols);

    BenchOp geluForwardBackward(float[] x, float[] g, int rows, int cols);

    /** GELU's tanh approximation (GPT-2's), 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
    BenchOp geluTanh(float[] x, int rows, int cols);

    /** The tanh approximation forward, then backward with output gradient g, through autograd. */
    BenchOp geluTanhForwardBackward(float[] x, float[] g, int rows, int cols);

    /** Per-row cross entropy (no reduction) of logits [rows, cols] against targets. */
    BenchOp crossEntropy(float[] logits, int rows, int cols, int[] targets);

    /** Mean cross entropy forward and backward to the logits. */
    BenchOp crossEntropyForwardBackward(float[] logits, int rows, int cols, int[] targets);

    /** One AdamW step over each buffer (param, grad; moments start at zero). */
    BenchOp adamw(float[][] params, float[][] grads);

    /**
     * Two-layer MLP forward and backward: y = gelu(x @ w1 + b1) @ w2 + b2, loss = sum(y * g),
     * gradients for x, w1, b1, w2, b2.
     */
    BenchOp mlpForwardBackward(float[] x, int rows, int in, int hidden, float[] w1, float[] b1, float[] w2, float[] b2, float[] g);

    /** Sets the reference's intra-op thread count (for the thread-scaling table). */
    void setThreads(int threads);

    /** What the reference runs for a row kind, where that needs saying (autograd, a composition of ops, ...). */
    default String note(String kind) { return ""; }

    @Override
    void close();
}
