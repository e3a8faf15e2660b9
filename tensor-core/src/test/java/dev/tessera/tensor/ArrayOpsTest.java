package dev.tessera.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** NDArray-level ops: joining and splitting, embedding, triangles, softmax along any dim, matmul rules, indexing. */
class ArrayOpsTest {
    @BeforeAll
    static void scalar() { ScalarCpu.use(); }

    @AfterAll
    static void restore() { ScalarCpu.restore(); }

    private static NDArray iota(int... shape) {
        int n = Shapes.numel(shape);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = i;
        return NDArray.fromArray(v, shape);
    }

    @Test
    void catStackSplitChunks() {
        NDArray a = iota(2, 2), b = iota(2, 1).add(10);
        NDArray c = NDArray.cat(1, a, b);
        assertArrayEquals(new int[] {2, 3}, c.shape());
        assertArrayEquals(new double[] {0, 1, 10, 2, 3, 11}, c.toDoubleArray());
        NDArray r = NDArray.cat(0, a, a.mT());
        assertArrayEquals(new double[] {0, 1, 2, 3, 0, 2, 1, 3}, r.toDoubleArray(), "cat reads views");
        NDArray mixed = NDArray.cat(0, NDArray.fromArray(new int[] {1, 2}, 2), NDArray.fromArray(new double[] {0.5}, 1));
        assertEquals(DType.F64, mixed.dtype(), "cat promotes");
        assertArrayEquals(new double[] {1, 2, 0.5}, mixed.toDoubleArray());
        NDArray s = NDArray.stack(0, a, a.add(4));
        assertArrayEquals(new int[] {2, 2, 2}, s.shape());
        assertArrayEquals(new double[] {0, 1, 2, 3, 4, 5, 6, 7}, s.toDoubleArray());
        NDArray s1 = NDArray.stack(-1, NDArray.fromArray(new double[] {1, 2}, 2), NDArray.fromArray(new double[] {3, 4}, 2));
        assertArrayEquals(new int[] {2, 2}, s1.shape());
        assertArrayEquals(new double[] {1, 3, 2, 4}, s1.toDoubleArray());
        NDArray x = iota(2, 5);
        List<NDArray> parts = x.split(1, 2, 0, 3);
        assertEquals(3, parts.size());
        assertArrayEquals(new double[] {0, 1, 5, 6}, parts.get(0).toDoubleArray());
        assertEquals(0, parts.get(1).numel());
        assertArrayEquals(new double[] {2, 3, 4, 7, 8, 9}, parts.get(2).toDoubleArray());
        assertSame(x.storage(), parts.get(2).storage(), "split returns views");
        List<NDArray> ch = x.chunks(1, 2);
        assertEquals(3, ch.size());
        assertArrayEquals(new int[] {2, 1}, ch.get(2).shape());
        assertArrayEquals(new double[] {4, 9}, ch.get(2).toDoubleArray());
        assertArrayEquals(x.toDoubleArray(), NDArray.cat(1, ch).toDoubleArray(), "cat inverts chunks");
    }

    @Test
    void embeddingLooksUpRows() {
        NDArray table = iota(4, 3);
        NDArray ids = NDArray.fromArray(new long[] {3, 0, 3, 1, 2, 2}, 2, 3);
        NDArray e = table.embedding(ids);
        assertArrayEquals(new int[] {2, 3, 3}, e.shape());
        assertArrayEquals(new double[] {9, 10, 11, 0, 1, 2, 9, 10, 11, 3, 4, 5, 6, 7, 8, 6, 7, 8}, e.toDoubleArray());
        NDArray one = table.embedding(NDArray.fromArray(new int[] {1}, 1));
        assertArrayEquals(new int[] {1, 3}, one.shape());
        assertArrayEquals(new double[] {3, 4, 5}, one.toDoubleArray());
        NDArray scalarId = table.embedding(NDArray.fromArray(new long[] {2}));
        assertArrayEquals(new int[] {3}, scalarId.shape(), "a 0-dim id gives one row");
    }

    @Test
    void trilAndTriuOnBatches() {
        NDArray x = iota(2, 3, 4).add(1);
        NDArray l = x.tril(0), u = x.triu(1);
        for (int b = 0; b < 2; b++) for (int i = 0; i < 3; i++) for (int j = 0; j < 4; j++) {
            double v = x.getDouble(b, i, j);
            assertEquals(j <= i ? v : 0, l.getDouble(b, i, j));
            assertEquals(j - i >= 1 ? v : 0, u.getDouble(b, i, j));
        }
        NDArray sum = x.tril(0).add(x.triu(1));
        assertArrayEquals(x.toDoubleArray(), sum.toDoubleArray(), "tril(k) + triu(k+1) == x");
        NDArray mask = NDArray.ones(DType.BOOL, 3, 3).tril(-1);
        assertArrayEquals(new boolean[] {false, false, false, true, false, false, true, true, false}, mask.toBooleanArray());
    }

    @Test
    void softmaxAlongAnyDim() {
        NDArray x = NDArray.fromArray(new double[] {1, 2, 3, 1, 1, 1}, 2, 3);
        NDArray s0 = x.softmax(0);
        double e = Math.exp(1) / (Math.exp(1) + Math.exp(1));
        assertEquals(0.5, s0.getDouble(0, 0), 1e-15);
        assertEquals(Math.exp(2) / (Math.exp(2) + Math.exp(1)), s0.getDouble(0, 1), 1e-15);
        assertEquals(e, s0.getDouble(1, 0), 1e-15);
        assertArrayEquals(x.mT().softmax(1).mT().toDoubleArray(), s0.toDoubleArray(), 1e-15);
        NDArray ls = x.logSoftmax(-1);
        assertArrayEquals(new double[] {-2.40760596444438, -1.40760596444438, -0.40760596444438}, ls.select(0, 0).toDoubleArray(), 1e-14);
        // backward along dim 0 equals the transposed backward along the last dim
        NDArray g = NDArray.fromArray(new double[] {0.3, -1, 2, 0.5, 0.1, -0.7}, 2, 3);
        NDArray viaDim0 = s0.softmaxBackward(g, 0, false);
        NDArray viaLast = s0.mT().softmaxBackward(g.mT(), -1, false).mT();
        assertArrayEquals(viaLast.toDoubleArray(), viaDim0.toDoubleArray(), 1e-15);
        assertArrayEquals(new double[] {0, 0, 0}, viaDim0.sum(0).toDoubleArray(), 1e-15);
    }

    @Test
    void matmulFollowsTorchRules() {
        NDArray m = iota(2, 3), v = NDArray.fromArray(new double[] {1, 1, 2}, 3);
        NDArray mv = m.matmul(v);
        assertArrayEquals(new int[] {2}, mv.shape());
        assertArrayEquals(new double[] {5, 17}, mv.toDoubleArray());
        NDArray vm = NDArray.fromArray(new double[] {1, 2}, 2).matmul(m);
        assertArrayEquals(new int[] {3}, vm.shape());
        assertArrayEquals(new double[] {6, 9, 12}, vm.toDoubleArray());
        NDArray dot = v.matmul(v);
        assertEquals(0, dot.rank());
        assertEquals(6.0, dot.item());
        NDArray batch = iota(4, 2, 3).matmul(iota(3, 5)); // broadcast right operand over batch
        assertArrayEquals(new int[] {4, 2, 5}, batch.shape());
        assertArrayEquals(iota(4, 2, 3).select(0, 2).matmul(iota(3, 5)).toDoubleArray(), batch.select(0, 2).toDoubleArray());
        NDArray bb = iota(2, 1, 2, 3).matmul(iota(3, 3, 2));
        assertArrayEquals(new int[] {2, 3, 2, 2}, bb.shape());
        assertEquals(DType.F32, NDArray.fromArray(new float[] {1, 2}, 1, 2).matmul(NDArray.fromArray(new double[] {1, 2}, 2, 1).to(DType.F32)).dtype());
    }

    @Test
    void gatherScatterIndexAddOutOfPlace() {
        NDArray x = iota(2, 3);
        NDArray idx = NDArray.fromArray(new long[] {2, 2, 0, 1}, 2, 2);
        assertArrayEquals(new double[] {2, 2, 3, 4}, x.gather(1, idx).toDoubleArray());
        NDArray src = NDArray.fromArray(new double[] {1, 2, 3, 4}, 2, 2);
        NDArray sa = x.scatterAdd(1, idx, src);
        assertNotSame(x.storage(), sa.storage());
        assertArrayEquals(new double[] {0, 1, 5, 6, 8, 5}, sa.toDoubleArray());
        assertArrayEquals(new double[] {0, 1, 2, 3, 4, 5}, x.toDoubleArray(), "out of place leaves x alone");
        NDArray ia = x.indexAdd(0, NDArray.fromArray(new int[] {1, 1}, 2), NDArray.ones(DType.F64, 2, 3));
        assertArrayEquals(new double[] {0, 1, 2, 5, 6, 7}, ia.toDoubleArray());
        NDArray picked = x.indexSelect(1, NDArray.fromArray(new long[] {2, 0}, 2));
        assertArrayEquals(new double[] {2, 0, 5, 3}, picked.toDoubleArray());
        NDArray grad = NDArray.zeros(DType.F32, 4, 2);
        grad.indexAddInPlace(0, NDArray.fromArray(new long[] {3, 3, 0}, 3), NDArray.ones(DType.F32, 3, 2));
        assertArrayEquals(new float[] {1, 1, 0, 0, 0, 0, 2, 2}, grad.toFloatArray(), "embedding backward accumulates repeats");
    }

    @Test
    void whereBroadcastsAndPromotes() {
        NDArray cond = NDArray.fromArray(new boolean[] {true, false}, 2, 1);
        NDArray a = NDArray.fromArray(new int[] {1, 2, 3}, 3);
        NDArray b = NDArray.scalar(DType.F32, -1);
        NDArray w = NDArray.where(cond, a, b);
        assertEquals(DType.F32, w.dtype());
        assertArrayEquals(new int[] {2, 3}, w.shape());
        assertArrayEquals(new float[] {1, 2, 3, -1, -1, -1}, w.toFloatArray());
    }

    @Test
    void unaryOpsAndBackwardThroughNDArray() {
        NDArray x = NDArray.fromArray(new double[] {-1, 0, 2}, 3);
        assertArrayEquals(new double[] {0, 0, 2}, x.relu().toDoubleArray());
        assertArrayEquals(new double[] {1, 0, 4}, x.pow(2).toDoubleArray());
        assertArrayEquals(new double[] {-0.15865525393145705, 0, 1.9544997361036416}, x.gelu().toDoubleArray(), 1e-15);
        NDArray g = NDArray.fromArray(new double[] {1, 1, 0.5}, 3);
        assertArrayEquals(new double[] {-2, 0, 2}, x.unaryBackward(UnaryOp.POW, g, 2).toDoubleArray());
        assertArrayEquals(new double[] {0, 0, 0.5}, x.unaryBackward(UnaryOp.RELU, g, 0).toDoubleArray());
        NDArray f32grad = x.to(DType.F32).unaryBackward(UnaryOp.TANH, g.to(DType.F32), 0);
        assertEquals(DType.F32, f32grad.dtype());
    }

    @Test
    void normsCrossEntropyAndAdamwThroughNDArray() {
        NDArray x = NDArray.fromArray(new double[] {1, 2, 3, 4, 2, 2, 2, 2}, 2, 4);
        NormResult ln = x.layerNorm(null, null, 0.0);
        assertArrayEquals(new double[] {2.5, 2}, ln.mean().toDoubleArray());
        assertArrayEquals(new double[] {-1.3416407864998738, -0.4472135954999579, 0.4472135954999579, 1.3416407864998738},
                ln.out().select(0, 0).toDoubleArray(), 1e-15);
        NDArray half = x.to(DType.BF16).layerNorm(NDArray.ones(DType.BF16, 4), null, 1e-5).out();
        assertEquals(DType.BF16, half.dtype());
        NDArray rms = x.rmsNorm(null, 0.0).out();
        assertEquals(1.0, rms.select(0, 1).pow(2).mean().item(), 1e-15, "unit mean square");
        NDArray logits = NDArray.fromArray(new double[] {1, 2, 3, 0, 0, 0}, 2, 3);
        CrossEntropyResult ce = logits.crossEntropy(NDArray.fromArray(new long[] {2, -100}, 2), -100, 0);
        assertEquals(1, ce.validCount());
        assertEquals(0.40760596444438, ce.loss().getDouble(0), 1e-14);
        NDArray dl = logits.crossEntropyBackward(NDArray.fromArray(new long[] {2, -100}, 2), ce.logSumExp(), -100, 0, 1.0);
        assertEquals(0.0, dl.select(0, 0).sum().item(), 1e-15, "softmax - onehot sums to 0");
        assertArrayEquals(new double[] {0, 0, 0}, dl.select(0, 1).toDoubleArray());
        NDArray p = NDArray.fromArray(new double[] {1, -1}, 2), m = NDArray.zeros(DType.F64, 2), v = NDArray.zeros(DType.F64, 2);
        p.adamwStep(NDArray.fromArray(new float[] {2, -2}, 2), m, v, 0.1, 0.9, 0.999, 0, 0, 1);
        assertArrayEquals(new double[] {0.9, -0.9}, p.toDoubleArray(), 1e-12, "first step moves each weight by lr * sign(grad)");
    }
}
