package dev.tessera.tensor;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Bad input fails with an exception whose message names the op and the shapes (or the bad value). */
class ErrorMessagesTest {
    @BeforeAll
    static void scalar() { ScalarCpu.use(); }

    @AfterAll
    static void restore() { ScalarCpu.restore(); }

    // made without a backend: static fields initialize before @BeforeAll selects one
    private static final NDArray A23 = NDArray.fromArray(new float[6], 2, 3);
    private static final NDArray A43 = NDArray.fromArray(new float[12], 4, 3);

    /** Runs bad, expects type, and checks that the message contains every fragment. */
    private static <T extends Throwable> void fails(Class<T> type, Executable bad, String... fragments) {
        T e = assertThrows(type, bad);
        String m = String.valueOf(e.getMessage());
        for (String f : fragments) assertTrue(m.contains(f), "message should contain '" + f + "': " + m);
    }

    private static void fails(Executable bad, String... fragments) { fails(IllegalArgumentException.class, bad, fragments); }

    @Test
    void elementwiseShapeMismatch() {
        fails(() -> A23.add(A43), "add", "[2, 3]", "[4, 3]");
        fails(() -> A23.mul(NDArray.zeros(DType.F32, 2)), "mul", "[2, 3]", "[2]");
        fails(() -> A23.lt(A43), "lt", "[2, 3]", "[4, 3]");
        fails(() -> NDArray.where(NDArray.zeros(DType.BOOL, 5), A23, A23), "where", "[5]", "[2, 3]");
        fails(() -> NDArray.where(A23, A23, A23), "where", "bool", "f32");
        fails(() -> A23.assign(A43), "assign", "[4, 3]", "[2, 3]");
        fails(() -> NDArray.zeros(DType.BOOL, 2).add(NDArray.zeros(DType.BOOL, 2)), "add", "bool");
        fails(() -> NDArray.zeros(DType.BOOL, 2).exp(), "exp", "bool", "[2]");
        fails(() -> A23.unaryBackward(UnaryOp.TANH, A43, 0), "tanh", "[2, 3]", "[4, 3]");
    }

    @Test
    void matmulShapes() {
        fails(() -> A23.matmul(A23), "matmul", "[2, 3]", "K 3 vs 2");
        fails(() -> NDArray.zeros(DType.F32, 2, 2, 3).matmul(NDArray.zeros(DType.F32, 3, 3, 4)), "matmul", "[2]", "[3]");
        fails(() -> NDArray.scalar(DType.F32, 1).matmul(A23), "matmul", "scalar");
        fails(() -> NDArray.zeros(DType.I32, 2, 2).matmul(NDArray.zeros(DType.I32, 2, 2)), "matmul", "float", "i32");
    }

    @Test
    void viewErrors() {
        fails(() -> A23.mT().view(6), "view", "[3, 2]", "[6]");
        fails(() -> A23.reshape(4, 2), "reshape", "[2, 3]", "[4, 2]");
        fails(() -> A23.permute(1), "permute", "[1]", "[2, 3]");
        fails(() -> A23.permute(0, 0), "permute", "repeated");
        fails(() -> A23.transpose(0, 2), "transpose", "dim 2", "rank 2");
        fails(() -> A23.narrow(1, 2, 2), "narrow", "[2, 4)", "[2, 3]");
        fails(IndexOutOfBoundsException.class, () -> A23.select(0, 2), "select", "index 2", "[2, 3]");
        fails(() -> A23.squeeze(1), "squeeze", "[2, 3]", "size 3");
        fails(() -> A23.expand(4, 3), "expand", "[2, 3]", "[4, 3]");
        fails(() -> A23.expand(3), "expand", "[2, 3]", "[3]");
        fails(() -> A23.slice(0, 0, 2, 0), "slice", "step");
        fails(() -> A23.unsqueeze(4), "unsqueeze", "dim 4");
        fails(() -> NDArray.zeros(DType.F32, 3).mT(), "mT", "[3]");
    }

    @Test
    void reductionErrors() {
        fails(() -> A23.sum(2), "sum", "dim 2", "rank 2");
        fails(() -> A23.mean(0, -2), "mean", "repeated");
        fails(() -> NDArray.zeros(DType.F32, 0, 3).max(0), "max", "empty", "[0, 3]");
        fails(() -> NDArray.zeros(DType.F32, 0, 3).argmax(0, false), "argmax", "[0, 3]");
        fails(() -> A23.softmax(3), "softmax", "dim 3");
        fails(() -> NDArray.zeros(DType.I64, 3).softmax(0), "softmax", "float", "i64", "[3]");
        fails(() -> A23.softmaxBackward(A43, -1, false), "softmax backward", "[2, 3]", "[4, 3]");
    }

    @Test
    void normErrors() {
        fails(() -> A23.layerNorm(NDArray.zeros(DType.F32, 2), null, 1e-5), "layerNorm", "weight", "[2]", "[3]", "[2, 3]");
        fails(() -> A23.layerNorm(null, NDArray.zeros(DType.F32, 3, 1), 1e-5), "layerNorm", "bias", "[3, 1]");
        fails(() -> A23.rmsNorm(NDArray.zeros(DType.F32, 4), 1e-5), "rmsNorm", "weight", "[4]", "[2, 3]");
        fails(() -> NDArray.scalar(DType.F32, 1).layerNorm(null, null, 1e-5), "layerNorm", "scalar");
    }

    @Test
    void indexingErrors() {
        NDArray idx = NDArray.zeros(DType.I64, 2, 3);
        fails(() -> A23.gather(1, NDArray.zeros(DType.F32, 2, 3)), "gather", "I32 or I64", "f32");
        fails(() -> A23.gather(1, NDArray.zeros(DType.I64, 6)), "gather", "[6]", "[2, 3]");
        fails(() -> A23.gather(1, NDArray.zeros(DType.I64, 3, 3)), "gather", "[3, 3]", "[2, 3]");
        fails(IndexOutOfBoundsException.class, () -> A23.gather(1, NDArray.fromArray(new long[] {0, 3}, 1, 2)), "gather", "index 3", "size 3");
        fails(() -> A23.indexSelect(0, idx), "indexSelect", "1-D", "[2, 3]");
        fails(IndexOutOfBoundsException.class, () -> A23.indexSelect(0, NDArray.fromArray(new int[] {2}, 1)), "indexSelect", "index 2", "size 2");
        fails(() -> A23.scatterAdd(1, idx, NDArray.zeros(DType.F32, 2, 2)), "scatterAdd", "[2, 2]", "[2, 3]");
        fails(IndexOutOfBoundsException.class, () -> A23.scatterAdd(0, NDArray.fromArray(new long[] {-1}, 1, 1), NDArray.zeros(DType.F32, 1, 1)),
                "scatterAdd", "index -1", "size 2");
        fails(() -> A23.indexAdd(0, NDArray.fromArray(new long[] {0}, 1), A23), "indexAdd", "[2, 3]", "[1, 3]");
        fails(IndexOutOfBoundsException.class, () -> A23.indexAdd(1, NDArray.fromArray(new long[] {5}, 1), NDArray.zeros(DType.F32, 2, 1)),
                "indexAdd", "index 5", "size 3");
        fails(() -> A23.embedding(NDArray.zeros(DType.I64, 2)).add(1).reshape(7), "reshape");
        fails(() -> NDArray.zeros(DType.F32, 2, 3, 4).embedding(NDArray.zeros(DType.I64, 2)), "embedding", "[2, 3, 4]");
        fails(() -> NDArray.zeros(DType.F32, 3).tril(0), "tril", "[3]");
    }

    @Test
    void trainingKernelErrors() {
        NDArray logits = NDArray.zeros(DType.F32, 2, 5);
        fails(() -> logits.crossEntropy(NDArray.zeros(DType.I64, 3), -100, 0), "crossEntropy", "[2, 5]", "[3]");
        fails(() -> logits.crossEntropy(NDArray.zeros(DType.F32, 2), -100, 0), "crossEntropy", "I32 or I64");
        fails(() -> logits.crossEntropy(NDArray.zeros(DType.I64, 2), -100, 1.5), "crossEntropy", "label smoothing", "1.5");
        fails(IndexOutOfBoundsException.class, () -> logits.crossEntropy(NDArray.fromArray(new long[] {1, 5}, 2), -100, 0), "crossEntropy", "index 5", "size 5");
        NDArray p = NDArray.zeros(DType.F32, 3);
        fails(() -> p.adamwStep(NDArray.zeros(DType.F32, 4), NDArray.zeros(DType.F32, 3), NDArray.zeros(DType.F32, 3), 1e-3, 0.9, 0.999, 1e-8, 0, 1),
                "adamw", "[3]", "[4]");
        fails(() -> p.adamwStep(p, NDArray.zeros(DType.F64, 3), NDArray.zeros(DType.F32, 3), 1e-3, 0.9, 0.999, 1e-8, 0, 1), "adamw", "f64");
        fails(() -> p.adamwStep(p, NDArray.zeros(DType.F32, 3), NDArray.zeros(DType.F32, 3), 1e-3, 0.9, 0.999, 1e-8, 0, 0), "adamw", "step");
    }

    @Test
    void joiningAndCreationErrors() {
        fails(() -> NDArray.cat(0, A23, NDArray.zeros(DType.F32, 2)), "cat", "[2, 3]", "[2]");
        fails(() -> NDArray.cat(0, A23, NDArray.zeros(DType.F32, 2, 4)), "cat", "[2, 3]", "[2, 4]", "dim 1");
        fails(() -> NDArray.cat(0, List.of()), "cat", "no arrays");
        fails(() -> NDArray.stack(0, A23, A43), "stack", "[2, 3]", "[4, 3]");
        fails(() -> A23.split(1, 1, 1), "split", "[1, 1]", "[2, 3]");
        fails(() -> A23.chunks(0, 0), "chunks", "0");
        fails(() -> NDArray.zeros(DType.F32, -1), "negative", "[-1]");
        fails(() -> A23.item(), "item", "[2, 3]", "6 elements");
        fails(() -> A23.getDouble(1), "getDouble", "1 indices", "[2, 3]");
        fails(IndexOutOfBoundsException.class, () -> A23.getDouble(1, 3), "getDouble", "[1, 3]", "[2, 3]");
        fails(() -> DType.fromSafetensorsName("F8"), "F8");
        fails(() -> Device.parse("opencl:x"), "opencl:x");
    }
}
