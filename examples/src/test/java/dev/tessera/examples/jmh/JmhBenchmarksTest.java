package dev.tessera.examples.jmh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.SpecialFunctions;
import java.util.Collection;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * The JMH benchmarks at tiny shapes: each one's result against a plain double-precision
 * computation from its inputs, and every benchmark through JMH's own runner (in this JVM, one short
 * iteration), so a benchmark that JMH cannot find or run fails here rather than when someone
 * measures.
 */
class JmhBenchmarksTest {
    private static final double TOL = 2e-5;

    private static void assertClose(double expected, double actual, String what) {
        assertTrue(Double.isFinite(actual), what + " is not finite: " + actual);
        assertEquals(expected, actual, TOL * Math.max(1, Math.abs(expected)), what);
    }

    @Test
    void gemmFirstElementIsRowTimesColumn() {
        for (String shape : new String[] {"5x7x9", "5x7x9T"}) {
            GemmBenchmark bench = new GemmBenchmark();
            bench.shape = shape;
            bench.threads = 2;
            bench.setup();
            double expected = 0;
            for (int k = 0; k < 7; k++) expected += bench.a.getDouble(0, k) * bench.b.getDouble(k, 0);
            assertClose(expected, bench.matmul(), "gemm " + shape);
        }
    }

    @Test
    void softmaxForwardAndBackward() {
        SoftmaxBenchmark bench = new SoftmaxBenchmark();
        bench.rows = 3;
        bench.cols = 11;
        bench.threads = 2;
        bench.setup();
        double max = Double.NEGATIVE_INFINITY, sum = 0, dot = 0;
        for (int j = 0; j < 11; j++) max = Math.max(max, bench.x.getDouble(0, j));
        double[] y = new double[11];
        for (int j = 0; j < 11; j++) sum += y[j] = Math.exp(bench.x.getDouble(0, j) - max);
        for (int j = 0; j < 11; j++) dot += (y[j] /= sum) * bench.gradOut.getDouble(0, j);
        assertClose(y[0], bench.forward(), "softmax");
        assertClose(y[0] * (bench.gradOut.getDouble(0, 0) - dot), bench.forwardBackward(), "softmax backward");
    }

    @Test
    void layerNormForwardAndBackward() {
        LayerNormBenchmark bench = new LayerNormBenchmark();
        bench.rows = 2;
        bench.cols = 13;
        bench.threads = 2;
        bench.setup();
        int c = 13;
        double mean = 0, var = 0;
        for (int j = 0; j < c; j++) mean += bench.x.getDouble(0, j) / c;
        for (int j = 0; j < c; j++) var += Math.pow(bench.x.getDouble(0, j) - mean, 2) / c;
        double rstd = 1 / Math.sqrt(var + 1e-5);
        double[] xhat = new double[c], wg = new double[c];
        double meanWg = 0, meanWgXhat = 0;
        for (int j = 0; j < c; j++) {
            xhat[j] = (bench.x.getDouble(0, j) - mean) * rstd;
            wg[j] = bench.weight.getDouble(j) * bench.gradOut.getDouble(0, j);
            meanWg += wg[j] / c;
            meanWgXhat += wg[j] * xhat[j] / c;
        }
        assertClose(xhat[0] * bench.weight.getDouble(0) + bench.bias.getDouble(0), bench.forward(), "layer norm");
        assertClose(rstd * (wg[0] - meanWg - xhat[0] * meanWgXhat), bench.backward(), "layer norm backward");
    }

    @Test
    void geluBothFormsForwardAndBackward() {
        GeluBenchmark bench = new GeluBenchmark();
        bench.rows = 2;
        bench.cols = 21;
        bench.threads = 2;
        bench.setup();
        double x = bench.x.getDouble(0, 0), g = bench.gradOut.getDouble(0, 0);
        double k = Math.sqrt(2 / Math.PI), u = k * (x + 0.044715 * x * x * x), th = Math.tanh(u);
        assertClose(0.5 * x * (1 + th), bench.tanhForward(), "gelu tanh");
        double tanhGrad = 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * k * (1 + 3 * 0.044715 * x * x);
        assertClose(g * tanhGrad, bench.tanhBackward(), "gelu tanh backward");
        assertClose(x * SpecialFunctions.normalCdf(x), bench.exactForward(), "gelu");
        assertClose(g * (SpecialFunctions.normalCdf(x) + x * SpecialFunctions.normalPdf(x)), bench.exactBackward(), "gelu backward");
    }

    @Test
    void crossEntropyLossAndGradientOfItsMean() {
        CrossEntropyBenchmark bench = new CrossEntropyBenchmark();
        bench.rows = 4;
        bench.classes = 9;
        bench.threads = 2;
        bench.setup();
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int j = 0; j < 9; j++) max = Math.max(max, bench.logits.getDouble(0, j));
        for (int j = 0; j < 9; j++) sum += Math.exp(bench.logits.getDouble(0, j) - max);
        int target = (int) bench.targets.getDouble(0);
        assertClose(max + Math.log(sum) - bench.logits.getDouble(0, target), bench.forward(), "cross entropy of row 0");
        double softmax = Math.exp(bench.logits.getDouble(0, 0) - max) / sum;
        assertClose((softmax - (target == 0 ? 1 : 0)) / 4, bench.forwardBackward(), "d mean loss / d logits[0, 0]");
    }

    @Test
    void adamWStepsMatchTheUpdateRule() {
        AdamWBenchmark bench = new AdamWBenchmark();
        bench.tensors = 2;
        bench.size = 37;
        bench.threads = 2;
        bench.setup();
        int last = 36;
        double p = bench.params[1].getDouble(last), g = bench.grads[1].getDouble(last);
        double m = 0, v = 0, lr = 6e-4;
        for (long step = 1; step <= 3; step++) {
            assertEquals(step, bench.step());
            m = 0.9 * m + 0.1 * g;
            v = 0.95 * v + 0.05 * g * g;
            double mHat = m / (1 - Math.pow(0.9, step)), vHat = v / (1 - Math.pow(0.95, step));
            p = p * (1 - lr * 0.1) - lr * mHat / (Math.sqrt(vHat) + 1e-8);
        }
        assertClose(p, bench.params[1].getDouble(last), "parameter after three steps");
        assertClose(m, bench.firstMoments[1].getDouble(last), "first moment");
        assertClose(v, bench.secondMoments[1].getDouble(last), "second moment");
    }

    @Test
    void mlpObjectiveAndBiasGradient() {
        MlpBenchmark bench = new MlpBenchmark();
        bench.rows = 5;
        bench.width = 6;
        bench.threads = 2;
        bench.setup();
        NDArray hidden = bench.x.data().matmul(bench.w1.data()).add(bench.b1.data()).geluTanh();
        NDArray y = hidden.matmul(bench.w2.data()).add(bench.b2.data());
        double expected = y.mul(bench.gradOut.data()).sum().item();
        for (int repeat = 0; repeat < 2; repeat++) { // the second call must start from zeroed gradients
            assertClose(expected, bench.forwardBackward(), "mlp objective");
            for (int j = 0; j < 6; j++) {
                double column = 0; // d sum(y * g) / d b2[j] = sum over rows of g[:, j]
                for (int i = 0; i < 5; i++) column += bench.gradOut.data().getDouble(i, j);
                assertClose(column, bench.b2.grad().getDouble(j), "b2 gradient " + j);
            }
            assertEquals(java.util.List.of(5, 6), java.util.List.of(bench.x.grad().shape()[0], bench.x.grad().shape()[1]));
        }
    }

    @Test
    void everyBenchmarkRunsThroughJmh() throws Exception {
        Options options = new OptionsBuilder()
                .include(JmhBenchmarksTest.class.getPackageName() + "\\..*Benchmark\\..*")
                .forks(0)
                .warmupIterations(0)
                .measurementIterations(1)
                .measurementTime(TimeValue.milliseconds(20))
                .param("rows", "8").param("cols", "16").param("classes", "10").param("width", "8")
                .param("shape", "9x10x11T").param("tensors", "2").param("size", "1000").param("threads", "2")
                .verbosity(VerboseMode.SILENT)
                .build();
        Collection<RunResult> results = new Runner(options).run();
        Set<String> ran = new TreeSet<>();
        for (RunResult result : results) {
            String label = result.getParams().getBenchmark();
            assertTrue(result.getPrimaryResult().getScore() > 0, label + " has no score");
            ran.add(label.substring(label.lastIndexOf('.', label.lastIndexOf('.') - 1) + 1));
        }
        assertEquals(new TreeSet<>(Set.of("AdamWBenchmark.step", "CrossEntropyBenchmark.forward",
                "CrossEntropyBenchmark.forwardBackward", "GeluBenchmark.exactBackward", "GeluBenchmark.exactForward",
                "GeluBenchmark.tanhBackward", "GeluBenchmark.tanhForward", "GemmBenchmark.matmul", "LayerNormBenchmark.backward",
                "LayerNormBenchmark.forward", "MlpBenchmark.forwardBackward", "SoftmaxBenchmark.forward",
                "SoftmaxBenchmark.forwardBackward")), ran);
    }
}
