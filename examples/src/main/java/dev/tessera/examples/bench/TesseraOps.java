package dev.tessera.examples.bench;

import dev.tessera.autograd.Tensor;
import dev.tessera.tensor.CpuStorage;
import dev.tessera.tensor.CrossEntropyResult;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.NormGrads;
import dev.tessera.tensor.NormResult;
import dev.tessera.tensor.UnaryOp;

/**
 * The Tessera side of {@code bench cpu}: the same operations as {@link ReferenceOps}, through
 * NDArray methods on the default CPU backend (and autograd for the MLP row). Outputs and
 * intermediates are closed once used, as libtorch frees its tensors, so their arrays are recycled
 * for the next call (see {@code CpuArrayPool}).
 */
final class TesseraOps {
    private TesseraOps() {}

    /** Wraps the row's data without copying (the reference side copies it into libtorch first). */
    private static NDArray arr(float[] data, int... shape) { return new NDArray(CpuStorage.wrap(DType.F32, data), shape); }

    private static BenchOp op(java.util.function.Supplier<NDArray> body) {
        return new BenchOp() {
            @Override
            public void run() {
                NDArray out = body.get();
                if (out != null) out.close();
            }

            @Override
            public float[] output() {
                NDArray out = body.get();
                if (out == null) return null;
                float[] values = out.toFloatArray();
                out.close();
                return values;
            }
        };
    }

    private static void closeAll(NDArray... arrays) {
        for (NDArray a : arrays) if (a != null) a.close();
    }

    static BenchOp matmul(float[] a, int m, int k, boolean aTransposed, float[] b, int n, boolean bTransposed) {
        NDArray av = aTransposed ? arr(a, k, m).mT() : arr(a, m, k);
        NDArray bv = bTransposed ? arr(b, n, k).mT() : arr(b, k, n);
        return op(() -> av.matmul(bv));
    }

    static BenchOp softmax(float[] x, int rows, int cols) {
        NDArray xa = arr(x, rows, cols);
        return op(() -> xa.softmax(-1));
    }

    static BenchOp softmaxForwardBackward(float[] x, float[] g, int rows, int cols) {
        NDArray xa = arr(x, rows, cols), ga = arr(g, rows, cols);
        return op(() -> {
            NDArray y = xa.softmax(-1);
            NDArray dx = y.softmaxBackward(ga, -1, false);
            y.close();
            return dx;
        });
    }

    static BenchOp layerNorm(float[] x, int rows, int cols, float[] weight, float[] bias) {
        NDArray xa = arr(x, rows, cols), w = arr(weight, cols), b = arr(bias, cols);
        return op(() -> {
            NormResult r = xa.layerNorm(w, b, 1e-5);
            closeAll(r.mean(), r.rstd());
            return r.out();
        });
    }

    static BenchOp layerNormForwardBackward(float[] x, float[] g, int rows, int cols, float[] weight, float[] bias) {
        NDArray xa = arr(x, rows, cols), ga = arr(g, rows, cols);
        NDArray w = arr(weight, cols), b = arr(bias, cols);
        return op(() -> {
            NormResult r = xa.layerNorm(w, b, 1e-5);
            NormGrads grads = xa.layerNormBackward(ga, r.mean(), r.rstd(), w, true);
            closeAll(r.out(), r.mean(), r.rstd(), grads.weight(), grads.bias());
            return grads.input();
        });
    }

    static BenchOp gelu(float[] x, int rows, int cols) {
        NDArray xa = arr(x, rows, cols);
        return op(xa::geluTanh);
    }

    static BenchOp neg(float[] x, int rows, int cols) {
        NDArray xa = arr(x, rows, cols);
        return op(xa::neg);
    }

    /** The exact (erf) GELU, x Phi(x): what libtorch's gelu computes. */
    static BenchOp geluErf(float[] x, int rows, int cols) {
        NDArray xa = arr(x, rows, cols);
        return op(xa::gelu);
    }

    static BenchOp geluForwardBackward(float[] x, float[] g, int rows, int cols) {
        NDArray xa = arr(x, rows, cols), ga = arr(g, rows, cols);
        return op(() -> {
            xa.geluTanh().close();
            return xa.unaryBackward(UnaryOp.GELU_TANH, ga, 0);
        });
    }

    static BenchOp geluErfForwardBackward(float[] x, float[] g, int rows, int cols) {
        NDArray xa = arr(x, rows, cols), ga = arr(g, rows, cols);
        return op(() -> {
            xa.gelu().close();
            return xa.unaryBackward(UnaryOp.GELU, ga, 0);
        });
    }

    static BenchOp crossEntropy(float[] logits, int rows, int cols, int[] targets) {
        NDArray xa = arr(logits, rows, cols), t = NDArray.fromArray(targets, rows);
        return op(() -> {
            CrossEntropyResult r = xa.crossEntropy(t, -100, 0);
            r.logSumExp().close();
            return r.loss();
        });
    }

    static BenchOp crossEntropyForwardBackward(float[] logits, int rows, int cols, int[] targets) {
        NDArray xa = arr(logits, rows, cols), t = NDArray.fromArray(targets, rows);
        return op(() -> {
            CrossEntropyResult r = xa.crossEntropy(t, -100, 0);
            NDArray dx = xa.crossEntropyBackward(t, r.logSumExp(), -100, 0, 1.0 / Math.max(1, r.validCount()));
            closeAll(r.loss(), r.logSumExp());
            return dx;
        });
    }

    static BenchOp adamw(float[][] params, float[][] grads) {
        int n = params.length;
        NDArray[] p = new NDArray[n], g = new NDArray[n], m = new NDArray[n], v = new NDArray[n];
        for (int i = 0; i < n; i++) {
            p[i] = arr(params[i], params[i].length);
            g[i] = arr(grads[i], grads[i].length);
            m[i] = arr(new float[params[i].length], params[i].length);
            v[i] = arr(new float[params[i].length], params[i].length);
        }
        long[] step = {0};
        return op(() -> {
            step[0]++;
            for (int i = 0; i < n; i++) p[i].adamwStep(g[i], m[i], v[i], 6e-4, 0.9, 0.95, 1e-8, 0.1, step[0]);
            return null;
        });
    }

    static BenchOp mlpForwardBackward(float[] x, int rows, int in, int hidden, float[] w1, float[] b1, float[] w2, float[] b2, float[] g) {
        Tensor xt = Tensor.of(arr(x, rows, in), true);
        Tensor w1t = Tensor.parameter(arr(w1, in, hidden)), b1t = Tensor.parameter(arr(b1, hidden));
        Tensor w2t = Tensor.parameter(arr(w2, hidden, in)), b2t = Tensor.parameter(arr(b2, in));
        Tensor gt = Tensor.of(arr(g, rows, in));
        Tensor[] leaves = {xt, w1t, b1t, w2t, b2t};
        return op(() -> {
            for (Tensor t : leaves) t.zeroGrad();
            Tensor y = xt.matmul(w1t).add(b1t).geluTanh().matmul(w2t).add(b2t);
            y.mul(gt).sum().backward();
            return null;
        });
    }
}
