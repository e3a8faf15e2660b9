package dev.tessera.tensor;

/**
 * The primitive kernels a device provides. One implementation per device kind; the scalar
 * {@code ReferenceBackend} defines what each primitive means and is the oracle in tests.
 *
 * <p>Conventions every implementation follows:
 * <ul>
 *   <li>Inputs are arbitrary strided views on this backend's device (any strides, offset,
 *       stride-0 broadcast dims). Inputs are never modified unless the method says "in place".</li>
 *   <li>Outputs are new contiguous arrays on this device unless the method says otherwise.</li>
 *   <li>Shape, dtype and device checks are done by {@link NDArray} before calling, so kernels may
 *       assume valid arguments; binary inputs already have one common dtype and broadcast shapes.</li>
 *   <li>Float math is done in the input dtype (F32 or F64); BF16/F16 are converted to F32 by
 *       NDArray before reaching a compute kernel. Accumulations over many elements (sums, dot
 *       products, norms) may use a wider accumulator.</li>
 * </ul>
 * Letters in shapes: N rows, C features (last dim), V classes/vocabulary, M/K/N for matmul.
 */
public interface Backend {

    /** Short name for logs, e.g. "cpu-vector", "cpu-reference", "opencl". */
    String name();

    Device device();

    /** One line describing the backend (vector width, threads, device name). */
    String describe();

    // ---- memory ---------------------------------------------------------------------------

    /** New storage of numel elements, zero-filled. */
    Storage allocate(DType dtype, int numel);

    /** New storage holding a copy of a host array (float[], double[], short[], int[], long[], byte[]). */
    Storage fromHost(DType dtype, Object hostArray);

    /** Copies a contiguous run of storage into a new host array of the dtype's Java type. */
    Object toHost(Storage storage, int offset, int count);

    // ---- copies ---------------------------------------------------------------------------

    /** Contiguous copy of x converted to dtype {@code to} (x may be any view). */
    NDArray copy(NDArray x, DType to);

    /** In place: dst[...] = src broadcast to dst's shape, converting dtype. dst may be a view. */
    void assign(NDArray dst, NDArray src);

    /** In place: every element of the view dst set to value (converted to dst's dtype). */
    void fill(NDArray dst, double value);

    // ---- elementwise ----------------------------------------------------------------------

    /** op(x); {@code scalar} is POW's exponent (rounded to float for F32 x) and ignored otherwise. Output dtype = x's. */
    NDArray unary(UnaryOp op, NDArray x, double scalar);

    /**
     * Gradient of a unary op: dL/dx = gradOut * op'(x). Same shapes, float dtype.
     * Defined for every op; RELU' at 0 is 0, ABS' at 0 is 0.
     */
    NDArray unaryBackward(UnaryOp op, NDArray x, NDArray gradOut, double scalar);

    /**
     * op(a, b) with a and b already broadcast to the output shape (stride-0 dims allowed) and of
     * the same dtype. Output dtype is that dtype, or BOOL for comparisons.
     */
    NDArray binary(BinaryOp op, NDArray a, NDArray b);

    /**
     * op(x, s) elementwise with a scalar right operand; dtype of x (BOOL for comparisons). For F32
     * x the scalar is first rounded to float (math in the input dtype, as torch casts a Python
     * scalar to the tensor's dtype); integer x with an integral s stays exact.
     */
    NDArray binaryScalar(BinaryOp op, NDArray x, double s);

    /** cond ? a : b, all three already broadcast to one shape; cond is BOOL, a and b one dtype. */
    NDArray where(NDArray cond, NDArray a, NDArray b);

    // ---- reductions -----------------------------------------------------------------------

    /**
     * Reduces over the given dims (sorted, distinct, non-empty). Output shape: x's with the dims
     * removed, or kept as size 1 when keepDim. SUM of integers gives I64; MEAN and VAR need floats.
     */
    NDArray reduce(ReduceOp op, NDArray x, int[] dims, boolean keepDim);

    /** Index (I64) of the max (or min) along dim; the first one on ties. */
    NDArray argReduce(boolean max, NDArray x, int dim, boolean keepDim);

    // ---- softmax and normalization (over the last dim) ------------------------------------

    /** softmax (or log-softmax when log) over the last dim. */
    NDArray softmax(NDArray x, boolean log);

    /**
     * Gradient of softmax over the last dim given its output y:
     * softmax: gx = y * (gy - sum(gy * y)); log-softmax: gx = gy - exp(y) * sum(gy).
     */
    NDArray softmaxBackward(NDArray y, NDArray gradOut, boolean log);

    /**
     * Layer norm over the last dim C: (x - mean) * rstd * weight + bias, with rstd =
     * 1/sqrt(var + eps) (population variance). weight and bias are [C] or null.
     */
    NormResult layerNorm(NDArray x, NDArray weight, NDArray bias, double eps);

    NormGrads layerNormBackward(NDArray gradOut, NDArray x, NDArray mean, NDArray rstd, NDArray weight, boolean hasBias);

    /** RMS norm over the last dim: x * rstd * weight with rstd = 1/sqrt(mean(x^2) + eps). */
    NormResult rmsNorm(NDArray x, NDArray weight, double eps);

    NormGrads rmsNormBackward(NDArray gradOut, NDArray x, NDArray rstd, NDArray weight);

    // ---- matmul ---------------------------------------------------------------------------

    /**
     * Batched matrix product: a [..., M, K] @ b [..., K, N] -> [..., M, N]. The batch dims are
     * already broadcast to one shape (stride 0 allowed). Either operand may be a transposed view
     * (last two strides swapped); implementations read it in place rather than copying.
     * Both operands have the same float dtype.
     */
    NDArray matmul(NDArray a, NDArray b);

    // ---- indexing -------------------------------------------------------------------------

    /** out[i][j][k] = x[index[i][j][k]][j][k] for dim 0 (and likewise for other dims); index I32/I64, same rank as x. */
    NDArray gather(NDArray x, int dim, NDArray index);

    /** Selects whole slices: out = x with dim replaced by index.length entries; index 1-D I32/I64. */
    NDArray indexSelect(NDArray x, int dim, NDArray index);

    /** In place: dst[index[i][j]][j] += src[i][j] (for dim 0, likewise others); the inverse of gather. */
    void scatterAddInPlace(NDArray dst, int dim, NDArray index, NDArray src);

    /** In place: dst.select(dim, index[i]) += src.select(dim, i); the inverse of indexSelect. */
    void indexAddInPlace(NDArray dst, int dim, NDArray index, NDArray src);

    /** Lower (upper when upper) triangle of the last two dims: keeps j - i <= k (>= k for upper), zeros the rest. */
    NDArray triangle(NDArray x, int k, boolean upper);

    // ---- fused training kernels -----------------------------------------------------------

    /**
     * Cross entropy of logits [N, V] against class targets [N] (I32/I64). Rows whose target equals
     * ignoreIndex get loss 0 and are not counted. With label smoothing s the target distribution
     * is (1 - s) on the class plus s / V on every class.
     */
    CrossEntropyResult crossEntropy(NDArray logits, NDArray targets, long ignoreIndex, double labelSmoothing);

    /**
     * dL/dlogits [N, V] for loss = scale * sum over rows of the per-row loss (scale is 1/validCount
     * for a mean): scale * (softmax - target distribution), zero for ignored rows.
     */
    NDArray crossEntropyBackward(NDArray logits, NDArray targets, NDArray logSumExp, long ignoreIndex,
                                 double labelSmoothing, double scale);

    /**
     * One AdamW step in place on contiguous param, m, v (same shape and float dtype) given grad:
     * m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr * wd * p (decoupled decay);
     * p -= lr * (m / (1 - b1^step)) / (sqrt(v / (1 - b2^step)) + eps).
     */
    void adamwStep(NDArray param, NDArray grad, NDArray m, NDArray v, double lr, double beta1, double beta2,
                   double eps, double weightDecay, long step);
}
