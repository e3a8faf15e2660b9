package dev.tessera.autograd.check;

import dev.tessera.autograd.Tensor;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.Shapes;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

import java.util.Arrays;

/**
 * jqwik arbitraries for property-based gradient checks: shapes, broadcast-compatible shape pairs
 * and F64 leaf tensors (requiring grad) in contiguous and non-contiguous layouts, with values kept
 * away from kinks (0 for relu/abs) or from each other (for max/min). A custom op's check is then
 * a few lines:
 *
 * <pre>{@code
 * @Property(tries = 30)
 * void cubeGradient(@ForAll("inputs") Tensor x) {
 *     GradCheck.ofFunction(Cube::new).verify(x);
 * }
 * @Provide Arbitrary<Tensor> inputs() { return GradArbitraries.tensors(GradArbitraries.shapes()); }
 * }</pre>
 *
 * Needs jqwik on the class path (the autograd module declares it "provided").
 */
public final class GradArbitraries {
    private GradArbitraries() {}

    /** Memory layout of a generated tensor's data. */
    public enum Layout {
        /** Row-major, offset 0. */
        CONTIGUOUS,
        /** A permuted view of a row-major array of the reversed shape (rank >= 2). */
        TRANSPOSED,
        /** Every other element of the last dim of a twice-as-wide array. */
        STRIDED,
        /** A view starting one row into a larger array (nonzero offset). */
        OFFSET
    }

    /** Two shapes that broadcast together, and the shape they broadcast to. */
    public record BroadcastPair(int[] a, int[] b, int[] out) {
        @Override
        public String toString() { return Shapes.str(a) + " with " + Shapes.str(b) + " -> " + Shapes.str(out); }
    }

    /**
     * How values are drawn: uniform in [low, high), optionally at least margin away from given
     * kinks, optionally pairwise distinct by a clear gap (for max/min and sorting-like ops).
     */
    public record Values(double low, double high, double margin, double[] kinks, boolean distinct) {
        public static Values between(double low, double high) {
            if (!(high > low)) throw new IllegalArgumentException("Values: empty range [" + low + ", " + high + ")");
            return new Values(low, high, 0, new double[0], false);
        }

        /** Keeps every value at least margin away from each kink (e.g. 0 for relu and abs). */
        public Values awayFrom(double margin, double... kinks) { return new Values(low, high, margin, kinks.clone(), distinct); }

        /** Makes all values of a tensor differ by at least a fraction of (high - low) / numel. */
        public Values distinctValues() { return new Values(low, high, margin, kinks, true); }

        double[] draw(Generator gen, int n) {
            double[] v = new double[n];
            if (distinct) {
                int[] perm = new int[n];
                for (int i = 0; i < n; i++) perm[i] = i;
                for (int i = n - 1; i > 0; i--) {
                    int j = (int) gen.nextLong(i + 1);
                    int t = perm[i]; perm[i] = perm[j]; perm[j] = t;
                }
                double cell = (high - low) / Math.max(1, n);
                for (int i = 0; i < n; i++) v[i] = low + cell * (perm[i] + 0.25 + 0.5 * gen.nextDouble());
                for (int i = 0; i < n; i++) v[i] = nudge(v[i]);
                return v;
            }
            for (int i = 0; i < n; i++) {
                double x;
                int attempts = 0;
                do {
                    x = low + (high - low) * gen.nextDouble();
                    if (++attempts > 10_000) throw new IllegalStateException("Values: cannot draw from [" + low + ", " + high + ") away from " + Arrays.toString(kinks) + " by " + margin);
                } while (nearKink(x));
                v[i] = x;
            }
            return v;
        }

        private boolean nearKink(double x) {
            for (double k : kinks) if (Math.abs(x - k) < margin) return true;
            return false;
        }

        private double nudge(double x) {
            for (double k : kinks) if (Math.abs(x - k) < margin) return x < k ? k - margin : k + margin;
            return x;
        }
    }

    /** Default values: uniform in [-2, 2). */
    public static Values values() { return Values.between(-2, 2); }

    /** Shapes of rank minRank..maxRank with every dim in 1..maxDim. */
    public static Arbitrary<int[]> shapes(int minRank, int maxRank, int maxDim) {
        return Arbitraries.integers().between(1, maxDim).array(int[].class).ofMinSize(minRank).ofMaxSize(maxRank);
    }

    /** Small shapes: rank 0..3, dims 1..4. */
    public static Arbitrary<int[]> shapes() { return shapes(0, 3, 4); }

    /**
     * Pairs of shapes that broadcast together: the output shape of rank 0..maxRank, each side
     * dropping some leading dims and setting some dims to 1.
     */
    public static Arbitrary<BroadcastPair> broadcastPairs(int maxRank, int maxDim) {
        return Combinators.combine(shapes(0, maxRank, maxDim), Arbitraries.longs())
                .as((out, seed) -> {
                    Generator gen = new Generator(seed);
                    int[] a = squash(out, gen), b = squash(out, gen);
                    return new BroadcastPair(a, b, Shapes.broadcast("broadcastPairs", a, b));
                });
    }

    /** Broadcast pairs of rank up to 3 with dims up to 4. */
    public static Arbitrary<BroadcastPair> broadcastPairs() { return broadcastPairs(3, 4); }

    private static int[] squash(int[] out, Generator gen) {
        int drop = (int) gen.nextLong(out.length + 1);
        if (gen.nextDouble() < 0.5) drop = 0;
        int[] s = Arrays.copyOfRange(out, drop, out.length);
        for (int i = 0; i < s.length; i++) if (gen.nextDouble() < 0.3) s[i] = 1;
        return s;
    }

    /** Two F64 leaf tensors requiring grad whose shapes broadcast together, in any layouts: {a, b}. */
    public static Arbitrary<Tensor[]> broadcastTensorPairs(Values values) {
        return broadcastPairs().flatMap(p -> Combinators.combine(tensors(p.a(), values), tensors(p.b(), values)).as((a, b) -> new Tensor[] {a, b}));
    }

    public static Arbitrary<Tensor[]> broadcastTensorPairs() { return broadcastTensorPairs(values()); }

    /** F64 leaf tensors requiring grad of this shape, values in [-2, 2), any layout. */
    public static Arbitrary<Tensor> tensors(int[] shape) { return tensors(shape, values()); }

    /** F64 leaf tensors requiring grad of this shape, any layout. */
    public static Arbitrary<Tensor> tensors(int[] shape, Values values) { return tensors(shape, values, Layout.values()); }

    /** F64 leaf tensors requiring grad of this shape in one of the given layouts. */
    public static Arbitrary<Tensor> tensors(int[] shape, Values values, Layout... layouts) {
        int[] s = shape.clone();
        return Combinators.combine(Arbitraries.longs(), Arbitraries.of(layouts))
                .as((seed, layout) -> tensor(s, values, layout, seed));
    }

    /** Tensors of any shape from the shape arbitrary. */
    public static Arbitrary<Tensor> tensors(Arbitrary<int[]> shapes) { return shapes.flatMap(GradArbitraries::tensors); }

    public static Arbitrary<Tensor> tensors(Arbitrary<int[]> shapes, Values values) { return shapes.flatMap(s -> tensors(s, values)); }

    /**
     * One F64 leaf tensor requiring grad, deterministic in seed; usable without jqwik. Values are
     * in row-major logical order whatever the layout.
     */
    public static Tensor tensor(int[] shape, Values values, Layout layout, long seed) {
        double[] v = values.draw(new Generator(seed), Shapes.numel(shape));
        NDArray logical = NDArray.fromArray(v, shape.clone());
        if (shape.length == 0 && v.length == 1) logical = NDArray.fromArray(v).reshape();
        NDArray view = layoutView(shape, layout);
        view.assign(logical);
        return Tensor.of(view, true);
    }

    /** A zero view of the shape in the given layout (falls back to a possible layout for low ranks). */
    public static NDArray layoutView(int[] shape, Layout layout) {
        int r = shape.length;
        switch (layout) {
            case TRANSPOSED:
                if (r >= 2) {
                    int[] rev = new int[r], perm = new int[r];
                    for (int i = 0; i < r; i++) {
                        rev[i] = shape[r - 1 - i];
                        perm[i] = r - 1 - i;
                    }
                    return NDArray.zeros(DType.F64, rev).permute(perm);
                }
                // fall through: a rank-0/1 array has no transpose
            case STRIDED:
                if (r >= 1) {
                    int[] wide = shape.clone();
                    wide[r - 1] = 2 * shape[r - 1];
                    return NDArray.zeros(DType.F64, wide).slice(r - 1, 0, wide[r - 1], 2);
                }
                // fall through
            case OFFSET:
                if (r >= 1) {
                    int[] tall = shape.clone();
                    tall[0] = shape[0] + 1;
                    return NDArray.zeros(DType.F64, tall).narrow(0, 1, shape[0]);
                }
                return NDArray.zeros(DType.F64, 2).narrow(0, 1, 1).reshape();
            default:
                return NDArray.zeros(DType.F64, shape);
        }
    }
}
