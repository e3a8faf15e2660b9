package dev.tessera.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.NormResult;
import dev.tessera.tensor.io.Safetensors;
import dev.tessera.tensor.io.SafetensorsFile;
import dev.tessera.tensor.io.TensorInfo;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's array and safetensors snippets, kept compiling and checked. */
class ReadmeSnippetsTest {

    @Test
    void arraysSnippet() {
        Generator gen = new Generator(42);
        NDArray x = NDArray.normal(gen, DType.F32, 0, 1, 8, 128, 768);
        NDArray w = NDArray.uniform(gen, DType.F32, -0.05, 0.05, 768, 2304);
        NDArray qkv = x.matmul(w);
        NDArray q = qkv.narrow(-1, 0, 768).view(8, 128, 12, 64).permute(0, 2, 1, 3);
        NDArray att = q.matmul(q.mT()).mul(1 / Math.sqrt(64)).softmax(-1);
        NormResult ln = x.layerNorm(null, null, 1e-5);
        NDArray half = x.to(DType.BF16);
        float[] values = att.toFloatArray();
        NDArray attKept = att.softmax(-1); // checked below, after att is closed
        att.close();

        assertThrows(IllegalStateException.class, att::sum, "a closed array cannot be used");
        assertEquals(8 * 12 * 128, attKept.sum().item(), 1e-1);
        assertArrayEquals(new int[] {8, 12, 128, 64}, q.shape());
        assertTrue(q.storage() == qkv.storage(), "q is a view of qkv");
        assertEquals(8 * 12 * 128 * 128, values.length);
        assertEquals(8 * 12 * 128, NDArray.fromArray(values, 8, 12, 128, 128).sum().item(), 1e-1); // each row of the softmax sums to 1
        assertEquals(0, ln.out().mean(-1).abs().max().item(), 1e-5);
        assertEquals(DType.BF16, half.dtype());

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NDArray.zeros(DType.F32, 2, 3).matmul(NDArray.zeros(DType.F32, 4, 5)));
        assertEquals("matmul: shapes [2, 3] and [4, 5] do not match (K 3 vs 4)", e.getMessage());
    }

    @Test
    void safetensorsSnippet(@TempDir Path dir) throws Exception {
        Generator gen = new Generator(1);
        NDArray w = NDArray.normal(gen, DType.F32, 0, 1, 3, 4);
        NDArray b = NDArray.normal(gen, DType.BF16, 0, 1, 4);
        Path path = dir.resolve("m.safetensors");
        Safetensors.write(path, Map.of("w", w, "b", b), Map.of("format", "pt"));
        try (SafetensorsFile f = Safetensors.read(path)) {
            TensorInfo info = f.info("w");
            NDArray loaded = f.get("w");
            assertArrayEquals(new int[] {3, 4}, info.shape());
            assertArrayEquals(w.toFloatArray(), loaded.toFloatArray());
        }
        Map<String, NDArray> all = Safetensors.load(path);
        assertArrayEquals(b.toBits(), all.get("b").toBits());
    }
}
