package dev.tessera.gpu;

import static dev.tessera.gpu.OpenClTestSupport.DEV;
import static dev.tessera.gpu.OpenClTestSupport.dev;
import static dev.tessera.gpu.OpenClTestSupport.host;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.tensor.Backend;
import dev.tessera.tensor.BinaryOp;
import dev.tessera.tensor.CrossEntropyResult;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Device;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.NormGrads;
import dev.tessera.tensor.NormResult;
import dev.tessera.tensor.ReduceOp;
import dev.tessera.tensor.ReferenceBackend;
import dev.tessera.tensor.UnaryOp;
import dev.tessera.tensor.testing.Approx;
import dev.tessera.tensor.testing.Approx.Tolerance;
import dev.tessera.tensor.testing.RandomArrays;
import dev.tessera.tensor.testing.RandomArrays.Layout;
import dev.tessera.tensor.testing.RandomArrays.ViewCase;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Every primitive of the OpenCL backend against the scalar ReferenceBackend on random inputs: odd
 * sizes (1, 3, 17, 33, 65, 129: multiples of no tile), and contiguous, permuted, sliced and stride-0
 * expanded views uploaded with the same strides.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpenClParityTest {
    private static final Backend REF = ReferenceBackend.INSTANCE;
    private static final Tolerance F32 = Tolerance.of(2e-5, 2e-6);
    private static final Tolerance F64 = Tolerance.of(1e-12, 1e-13);
    private OpenClBackend ocl;

    @BeforeAll
    void setUp() { ocl = OpenClTestSupport.requireDevice(); }

    private static NDArray onDevice(ViewCase c) { return c.on(b -> b.to(DEV)); }

    private static int[] oddShape(Generator g, int maxRank) { return RandomArrays.oddShape(g, 1, maxRank, 129, 3000); }

    private static Tolerance tol(DType t) { return t == DType.F64 ? F64 : F32; }

    // ---- copies, assign, fill ----------------------------------------------------------------

    @Test
    void copyConvertsEveryDtypePairFromAnyView() {
        Generator g = new Generator(1);
        DType[] all = DType.values();
        for (DType from : all) {
            for (DType to : all) {
                ViewCase c = RandomArrays.anyView(g, RandomArrays.random(g, from, oddShape(g, 3)));
                NDArray expected = REF.copy(c.array(), to);
                NDArray actual = host(ocl.copy(onDevice(c), to));
                Approx.assertExact("copy " + from + " -> " + to + " of " + c, expected, actual);
            }
        }
    }

    @Test
    void halfConversionsRoundToNearestEven() {
        // values near half-way points and beyond the F16 range
        double[] v = {1.0009765625, 1.00048828125, 65519.0, 65520.0, 1e-8, -3.0e-5, 1.00390625, 1.005859375, 3.4e38, Double.NaN};
        for (DType src : new DType[] {DType.F32, DType.F64}) {
            NDArray x = NDArray.fromArray(src, v, v.length);
            for (DType to : new DType[] {DType.BF16, DType.F16}) {
                Approx.assertExact(src + " -> " + to, REF.copy(x, to), host(ocl.copy(dev(x), to)));
            }
        }
    }

    @Test
    void assignBroadcastsIntoStridedViewsAndHandlesOverlap() {
        Generator g = new Generator(2);
        for (int trial = 0; trial < 12; trial++) {
            DType t = trial % 3 == 0 ? DType.I64 : trial % 3 == 1 ? DType.F32 : DType.BF16;
            int[] shape = oddShape(g, 3);
            ViewCase dst = RandomArrays.view(g, RandomArrays.random(g, t, shape), RandomArrays.sameValuesLayout(g));
            ViewCase src = RandomArrays.anyView(g, RandomArrays.random(g, DType.F32, RandomArrays.broadcastPartner(g, shape)));
            NDArray refDst = dst.copy().array();
            NDArray srcCpu = src.array();
            refDst.assign(srcCpu);
            NDArray devBase = dst.base().to(DEV);
            NDArray devDst = dst.view().apply(devBase);
            devDst.assign(onDevice(src));
            Approx.assertExact("assign " + src + " into " + dst, refDst, host(devDst));
        }
        // overlapping: shift a row left by one inside the same storage
        NDArray a = RandomArrays.random(new Generator(3), DType.F32, 5, 17);
        NDArray d = dev(a);
        NDArray expected = a.copy();
        expected.narrow(1, 0, 16).assign(a.copy().narrow(1, 1, 16));
        d.narrow(1, 0, 16).assign(d.narrow(1, 1, 16));
        Approx.assertExact("overlapping assign", expected, host(d));
    }

    @Test
    void fillSetsEveryDtypeThroughViews() {
        Generator g = new Generator(4);
        for (DType t : DType.values()) {
            ViewCase c = RandomArrays.view(g, RandomArrays.random(g, t, 7, 9), Layout.SLICED);
            NDArray ref = c.copy().array();
            REF.fill(ref, -2.75);
            NDArray base = c.base().to(DEV);
            ocl.fill(c.view().apply(base), -2.75);
            NDArray refBase = ReferenceBackend.INSTANCE.copy(c.base(), t);
            REF.fill(c.view().apply(refBase), -2.75);
            Approx.assertExact("fill " + t + " (whole storage: the slice and the junk around it)", refBase, host(base));
        }
    }

    // ---- elementwise ----------------------------------------------------------------------------

    private static boolean positiveOnly(UnaryOp op) {
        return op == UnaryOp.LOG || op == UnaryOp.SQRT || op == UnaryOp.RSQRT || op == UnaryOp.POW;
    }

    private static ViewCase unaryInput(Generator g, UnaryOp op, DType t, int[] shape) {
        NDArray values = positiveOnly(op) ? RandomArrays.uniform(g, t, 0.1, 3, shape) : RandomArrays.random(g, t, shape);
        return RandomArrays.anyView(g, values);
    }

    @Test
    void unaryOpsMatchForFloatsAndIntegers() {
        Generator g = new Generator(5);
        for (DType t : new DType[] {DType.F32, DType.F64}) {
            for (UnaryOp op : UnaryOp.values()) {
                ViewCase c = unaryInput(g, op, t, oddShape(g, 3));
                double p = op == UnaryOp.POW ? 2.5 : 0;
                Approx.assertClose(op + " " + t + " " + c, REF.unary(op, c.array(), p), host(ocl.unary(op, onDevice(c), p)), tol(t));
            }
        }
        for (DType t : new DType[] {DType.I32, DType.I64}) {
            for (UnaryOp op : new UnaryOp[] {UnaryOp.NEG, UnaryOp.ABS, UnaryOp.RELU}) {
                ViewCase c = RandomArrays.anyView(g, RandomArrays.random(g, t, oddShape(g, 3)));
                Approx.assertExact(op + " " + t, REF.unary(op, c.array(), 0), host(ocl.unary(op, onDevice(c), 0)));
            }
        }
    }

    @Test
    void unaryBackwardIncludingGeluMatches() {
        Generator g = new Generator(6);
        for (DType t : new DType[] {DType.F32, DType.F64}) {
            for (UnaryOp op : UnaryOp.values()) {
                int[] shape = oddShape(g, 3);
                ViewCase x = unaryInput(g, op, t, shape);
                ViewCase gy = RandomArrays.anyView(g, RandomArrays.random(g, t, shape));
                double p = op == UnaryOp.POW ? 1.5 : 0;
                Approx.assertClose(op + " backward " + t, REF.unaryBackward(op, x.array(), gy.array(), p),
                        host(ocl.unaryBackward(op, onDevice(x), onDevice(gy), p)), tol(t));
            }
        }
    }

    @Test
    void binaryOpsBroadcastOverViews() {
        Generator g = new Generator(7);
        for (DType t : new DType[] {DType.F32, DType.F64, DType.I32, DType.I64, DType.BOOL}) {
            for (BinaryOp op : BinaryOp.values()) {
                if (t == DType.BOOL && !op.isComparison()) continue;
                if (!t.isFloating() && (op == BinaryOp.DIV || op == BinaryOp.POW)) continue;
                int[] shape = oddShape(g, 3);
                int[] partner = RandomArrays.broadcastPartner(g, shape);
                int[] out = dev.tessera.tensor.Shapes.broadcast("test", shape, partner);
                NDArray av = op == BinaryOp.POW ? RandomArrays.uniform(g, t, 0.2, 2, shape) : RandomArrays.random(g, t, shape);
                ViewCase a = RandomArrays.anyView(g, av);
                ViewCase b = RandomArrays.anyView(g, RandomArrays.random(g, t, partner));
                NDArray expected = REF.binary(op, a.array().expand(out), b.array().expand(out));
                NDArray actual = host(ocl.binary(op, onDevice(a).expand(out), onDevice(b).expand(out)));
                if (t.isFloating()) Approx.assertClose(op + " " + t, expected, actual, tol(t));
                else Approx.assertExact(op + " " + t, expected, actual);
            }
        }
    }

    @Test
    void binaryWithScalarAndWhere() {
        Generator g = new Generator(8);
        for (DType t : new DType[] {DType.F32, DType.I32, DType.I64, DType.F64}) {
            for (BinaryOp op : BinaryOp.values()) {
                if (!t.isFloating() && (op == BinaryOp.DIV || op == BinaryOp.POW)) continue;
                double s = !t.isFloating() && !op.isComparison() ? 7 : 0.5;
                ViewCase a = RandomArrays.anyView(g, op == BinaryOp.POW ? RandomArrays.uniform(g, t, 0.2, 2, 5, 33) : RandomArrays.random(g, t, 5, 33));
                NDArray expected = REF.binaryScalar(op, a.array(), s);
                NDArray actual = host(ocl.binaryScalar(op, onDevice(a), s));
                if (t.isFloating() && !op.isComparison()) Approx.assertClose(op + " scalar " + t, expected, actual, tol(t));
                else Approx.assertExact(op + " scalar " + t, expected, actual);
            }
        }
        for (DType t : new DType[] {DType.F32, DType.I64, DType.BOOL}) {
            ViewCase c = RandomArrays.anyView(g, RandomArrays.random(g, DType.BOOL, 17, 3));
            ViewCase a = RandomArrays.anyView(g, RandomArrays.random(g, t, 17, 3));
            NDArray b = RandomArrays.random(g, t, 3);
            Approx.assertExact("where " + t, REF.where(c.array(), a.array(), b.expand(17, 3)),
                    host(ocl.where(onDevice(c), onDevice(a), dev(b).expand(17, 3))));
        }
    }

    // ---- reductions ---------------------------------------------------------------------------

    private static int[] randomDims(Generator g, int rank) {
        int[] pick = new int[rank];
        int n = 0;
        for (int d = 0; d < rank; d++) if (g.nextLong(2) == 0) pick[n++] = d;
        if (n == 0) pick[n++] = (int) g.nextLong(rank);
        return Arrays.copyOf(pick, n);
    }

    @Test
    void reductionsOverAnyDims() {
        Generator g = new Generator(9);
        for (int trial = 0; trial < 8; trial++) {
            for (ReduceOp op : ReduceOp.values()) {
                for (DType t : new DType[] {DType.F32, DType.F64, DType.I32, DType.I64}) {
                    if (!t.isFloating() && (op == ReduceOp.MEAN || op == ReduceOp.VAR)) continue;
                    ViewCase c = RandomArrays.anyView(g, RandomArrays.random(g, t, oddShape(g, 4)));
                    int[] dims = randomDims(g, c.array().rank());
                    boolean keep = g.nextLong(2) == 0;
                    NDArray expected = REF.reduce(op, c.array(), dims, keep);
                    NDArray actual = host(ocl.reduce(op, onDevice(c), dims, keep));
                    String what = op + " " + t + " dims " + Arrays.toString(dims) + " of " + c;
                    if (t.isFloating()) Approx.assertClose(what, expected, actual, t == DType.F64 ? Tolerance.normwise(1e-12, 1e-12) : Tolerance.normwise(1e-5, 1e-5));
                    else Approx.assertExact(what, expected, actual);
                }
            }
        }
    }

    @Test
    void longRowsAreReducedInTwoStages() {
        Generator g = new Generator(31);
        int saved = ocl.twoStageMinRow;
        try {
            ocl.twoStageMinRow = 1000;
            for (DType t : new DType[] {DType.F32, DType.F64, DType.I32, DType.I64}) {
                for (ReduceOp op : new ReduceOp[] {ReduceOp.SUM, ReduceOp.MEAN, ReduceOp.MAX, ReduceOp.MIN}) {
                    if (!t.isFloating() && op == ReduceOp.MEAN) continue;
                    ViewCase c = RandomArrays.anyView(g, RandomArrays.random(g, t, 3, 129, 41));
                    for (int[] dims : new int[][] {{0, 1, 2}, {1, 2}, {0, 2}}) {
                        NDArray expected = REF.reduce(op, c.array(), dims, false);
                        NDArray actual = host(ocl.reduce(op, onDevice(c), dims, false));
                        String what = "two-stage " + op + " " + t + " dims " + Arrays.toString(dims) + " of " + c;
                        if (t.isFloating()) Approx.assertClose(what, expected, actual, t == DType.F64 ? Tolerance.normwise(1e-12, 1e-12) : Tolerance.normwise(1e-5, 1e-5));
                        else Approx.assertExact(what, expected, actual);
                    }
                }
            }
        } finally {
            ocl.twoStageMinRow = saved;
        }
    }

    @Test
    void argmaxArgminTakeTheFirstExtreme() {
        Generator g = new Generator(10);
        for (int trial = 0; trial < 10; trial++) {
            DType t = trial % 2 == 0 ? DType.F32 : DType.I32;
            // integers in a small range make ties common
            ViewCase c = RandomArrays.anyView(g, RandomArrays.integers(g, t, -3, 4, oddShape(g, 3)));
            int dim = (int) g.nextLong(c.array().rank());
            for (boolean max : new boolean[] {true, false}) {
                Approx.assertExact((max ? "argmax " : "argmin ") + t + " dim " + dim + " of " + c, REF.argReduce(max, c.array(), dim, trial % 3 == 0),
                        host(ocl.argReduce(max, onDevice(c), dim, trial % 3 == 0)));
            }
        }
    }

    // ---- softmax and norms -------------------------------------------------------------------

    @Test
    void softmaxAndLogSoftmaxForwardBackward() {
        Generator g = new Generator(11);
        for (int trial = 0; trial < 8; trial++) {
            DType t = trial == 7 ? DType.F64 : DType.F32;
            int[] shape = oddShape(g, 3);
            ViewCase x = RandomArrays.anyView(g, RandomArrays.random(g, t, shape));
            ViewCase gy = RandomArrays.anyView(g, RandomArrays.random(g, t, shape));
            for (boolean log : new boolean[] {false, true}) {
                NDArray y = REF.softmax(x.array(), log);
                NDArray yd = ocl.softmax(onDevice(x), log);
                Approx.assertClose("softmax log=" + log + " " + x, y, host(yd), tol(t));
                Approx.assertClose("softmax backward log=" + log, REF.softmaxBackward(y, gy.array(), log),
                        host(ocl.softmaxBackward(dev(y), onDevice(gy), log)), Tolerance.normwise(1e-5, 1e-6));
            }
        }
    }

    @Test
    void layerNormAndRmsNormForwardBackward() {
        Generator g = new Generator(12);
        for (int trial = 0; trial < 8; trial++) {
            DType t = trial == 7 ? DType.F64 : DType.F32;
            int[] shape = oddShape(g, 3);
            int c = shape[shape.length - 1];
            ViewCase x = RandomArrays.anyView(g, RandomArrays.random(g, t, shape));
            ViewCase gy = RandomArrays.anyView(g, RandomArrays.random(g, t, shape));
            NDArray w = trial % 3 == 2 ? null : RandomArrays.random(g, t, c);
            NDArray b = trial % 2 == 1 ? null : RandomArrays.random(g, t, c);
            NDArray wd = w == null ? null : dev(w), bd = b == null ? null : dev(b);
            Tolerance tl = t == DType.F64 ? Tolerance.normwise(1e-11, 1e-12) : Tolerance.normwise(2e-5, 2e-5);
            String what = "layerNorm " + x + (w == null ? " no weight" : "") + (b == null ? " no bias" : "");

            NormResult r = REF.layerNorm(x.array(), w, b, 1e-5);
            NormResult rd = ocl.layerNorm(onDevice(x), wd, bd, 1e-5);
            Approx.assertClose(what, r.out(), host(rd.out()), tl);
            Approx.assertClose(what + " mean", r.mean(), host(rd.mean()), tl);
            Approx.assertClose(what + " rstd", r.rstd(), host(rd.rstd()), tl);
            NormGrads gr = REF.layerNormBackward(gy.array(), x.array(), r.mean(), r.rstd(), w, b != null);
            NormGrads gd = ocl.layerNormBackward(onDevice(gy), onDevice(x), rd.mean(), rd.rstd(), wd, bd != null);
            Approx.assertClose(what + " dx", gr.input(), host(gd.input()), tl);
            if (w != null) Approx.assertClose(what + " dweight", gr.weight(), host(gd.weight()), tl); else assertNull(gd.weight());
            if (b != null) Approx.assertClose(what + " dbias", gr.bias(), host(gd.bias()), tl); else assertNull(gd.bias());

            NormResult rr = REF.rmsNorm(x.array(), w, 1e-6);
            NormResult rrd = ocl.rmsNorm(onDevice(x), wd, 1e-6);
            Approx.assertClose("rmsNorm " + x, rr.out(), host(rrd.out()), tl);
            Approx.assertClose("rmsNorm rstd", rr.rstd(), host(rrd.rstd()), tl);
            NormGrads rg = REF.rmsNormBackward(gy.array(), x.array(), rr.rstd(), w);
            NormGrads rgd = ocl.rmsNormBackward(onDevice(gy), onDevice(x), rrd.rstd(), wd);
            Approx.assertClose("rmsNorm dx", rg.input(), host(rgd.input()), tl);
            if (w != null) Approx.assertClose("rmsNorm dweight", rg.weight(), host(rgd.weight()), tl);
        }
    }

    // ---- matmul -------------------------------------------------------------------------------

    @Test
    void gemmHandlesOddSizesTransposesAndBroadcastBatches() {
        int saved = ocl.gemmTile();
        try {
            for (int tile : new int[] {64, 128}) {
                ocl.setGemmTile(tile);
                gemmCases(tile);
            }
        } finally {
            ocl.setGemmTile(saved);
        }
    }

    private void gemmCases(int tile) {
        Generator g = new Generator(13 + tile);
        int[] sizes = {1, 3, 17, 65, 129};
        for (int trial = 0; trial < 14; trial++) {
            DType t = trial >= 12 ? DType.F64 : DType.F32;
            int m = sizes[(int) g.nextLong(sizes.length)], k = sizes[(int) g.nextLong(sizes.length)], n = sizes[(int) g.nextLong(sizes.length)];
            int batch = trial % 3 == 0 ? 1 : 1 + (int) g.nextLong(3);
            NDArray a = RandomArrays.random(g, t, batch, m, k), b = RandomArrays.random(g, t, batch, k, n);
            // transposed operands: store the transpose and view it back (last two strides swapped)
            boolean ta = trial % 2 == 1, tb = trial % 4 >= 2;
            NDArray aBase = ta ? a.mT().contiguous() : a, bBase = tb ? b.mT().contiguous() : b;
            NDArray ad = ta ? dev(aBase).mT() : dev(aBase), bd = tb ? dev(bBase).mT() : dev(bBase);
            if (trial % 5 == 4) { // stride-0 batch: one B shared by every batch entry
                b = b.narrow(0, 0, 1).expand(batch, k, n);
                bd = bd.narrow(0, 0, 1).expand(batch, k, n);
            }
            NDArray expected = REF.matmul(a, b);
            NDArray actual = host(ocl.matmul(ad, bd));
            Approx.assertClose("matmul tile " + tile + " " + t + " [" + batch + "," + m + "," + k + "]@[" + k + "," + n + "] ta=" + ta + " tb=" + tb, expected, actual,
                    t == DType.F64 ? Tolerance.normwise(1e-12, 1e-12) : Tolerance.normwise(1e-5, 1e-5));
        }
        // a sliced (non-unit inner stride) operand and a 4-D batch
        NDArray a = RandomArrays.random(g, DType.F32, 2, 3, 33, 40), b = RandomArrays.random(g, DType.F32, 2, 3, 17, 5);
        NDArray as = a.slice(3, 0, 40, 2), bs = b;  // [2, 3, 33, 20] with inner stride 2
        NDArray bk = RandomArrays.random(g, DType.F32, 2, 3, 20, 5);
        Approx.assertClose("matmul sliced", REF.matmul(as, bk), host(ocl.matmul(dev(a).slice(3, 0, 40, 2), dev(bk))), Tolerance.normwise(1e-5, 1e-5));
        assertEquals(4, bs.rank());
    }

    // ---- indexing -------------------------------------------------------------------------------

    @Test
    void gatherIndexSelectAndTheirScatterInverses() {
        Generator g = new Generator(14);
        for (int trial = 0; trial < 8; trial++) {
            DType t = trial % 4 == 3 ? DType.I64 : DType.F32;
            DType it = trial % 2 == 0 ? DType.I32 : DType.I64;
            ViewCase x = RandomArrays.view(g, RandomArrays.random(g, t, 17, 5, 3), RandomArrays.layout(g));
            int dim = trial % 3;
            int dimSize = x.array().size(dim);
            int[] ishape = x.array().shape();
            ishape[dim] = 1 + (int) g.nextLong(40);
            NDArray index = RandomArrays.integers(g, it, 0, dimSize, ishape);
            Approx.assertExact("gather dim " + dim, REF.gather(x.array(), dim, index), host(ocl.gather(onDevice(x), dim, dev(index))));

            NDArray index1 = RandomArrays.integers(g, it, 0, dimSize, 23);
            Approx.assertExact("indexSelect dim " + dim, REF.indexSelect(x.array(), dim, index1), host(ocl.indexSelect(onDevice(x), dim, dev(index1))));

            NDArray src = RandomArrays.random(g, t, ishape);
            NDArray refDst = x.copy().array();
            REF.scatterAddInPlace(refDst, dim, index, src);
            NDArray dBase = x.base().to(DEV);
            ocl.scatterAddInPlace(x.view().apply(dBase), dim, dev(index), dev(src));
            Approx.assertClose("scatterAdd dim " + dim, refDst, host(x.view().apply(dBase)), tol(t));

            int[] sshape = x.array().shape();
            sshape[dim] = 23;
            NDArray src1 = RandomArrays.random(g, t, sshape);
            NDArray refDst1 = x.copy().array();
            REF.indexAddInPlace(refDst1, dim, index1, src1);
            NDArray dBase1 = x.base().to(DEV);
            ocl.indexAddInPlace(x.view().apply(dBase1), dim, dev(index1), dev(src1));
            Approx.assertClose("indexAdd dim " + dim, refDst1, host(x.view().apply(dBase1)), tol(t));
        }
        // an embedding lookup and its backward (index_add into the table gradient), GPT-2-like shape
        NDArray table = RandomArrays.random(g, DType.F32, 101, 24);
        NDArray ids = RandomArrays.integers(g, DType.I64, 0, 101, 4, 9);
        Approx.assertExact("embedding", table.embedding(ids), host(dev(table).embedding(dev(ids))));
    }

    @Test
    void badIndicesAreReportedNotIgnored() {
        NDArray x = dev(RandomArrays.random(15, DType.F32, 5, 4));
        NDArray bad = dev(NDArray.fromArray(new long[] {0, 7, 2}, 3));
        IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> ocl.indexSelect(x, 0, bad));
        assertTrue(e.getMessage().contains("indexSelect") && e.getMessage().contains("7"), e.getMessage());
        NDArray neg = dev(NDArray.fromArray(new int[] {-1, 0, 0, 0}, 1, 4));
        assertThrows(IndexOutOfBoundsException.class, () -> ocl.gather(x, 0, neg));
    }

    @Test
    void triangleKeepsTheRightDiagonals() {
        Generator g = new Generator(16);
        for (int k : new int[] {-2, 0, 1, 5}) {
            for (boolean upper : new boolean[] {false, true}) {
                ViewCase x = RandomArrays.anyView(g, RandomArrays.random(g, k == 1 ? DType.I64 : DType.F32, 3, 17, 9));
                Approx.assertExact("triangle k=" + k + " upper=" + upper, REF.triangle(x.array(), k, upper), host(ocl.triangle(onDevice(x), k, upper)));
            }
        }
    }

    // ---- fused training kernels ----------------------------------------------------------------

    @Test
    void crossEntropyWithIgnoreIndexAndSmoothing() {
        Generator g = new Generator(17);
        for (int trial = 0; trial < 6; trial++) {
            DType t = trial == 5 ? DType.F64 : DType.F32;
            int n = RandomArrays.ODD_SIZES[trial % RandomArrays.ODD_SIZES.length], v = 1 + (int) g.nextLong(300);
            ViewCase logits = RandomArrays.view(g, RandomArrays.random(g, t, n, v), RandomArrays.sameValuesLayout(g));
            long[] tg = new long[n];
            for (int i = 0; i < n; i++) tg[i] = i % 4 == 1 ? -100 : g.nextLong(v);
            NDArray targets = trial % 2 == 0 ? NDArray.fromArray(tg, n) : NDArray.fromArray(Arrays.stream(tg).mapToInt(x -> (int) x).toArray(), n);
            double smoothing = trial % 3 == 0 ? 0.0 : 0.1;
            CrossEntropyResult r = REF.crossEntropy(logits.array(), targets, -100, smoothing);
            CrossEntropyResult rd = ocl.crossEntropy(onDevice(logits), dev(targets), -100, smoothing);
            Tolerance tl = t == DType.F64 ? Tolerance.normwise(1e-12, 1e-12) : Tolerance.normwise(1e-5, 1e-5);
            Approx.assertClose("ce loss", r.loss(), host(rd.loss()), tl);
            Approx.assertClose("ce lse", r.logSumExp(), host(rd.logSumExp()), tl);
            assertEquals(r.validCount(), rd.validCount(), "valid rows");
            double scale = 1.0 / Math.max(1, r.validCount());
            Approx.assertClose("ce backward", REF.crossEntropyBackward(logits.array(), targets, r.logSumExp(), -100, smoothing, scale),
                    host(ocl.crossEntropyBackward(onDevice(logits), dev(targets), rd.logSumExp(), -100, smoothing, scale)), tl);
        }
        // a row of -inf logits: log-sum-exp -inf, loss NaN (0 when ignored), as the reference
        double inf = Double.NEGATIVE_INFINITY;
        NDArray special = NDArray.fromArray(DType.F32, new double[] {inf, inf, inf, 1, 2, 3, inf, inf, inf}, 3, 3);
        NDArray st = NDArray.fromArray(new long[] {0, 2, -100}, 3);
        CrossEntropyResult rs = REF.crossEntropy(special, st, -100, 0.0), ds = ocl.crossEntropy(dev(special), dev(st), -100, 0.0);
        Approx.assertClose("ce loss, -inf rows", rs.loss(), host(ds.loss()), Tolerance.of(1e-6, 1e-6));
        Approx.assertClose("ce lse, -inf rows", rs.logSumExp(), host(ds.logSumExp()), Tolerance.of(1e-6, 1e-6));

        NDArray logits = dev(RandomArrays.random(18, DType.F32, 3, 5));
        IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                () -> ocl.crossEntropy(logits, dev(NDArray.fromArray(new long[] {1, 5, 0}, 3)), -100, 0));
        assertTrue(e.getMessage().contains("target 5"), e.getMessage());
    }

    @Test
    void adamwStepsMatch() {
        Generator g = new Generator(19);
        for (DType t : new DType[] {DType.F32, DType.F64}) {
            int n = 1000 + 3;
            NDArray p = RandomArrays.random(g, t, n), m = NDArray.zeros(t, n), v = NDArray.zeros(t, n);
            NDArray pd = dev(p), md = dev(m), vd = dev(v);
            for (int step = 1; step <= 5; step++) {
                ViewCase grad = RandomArrays.anyView(g, RandomArrays.random(g, t, n));
                REF.adamwStep(p, grad.array(), m, v, 1e-2, 0.9, 0.999, 1e-8, 0.01, step);
                ocl.adamwStep(pd, onDevice(grad), md, vd, 1e-2, 0.9, 0.999, 1e-8, 0.01, step);
            }
            Tolerance tl = t == DType.F64 ? Tolerance.of(1e-12, 1e-13) : Tolerance.of(1e-5, 1e-6);
            Approx.assertClose("adamw param " + t, p, host(pd), tl);
            Approx.assertClose("adamw m " + t, m, host(md), tl);
            Approx.assertClose("adamw v " + t, v, host(vd), tl);
        }
    }

    @Test
    void ndarrayLevelOpsRunOnTheDevice() {
        Generator g = new Generator(20);
        NDArray x = RandomArrays.random(g, DType.BF16, 7, 33);
        NDArray w = RandomArrays.random(g, DType.F32, 33, 5);
        NDArray expected = x.matmul(w).gelu().softmax(0).sum(true, 1);
        NDArray xd = dev(x), wd = dev(w);
        NDArray actual = xd.matmul(wd).gelu().softmax(0).sum(true, 1);
        assertEquals(DEV, actual.device());
        Approx.assertClose("bf16 @ f32 -> gelu -> softmax(dim 0) -> sum", expected, host(actual), Tolerance.normwise(1e-5, 1e-5));
        assertEquals(Device.CPU, host(actual).device());
    }
}
