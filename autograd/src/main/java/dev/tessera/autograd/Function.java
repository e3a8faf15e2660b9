package dev.tessera.autograd;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.Shapes;

import java.util.Arrays;

/**
 * One differentiable operation: its forward and its backward side by side, both written with
 * {@link NDArray} ops so that they run on any backend. A Function instance is one node of the
 * graph and is applied once: create a new instance per call.
 *
 * <p>Writing a custom op:
 * <pre>{@code
 * final class Cube extends Function {
 *     protected NDArray forward(NDArray... in) {
 *         saveForBackward(in[0]);
 *         return in[0].pow(3);
 *     }
 *     protected NDArray[] backward(NDArray gradOut) {
 *         NDArray x = saved(0);
 *         return new NDArray[] {gradOut.mul(x.mul(x).mul(3))};
 *     }
 * }
 * Tensor y = new Cube().apply(x);
 * }</pre>
 *
 * <p>Non-differentiable arguments (dims, index arrays, flags) are constructor arguments; the
 * Tensors passed to {@link #apply} are the differentiable inputs. {@link #backward} returns one
 * gradient per input, each of that input's shape (null where there is none, e.g. when
 * {@link #needsInputGrad(int)} is false). Arrays stored with {@link #saveForBackward} are dropped
 * when the graph is freed; keep large arrays there rather than in fields. Arrays that
 * {@link #backward} creates on the CPU are closed when the backward pass ends (their memory is
 * reused), except the gradients the engine stores in tensors: a backward must not keep them.
 */
public abstract class Function {
    private Tensor[] inputs;
    private boolean[] needsGrad;
    private NDArray[] saved;
    private int[] outputShape;
    private DType outputDtype;
    private boolean applied;
    private boolean freed;

    /** Computes the output from the inputs' arrays. Must not modify the inputs. */
    protected abstract NDArray forward(NDArray... inputs);

    /**
     * Gradients with respect to each input given the gradient of the output (which has the
     * output's shape, possibly as a strided or broadcast view). Entry i must have input i's shape,
     * or be null.
     */
    protected abstract NDArray[] backward(NDArray gradOutput);

    /** Name used in error messages and the catalog; the class name by default. */
    public String name() { return getClass().getSimpleName(); }

    /**
     * Runs forward on the inputs' data and, when grad mode is on and some input requires a
     * gradient and the output is floating point, records this node in the graph.
     */
    public final Tensor apply(Tensor... inputs) {
        if (applied) {
            throw new IllegalStateException(name() + ": a Function instance is one graph node and can be applied only once; create a new instance");
        }
        applied = true;
        NDArray[] arrays = new NDArray[inputs.length];
        boolean anyNeedsGrad = false;
        boolean[] needs = new boolean[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            if (inputs[i] == null) throw new IllegalArgumentException(name() + ": input " + i + " is null");
            arrays[i] = inputs[i].data();
            needs[i] = inputs[i].requiresGrad();
            anyNeedsGrad |= needs[i];
        }
        boolean record = anyNeedsGrad && GradMode.isEnabled();
        NDArray out;
        try (NoGrad g = NoGrad.enter()) {
            needsGrad = needs;
            out = forward(arrays);
        }
        if (out == null) throw new IllegalStateException(name() + ": forward returned null");
        if (!record || !out.dtype().isFloating()) {
            free();
            return new Tensor(out, null);
        }
        this.inputs = inputs.clone();
        this.outputShape = out.shape();
        this.outputDtype = out.dtype();
        return new Tensor(out, this);
    }

    // ---- for subclasses -------------------------------------------------------------------

    /** Keeps arrays for backward; they are dropped when the graph is freed. */
    protected final void saveForBackward(NDArray... arrays) {
        saved = arrays.clone();
    }

    /** The i-th array given to {@link #saveForBackward}. */
    protected final NDArray saved(int i) {
        if (freed) throw freedError();
        if (saved == null || i < 0 || i >= saved.length) {
            throw new IllegalStateException(name() + ": saved(" + i + ") but " + (saved == null ? 0 : saved.length) + " arrays were saved");
        }
        return saved[i];
    }

    /** Whether input i requires a gradient (backward may return null for it otherwise). */
    protected final boolean needsInputGrad(int i) { return needsGrad != null && i < needsGrad.length && needsGrad[i]; }

    /** Number of differentiable inputs this node was applied to. */
    protected final int inputCount() { return needsGrad == null ? 0 : needsGrad.length; }

    /** Hook for subclasses that keep state outside {@link #saveForBackward}: drop it here. */
    protected void releaseSaved() {}

    /**
     * Sums a gradient over the dims that broadcasting added or stretched, so that it gets the
     * input's shape back (the backward of NumPy broadcasting).
     */
    public static NDArray sumToShape(NDArray grad, int[] shape) {
        int[] gs = grad.shape();
        if (Arrays.equals(gs, shape)) return grad;
        int lead = gs.length - shape.length;
        if (lead < 0) {
            throw new IllegalArgumentException("sumToShape: gradient shape " + Shapes.str(gs) + " has fewer dims than " + Shapes.str(shape));
        }
        int[] dims = new int[gs.length];
        int n = 0;
        for (int i = 0; i < gs.length; i++) {
            if (i < lead) {
                dims[n++] = i;
            } else if (shape[i - lead] == 1 && gs[i] != 1) {
                dims[n++] = i;
            } else if (shape[i - lead] != gs[i]) {
                throw new IllegalArgumentException("sumToShape: gradient shape " + Shapes.str(gs) + " does not broadcast from " + Shapes.str(shape));
            }
        }
        NDArray r = n == 0 ? grad : grad.sum(true, Arrays.copyOf(dims, n));
        return r.reshape(shape);
    }

    // ---- for the engine -------------------------------------------------------------------

    final Tensor[] inputs() {
        if (freed) throw freedError();
        return inputs;
    }

    final Tensor input(int i) { return inputs[i]; }

    final int[] outputShape() { return outputShape; }

    final DType outputDtype() { return outputDtype; }

    final NDArray[] runBackward(NDArray gradOutput) {
        if (freed) throw freedError();
        try (NoGrad g = NoGrad.enter()) {
            return backward(gradOutput);
        }
    }

    /** Drops inputs and saved arrays so that the graph behind this node can be collected. */
    final void free() {
        freed = true;
        inputs = null;
        saved = null;
        releaseSaved();
    }

    /** Whether the graph through this node was freed by a backward pass. */
    public final boolean isFreed() { return freed; }

    private IllegalStateException freedError() {
        return new IllegalStateException("backward: the graph through " + name() + " was already freed by an earlier backward(); "
                + "pass retainGraph=true to the first backward if you need to run backward through it again");
    }

    @Override
    public String toString() { return name() + (outputShape == null ? "" : Shapes.str(outputShape)); }
}
