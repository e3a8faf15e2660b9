package dev.tessera.autograd.check;

import dev.tessera.autograd.Function;
import dev.tessera.autograd.NoGrad;
import dev.tessera.autograd.Tensor;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.Shapes;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * Checks the gradients of any differentiable computation (one Function, yours or ours, or a chain
 * of ops) against central finite differences in float64.
 *
 * <p>The output y = f(inputs) is reduced to the scalar L = sum(y * w) with fixed random weights w,
 * so that one backward checks every output element. For every element j of every input that
 * requires grad, the analytic dL/dx[j] from backward is compared with
 * (L(x[j] + eps) - L(x[j] - eps)) / (2 eps), and must satisfy
 * |analytic - numeric| &lt;= atol + rtol * |numeric|.
 *
 * <pre>{@code
 * Tensor x = Tensor.of(NDArray.fromArray(new double[] {0.5, -1.2, 2.0}, 3), true);
 * GradCheck.ofFunction(Cube::new).verify(x);              // throws GradCheckFailure on a mismatch
 * GradCheck.of(in -> in[0].mul(in[1]).sum(0)).verify(a, b); // any composition of ops
 * }</pre>
 *
 * Inputs must be F64 (the check is about the math, not about float32 rounding); they may be
 * strided or offset views, but not overlapping ones (stride 0 on a dim of size > 1), because a
 * perturbation of one element would then move several. Inputs are perturbed in place and
 * restored; their {@code grad} is restored too.
 */
public final class GradCheck {
    /** A differentiable computation of some input tensors. */
    @FunctionalInterface
    public interface Computation {
        Tensor apply(Tensor[] inputs);
    }

    /** One gradient element that failed the tolerance. */
    public record Mismatch(int input, int[] index, int flatIndex, double analytic, double numeric, double allowed) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "input %d, element %s (flat %d): analytic %.10g, numeric %.10g, |difference| %.3g > allowed %.3g",
                    input, Arrays.toString(index), flatIndex, analytic, numeric, Math.abs(analytic - numeric), allowed);
        }
    }

    /** Outcome of a check. */
    public record Result(String name, List<Mismatch> mismatches, int checkedElements, String message) {
        public boolean passed() { return mismatches.isEmpty(); }
    }

    private final Computation computation;
    private String name = "computation";
    private double eps = 1e-6;
    private double atol = 1e-5;
    private double rtol = 1e-3;
    private long seed = 0x7e55e7aL;
    private int maxReported = 10;

    private GradCheck(Computation computation) { this.computation = computation; }

    /** A check of any computation of the inputs. */
    public static GradCheck of(Computation computation) { return new GradCheck(computation); }

    /** A check of one Function: a new instance from the factory is applied to the inputs on every evaluation. */
    public static GradCheck ofFunction(Supplier<? extends Function> factory) {
        GradCheck c = new GradCheck(in -> factory.get().apply(in));
        Function probe = factory.get();
        c.name = probe.name();
        return c;
    }

    /** Shorthand: verify(of(computation), inputs) with default tolerances. */
    public static void assertGradients(Computation computation, Tensor... inputs) { of(computation).verify(inputs); }

    public GradCheck name(String name) { this.name = name; return this; }

    /** Finite-difference step (default 1e-6). */
    public GradCheck eps(double eps) { this.eps = eps; return this; }

    /** Tolerance |analytic - numeric| <= atol + rtol * |numeric| (defaults 1e-5 and 1e-3). */
    public GradCheck tolerance(double atol, double rtol) { this.atol = atol; this.rtol = rtol; return this; }

    /** Seed of the random output weights w. */
    public GradCheck seed(long seed) { this.seed = seed; return this; }

    /** Throws a {@link GradCheckFailure} describing the mismatches when the check fails. */
    public void verify(Tensor... inputs) {
        Result r = run(inputs);
        if (!r.passed()) throw new GradCheckFailure(r.message(), r);
    }

    /** Runs the check and returns its result. */
    public Result run(Tensor... inputs) {
        validate(inputs);
        NDArray[] savedGrads = new NDArray[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            savedGrads[i] = inputs[i].grad();
            inputs[i].zeroGrad();
        }
        try {
            return check(inputs);
        } finally {
            for (int i = 0; i < inputs.length; i++) inputs[i].setGrad(savedGrads[i]);
        }
    }

    private void validate(Tensor[] inputs) {
        if (inputs.length == 0) throw new IllegalArgumentException("GradCheck(" + name + "): no inputs");
        boolean any = false;
        for (int i = 0; i < inputs.length; i++) {
            Tensor t = inputs[i];
            if (t.dtype() != DType.F64) {
                throw new IllegalArgumentException("GradCheck(" + name + "): input " + i + " is " + t.dtype() + "; gradient checks need F64 inputs (convert with data().to(DType.F64))");
            }
            if (!t.isLeaf()) throw new IllegalArgumentException("GradCheck(" + name + "): input " + i + " must be a leaf tensor (use detach())");
            int[] shape = t.shape(), strides = t.data().strides();
            for (int d = 0; d < shape.length; d++) {
                if (strides[d] == 0 && shape[d] > 1) {
                    throw new IllegalArgumentException("GradCheck(" + name + "): input " + i + " of shape " + Shapes.str(shape) + " has stride 0 in dim " + d
                            + " (overlapping elements cannot be perturbed one at a time); pass a copy");
                }
            }
            any |= t.requiresGrad();
        }
        if (!any) throw new IllegalArgumentException("GradCheck(" + name + "): no input requires grad");
    }

    private Result check(Tensor[] inputs) {
        Tensor y = computation.apply(inputs);
        if (y.dtype() != DType.F64) throw new IllegalArgumentException("GradCheck(" + name + "): output is " + y.dtype() + ", expected F64 for F64 inputs");
        if (!y.requiresGrad()) {
            throw new IllegalArgumentException("GradCheck(" + name + "): the output does not require grad; is recording on (no NoGrad scope) and does it depend on an input that requires grad?");
        }
        NDArray w = NDArray.uniform(new Generator(seed), DType.F64, 0.5, 1.5, y.shape());
        NDArray wSigned = w.mul(NDArray.uniform(new Generator(seed + 1), DType.F64, -1, 1, y.shape()).gt(0.0).to(DType.F64).mul(2.0).sub(1.0));
        NDArray weights = wSigned.to(y.device());
        y.backward(weights);

        List<Mismatch> mismatches = new ArrayList<>();
        int checked = 0;
        for (int i = 0; i < inputs.length; i++) {
            Tensor x = inputs[i];
            if (!x.requiresGrad()) continue;
            NDArray analytic = x.grad();
            if (analytic != null && !Arrays.equals(analytic.shape(), x.shape())) {
                throw new IllegalStateException("GradCheck(" + name + "): gradient of input " + i + " has shape " + Shapes.str(analytic.shape()) + ", input has " + Shapes.str(x.shape()));
            }
            double[] a = analytic == null ? new double[x.numel()] : analytic.toDoubleArray();
            int[] shape = x.shape();
            for (int j = 0; j < x.numel(); j++) {
                int[] idx = unravel(j, shape);
                NDArray element = elementView(x.data(), idx);
                double orig = x.data().getDouble(idx);
                element.fill(orig + eps);
                double plus = weightedSum(inputs, weights);
                element.fill(orig - eps);
                double minus = weightedSum(inputs, weights);
                element.fill(orig);
                double numeric = (plus - minus) / (2 * eps);
                double allowed = atol + rtol * Math.abs(numeric);
                checked++;
                if (!(Math.abs(a[j] - numeric) <= allowed)) mismatches.add(new Mismatch(i, idx, j, a[j], numeric, allowed));
            }
        }
        return new Result(name, List.copyOf(mismatches), checked, message(inputs, mismatches, checked));
    }

    private double weightedSum(Tensor[] inputs, NDArray weights) {
        try (NoGrad g = NoGrad.enter()) {
            Tensor y = computation.apply(inputs);
            return y.data().mul(weights).sum().item();
        }
    }

    private String message(Tensor[] inputs, List<Mismatch> mismatches, int checked) {
        if (mismatches.isEmpty()) return "GradCheck passed for " + name + ": " + checked + " gradient elements";
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                "GradCheck failed for %s: %d of %d gradient elements differ from central differences (eps %.1e, allowed |analytic - numeric| <= %.1e + %.1e * |numeric|)",
                name, mismatches.size(), checked, eps, atol, rtol));
        for (int i = 0; i < inputs.length; i++) {
            Tensor x = inputs[i];
            sb.append("\n  input ").append(i).append(": ").append(x.dtype()).append(Shapes.str(x.shape()))
                    .append(" strides ").append(Shapes.str(x.data().strides())).append(x.requiresGrad() ? "" : " (no grad)");
        }
        for (int k = 0; k < Math.min(maxReported, mismatches.size()); k++) sb.append("\n  ").append(mismatches.get(k));
        if (mismatches.size() > maxReported) sb.append("\n  ... and ").append(mismatches.size() - maxReported).append(" more");
        return sb.toString();
    }

    private static int[] unravel(int flat, int[] shape) {
        int[] idx = new int[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            idx[d] = flat % shape[d];
            flat /= shape[d];
        }
        return idx;
    }

    /** A 0-dim view of one element (so fill() writes it on any device). */
    private static NDArray elementView(NDArray a, int[] idx) {
        NDArray v = a;
        for (int d = 0; d < idx.length; d++) v = v.select(0, idx[d]);
        return v;
    }
}
