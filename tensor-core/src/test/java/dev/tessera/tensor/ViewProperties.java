package dev.tessera.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.tessera.tensor.testing.RandomArrays;
import dev.tessera.tensor.testing.TensorArbitraries;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Random chains of view operations checked against a plain model (row-major values plus shape,
 * each op re-implemented by index arithmetic), and broadcasting laws.
 */
class ViewProperties {
    @BeforeContainer
    static void scalar() { ScalarCpu.use(); }

    @AfterContainer
    static void restore() { ScalarCpu.restore(); }

    /** Logical values in row-major order and the shape. */
    private record Model(double[] values, int[] shape) {
        double at(int[] c) {
            int i = 0;
            for (int d = 0; d < shape.length; d++) i = i * shape[d] + c[d];
            return values[i];
        }

        /** A new model of shape s whose element at c is this model's element at source(c). */
        Model map(int[] s, Function<int[], int[]> source) {
            int n = Shapes.numel(s);
            double[] v = new double[n];
            for (int i = 0; i < n; i++) v[i] = at(source.apply(coords(s, i)));
            return new Model(v, s);
        }
    }

    private static int[] coords(int[] shape, int i) {
        int[] c = new int[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            c[d] = i % shape[d];
            i /= shape[d];
        }
        return c;
    }

    @Provide
    Arbitrary<int[]> smallShapes() { return TensorArbitraries.shapes(0, 4, 1, 5); }

    @Property(tries = 200)
    void viewChainsMatchTheModel(@ForAll("smallShapes") int[] shape, @ForAll long seed) {
        Generator g = new Generator(seed);
        NDArray x = RandomArrays.random(g, DType.F64, shape);
        Model m = new Model(x.toDoubleArray(), shape);
        List<String> trace = new ArrayList<>();
        int steps = 1 + (int) g.nextLong(6);
        for (int step = 0; step < steps; step++) {
            int rank = m.shape().length;
            int[] s = m.shape();
            int kind = (int) g.nextLong(9);
            if (rank == 0 && kind != 5 && kind != 7 && kind != 8) kind = 5;
            switch (kind) {
                case 0 -> { // permute
                    int[] p = RandomArrays.randomPermutation(g, rank);
                    x = x.permute(p);
                    int[] ns = new int[rank];
                    for (int i = 0; i < rank; i++) ns[i] = s[p[i]];
                    m = m.map(ns, c -> {
                        int[] src = new int[rank];
                        for (int i = 0; i < rank; i++) src[p[i]] = c[i];
                        return src;
                    });
                    trace.add("permute" + Arrays.toString(p));
                }
                case 1 -> { // narrow
                    int d = (int) g.nextLong(rank);
                    int start = (int) g.nextLong(s[d] + 1);
                    int len = (int) g.nextLong(s[d] - start + 1);
                    x = x.narrow(d, start, len);
                    int[] ns = s.clone();
                    ns[d] = len;
                    m = m.map(ns, c -> { int[] src = c.clone(); src[d] += start; return src; });
                    trace.add("narrow(" + d + "," + start + "," + len + ")");
                }
                case 2 -> { // slice with step
                    int d = (int) g.nextLong(rank);
                    int start = (int) g.nextLong(s[d] + 1), step2 = 1 + (int) g.nextLong(3);
                    int end = start + (int) g.nextLong(s[d] - start + 1);
                    x = x.slice(d, start, end, step2);
                    int len = end <= start ? 0 : (end - start + step2 - 1) / step2;
                    int[] ns = s.clone();
                    ns[d] = len;
                    m = m.map(ns, c -> { int[] src = c.clone(); src[d] = start + c[d] * step2; return src; });
                    trace.add("slice(" + d + "," + start + "," + end + "," + step2 + ")");
                }
                case 3 -> { // select
                    int d = (int) g.nextLong(rank);
                    if (s[d] == 0) break;
                    int i = (int) g.nextLong(s[d]);
                    x = x.select(d, i);
                    int[] ns = new int[rank - 1];
                    for (int a = 0, b = 0; a < rank; a++) if (a != d) ns[b++] = s[a];
                    m = m.map(ns, c -> {
                        int[] src = new int[rank];
                        for (int a = 0, b = 0; a < rank; a++) src[a] = a == d ? i : c[b++];
                        return src;
                    });
                    trace.add("select(" + d + "," + i + ")");
                }
                case 4 -> { // transpose
                    int a = (int) g.nextLong(rank), b = (int) g.nextLong(rank);
                    x = x.transpose(a, b);
                    int[] ns = s.clone();
                    ns[a] = s[b];
                    ns[b] = s[a];
                    m = m.map(ns, c -> { int[] src = c.clone(); src[a] = c[b]; src[b] = c[a]; return src; });
                    trace.add("transpose(" + a + "," + b + ")");
                }
                case 5 -> { // unsqueeze
                    int d = (int) g.nextLong(rank + 1);
                    x = x.unsqueeze(d);
                    int[] ns = new int[rank + 1];
                    for (int a = 0, b = 0; a <= rank; a++) ns[a] = a == d ? 1 : s[b++];
                    m = m.map(ns, c -> {
                        int[] src = new int[rank];
                        for (int a = 0, b = 0; a <= rank; a++) if (a != d) src[b++] = c[a];
                        return src;
                    });
                    trace.add("unsqueeze(" + d + ")");
                }
                case 6 -> { // expand size-1 dims and maybe add a leading dim
                    int lead = (int) g.nextLong(2);
                    int[] ns = new int[rank + lead];
                    if (lead == 1) ns[0] = 1 + (int) g.nextLong(3);
                    for (int a = 0; a < rank; a++) ns[lead + a] = s[a] == 1 ? 1 + (int) g.nextLong(3) : s[a];
                    x = x.expand(ns);
                    m = m.map(ns, c -> {
                        int[] src = new int[rank];
                        for (int a = 0; a < rank; a++) src[a] = s[a] == 1 ? 0 : c[lead + a];
                        return src;
                    });
                    trace.add("expand" + Arrays.toString(ns));
                }
                case 7 -> { // reshape to a random factorization; a view exactly when view() succeeds
                    int[] ns = randomFactorization(g, Shapes.numel(s));
                    NDArray viewed;
                    try {
                        viewed = x.view(ns);
                        assertSame(x.storage(), viewed.storage());
                    } catch (IllegalArgumentException e) {
                        viewed = null;
                    }
                    NDArray r = x.reshape(ns);
                    if (viewed != null) {
                        assertSame(x.storage(), r.storage(), "reshape must not copy when a view is possible: " + trace);
                        assertArrayEquals(viewed.strides(), r.strides());
                    }
                    x = r;
                    m = new Model(m.values(), ns);
                    trace.add("reshape" + Arrays.toString(ns) + (viewed != null ? " (view)" : " (copy)"));
                }
                default -> { // contiguous
                    x = x.contiguous();
                    trace.add("contiguous");
                }
            }
            assertArrayEquals(m.shape(), x.shape(), "shape after " + trace);
            assertArrayEquals(m.values(), x.toDoubleArray(), "values after " + trace);
        }
    }

    private static int[] randomFactorization(Generator g, int n) {
        List<Integer> dims = new ArrayList<>();
        int rest = n;
        while (rest > 1 && dims.size() < 4) {
            List<Integer> divisors = new ArrayList<>();
            for (int d = 2; d <= rest; d++) if (rest % d == 0) divisors.add(d);
            int d = divisors.get((int) g.nextLong(divisors.size()));
            dims.add(d);
            rest /= d;
        }
        if (rest != 1) dims.add(rest);
        if (n == 0) dims.add(0);
        if (g.nextLong(3) == 0) dims.add((int) g.nextLong(dims.size() + 1), 1);
        return dims.stream().mapToInt(Integer::intValue).toArray();
    }

    @Provide
    Arbitrary<int[][]> pairs() { return TensorArbitraries.broadcastPairs(4, 5); }

    @Property(tries = 150)
    void broadcastingLaws(@ForAll("pairs") int[][] pair, @ForAll long seed) {
        Generator g = new Generator(seed);
        int[] sa = pair[0], sb = pair[1];
        int[] out = Shapes.broadcast("test", sa, sb);
        NDArray a = RandomArrays.random(g, DType.F64, sa), b = RandomArrays.random(g, DType.F64, sb);
        NDArray ab = a.add(b), ba = b.add(a);
        assertArrayEquals(out, ab.shape());
        assertArrayEquals(ab.toDoubleArray(), ba.toDoubleArray(), "a + b == b + a");
        assertArrayEquals(a.expand(out).toDoubleArray(), a.broadcastTo(out).toDoubleArray());
        assertArrayEquals(ab.toDoubleArray(), a.expand(out).add(b.expand(out)).toDoubleArray(), "broadcast == explicit expand");
        // by hand: out[c] = a[c aligned right, size-1 dims at 0] + b[...]
        Model ma = new Model(a.toDoubleArray(), sa), mb = new Model(b.toDoubleArray(), sb);
        double[] got = ab.toDoubleArray();
        for (int i = 0; i < got.length; i++) {
            int[] c = coords(out, i);
            assertEquals(ma.at(align(c, sa)) + mb.at(align(c, sb)), got[i], 0.0, "at " + Arrays.toString(c));
        }
        assertArrayEquals(a.mul(b).toDoubleArray(), b.mul(a).toDoubleArray(), "a * b == b * a");
        NDArray sub = a.sub(b), neg = b.sub(a).neg();
        assertArrayEquals(sub.toDoubleArray(), neg.toDoubleArray(), "a - b == -(b - a)");
    }

    private static int[] align(int[] c, int[] shape) {
        int[] r = new int[shape.length];
        int lead = c.length - shape.length;
        for (int d = 0; d < shape.length; d++) r[d] = shape[d] == 1 ? 0 : c[lead + d];
        return r;
    }

    @Property(tries = 100)
    void permuteThenInverseRestores(@ForAll("smallShapes") int[] shape, @ForAll long seed) {
        Generator g = new Generator(seed);
        NDArray x = RandomArrays.random(g, DType.F32, shape);
        int[] p = RandomArrays.randomPermutation(g, shape.length);
        int[] inv = new int[p.length];
        for (int i = 0; i < p.length; i++) inv[p[i]] = i;
        NDArray back = x.permute(p).contiguous().permute(inv);
        assertArrayEquals(x.toFloatArray(), back.toFloatArray());
        assertArrayEquals(shape, back.shape());
    }
}
