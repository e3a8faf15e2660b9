package dev.tessera.tensor.testing;

import dev.tessera.tensor.CpuStorage;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.ReferenceBackend;
import java.util.Arrays;
import java.util.function.UnaryOperator;

/**
 * Random shapes and arrays from a seed, and random strided layouts of them, so that a test can run
 * an op on contiguous and on non-contiguous inputs. Everything is built with the reference backend
 * or plain storage writes, never with the backend under test.
 */
public final class RandomArrays {
    private RandomArrays() {}

    /** Sizes that are not multiples of any vector width or tile: 1, 3, 17, 33, 65, 129. */
    public static final int[] ODD_SIZES = {1, 3, 17, 33, 65, 129};

    /** How a view's elements are laid out in its storage. */
    public enum Layout {
        /** Row-major, offset 0. */
        CONTIGUOUS,
        /** Stored in a permuted order and permuted back: same values, shuffled strides. */
        PERMUTED,
        /** A stepped slice (steps 1..3, random offset) of a larger array filled with junk. */
        SLICED,
        /** One dim (of size > 1 when there is one) has stride 0: its first slice repeated. Values change. */
        EXPANDED,
        /** Every size-1 dim has stride 0 (the base lacks those dims), the rest stepped as SLICED: same values. */
        UNIT_DIMS_STRIDE_ZERO
    }

    /**
     * A view to test with: a base array (contiguous, what a backend would upload) and the view
     * operations that turn a base into the logical input. {@link #on} applies the same view to a
     * copy of the base on another device, so both sides see the same strides.
     */
    public record ViewCase(NDArray base, UnaryOperator<NDArray> view, Layout layout) {
        /** The logical input (the view applied to the base, on the CPU). */
        public NDArray array() { return view.apply(base); }

        /** The same view over a transformed base (e.g. the base moved to a device, or a fresh copy). */
        public NDArray on(UnaryOperator<NDArray> baseTransform) { return view.apply(baseTransform.apply(base)); }

        /** A ViewCase over a fresh copy of the base (for in-place ops). */
        public ViewCase copy() { return new ViewCase(ReferenceBackend.INSTANCE.copy(base, base.dtype()), view, layout); }

        @Override
        public String toString() {
            NDArray a = array();
            return layout + " " + Arrays.toString(a.shape()) + " strides " + Arrays.toString(a.strides()) + " offset " + a.offset();
        }
    }

    // ---- shapes ---------------------------------------------------------------------------

    /** A shape of rank in [minRank, maxRank] with dims in [minDim, maxDim]. */
    public static int[] shape(Generator gen, int minRank, int maxRank, int minDim, int maxDim) {
        int rank = minRank + (int) gen.nextLong(maxRank - minRank + 1);
        int[] s = new int[rank];
        for (int i = 0; i < rank; i++) s[i] = minDim + (int) gen.nextLong(maxDim - minDim + 1);
        return s;
    }

    /** One of {@link #ODD_SIZES} not above max. */
    public static int oddSize(Generator gen, int max) {
        int k = 0;
        while (k < ODD_SIZES.length && ODD_SIZES[k] <= max) k++;
        return ODD_SIZES[(int) gen.nextLong(Math.max(1, k))];
    }

    /** A shape whose last dim is an odd size (up to maxLast) and whose leading dims are small, numel bounded. */
    public static int[] oddShape(Generator gen, int minRank, int maxRank, int maxLast, int maxNumel) {
        int rank = minRank + (int) gen.nextLong(maxRank - minRank + 1);
        if (rank == 0) return new int[0];
        int[] s = new int[rank];
        s[rank - 1] = oddSize(gen, maxLast);
        int numel = s[rank - 1];
        for (int i = rank - 2; i >= 0; i--) {
            int d = 1 + (int) gen.nextLong(5);
            while (d > 1 && (long) numel * d > maxNumel) d--;
            s[i] = d;
            numel *= d;
        }
        return s;
    }

    /** A shape that broadcasts with s: some dims set to 1, some leading dims dropped. */
    public static int[] broadcastPartner(Generator gen, int[] s) {
        int drop = s.length == 0 ? 0 : (int) gen.nextLong(s.length + 1);
        int[] p = Arrays.copyOfRange(s, drop, s.length);
        for (int i = 0; i < p.length; i++) if (gen.nextLong(3) == 0) p[i] = 1;
        return p;
    }

    // ---- values ---------------------------------------------------------------------------

    /**
     * Random values: floats N(0, 1) (rounded to the dtype), integers uniform in [-100, 100), BOOL
     * uniform 0/1. Never all zeros.
     */
    public static NDArray random(Generator gen, DType dtype, int... shape) {
        int n = numel(shape);
        CpuStorage s = CpuStorage.allocate(dtype, n);
        for (int i = 0; i < n; i++) {
            if (dtype.isFloating()) s.setDouble(i, gen.nextGaussian());
            else if (dtype == DType.BOOL) s.setLong(i, gen.nextLong(2));
            else s.setLong(i, gen.nextLong(200) - 100);
        }
        return new NDArray(s, shape);
    }

    public static NDArray random(long seed, DType dtype, int... shape) { return random(new Generator(seed), dtype, shape); }

    /** Uniform values in [low, high) stored in dtype (integers truncated). */
    public static NDArray uniform(Generator gen, DType dtype, double low, double high, int... shape) {
        int n = numel(shape);
        CpuStorage s = CpuStorage.allocate(dtype, n);
        for (int i = 0; i < n; i++) s.setDouble(i, low + (high - low) * gen.nextDouble());
        return new NDArray(s, shape);
    }

    /** Uniform integers in [low, high) stored in dtype (I32 or I64, or a float dtype). */
    public static NDArray integers(Generator gen, DType dtype, long low, long high, int... shape) {
        int n = numel(shape);
        CpuStorage s = CpuStorage.allocate(dtype, n);
        for (int i = 0; i < n; i++) s.setLong(i, low + gen.nextLong(high - low));
        return new NDArray(s, shape);
    }

    private static int numel(int[] shape) {
        int n = 1;
        for (int d : shape) n *= d;
        return n;
    }

    // ---- layouts --------------------------------------------------------------------------

    /** A random layout (each with equal chance). */
    public static Layout layout(Generator gen) {
        return Layout.values()[(int) gen.nextLong(Layout.values().length)];
    }

    /** A random layout that keeps the values (CONTIGUOUS, PERMUTED, SLICED or UNIT_DIMS_STRIDE_ZERO). */
    public static Layout sameValuesLayout(Generator gen) {
        Layout[] keep = {Layout.CONTIGUOUS, Layout.PERMUTED, Layout.SLICED, Layout.UNIT_DIMS_STRIDE_ZERO};
        return keep[(int) gen.nextLong(keep.length)];
    }

    /** values laid out as layout; for EXPANDED the values change (see {@link Layout#EXPANDED}). */
    public static ViewCase view(Generator gen, NDArray values, Layout layout) {
        NDArray v = ReferenceBackend.INSTANCE.copy(values, values.dtype());
        int[] shape = v.shape();
        int rank = shape.length;
        switch (layout) {
            case PERMUTED -> {
                if (rank < 2) return view(gen, values, Layout.SLICED);
                int[] perm = randomPermutation(gen, rank);
                boolean identity = true;
                for (int i = 0; i < rank; i++) identity &= perm[i] == i;
                if (identity) { int t = perm[0]; perm[0] = perm[1]; perm[1] = t; }
                int[] inverse = new int[rank];
                for (int i = 0; i < rank; i++) inverse[perm[i]] = i;
                NDArray base = ReferenceBackend.INSTANCE.copy(v.permute(perm), v.dtype());
                return new ViewCase(base, b -> b.permute(inverse), layout);
            }
            case SLICED -> {
                int[] steps = new int[rank], starts = new int[rank], big = new int[rank];
                for (int d = 0; d < rank; d++) {
                    steps[d] = 1 + (int) gen.nextLong(3);
                    starts[d] = (int) gen.nextLong(3);
                }
                // at least one dim of size > 1 gets a step, so that the view really has gaps
                boolean stepped = false;
                for (int d = 0; d < rank; d++) stepped |= steps[d] > 1 && shape[d] > 1;
                for (int d = rank - 1; d >= 0 && !stepped; d--) {
                    if (shape[d] > 1) { steps[d] = 2; stepped = true; }
                }
                for (int d = 0; d < rank; d++) big[d] = starts[d] + (shape[d] == 0 ? 0 : (shape[d] - 1) * steps[d] + 1) + (int) gen.nextLong(2);
                NDArray base = junk(gen, v.dtype(), big);
                UnaryOperator<NDArray> slice = b -> {
                    NDArray r = b;
                    for (int d = 0; d < rank; d++) r = r.slice(d, starts[d], starts[d] + (shape[d] == 0 ? 0 : (shape[d] - 1) * steps[d] + 1), steps[d]);
                    return r;
                };
                ReferenceBackend.INSTANCE.assign(slice.apply(base), v);
                return new ViewCase(base, slice, layout);
            }
            case EXPANDED -> {
                if (rank == 0) return new ViewCase(v, b -> b, Layout.CONTIGUOUS);
                int d = (int) gen.nextLong(rank);
                for (int tries = 0; tries < rank && shape[d] == 1; tries++) d = (d + 1) % rank;
                final int dim = d;
                NDArray base = ReferenceBackend.INSTANCE.copy(v.narrow(dim, 0, Math.min(1, shape[dim])), v.dtype());
                return new ViewCase(base, b -> b.expand(shape), layout);
            }
            case UNIT_DIMS_STRIDE_ZERO -> {
                int[] keep = java.util.stream.IntStream.range(0, rank).filter(d -> shape[d] != 1).toArray();
                if (keep.length == rank) return view(gen, values, Layout.SLICED);
                int[] inner = new int[keep.length];
                for (int i = 0; i < keep.length; i++) inner[i] = shape[keep[i]];
                // the dims that are not size 1 get a stepped layout of their own
                ViewCase rest = view(gen, v.reshape(inner), Layout.SLICED);
                UnaryOperator<NDArray> unit = b -> {
                    NDArray r = rest.view().apply(b);
                    for (int d = 0; d < rank; d++) if (shape[d] == 1) r = r.unsqueeze(d);
                    int[] strides = r.strides();
                    for (int d = 0; d < rank; d++) if (shape[d] == 1) strides[d] = 0;
                    return new NDArray(r.storage(), shape, strides, r.offset());
                };
                return new ViewCase(rest.base(), unit, layout);
            }
            default -> {
                return new ViewCase(v, b -> b, Layout.CONTIGUOUS);
            }
        }
    }

    /** values in a random layout (values change only for EXPANDED). */
    public static ViewCase anyView(Generator gen, NDArray values) { return view(gen, values, layout(gen)); }

    /** Random values of dtype and shape, in a random layout. */
    public static ViewCase randomView(Generator gen, DType dtype, int... shape) { return anyView(gen, random(gen, dtype, shape)); }

    /** A non-contiguous view with the same values (PERMUTED when rank >= 2, else SLICED). */
    public static NDArray strided(Generator gen, NDArray values) {
        return view(gen, values, values.rank() >= 2 && gen.nextLong(2) == 0 ? Layout.PERMUTED : Layout.SLICED).array();
    }

    public static int[] randomPermutation(Generator gen, int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = (int) gen.nextLong(i + 1);
            int t = p[i]; p[i] = p[j]; p[j] = t;
        }
        return p;
    }

    /** Filler around sliced views: large values a kernel reading outside its view would show. */
    private static NDArray junk(Generator gen, DType dtype, int[] shape) {
        int n = numel(shape);
        CpuStorage s = CpuStorage.allocate(dtype, n);
        for (int i = 0; i < n; i++) {
            if (dtype.isFloating()) s.setDouble(i, 1000 + 100 * gen.nextDouble());
            else if (dtype == DType.BOOL) s.setLong(i, 1);
            else s.setLong(i, 77777);
        }
        return new NDArray(s, shape);
    }
}
