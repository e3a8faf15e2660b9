package dev.tessera.autograd;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.NormResult;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tensor ops compute exactly what the NDArray ops compute, and results require grad when an input does. */
class TensorForwardTest {
    private static final Generator GEN = new Generator(42);
    // Non-contiguous inputs: transposed views of random F32 arrays.
    private static final NDArray A = NDArray.uniform(GEN, DType.F32, 0.2, 2, 4, 3).mT();
    private static final NDArray B = NDArray.uniform(GEN, DType.F32, -2, 2, 3, 4);
    private static final NDArray ROW = NDArray.uniform(GEN, DType.F32, -2, 2, 4);
    private static final NDArray W = NDArray.uniform(GEN, DType.F32, -2, 2, 4, 5);
    private static final NDArray IDX = NDArray.fromArray(new long[] {2, 0, 2}, 3);
    private static final NDArray MASK = NDArray.fromArray(new boolean[] {true, false, false, true}, 4);

    @TestFactory
    List<DynamicTest> forwardEqualsNDArrayOps() {
        Map<String, Object[]> cases = new LinkedHashMap<>();
        unary(cases, "neg", Tensor::neg, NDArray::neg);
        unary(cases, "abs", Tensor::abs, NDArray::abs);
        unary(cases, "exp", Tensor::exp, NDArray::exp);
        unary(cases, "log", Tensor::log, NDArray::log);
        unary(cases, "sqrt", Tensor::sqrt, NDArray::sqrt);
        unary(cases, "rsqrt", Tensor::rsqrt, NDArray::rsqrt);
        unary(cases, "tanh", Tensor::tanh, NDArray::tanh);
        unary(cases, "sigmoid", Tensor::sigmoid, NDArray::sigmoid);
        unary(cases, "relu", Tensor::relu, NDArray::relu);
        unary(cases, "gelu", Tensor::gelu, NDArray::gelu);
        unary(cases, "geluTanh", Tensor::geluTanh, NDArray::geluTanh);
        unary(cases, "silu", Tensor::silu, NDArray::silu);
        unary(cases, "sin", Tensor::sin, NDArray::sin);
        unary(cases, "cos", Tensor::cos, NDArray::cos);
        unary(cases, "pow", x -> x.pow(1.5), x -> x.pow(1.5));
        binary(cases, "add", Tensor::add, NDArray::add);
        binary(cases, "sub", Tensor::sub, NDArray::sub);
        binary(cases, "mul", Tensor::mul, NDArray::mul);
        binary(cases, "div", Tensor::div, NDArray::div);
        binary(cases, "maximum", Tensor::maximum, NDArray::maximum);
        binary(cases, "minimum", Tensor::minimum, NDArray::minimum);
        binary(cases, "powTensor", Tensor::pow, NDArray::pow);
        unary(cases, "addScalar", x -> x.add(0.5), x -> x.add(0.5));
        unary(cases, "rsub", x -> x.rsub(0.5), x -> x.neg().add(0.5));
        unary(cases, "sum", x -> x.sum(true, 1), x -> x.sum(true, 1));
        unary(cases, "mean", x -> x.mean(0), x -> x.mean(0));
        unary(cases, "var", Tensor::var, NDArray::var);
        unary(cases, "max", x -> x.max(1), x -> x.max(1));
        unary(cases, "min", x -> x.min(0), x -> x.min(0));
        unary(cases, "reshape", x -> x.reshape(2, -1), x -> x.reshape(2, -1));
        unary(cases, "permute", x -> x.permute(1, 0), x -> x.permute(1, 0));
        unary(cases, "narrow", x -> x.narrow(1, 1, 2), x -> x.narrow(1, 1, 2));
        unary(cases, "slice", x -> x.slice(1, 0, 4, 2), x -> x.slice(1, 0, 4, 2));
        unary(cases, "select", x -> x.select(0, 2), x -> x.select(0, 2));
        unary(cases, "expand", x -> x.unsqueeze(0).expand(2, 3, 4), x -> x.unsqueeze(0).expand(2, 3, 4));
        unary(cases, "squeeze", x -> x.unsqueeze(1).squeeze(1), x -> x.unsqueeze(1).squeeze(1));
        unary(cases, "matmul", x -> x.matmul(Tensor.of(W)), x -> x.matmul(W));
        unary(cases, "softmax", x -> x.softmax(0), x -> x.softmax(0));
        unary(cases, "logSoftmax", x -> x.logSoftmax(1), x -> x.logSoftmax(1));
        unary(cases, "layerNorm", x -> x.layerNorm(Tensor.of(ROW), Tensor.of(ROW), 1e-5), x -> x.layerNorm(ROW, ROW, 1e-5).out());
        unary(cases, "rmsNorm", x -> x.rmsNorm(Tensor.of(ROW), 1e-5), x -> x.rmsNorm(ROW, 1e-5).out());
        unary(cases, "gather", x -> x.gather(0, Tensor.of(NDArray.fromArray(new long[] {2, 1, 0, 0}, 1, 4))), x -> x.gather(0, NDArray.fromArray(new long[] {2, 1, 0, 0}, 1, 4)));
        unary(cases, "indexSelect", x -> x.indexSelect(0, Tensor.of(IDX)), x -> x.indexSelect(0, IDX));
        unary(cases, "embedding", x -> x.embedding(Tensor.of(IDX.reshape(3, 1))), x -> x.embedding(IDX.reshape(3, 1)));
        unary(cases, "tril", x -> x.tril(0), x -> x.tril(0));
        unary(cases, "triu", x -> x.triu(1), x -> x.triu(1));
        binary(cases, "cat", (x, y) -> Tensor.cat(0, x, y), (x, y) -> NDArray.cat(0, x, y));
        binary(cases, "stack", (x, y) -> Tensor.stack(1, x, y), (x, y) -> NDArray.stack(1, x, y));
        binary(cases, "where", (x, y) -> Tensor.where(Tensor.of(MASK), x, y), (x, y) -> NDArray.where(MASK, x, y));
        unary(cases, "maskedFill", x -> x.maskedFill(Tensor.of(MASK), -3), x -> NDArray.where(MASK, NDArray.full(DType.F32, -3), x));
        binary(cases, "scatterAdd", (x, y) -> x.scatterAdd(0, Tensor.of(NDArray.fromArray(new long[] {1, 0, 2, 1}, 1, 4)), y.narrow(0, 0, 1)),
                (x, y) -> x.scatterAdd(0, NDArray.fromArray(new long[] {1, 0, 2, 1}, 1, 4), y.narrow(0, 0, 1)));
        binary(cases, "indexAdd", (x, y) -> x.indexAdd(0, Tensor.of(IDX), y),
                (x, y) -> x.indexAdd(0, IDX, y));
        List<DynamicTest> tests = new ArrayList<>();
        for (Map.Entry<String, Object[]> e : cases.entrySet()) {
            tests.add(DynamicTest.dynamicTest(e.getKey(), () -> {
                Tensor t = (Tensor) e.getValue()[0];
                NDArray expected = (NDArray) e.getValue()[1];
                assertEquals(expected.dtype(), t.dtype(), e.getKey());
                assertArrayEquals(expected.shape(), t.shape(), e.getKey());
                assertArrayEquals(expected.toDoubleArray(), t.toDoubleArray(), 0.0, e.getKey());
                assertTrue(t.requiresGrad(), e.getKey() + " of inputs requiring grad must require grad");
            }));
        }
        return tests;
    }

    @TestFactory
    List<DynamicTest> crossEntropyMatchesLogSoftmaxFormula() {
        List<DynamicTest> tests = new ArrayList<>();
        for (double smoothing : new double[] {0.0, 0.1}) {
            tests.add(DynamicTest.dynamicTest("smoothing " + smoothing, () -> {
                NDArray logits = NDArray.uniform(new Generator(3), DType.F64, -3, 3, 4, 5);
                long[] targets = {1, -100, 4, 0};
                Tensor loss = Tensor.of(logits, true).crossEntropy(Tensor.fromArray(targets, 4), -100, smoothing);
                double[] lsm = logits.logSoftmax(1).toDoubleArray();
                double total = 0;
                int valid = 0;
                for (int r = 0; r < 4; r++) {
                    if (targets[r] == -100) continue;
                    valid++;
                    double uniform = 0;
                    for (int c = 0; c < 5; c++) uniform -= lsm[r * 5 + c] / 5;
                    total += (1 - smoothing) * -lsm[r * 5 + (int) targets[r]] + smoothing * uniform;
                }
                assertEquals(total / valid, loss.item(), 1e-12);
            }));
        }
        return tests;
    }

    private static void unary(Map<String, Object[]> cases, String name, Function<Tensor, Tensor> t, Function<NDArray, NDArray> n) {
        cases.put(name, new Object[] {t.apply(Tensor.of(A, true)), n.apply(A)});
    }

    private static void binary(Map<String, Object[]> cases, String name, BiFunction<Tensor, Tensor, Tensor> t, BiFunction<NDArray, NDArray, NDArray> n) {
        NDArray other = B.add(A.mul(0.0)).abs().add(0.1); // [3, 4], positive, contiguous
        cases.put(name, new Object[] {t.apply(Tensor.of(A, true), Tensor.of(other, true)), n.apply(A, other)});
    }
}
