package dev.tessera.tensor.cpu;

import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.Parallel;

/**
 * Row-major iteration over several views of one shape, in runs ("segments") along the innermost
 * dim. Dims of size 1 are dropped and adjacent dims that are laid out back to back in every view
 * are merged first, so a contiguous array is one long segment and a transposed one has short,
 * strided segments. Kernels get one call per segment with each view's storage offset at the
 * segment start and the inner stride of each view from {@link #innerStride(int)}; the linear
 * position (the offset into a contiguous output of the same shape) is passed too.
 */
final class Strided {
    private final int rank;
    private final int[] shape;
    private final int[][] strides; // [view][dim]
    private final int[] offsets;
    final int numel;
    final int inner;

    /** One call per run of {@code len} elements starting at linear position {@code pos}. */
    @FunctionalInterface
    interface Segment {
        void run(int pos, int len, int[] offs);
    }

    private Strided(int[] shape, int[][] strides, int[] offsets, int numel) {
        this.rank = shape.length;
        this.shape = shape;
        this.strides = strides;
        this.offsets = offsets;
        this.numel = numel;
        this.inner = shape[rank - 1];
    }

    static Strided of(int[] shape, NDArray... views) {
        int[][] st = new int[views.length][];
        int[] off = new int[views.length];
        for (int k = 0; k < views.length; k++) {
            st[k] = views[k].strides();
            off[k] = views[k].offset();
        }
        return of(shape, st, off);
    }

    /** Coalesces: drops size-1 dims and merges dim pairs that are contiguous in every view. */
    static Strided of(int[] shape, int[][] strides, int[] offsets) {
        int views = strides.length;
        int numel = 1;
        for (int s : shape) numel *= s;
        int[] cs = new int[Math.max(1, shape.length)];
        int[][] cst = new int[views][Math.max(1, shape.length)];
        int r = 0; // dims kept, stored from the end
        int pos = cs.length;
        for (int d = shape.length - 1; d >= 0; d--) {
            int n = shape[d];
            if (n == 1) continue;
            if (r > 0) {
                boolean merge = true;
                for (int k = 0; k < views && merge; k++) merge = strides[k][d] == cst[k][pos] * cs[pos];
                if (merge) {
                    cs[pos] *= n;
                    continue;
                }
            }
            pos--;
            r++;
            cs[pos] = n;
            for (int k = 0; k < views; k++) cst[k][pos] = strides[k][d];
        }
        if (r == 0) { // all dims of size 1 (or rank 0): a single element
            return new Strided(new int[] {numel == 0 ? 0 : 1}, new int[views][1], offsets.clone(), numel);
        }
        int[] fs = java.util.Arrays.copyOfRange(cs, pos, cs.length);
        int[][] fst = new int[views][];
        for (int k = 0; k < views; k++) fst[k] = java.util.Arrays.copyOfRange(cst[k], pos, cs.length);
        return new Strided(fs, fst, offsets.clone(), numel);
    }

    int innerStride(int view) { return strides[view][rank - 1]; }

    /** Whether the whole iteration is one run (at most one dim left after coalescing). */
    boolean isSingleRun() { return rank == 1; }

    /** Runs body over the linear range [start, end) on the calling thread. */
    void forSegments(int start, int end, Segment body) {
        forSegments(start, end, null, body);
    }

    /** As {@link #forSegments(int, int, Segment)}, with each view's base offset moved by shift[view]. */
    void forSegments(int start, int end, int[] shift, Segment body) {
        if (start >= end) return;
        int r = rank, in = inner, views = offsets.length;
        int[] idx = new int[r];
        int[] offs = new int[views];
        int row = start / in, col = start - row * in;
        for (int d = r - 2; d >= 0; d--) {
            idx[d] = row % shape[d];
            row /= shape[d];
        }
        int pos = start;
        while (true) {
            for (int k = 0; k < views; k++) {
                int[] s = strides[k];
                int o = offsets[k] + col * s[r - 1] + (shift == null ? 0 : shift[k]);
                for (int d = 0; d < r - 1; d++) o += idx[d] * s[d];
                offs[k] = o;
            }
            int len = Math.min(in - col, end - pos);
            body.run(pos, len, offs);
            pos += len;
            if (pos >= end) return;
            col = 0;
            for (int d = r - 2; d >= 0; d--) {
                if (++idx[d] < shape[d]) break;
                idx[d] = 0;
            }
        }
    }

    /** Runs body over all elements on the shared pool, split anywhere into chunks of at least grain. */
    void parallel(int grain, Segment body) {
        Parallel.forRange(numel, grain, (s, e) -> forSegments(s, e, body));
    }

    /** Like {@link #parallel} but never splits an inner row between two tasks. */
    void parallelRows(int grain, Segment body) {
        int in = Math.max(1, inner);
        int rows = numel / in;
        Parallel.forRange(rows, Math.max(1, grain / in), (s, e) -> forSegments(s * in, e * in, body));
    }
}
