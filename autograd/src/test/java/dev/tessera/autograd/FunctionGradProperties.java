package dev.tessera.autograd;

import dev.tessera.autograd.check.GradArbitraries;
import dev.tessera.autograd.check.GradArbitraries.BroadcastPair;
import dev.tessera.autograd.check.GradArbitraries.Layout;
import dev.tessera.autograd.check.GradArbitraries.Values;
import dev.tessera.autograd.check.GradCheck;
import dev.tessera.autograd.functions.CrossEntropy;
import dev.tessera.autograd.functions.ScalarOp;
import dev.tessera.autograd.functions.ToDevice;
import dev.tessera.tensor.Device;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.NDArray;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.util.ArrayList;
import java.util.List;

/**
 * Gradient checks (central differences, F64) for every entry of {@link FunctionCatalog}, over
 * random shapes, broadcasting and non-contiguous layouts. {@code CatalogCoverageTest} fails when an
 * entry has no property here.
 */
class FunctionGradProperties {
    private static final Values DEFAULT = Values.between(-2, 2);
    private static final Values POSITIVE = Values.between(0.3, 2.5);

    static Tensor t(int[] shape, Values v, Layout layout, long seed) { return GradArbitraries.tensor(shape, v, layout, seed); }

    @Provide
    Arbitrary<int[]> shapes() { return GradArbitraries.shapes(0, 3, 4); }

    @Provide
    Arbitrary<int[]> nonScalarShapes() { return GradArbitraries.shapes(1, 3, 4); }

    @Provide
    Arbitrary<int[]> matrixShapes() { return GradArbitraries.shapes(2, 3, 4); }

    @Provide
    Arbitrary<BroadcastPair> pairs() { return GradArbitraries.broadcastPairs(3, 3); }

    // ---- elementwise unary ----------------------------------------------------------------

    @Provide
    Arbitrary<String> unaryOps() {
        return Arbitraries.of("neg", "abs", "exp", "log", "sqrt", "rsqrt", "tanh", "sigmoid", "relu", "silu", "sin", "cos", "pow");
    }

    @Property(tries = 60)
    @GradCheckFor({"neg", "abs", "exp", "log", "sqrt", "rsqrt", "tanh", "sigmoid", "relu", "silu", "sin", "cos", "pow"})
    void unary(@ForAll("unaryOps") String op, @ForAll("shapes") int[] shape, @ForAll Layout layout, @ForAll long seed) {
        Values v = switch (op) {
            case "log", "sqrt", "rsqrt", "pow" -> POSITIVE;
            case "abs", "relu" -> DEFAULT.awayFrom(0.05, 0.0);
            default -> DEFAULT;
        };
        double exponent = new double[] {2.0, 3.0, 0.5, -1.5}[(int) Math.floorMod(seed, 4L)];
        Tensor x = t(shape, v, layout, seed);
        GradCheck.of(in -> switch (op) {
            case "neg" -> in[0].neg();
            case "abs" -> in[0].abs();
            case "exp" -> in[0].exp();
            case "log" -> in[0].log();
            case "sqrt" -> in[0].sqrt();
            case "rsqrt" -> in[0].rsqrt();
            case "tanh" -> in[0].tanh();
            case "sigmoid" -> in[0].sigmoid();
            case "relu" -> in[0].relu();
            case "silu" -> in[0].silu();
            case "sin" -> in[0].sin();
            case "cos" -> in[0].cos();
            case "pow" -> in[0].pow(exponent);
            default -> throw new AssertionError(op);
        }).name(op).verify(x);
    }

    @Property(tries = 30)
    @GradCheckFor({"gelu", "geluTanh"})
    void gelu(@ForAll boolean tanh, @ForAll("shapes") int[] shape, @ForAll Layout layout, @ForAll long seed) {
        Tensor x = t(shape, Values.between(-3, 3), layout, seed);
        GradCheck.of(in -> tanh ? in[0].geluTanh() : in[0].gelu()).name(tanh ? "geluTanh" : "gelu").verify(x);
    }

    // ---- broadcasting binary --------------------------------------------------------------

    @Provide
    Arbitrary<String> binaryOps() { return Arbitraries.of("add", "sub", "mul", "div", "powTensor", "maximum", "minimum"); }

    @Property(tries = 60)
    @GradCheckFor({"add", "sub", "mul", "div", "powTensor", "maximum", "minimum"})
    void binary(@ForAll("binaryOps") String op, @ForAll("pairs") BroadcastPair p, @ForAll Layout la, @ForAll Layout lb, @ForAll long seed) {
        Values va = op.equals("powTensor") ? POSITIVE : DEFAULT;
        Values vb = op.equals("div") ? DEFAULT.awayFrom(0.4, 0.0) : DEFAULT;
        Tensor a = t(p.a(), va, la, seed), b = t(p.b(), vb, lb, seed + 1);
        GradCheck.of(in -> switch (op) {
            case "add" -> in[0].add(in[1]);
            case "sub" -> in[0].sub(in[1]);
            case "mul" -> in[0].mul(in[1]);
            case "div" -> in[0].div(in[1]);
            case "powTensor" -> in[0].pow(in[1]);
            case "maximum" -> in[0].maximum(in[1]);
            case "minimum" -> in[0].minimum(in[1]);
            default -> throw new AssertionError(op);
        }).name(op + " " + p).verify(a, b);
    }

    @Property(tries = 40)
    @GradCheckFor({"scalarADD", "scalarSUB", "scalarMUL", "scalarDIV", "scalarMAXIMUM", "scalarMINIMUM", "scalarRSUB", "scalarRDIV"})
    void scalarOps(@ForAll ScalarOp.Kind kind, @ForAll("shapes") int[] shape, @ForAll Layout layout, @ForAll long seed) {
        double s = 0.75;
        Values v = switch (kind) {
            case MAXIMUM, MINIMUM -> DEFAULT.awayFrom(0.05, s);
            case RDIV -> DEFAULT.awayFrom(0.4, 0.0);
            default -> DEFAULT;
        };
        Tensor x = t(shape, v, layout, seed);
        GradCheck.of(in -> new ScalarOp(kind, s).apply(in[0])).name("scalar " + kind).verify(x);
    }

    // ---- reductions -----------------------------------------------------------------------

    private static int[] randomDims(int rank, Generator g) {
        List<Integer> dims = new ArrayList<>();
        for (int d = 0; d < rank; d++) if (g.nextDouble() < 0.5) dims.add(d);
        if (dims.isEmpty() && rank > 0 && g.nextDouble() < 0.5) dims.add((int) g.nextLong(rank));
        return dims.stream().mapToInt(Integer::intValue).toArray(); // empty means all dims
    }

    @Property(tries = 60)
    @GradCheckFor({"sum", "mean", "var", "max", "min"})
    void reductions(@ForAll("nonScalarShapes") int[] shape, @ForAll Layout layout, @ForAll boolean keepDim, @ForAll long seed) {
        Generator g = new Generator(seed);
        int[] dims = randomDims(shape.length, g);
        String op = new String[] {"sum", "mean", "var", "max", "min"}[(int) g.nextLong(5)];
        Values v = op.equals("max") || op.equals("min") ? DEFAULT.distinctValues() : DEFAULT;
        Tensor x = t(shape, v, layout, seed);
        GradCheck.of(in -> switch (op) {
            case "sum" -> in[0].sum(keepDim, dims);
            case "mean" -> in[0].mean(keepDim, dims);
            case "var" -> in[0].var(keepDim, dims);
            case "max" -> in[0].max(keepDim, dims);
            default -> in[0].min(keepDim, dims);
        }).name(op + " dims " + java.util.Arrays.toString(dims) + " keepDim " + keepDim).verify(x);
    }

    // ---- views ----------------------------------------------------------------------------

    @Property(tries = 30)
    @GradCheckFor("reshape")
    void reshape(@ForAll("shapes") int[] shape, @ForAll Layout layout, @ForAll long seed) {
        Tensor x = t(shape, DEFAULT, layout, seed);
        int[] reversed = new int[shape.length];
        for (int i = 0; i < shape.length; i++) reversed[i] = shape[shape.length - 1 - i];
        GradCheck.of(in -> in[0].reshape(reversed).mul(in[0].flatten().reshape(reversed))).name("reshape").verify(x);
        if (x.data().isContiguous()) GradCheck.of(in -> in[0].view(-1)).name("view").verify(x);
    }

    @Property(tries = 30)
    @GradCheckFor({"squeeze", "unsqueeze"})
    void squeezeUnsqueeze(@ForAll("shapes") int[] base, @ForAll Layout layout, @ForAll long seed) {
        Generator g = new Generator(seed);
        int at = (int) g.nextLong(base.length + 1);
        Tensor x = t(base, DEFAULT, layout, seed);
        GradCheck.of(in -> in[0].unsqueeze(at).mul(2.0).squeeze(at)).name("unsqueeze/squeeze(dim)").verify(x);
        GradCheck.of(in -> in[0].unsqueeze(at).squeeze()).name("squeeze()").verify(x);
    }

    @Property(tries = 30)
    @GradCheckFor("permute")
    void permute(@ForAll("nonScalarShapes") int[] shape, @ForAll Layout layout, @ForAll long seed) {
        Generator g = new Generator(seed);
        int r = shape.length;
        int[] perm = new int[r];
        for (int i = 0; i < r; i++) perm[i] = i;
        for (int i = r - 1; i > 0; i--) {
            int j = (int) g.nextLong(i + 1);
            int tmp = perm[i]; perm[i] = perm[j]; perm[j] = tmp;
        }
        Tensor x = t(shape, DEFAULT, layout, seed);
        NDArray w = NDArray.uniform(g, DType.F64, -1, 1, x.data().permute(perm).shape());
        GradCheck.of(in -> in[0].permute(perm).mul(Tensor.of(w))).name("permute " + java.util.Arrays.toString(perm)).verify(x);
        if (r >= 2) GradCheck.of(in -> in[0].transpose(0, r - 1).contiguous().mT()).name("transpose/mT").verify(x);
    }

    @Property(tries = 40)
    @GradCheckFor({"narrow", "slice", "select"})
    void windows(@ForAll("nonScalarShapes") int[] shape, @ForAll Layout layout, @ForAll long seed) {
        Generator g = new Generator(seed);
        int d = (int) g.nextLong(shape.length);
        int n = shape[d];
        int start = (int) g.nextLong(n);
        int len = 1 + (int) g.nextLong(n - start);
        int step = 1 + (int) g.nextLong(2);
        Tensor x = t(shape, DEFAULT, layout, seed);
        GradCheck.of(in -> in[0].narrow(d, start, len).exp()).name("narrow").verify(x);
        GradCheck.of(in -> in[0].slice(d, start, n, step).exp()).name("slice").verify(x);
        GradCheck.of(in -> in[0].select(d, start).exp()).name("select").verify(x);
        GradCheck.of(in -> Tensor.cat(d, in[0].split(d, start, n - start)).exp()).name("split").verify(x);
    }

    @Property(tries = 30)
    @GradCheckFor("expand")
    void expand(@ForAll("pairs") BroadcastPair p, @ForAll Layout layout, @ForAll long seed) {
        Tensor x = t(p.a(), DEFAULT, layout, seed);
        int[] target = new int[p.out().length + 1];
        target[0] = 2;
        System.arraycopy(p.out(), 0, target, 1, p.out().length);
        NDArray w = NDArray.uniform(new Generator(seed), DType.F64, -1, 1, target);
        GradCheck.of(in -> in[0].expand(target).mul(Tensor.of(w))).name("expand " + p).verify(x);
    }

    @Property(tries = 20)
    @GradCheckFor({"contiguous", "clone", "cast", "toDevice"})
    void copies(@ForAll("shapes") int[] shape, @ForAll Layout layout, @ForAll long seed) {
        Tensor x = t(shape, DEFAULT, layout, seed);
        GradCheck.of(in -> in[0].contiguous().mul(in[0].copy())).name("contiguous/clone").verify(x);
        // Through F32: linear, so a large step has no truncation error and swamps F32 rounding.
        GradCheck.of(in -> in[0].to(DType.F32).mul(3.0).to(DType.F64)).name("cast").eps(1e-2).tolerance(1e-4, 1e-4).verify(x);
        // Only the CPU exists in this module's tests: the Function is applied CPU -> CPU (the transfer
        // itself is covered where a second device is present).
        GradCheck.of(in -> new ToDevice(Device.CPU).apply(in[0]).exp()).name("toDevice").verify(x);
    }

    // ---- matmul, softmax, norms -----------------------------------------------------------

    @Property(tries = 40)
    @GradCheckFor("matmul")
    void matmul(@ForAll Layout la, @ForAll Layout lb, @ForAll long seed) {
        Generator g = new Generator(seed);
        int m = 1 + (int) g.nextLong(3), k = 1 + (int) g.nextLong(4), n = 1 + (int) g.nextLong(3), b = 1 + (int) g.nextLong(3);
        int kind = (int) g.nextLong(6);
        int[] sa, sb;
        switch (kind) {
            case 0 -> { sa = new int[] {m, k}; sb = new int[] {k, n}; }
            case 1 -> { sa = new int[] {b, m, k}; sb = new int[] {k, n}; }          // batch broadcast of b
            case 2 -> { sa = new int[] {1, m, k}; sb = new int[] {b, k, n}; }       // size-1 batch
            case 3 -> { sa = new int[] {k}; sb = new int[] {b, k, n}; }             // 1-D left
            case 4 -> { sa = new int[] {b, m, k}; sb = new int[] {k}; }             // 1-D right
            default -> { sa = new int[] {k}; sb = new int[] {k}; }                  // dot product
        }
        Tensor a = t(sa, DEFAULT, la, seed), bt = t(sb, DEFAULT, lb, seed + 7);
        GradCheck.of(in -> in[0].matmul(in[1])).name("matmul " + java.util.Arrays.toString(sa) + " @ " + java.util.Arrays.toString(sb)).verify(a, bt);
    }

    @Property(tries = 40)
    @GradCheckFor({"softmax", "logSoftmax"})
    void softmax(@ForAll("nonScalarShapes") int[] shape, @ForAll Layout layout, @ForAll boolean log, @ForAll long seed) {
        int d = (int) new Generator(seed).nextLong(shape.length);
        Tensor x = t(shape, Values.between(-3, 3), layout, seed);
        GradCheck.of(in -> log ? in[0].logSoftmax(d) : in[0].softmax(d)).name((log ? "logSoftmax" : "softmax") + " dim " + d).verify(x);
    }

    @Property(tries = 40)
    @GradCheckFor({"layerNorm", "rmsNorm"})
    void norms(@ForAll("nonScalarShapes") int[] shape0, @ForAll Layout layout, @ForAll boolean withWeight, @ForAll boolean withBias, @ForAll boolean rms, @ForAll long seed) {
        int[] shape = shape0.clone();
        shape[shape.length - 1] = Math.max(2, shape[shape.length - 1]);
        int c = shape[shape.length - 1];
        Tensor x = t(shape, DEFAULT, layout, seed);
        Tensor w = t(new int[] {c}, Values.between(0.5, 1.5), Layout.STRIDED, seed + 1);
        Tensor b = t(new int[] {c}, DEFAULT, Layout.CONTIGUOUS, seed + 2);
        if (rms) {
            if (withWeight) GradCheck.of(in -> in[0].rmsNorm(in[1], 1e-5)).name("rmsNorm").verify(x, w);
            else GradCheck.of(in -> in[0].rmsNorm(null, 1e-5)).name("rmsNorm").verify(x);
        } else if (withWeight && withBias) {
            GradCheck.of(in -> in[0].layerNorm(in[1], in[2], 1e-5)).name("layerNorm").verify(x, w, b);
        } else if (withWeight) {
            GradCheck.of(in -> in[0].layerNorm(in[1], null, 1e-5)).name("layerNorm").verify(x, w);
        } else if (withBias) {
            GradCheck.of(in -> in[0].layerNorm(null, in[1], 1e-5)).name("layerNorm").verify(x, b);
        } else {
            GradCheck.of(in -> in[0].layerNorm(null, null, 1e-5)).name("layerNorm").verify(x);
        }
    }

    // ---- indexing -------------------------------------------------------------------------

    private static NDArray randomIndex(Generator g, int bound, int... shape) {
        return NDArray.randint(g, 0, bound, shape);
    }

    @Property(tries = 40)
    @GradCheckFor({"gather", "scatterAdd"})
    void gatherScatter(@ForAll("nonScalarShapes") int[] shape, @ForAll Layout layout, @ForAll long seed) {
        Generator g = new Generator(seed);
        int d = (int) g.nextLong(shape.length);
        int[] idxShape = shape.clone();
        for (int i = 0; i < idxShape.length; i++) idxShape[i] = 1 + (int) g.nextLong(i == d ? 4 : shape[i]);
        Tensor index = Tensor.of(randomIndex(g, shape[d], idxShape));
        Tensor x = t(shape, DEFAULT, layout, seed);
        Tensor src = t(idxShape, DEFAULT, Layout.CONTIGUOUS, seed + 3);
        GradCheck.of(in -> in[0].gather(d, index)).name("gather").verify(x);
        GradCheck.of(in -> in[0].scatterAdd(d, index, in[1]).mul(in[0])).name("scatterAdd").verify(x, src);
    }

    @Property(tries = 40)
    @GradCheckFor({"indexSelect", "indexAdd"})
    void indexSelectAdd(@ForAll("nonScalarShapes") int[] shape, @ForAll Layout layout, @ForAll long seed) {
        Generator g = new Generator(seed);
        int d = (int) g.nextLong(shape.length);
        int count = 1 + (int) g.nextLong(5);
        Tensor index = Tensor.of(randomIndex(g, shape[d], count));
        int[] srcShape = shape.clone();
        srcShape[d] = count;
        Tensor x = t(shape, DEFAULT, layout, seed);
        Tensor src = t(srcShape, DEFAULT, Layout.TRANSPOSED, seed + 5);
        GradCheck.of(in -> in[0].indexSelect(d, index)).name("indexSelect").verify(x);
        GradCheck.of(in -> in[0].indexAdd(d, index, in[1]).mul(in[0])).name("indexAdd").verify(x, src);
    }

    @Property(tries = 30)
    @GradCheckFor("embedding")
    void embedding(@ForAll Layout layout, @ForAll("shapes") int[] idsShape, @ForAll long seed) {
        Generator g = new Generator(seed);
        int v = 1 + (int) g.nextLong(5), c = 1 + (int) g.nextLong(4);
        Tensor ids = Tensor.of(randomIndex(g, v, idsShape));
        Tensor table = t(new int[] {v, c}, DEFAULT, layout, seed);
        GradCheck.of(in -> in[0].embedding(ids).tanh()).name("embedding").verify(table);
    }

    @Property(tries = 30)
    @GradCheckFor({"tril", "triu"})
    void triangles(@ForAll("matrixShapes") int[] shape, @ForAll Layout layout, @ForAll long seed) {
        int k = (int) new Generator(seed).nextLong(5) - 2;
        Tensor x = t(shape, DEFAULT, layout, seed);
        GradCheck.of(in -> in[0].tril(k).exp()).name("tril " + k).verify(x);
        GradCheck.of(in -> in[0].triu(k).exp()).name("triu " + k).verify(x);
    }

    // ---- joining, selecting, masks --------------------------------------------------------

    @Property(tries = 30)
    @GradCheckFor({"cat", "stack"})
    void catStack(@ForAll("nonScalarShapes") int[] shape, @ForAll Layout l1, @ForAll Layout l2, @ForAll long seed) {
        Generator g = new Generator(seed);
        int d = (int) g.nextLong(shape.length);
        int[] other = shape.clone();
        other[d] = 1 + (int) g.nextLong(3);
        Tensor a = t(shape, DEFAULT, l1, seed), b = t(other, DEFAULT, l2, seed + 1), c = t(shape, DEFAULT, l2, seed + 2);
        GradCheck.of(in -> Tensor.cat(d, in[0], in[1], in[0]).sin()).name("cat dim " + d).verify(a, b);
        int sd = (int) g.nextLong(shape.length + 1);
        GradCheck.of(in -> Tensor.stack(sd, in[0], in[1]).sin()).name("stack dim " + sd).verify(a, c);
    }

    @Property(tries = 40)
    @GradCheckFor({"where", "maskedFill"})
    void whereAndMasks(@ForAll("pairs") BroadcastPair p, @ForAll Layout la, @ForAll Layout lb, @ForAll long seed) {
        Generator g = new Generator(seed);
        boolean[] bits = new boolean[java.util.Arrays.stream(p.out()).reduce(1, (x, y) -> x * y)];
        for (int i = 0; i < bits.length; i++) bits[i] = g.nextDouble() < 0.5;
        Tensor cond = Tensor.fromArray(bits, p.out());
        Tensor a = t(p.a(), DEFAULT, la, seed), b = t(p.b(), DEFAULT, lb, seed + 1);
        GradCheck.of(in -> Tensor.where(cond, in[0], in[1])).name("where " + p).verify(a, b);
        Tensor big = t(p.out(), DEFAULT, la, seed + 2);
        Tensor mask = Tensor.fromArray(java.util.Arrays.copyOf(bits, bits.length), p.out());
        GradCheck.of(in -> in[0].maskedFill(mask, -1e9).softmax(-1)).name("maskedFill").verify(big.rank() == 0 ? big.reshape(1).detach().requiresGrad(true) : big);
    }

    // ---- losses ---------------------------------------------------------------------------

    @Property(tries = 40)
    @GradCheckFor("crossEntropy")
    void crossEntropy(@ForAll Layout layout, @ForAll CrossEntropy.Reduction reduction, @ForAll boolean smooth, @ForAll boolean useIgnore, @ForAll long seed) {
        Generator g = new Generator(seed);
        int n = 1 + (int) g.nextLong(4), v = 2 + (int) g.nextLong(4);
        long[] targets = new long[n];
        for (int i = 0; i < n; i++) targets[i] = g.nextLong(v);
        if (useIgnore && n > 1) targets[(int) g.nextLong(n)] = -100;
        Tensor tg = Tensor.fromArray(targets, n);
        Tensor logits = t(new int[] {n, v}, Values.between(-3, 3), layout, seed);
        double s = smooth ? 0.1 : 0.0;
        GradCheck.of(in -> in[0].crossEntropy(tg, -100, s, reduction)).name("crossEntropy " + reduction + " smoothing " + s).verify(logits);
    }
}
