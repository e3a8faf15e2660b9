package dev.tessera.examples.bench;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.function.Supplier;

/**
 * libtorch (2.7.1, CPU) through DJL, offline: the native library comes from the
 * pytorch-native-cpu jar on the class path and is extracted once into the cache directory;
 * nothing is downloaded. Loaded reflectively by {@link CpuBench} so that a missing or broken DJL
 * only removes the reference column.
 */
public final class TorchReference implements ReferenceOps {
    private final Engine engine;
    private final NDManager base;
    private final int threads;
    private PtSymbolBlock tanhGelu; // loaded on first use (see TanhGeluScript)

    /**
     * Sets DJL's offline and cache properties and the libtorch thread counts, then loads the
     * engine. Must run before anything else touches DJL in this JVM.
     */
    public TorchReference(Path cacheDir, int threads) {
        System.setProperty("ai.djl.offline", "true");
        System.setProperty("DJL_CACHE_DIR", cacheDir.toAbsolutePath().toString());
        System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
        System.setProperty("ai.djl.pytorch.num_interop_threads", Integer.toString(threads));
        this.engine = Engine.getEngine("PyTorch");
        this.threads = threads;
        if (JniUtils.getNumThreads() != threads) JniUtils.setNumThreads(threads);
        this.base = NDManager.newBaseManager(Device.cpu(), "PyTorch");
    }

    @Override
    public void setThreads(int n) {
        if (JniUtils.getNumThreads() != n) JniUtils.setNumThreads(n);
    }

    @Override
    public String describe() {
        return "libtorch " + engine.getVersion() + " (DJL " + Engine.getDjlVersion() + "), " + JniUtils.getNumThreads()
                + " intra-op threads (asked " + threads + "), " + JniUtils.getNumInteropThreads() + " inter-op";
    }

    private NDArray array(float[] data, long... shape) { return base.create(data, new Shape(shape)); }

    /** A prepared op: each run attaches the inputs to a sub-manager so its outputs are freed when it closes. */
    private BenchOp op(Supplier<NDArray> body, NDArray... inputs) {
        return new BenchOp() {
            @Override
            public void run() { once(false); }

            @Override
            public float[] output() { return once(true); }

            private float[] once(boolean keep) {
                try (NDManager sub = base.newSubManager()) {
                    for (NDArray in : inputs) in.tempAttach(sub);
                    NDArray out = body.get();
                    return keep && out != null ? out.toFloatArray() : null;
                }
            }

            @Override
            public void close() {
                for (NDArray in : inputs) in.close();
            }
        };
    }

    /** A prepared forward-and-backward op: each run records {@code loss} under a gradient collector and backpropagates it. */
    private BenchOp backward(Supplier<NDArray> loss, NDArray... inputs) {
        return op(() -> {
            try (GradientCollector gc = engine.newGradientCollector()) {
                gc.backward(loss.get());
            }
            return null;
        }, inputs);
    }

    @Override
    public BenchOp matmul(float[] a, int m, int k, boolean aTransposed, float[] b, int n, boolean bTransposed) {
        NDArray aStored = aTransposed ? array(a, k, m) : array(a, m, k);
        NDArray bStored = bTransposed ? array(b, n, k) : array(b, k, n);
        return op(() -> {
            NDArray av = aTransposed ? aStored.transpose() : aStored;
            NDArray bv = bTransposed ? bStored.transpose() : bStored;
            return av.matMul(bv);
        }, aStored, bStored);
    }

    @Override
    public BenchOp softmax(float[] x, int rows, int cols) {
        NDArray xa = array(x, rows, cols);
        return op(() -> xa.softmax(-1), xa);
    }

    @Override
    public BenchOp softmaxForwardBackward(float[] x, float[] g, int rows, int cols) {
        NDArray xa = array(x, rows, cols), ga = array(g, rows, cols);
        xa.setRequiresGradient(true);
        return backward(() -> xa.softmax(-1).mul(ga), xa, ga);
    }

    @Override
    public BenchOp layerNorm(float[] x, int rows, int cols, float[] weight, float[] bias) {
        NDArray xa = array(x, rows, cols), w = array(weight, cols), b = array(bias, cols);
        return op(() -> LayerNorm.layerNorm(xa, new Shape(cols), w, b, 1e-5f).singletonOrThrow(), xa, w, b);
    }

    @Override
    public BenchOp layerNormForwardBackward(float[] x, float[] g, int rows, int cols, float[] weight, float[] bias) {
        NDArray xa = array(x, rows, cols), ga = array(g, rows, cols), w = array(weight, cols), b = array(bias, cols);
        xa.setRequiresGradient(true);
        w.setRequiresGradient(true);
        b.setRequiresGradient(true);
        return backward(() -> LayerNorm.layerNorm(xa, new Shape(cols), w, b, 1e-5f).singletonOrThrow().mul(ga), xa, ga, w, b);
    }

    @Override
    public BenchOp neg(float[] x, int rows, int cols) {
        NDArray xa = array(x, rows, cols);
        return op(xa::neg, xa);
    }

    @Override
    public BenchOp gelu(float[] x, int rows, int cols) {
        NDArray xa = array(x, rows, cols);
        return op(() -> Activation.gelu(xa), xa);
    }

    @Override
    public BenchOp geluForwardBackward(float[] x, float[] g, int rows, int cols) {
        NDArray xa = array(x, rows, cols), ga = array(g, rows, cols);
        xa.setRequiresGradient(true);
        return backward(() -> Activation.gelu(xa).mul(ga), xa, ga);
    }

    /** libtorch's gelu(x, approximate="tanh") through a TorchScript module built in memory. */
    private NDArray tanhGelu(NDArray x, boolean training) {
        if (tanhGelu == null) {
            try {
                tanhGelu = JniUtils.loadModule((PtNDManager) base, new ByteArrayInputStream(TanhGeluScript.archive()), true, false);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException("libtorch could not load the tanh-GELU TorchScript module", e);
            }
        }
        return tanhGelu.forward(new ParameterStore(base, false), new NDList(x), training).singletonOrThrow();
    }

    @Override
    public BenchOp geluTanh(float[] x, int rows, int cols) {
        NDArray xa = array(x, rows, cols);
        return op(() -> tanhGelu(xa, false), xa);
    }

    @Override
    public BenchOp geluTanhForwardBackward(float[] x, float[] g, int rows, int cols) {
        NDArray xa = array(x, rows, cols), ga = array(g, rows, cols);
        xa.setRequiresGradient(true);
        return backward(() -> tanhGelu(xa, true).mul(ga), xa, ga);
    }

    private NDArray targets(int[] targets) {
        long[] t = new long[targets.length];
        for (int i = 0; i < t.length; i++) t[i] = targets[i];
        return base.create(t, new Shape(t.length, 1));
    }

    @Override
    public BenchOp crossEntropy(float[] logits, int rows, int cols, int[] targets) {
        NDArray xa = array(logits, rows, cols), t = targets(targets);
        return op(() -> xa.logSoftmax(-1).gather(t, 1).neg(), xa, t);
    }

    @Override
    public BenchOp crossEntropyForwardBackward(float[] logits, int rows, int cols, int[] targets) {
        NDArray xa = array(logits, rows, cols), t = targets(targets);
        xa.setRequiresGradient(true);
        return backward(() -> xa.logSoftmax(-1).gather(t, 1).neg().mean(), xa, t);
    }

    @Override
    public BenchOp adamw(float[][] params, float[][] grads) {
        int n = params.length;
        NDArray[] all = new NDArray[4 * n];
        for (int i = 0; i < n; i++) {
            all[4 * i] = array(params[i], params[i].length);
            all[4 * i + 1] = array(grads[i], grads[i].length);
            all[4 * i + 2] = base.zeros(new Shape(params[i].length));
            all[4 * i + 3] = base.zeros(new Shape(params[i].length));
        }
        int[] step = {0};
        return op(() -> {
            step[0]++;
            float lr = 6e-4f, b1 = 0.9f, b2 = 0.95f;
            float biasCorrection = (float) (Math.sqrt(1 - Math.pow(b2, step[0])) / (1 - Math.pow(b1, step[0])));
            for (int i = 0; i < n; i++) {
                JniUtils.adamUpdate((PtNDArray) all[4 * i], (PtNDArray) all[4 * i + 1], (PtNDArray) all[4 * i + 2], (PtNDArray) all[4 * i + 3],
                        lr, biasCorrection, 0.1f, 1f, -1f, b1, b2, 1e-8f, true);
            }
            return null;
        }, all);
    }

    @Override
    public BenchOp mlpForwardBackward(float[] x, int rows, int in, int hidden, float[] w1, float[] b1, float[] w2, float[] b2, float[] g) {
        NDArray xa = array(x, rows, in), w1a = array(w1, in, hidden), b1a = array(b1, hidden), w2a = array(w2, hidden, in),
                b2a = array(b2, in), ga = array(g, rows, in);
        for (NDArray p : new NDArray[] {xa, w1a, b1a, w2a, b2a}) p.setRequiresGradient(true);
        return backward(() -> {
            NDArray h = tanhGelu(xa.matMul(w1a).add(b1a), true); // GPT-2's GELU, as Tessera's side
            return h.matMul(w2a).add(b2a).mul(ga).sum();
        }, xa, w1a, b1a, w2a, b2a, ga);
    }

    @Override
    public String note(String kind) {
        return switch (kind) {
            case "gelu-tanh" -> "torch: gelu(approximate='tanh') in a TorchScript module";
            case "fwdbwd" -> "torch: autograd, backward of sum(y * g)";
            case "ce" -> "torch: log_softmax + gather";
            case "adamw" -> "torch: DJL adamUpdate (adamw) per buffer";
            default -> "";
        };
    }

    @Override
    public void close() {
        if (tanhGelu != null) tanhGelu.close();
        base.close();
    }
}
