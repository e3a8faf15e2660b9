package dev.tessera.autograd;

import dev.tessera.autograd.functions.Cat;
import dev.tessera.autograd.functions.Copy;
import dev.tessera.autograd.functions.CrossEntropy;
import dev.tessera.autograd.functions.Div;
import dev.tessera.autograd.functions.Embedding;
import dev.tessera.autograd.functions.Expand;
import dev.tessera.autograd.functions.Gather;
import dev.tessera.autograd.functions.Gelu;
import dev.tessera.autograd.functions.IndexAdd;
import dev.tessera.autograd.functions.IndexSelect;
import dev.tessera.autograd.functions.LayerNorm;
import dev.tessera.autograd.functions.MaskedFill;
import dev.tessera.autograd.functions.MatMul;
import dev.tessera.autograd.functions.Maximum;
import dev.tessera.autograd.functions.Mul;
import dev.tessera.autograd.functions.Narrow;
import dev.tessera.autograd.functions.Permute;
import dev.tessera.autograd.functions.Pow;
import dev.tessera.autograd.functions.Reduce;
import dev.tessera.autograd.functions.Reshape;
import dev.tessera.autograd.functions.RmsNorm;
import dev.tessera.autograd.functions.ScalarOp;
import dev.tessera.autograd.functions.ScatterAdd;
import dev.tessera.autograd.functions.Select;
import dev.tessera.autograd.functions.Slice;
import dev.tessera.autograd.functions.Softmax;
import dev.tessera.autograd.functions.Squeeze;
import dev.tessera.autograd.functions.Stack;
import dev.tessera.autograd.functions.Sub;
import dev.tessera.autograd.functions.ToDevice;
import dev.tessera.autograd.functions.Add;
import dev.tessera.autograd.functions.Triangle;
import dev.tessera.autograd.functions.Unary;
import dev.tessera.autograd.functions.Unsqueeze;
import dev.tessera.autograd.functions.Where;
import dev.tessera.tensor.BinaryOp;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Device;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.ReduceOp;
import dev.tessera.tensor.Shapes;
import dev.tessera.tensor.UnaryOp;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A differentiable n-d array: an {@link NDArray} plus {@code requiresGrad}, the accumulated
 * {@code grad} and the {@link Function} that made it. Fluent methods record the graph
 * ({@code x.matmul(w).add(b).relu()}); {@link #backward()} runs reverse mode and adds gradients
 * into the leaves.
 *
 * <p>Semantics follow PyTorch: tensors made by the user are leaves; results of ops on tensors
 * that require grad (outside {@link NoGrad}) are non-leaves with a grad function. Only leaves
 * keep {@link #grad()} after backward, unless {@link #retainGrad()} was called on a non-leaf.
 * Gradients accumulate across backward calls until {@link #zeroGrad()}. After backward the graph
 * is freed; running backward through it again is an error unless the first call retained it.
 * Only floating tensors can require gradients.
 *
 * <p>Gradients are NDArrays on the tensor's device, in its dtype.
 */
public final class Tensor {
    private final NDArray data;
    private Function gradFn;
    private boolean requiresGrad;
    private boolean retainGrad;
    private NDArray grad;

    Tensor(NDArray data, Function gradFn) {
        if (data == null) throw new IllegalArgumentException("Tensor: data is null");
        this.data = data;
        this.gradFn = gradFn;
        this.requiresGrad = gradFn != null;
    }

    // ---- creation -------------------------------------------------------------------------

    /** A leaf wrapping data (shared, not copied) that does not require grad. */
    public static Tensor of(NDArray data) { return new Tensor(data, null); }

    /** A leaf wrapping data (shared, not copied). */
    public static Tensor of(NDArray data, boolean requiresGrad) { return new Tensor(data, null).requiresGrad(requiresGrad); }

    /** A leaf that requires grad: what a trainable parameter is. */
    public static Tensor parameter(NDArray data) { return of(data, true); }

    public static Tensor zeros(DType dtype, int... shape) { return of(NDArray.zeros(dtype, shape)); }

    public static Tensor ones(DType dtype, int... shape) { return of(NDArray.ones(dtype, shape)); }

    public static Tensor full(DType dtype, double value, int... shape) { return of(NDArray.full(dtype, value, shape)); }

    public static Tensor scalar(DType dtype, double value) { return of(NDArray.scalar(dtype, value)); }

    public static Tensor fromArray(double[] values, int... shape) { return of(NDArray.fromArray(values, shape)); }

    public static Tensor fromArray(float[] values, int... shape) { return of(NDArray.fromArray(values, shape)); }

    public static Tensor fromArray(long[] values, int... shape) { return of(NDArray.fromArray(values, shape)); }

    public static Tensor fromArray(int[] values, int... shape) { return of(NDArray.fromArray(values, shape)); }

    public static Tensor fromArray(boolean[] values, int... shape) { return of(NDArray.fromArray(values, shape)); }

    /** Normal N(mean, std^2) values from the generator. */
    public static Tensor normal(Generator gen, DType dtype, double mean, double std, int... shape) {
        return of(NDArray.normal(gen, dtype, mean, std, shape));
    }

    /** Uniform values in [low, high) from the generator. */
    public static Tensor uniform(Generator gen, DType dtype, double low, double high, int... shape) {
        return of(NDArray.uniform(gen, dtype, low, high, shape));
    }

    // ---- state ----------------------------------------------------------------------------

    /** The values (shared; modifying them in place is not tracked by autograd). */
    public NDArray data() { return data; }

    public int[] shape() { return data.shape(); }

    public int size(int dim) { return data.size(dim); }

    public int rank() { return data.rank(); }

    public int numel() { return data.numel(); }

    public DType dtype() { return data.dtype(); }

    public Device device() { return data.device(); }

    public boolean requiresGrad() { return requiresGrad; }

    /**
     * Sets whether this leaf requires grad; returns this. Only floating tensors can; a non-leaf's
     * flag follows its inputs and cannot be changed.
     */
    public Tensor requiresGrad(boolean requires) {
        if (gradFn != null) {
            if (requires) return this;
            throw new IllegalStateException("requiresGrad: only leaf tensors can change requiresGrad; this tensor of shape " + Shapes.str(shape())
                    + " was made by " + gradFn.name() + " (use detach() to get a leaf that does not require grad)");
        }
        if (requires && !dtype().isFloating()) {
            throw new IllegalArgumentException("requiresGrad: only floating tensors can require gradients, got a " + dtype() + " tensor of shape "
                    + Shapes.str(shape()) + " (integer and bool values are not differentiable)");
        }
        this.requiresGrad = requires;
        return this;
    }

    /** Whether this tensor was made by the user (no grad function) rather than recorded by an op. */
    public boolean isLeaf() { return gradFn == null; }

    /** The Function that made this tensor, or null for a leaf. */
    public Function gradFn() { return gradFn; }

    /**
     * The gradient accumulated by backward: for leaves that require grad, and for non-leaves on
     * which {@link #retainGrad()} was called; null before any backward or after zeroGrad.
     */
    public NDArray grad() { return grad; }

    /** Replaces the gradient (null clears it); it must have this tensor's shape. */
    public void setGrad(NDArray g) {
        if (g != null && !Arrays.equals(g.shape(), shape())) {
            throw new IllegalArgumentException("setGrad: gradient shape " + Shapes.str(g.shape()) + " must equal the tensor shape " + Shapes.str(shape()));
        }
        this.grad = g;
    }

    /** Clears the accumulated gradient (sets it to null, as PyTorch's set_to_none). */
    public void zeroGrad() { grad = null; }

    /** Asks backward to keep this non-leaf's gradient in {@link #grad()}. Returns this. */
    public Tensor retainGrad() {
        if (!requiresGrad) throw new IllegalStateException("retainGrad: tensor of shape " + Shapes.str(shape()) + " does not require grad");
        retainGrad = true;
        return this;
    }

    boolean retainsGrad() { return retainGrad && gradFn != null; }

    void accumulateGrad(NDArray g) {
        grad = grad == null ? Engine.ownedGrad(g, dtype()) : grad.add(g.to(dtype()));
    }

    /** A leaf sharing this tensor's data, cut from the graph (never requires grad). */
    public Tensor detach() { return new Tensor(data, null); }

    // ---- backward -------------------------------------------------------------------------

    /** Backward from this one-element tensor (usually a loss), freeing the graph. */
    public void backward() { Engine.backward(this, null, false); }

    /** Backward from this one-element tensor; retainGraph keeps the graph for another backward. */
    public void backward(boolean retainGraph) { Engine.backward(this, null, retainGraph); }

    /** Backward with an explicit gradient of this tensor (same shape), freeing the graph. */
    public void backward(NDArray gradOutput) { Engine.backward(this, gradOutput, false); }

    public void backward(NDArray gradOutput, boolean retainGraph) { Engine.backward(this, gradOutput, retainGraph); }

    // ---- host values ----------------------------------------------------------------------

    public double item() { return data.item(); }

    public double[] toDoubleArray() { return data.toDoubleArray(); }

    public float[] toFloatArray() { return data.toFloatArray(); }

    public long[] toLongArray() { return data.toLongArray(); }

    // ---- elementwise ----------------------------------------------------------------------

    private Tensor unary(UnaryOp op) { return new Unary(op).apply(this); }

    public Tensor neg() { return unary(UnaryOp.NEG); }
    public Tensor abs() { return unary(UnaryOp.ABS); }
    public Tensor exp() { return unary(UnaryOp.EXP); }
    public Tensor log() { return unary(UnaryOp.LOG); }
    public Tensor sqrt() { return unary(UnaryOp.SQRT); }
    public Tensor rsqrt() { return unary(UnaryOp.RSQRT); }
    public Tensor tanh() { return unary(UnaryOp.TANH); }
    public Tensor sigmoid() { return unary(UnaryOp.SIGMOID); }
    public Tensor relu() { return unary(UnaryOp.RELU); }
    public Tensor silu() { return unary(UnaryOp.SILU); }
    public Tensor sin() { return unary(UnaryOp.SIN); }
    public Tensor cos() { return unary(UnaryOp.COS); }
    /** x^p for a constant exponent. */
    public Tensor pow(double exponent) { return new Unary(UnaryOp.POW, exponent).apply(this); }
    public Tensor square() { return pow(2.0); }
    /** Exact GELU x * Phi(x) (fused). */
    public Tensor gelu() { return new Gelu(false).apply(this); }
    /** GPT-2's tanh-approximated GELU (fused). */
    public Tensor geluTanh() { return new Gelu(true).apply(this); }

    public Tensor add(Tensor o) { return new Add().apply(this, o); }
    public Tensor sub(Tensor o) { return new Sub().apply(this, o); }
    public Tensor mul(Tensor o) { return new Mul().apply(this, o); }
    public Tensor div(Tensor o) { return new Div().apply(this, o); }
    public Tensor pow(Tensor exponent) { return new Pow().apply(this, exponent); }
    public Tensor maximum(Tensor o) { return new Maximum(false).apply(this, o); }
    public Tensor minimum(Tensor o) { return new Maximum(true).apply(this, o); }

    public Tensor add(double s) { return new ScalarOp(ScalarOp.Kind.ADD, s).apply(this); }
    public Tensor sub(double s) { return new ScalarOp(ScalarOp.Kind.SUB, s).apply(this); }
    public Tensor mul(double s) { return new ScalarOp(ScalarOp.Kind.MUL, s).apply(this); }
    public Tensor div(double s) { return new ScalarOp(ScalarOp.Kind.DIV, s).apply(this); }
    public Tensor maximum(double s) { return new ScalarOp(ScalarOp.Kind.MAXIMUM, s).apply(this); }
    public Tensor minimum(double s) { return new ScalarOp(ScalarOp.Kind.MINIMUM, s).apply(this); }
    /** s - this. */
    public Tensor rsub(double s) { return new ScalarOp(ScalarOp.Kind.RSUB, s).apply(this); }
    /** s / this. */
    public Tensor rdiv(double s) { return new ScalarOp(ScalarOp.Kind.RDIV, s).apply(this); }

    // ---- comparisons and masks (not differentiable; BOOL results) ----------------------------

    public Tensor eq(Tensor o) { return of(data.eq(o.data)); }
    public Tensor ne(Tensor o) { return of(data.ne(o.data)); }
    public Tensor lt(Tensor o) { return of(data.lt(o.data)); }
    public Tensor le(Tensor o) { return of(data.le(o.data)); }
    public Tensor gt(Tensor o) { return of(data.gt(o.data)); }
    public Tensor ge(Tensor o) { return of(data.ge(o.data)); }
    public Tensor eq(double s) { return of(data.eq(s)); }
    public Tensor ne(double s) { return of(data.ne(s)); }
    public Tensor lt(double s) { return of(data.lt(s)); }
    public Tensor le(double s) { return of(data.le(s)); }
    public Tensor gt(double s) { return of(data.gt(s)); }
    public Tensor ge(double s) { return of(data.ge(s)); }

    /** This tensor with value wherever mask (BOOL, broadcast to this shape) is true. */
    public Tensor maskedFill(Tensor mask, double value) { return new MaskedFill(mask.data, value).apply(this); }

    /** cond ? a : b with broadcasting; cond is BOOL. */
    public static Tensor where(Tensor cond, Tensor a, Tensor b) { return new Where(cond.data).apply(a, b); }

    /** Lower triangle of the last two dims (j - i <= k), zeros above. */
    public Tensor tril(int k) { return new Triangle(k, false).apply(this); }

    /** Upper triangle of the last two dims (j - i >= k), zeros below. */
    public Tensor triu(int k) { return new Triangle(k, true).apply(this); }

    // ---- reductions -----------------------------------------------------------------------

    /** Sum over dims (all dims when none are given). */
    public Tensor sum(int... dims) { return new Reduce(ReduceOp.SUM, false, dims).apply(this); }
    public Tensor sum(boolean keepDim, int... dims) { return new Reduce(ReduceOp.SUM, keepDim, dims).apply(this); }
    public Tensor mean(int... dims) { return new Reduce(ReduceOp.MEAN, false, dims).apply(this); }
    public Tensor mean(boolean keepDim, int... dims) { return new Reduce(ReduceOp.MEAN, keepDim, dims).apply(this); }
    public Tensor max(int... dims) { return new Reduce(ReduceOp.MAX, false, dims).apply(this); }
    public Tensor max(boolean keepDim, int... dims) { return new Reduce(ReduceOp.MAX, keepDim, dims).apply(this); }
    public Tensor min(int... dims) { return new Reduce(ReduceOp.MIN, false, dims).apply(this); }
    public Tensor min(boolean keepDim, int... dims) { return new Reduce(ReduceOp.MIN, keepDim, dims).apply(this); }
    /** Population variance (divides by n). */
    public Tensor var(int... dims) { return new Reduce(ReduceOp.VAR, false, dims).apply(this); }
    public Tensor var(boolean keepDim, int... dims) { return new Reduce(ReduceOp.VAR, keepDim, dims).apply(this); }

    /** Index of the maximum along dim (I64, not differentiable). */
    public Tensor argmax(int dim, boolean keepDim) { return of(data.argmax(dim, keepDim)); }

    public Tensor argmin(int dim, boolean keepDim) { return of(data.argmin(dim, keepDim)); }

    /** log(sum(exp(x))) over dim, computed stably (max subtracted first). */
    public Tensor logSumExp(int dim, boolean keepDim) {
        Tensor m = max(true, dim).detach();
        Tensor r = sub(m).exp().sum(true, dim).log().add(m);
        return keepDim ? r : r.squeeze(dim);
    }

    // ---- views ----------------------------------------------------------------------------

    /** Same elements in a new shape (one dim may be -1); a view when possible, else a copy. */
    public Tensor reshape(int... shape) { return new Reshape(false, shape).apply(this); }

    /** Same elements in a new shape, never copying (throws when the strides do not allow it). */
    public Tensor view(int... shape) { return new Reshape(true, shape).apply(this); }

    public Tensor flatten() { return reshape(-1); }

    public Tensor permute(int... perm) { return new Permute(perm).apply(this); }

    public Tensor transpose(int d0, int d1) { return Permute.transpose(rank(), d0, d1).apply(this); }

    /** Transpose of the last two dims. */
    public Tensor mT() {
        if (rank() < 2) throw new IllegalArgumentException("mT: needs rank >= 2, got shape " + Shapes.str(shape()));
        return transpose(-2, -1);
    }

    public Tensor narrow(int dim, int start, int length) { return new Narrow(dim, start, length).apply(this); }

    /** Python-style slice start:end:step along dim. */
    public Tensor slice(int dim, int start, int end, int step) { return new Slice(dim, start, end, step).apply(this); }

    public Tensor select(int dim, int index) { return new Select(dim, index).apply(this); }

    /** Broadcast view to a larger shape (-1 keeps a size). */
    public Tensor expand(int... shape) { return new Expand(shape).apply(this); }

    public Tensor broadcastTo(int... shape) { return expand(shape); }

    public Tensor squeeze(int dim) { return new Squeeze(dim).apply(this); }

    public Tensor squeeze() { return new Squeeze().apply(this); }

    public Tensor unsqueeze(int dim) { return new Unsqueeze(dim).apply(this); }

    /** This tensor when contiguous, else a contiguous copy (recorded either way). */
    public Tensor contiguous() { return new Copy(Copy.Kind.CONTIGUOUS).apply(this); }

    /** A new contiguous copy, differentiable. */
    public Tensor copy() { return new Copy(Copy.Kind.CLONE).apply(this); }

    /** Converted to dtype; differentiable between float dtypes, a plain (non-grad) tensor for integer/bool targets. */
    public Tensor to(DType target) {
        if (target == dtype()) return this;
        if (!target.isFloating()) return of(data.to(target));
        return new Copy(Copy.Kind.CAST, target).apply(this);
    }

    /** On another device (this tensor when already there); differentiable, the gradient comes back to this device. */
    public Tensor to(Device target) {
        if (target.equals(device())) return this;
        return new ToDevice(target).apply(this);
    }

    /** Views of consecutive pieces along dim with the given sizes. */
    public List<Tensor> split(int dim, int... sizes) {
        int d = Shapes.dim("split", dim, rank());
        long sum = 0;
        for (int s : sizes) {
            if (s < 0) throw new IllegalArgumentException("split: negative size in " + Arrays.toString(sizes));
            sum += s;
        }
        if (sum != size(d)) {
            throw new IllegalArgumentException("split: sizes " + Arrays.toString(sizes) + " add to " + sum + ", dim " + d + " of shape " + Shapes.str(shape()) + " is " + size(d));
        }
        List<Tensor> out = new ArrayList<>();
        int pos = 0;
        for (int s : sizes) {
            out.add(narrow(d, pos, s));
            pos += s;
        }
        return out;
    }

    /** Views of equal pieces of size chunk along dim (the last may be smaller). */
    public List<Tensor> chunks(int dim, int chunk) {
        int d = Shapes.dim("chunks", dim, rank());
        if (chunk <= 0) throw new IllegalArgumentException("chunks: size must be > 0, got " + chunk);
        List<Tensor> out = new ArrayList<>();
        for (int pos = 0; pos < size(d); pos += chunk) out.add(narrow(d, pos, Math.min(chunk, size(d) - pos)));
        return out;
    }

    public static Tensor cat(int dim, List<Tensor> tensors) { return new Cat(dim).apply(tensors.toArray(new Tensor[0])); }

    public static Tensor cat(int dim, Tensor... tensors) { return new Cat(dim).apply(tensors); }

    public static Tensor stack(int dim, List<Tensor> tensors) { return new Stack(dim).apply(tensors.toArray(new Tensor[0])); }

    public static Tensor stack(int dim, Tensor... tensors) { return new Stack(dim).apply(tensors); }

    // ---- linear algebra, softmax, norms ---------------------------------------------------

    /** torch.matmul: [..., M, K] @ [..., K, N] -> [..., M, N] with batch broadcasting. */
    public Tensor matmul(Tensor o) { return new MatMul().apply(this, o); }

    public Tensor softmax(int dim) { return new Softmax(dim, false).apply(this); }

    public Tensor logSoftmax(int dim) { return new Softmax(dim, true).apply(this); }

    /** Layer norm over the last dim C; weight and bias are [C] or null. */
    public Tensor layerNorm(Tensor weight, Tensor bias, double eps) {
        LayerNorm f = new LayerNorm(weight != null, bias != null, eps);
        if (weight != null && bias != null) return f.apply(this, weight, bias);
        if (weight != null) return f.apply(this, weight);
        if (bias != null) return f.apply(this, bias);
        return f.apply(this);
    }

    /** RMS norm over the last dim C; weight is [C] or null. */
    public Tensor rmsNorm(Tensor weight, double eps) {
        return weight == null ? new RmsNorm(false, eps).apply(this) : new RmsNorm(true, eps).apply(this, weight);
    }

    // ---- indexing -------------------------------------------------------------------------

    /** torch.gather along dim; index is an integer tensor of this rank. */
    public Tensor gather(int dim, Tensor index) { return new Gather(dim, index.data).apply(this); }

    /** Slices along dim picked by a 1-D integer index. */
    public Tensor indexSelect(int dim, Tensor index) { return new IndexSelect(dim, index.data).apply(this); }

    /** Embedding lookup with this tensor as the table [V, C]: ids [...] -> [..., C]. */
    public Tensor embedding(Tensor ids) { return new Embedding(ids.data).apply(this); }

    /** A copy of this with src added at index along dim (torch.scatter_add). */
    public Tensor scatterAdd(int dim, Tensor index, Tensor src) { return new ScatterAdd(dim, index.data).apply(this, src); }

    /** A copy of this with src's slices added to the slices picked by a 1-D index (torch.index_add). */
    public Tensor indexAdd(int dim, Tensor index, Tensor src) { return new IndexAdd(dim, index.data).apply(this, src); }

    // ---- losses ---------------------------------------------------------------------------

    /**
     * Mean cross entropy of these logits [..., V] against integer targets [...], skipping rows whose
     * target is ignoreIndex, with label smoothing (0 for none). Fused forward and backward.
     */
    public Tensor crossEntropy(Tensor targets, long ignoreIndex, double labelSmoothing) {
        return crossEntropy(targets, ignoreIndex, labelSmoothing, CrossEntropy.Reduction.MEAN);
    }

    /** Mean cross entropy without ignore index or smoothing. */
    public Tensor crossEntropy(Tensor targets) { return crossEntropy(targets, Long.MIN_VALUE, 0.0); }

    /** Cross entropy with the given reduction; NONE gives per-row losses of the targets' shape. */
    public Tensor crossEntropy(Tensor targets, long ignoreIndex, double labelSmoothing, CrossEntropy.Reduction reduction) {
        if (rank() < 1) throw new IllegalArgumentException("crossEntropy: logits must be [..., V], got a scalar");
        int v = size(-1);
        int[] ts = targets.shape();
        int[] lead = Arrays.copyOf(shape(), rank() - 1);
        if (!Arrays.equals(ts, lead)) {
            throw new IllegalArgumentException("crossEntropy: logits shape " + Shapes.str(shape()) + " needs targets of shape " + Shapes.str(lead) + ", got " + Shapes.str(ts));
        }
        Tensor logits2 = rank() == 2 ? this : reshape(-1, v);
        Tensor out = new CrossEntropy(targets.data.reshape(-1), ignoreIndex, labelSmoothing, reduction).apply(logits2);
        return reduction == CrossEntropy.Reduction.NONE && ts.length != 1 ? out.reshape(ts) : out;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Tensor(").append(dtype()).append(Shapes.str(shape()));
        if (!data.isContiguous()) sb.append(", strides ").append(Shapes.str(data.strides()));
        if (!device().isCpu()) sb.append(", ").append(device());
        if (numel() <= 16 && !data.storage().isClosed()) sb.append(", ").append(Arrays.toString(data.toDoubleArray()));
        if (gradFn != null) sb.append(", gradFn=").append(gradFn.name());
        else if (requiresGrad) sb.append(", requiresGrad");
        return sb.append(')').toString();
    }
}
