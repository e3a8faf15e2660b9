package dev.tessera.tensor.testing;

import java.util.Arrays;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/** jqwik arbitraries for tensor tests: shapes, broadcast-compatible shape pairs, seeds, layouts. */
public final class TensorArbitraries {
    private TensorArbitraries() {}

    /** Shapes of rank 0..4 with dims 1..7. */
    public static Arbitrary<int[]> shapes() { return shapes(0, 4, 1, 7); }

    /** Shapes of rank in [minRank, maxRank] with dims in [minDim, maxDim]. */
    public static Arbitrary<int[]> shapes(int minRank, int maxRank, int minDim, int maxDim) {
        return Arbitraries.integers().between(minDim, maxDim).array(int[].class).ofMinSize(minRank).ofMaxSize(maxRank);
    }

    /** Shapes whose numel does not exceed maxNumel. */
    public static Arbitrary<int[]> shapes(int minRank, int maxRank, int minDim, int maxDim, int maxNumel) {
        return shapes(minRank, maxRank, minDim, maxDim).filter(s -> Arrays.stream(s).asLongStream().reduce(1, (a, b) -> a * b) <= maxNumel);
    }

    /** Two shapes that broadcast together (rank 0..4, dims 1..7): the second drops leading dims and has some dims set to 1 (or the first has). */
    public static Arbitrary<int[][]> broadcastPairs() { return broadcastPairs(4, 7); }

    public static Arbitrary<int[][]> broadcastPairs(int maxRank, int maxDim) {
        Arbitrary<int[]> full = shapes(0, maxRank, 1, maxDim);
        Arbitrary<Long> masks = Arbitraries.longs().between(0, Long.MAX_VALUE);
        return Combinators.combine(full, masks, Arbitraries.integers().between(0, maxRank), Arbitraries.of(true, false)).as((s, mask, drop, swap) -> {
            int d = Math.min(drop, s.length);
            int[] a = s.clone();
            int[] b = Arrays.copyOfRange(s, d, s.length);
            for (int i = 0; i < b.length; i++) if (((mask >>> (2 * i)) & 3) == 0) b[i] = 1;
            for (int i = 0; i < a.length; i++) if (((mask >>> (2 * i + 20)) & 7) == 0 && (i < d || b[i - d] == s[i])) a[i] = 1;
            return swap ? new int[][] {b, a} : new int[][] {a, b};
        });
    }

    /** Seeds for {@link dev.tessera.tensor.Generator}. */
    public static Arbitrary<Long> seeds() { return Arbitraries.longs(); }

    /** Sizes that are not multiples of any tile: 1, 3, 17, 33, 65, 129. */
    public static Arbitrary<Integer> oddSizes() { return Arbitraries.of(1, 3, 17, 33, 65, 129); }

    public static Arbitrary<RandomArrays.Layout> layouts() { return Arbitraries.of(RandomArrays.Layout.class); }
}
