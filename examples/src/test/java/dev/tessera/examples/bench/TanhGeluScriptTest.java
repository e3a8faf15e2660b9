package dev.tessera.examples.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.junit.jupiter.api.Test;

/** The hand-written TorchScript archive behind the bench's libtorch tanh-GELU rows. */
class TanhGeluScriptTest {

    @Test
    void archiveHasTheEntriesLibtorchReadsStoredUnderOneFolder() throws IOException {
        List<String> names = new ArrayList<>();
        try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(TanhGeluScript.archive()))) {
            for (ZipEntry e; (e = zip.getNextEntry()) != null; ) {
                names.add(e.getName());
                assertEquals(ZipEntry.STORED, e.getMethod(), e.getName());
                byte[] data = zip.readAllBytes();
                switch (e.getName()) {
                    case "gelu_tanh/version" -> assertEquals("10\n", new String(data, StandardCharsets.US_ASCII));
                    case "gelu_tanh/code/__torch__.py" -> assertTrue(new String(data, StandardCharsets.UTF_8)
                            .contains("return torch.gelu(x, approximate=\"tanh\")"));
                    case "gelu_tanh/data.pkl" -> {
                        assertEquals((byte) 0x80, data[0]); // protocol 2
                        assertEquals(2, data[1]);
                        assertEquals('.', data[data.length - 1]); // STOP
                    }
                    default -> { }
                }
            }
        }
        assertEquals(List.of("gelu_tanh/data.pkl", "gelu_tanh/code/__torch__.py", "gelu_tanh/constants.pkl", "gelu_tanh/version",
                "gelu_tanh/byteorder"), names);
        assertArrayEquals(new byte[] {(byte) 0x80, 2, ')', 'q', 0, '.'}, TanhGeluScript.constantsPickle());
    }

    /** libtorch loads the archive and computes the tanh form, not its default erf form. */
    @Test
    void libtorchRunsTheTanhForm() {
        int n = 4001;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = -4f + 8f * i / (n - 1);
        try (TorchReference torch = new TorchReference(Path.of("target", "djl-cache"), 1)) {
            float[] y = torch.geluTanh(x, 1, n).output();
            double worstTanh = 0, worstErf = 0;
            for (int i = 0; i < n; i++) {
                double tanhForm = 0.5 * x[i] * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x[i] + 0.044715 * x[i] * x[i] * x[i])));
                double erfForm = x[i] * dev.tessera.tensor.SpecialFunctions.normalCdf(x[i]);
                worstTanh = Math.max(worstTanh, Math.abs(y[i] - tanhForm));
                worstErf = Math.max(worstErf, Math.abs(y[i] - erfForm));
            }
            assertTrue(worstTanh < 1e-6, "libtorch's tanh GELU against the formula: " + worstTanh);
            assertTrue(worstErf > 1e-4, "the module computes the erf form (max difference " + worstErf + ")");
        }
    }
}
