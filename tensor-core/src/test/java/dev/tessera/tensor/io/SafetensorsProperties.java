package dev.tessera.tensor.io;

import static dev.tessera.tensor.io.IoTestSupport.randomArray;
import static dev.tessera.tensor.io.IoTestSupport.rawBits;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.NDArray;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.statistics.Statistics;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/** Random round trips and random corruption of safetensors files. */
class SafetensorsProperties {
    private static Path dir;

    @BeforeContainer
    static void makeDir() throws IOException {
        dir = Files.createTempDirectory("tessera-safetensors");
    }

    @AfterContainer
    static void removeDir() throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    private static final String[] NAME_PARTS = {"a", "B", "w", "bias", ".", "0", "9", "_", "é", "中", "\uD83D\uDE00", "\"", "\\", " ", "\n"};

    /** Random tensors of every dtype (raw bits random, NaN patterns included), shapes with scalars and zero dims, random layouts. */
    static Map<String, NDArray> randomTensors(Random rnd, int count) {
        Map<String, NDArray> m = new LinkedHashMap<>();
        while (m.size() < count) {
            StringBuilder name = new StringBuilder();
            for (int i = 0, n = 1 + rnd.nextInt(4); i < n; i++) name.append(NAME_PARTS[rnd.nextInt(NAME_PARTS.length)]);
            if (name.toString().equals("__metadata__")) continue;
            DType dtype = DType.values()[rnd.nextInt(DType.values().length)];
            int[] shape = new int[rnd.nextInt(5)];
            for (int i = 0; i < shape.length; i++) shape[i] = rnd.nextInt(10) == 0 ? 0 : 1 + rnd.nextInt(4);
            m.put(name.toString(), layout(rnd, randomArray(rnd, dtype, shape)));
        }
        return m;
    }

    /** The same kind of array, as a contiguous array or as a strided view of a larger one. */
    private static NDArray layout(Random rnd, NDArray a) {
        int r = a.rank();
        switch (rnd.nextInt(4)) {
            case 0:
                return a;
            case 1: { // permuted
                int[] perm = new int[r];
                for (int i = 0; i < r; i++) perm[i] = i;
                for (int i = r - 1; i > 0; i--) {
                    int j = rnd.nextInt(i + 1), t = perm[i];
                    perm[i] = perm[j];
                    perm[j] = t;
                }
                return a.permute(perm);
            }
            case 2: { // every other element of a twice-as-long first dim
                if (r == 0) return a;
                int[] big = a.shape();
                big[0] = big[0] * 2;
                return randomArray(rnd, a.dtype(), big).slice(0, 0, big[0], 2);
            }
            default: { // broadcast along a new leading dim
                int[] s = new int[r + 1];
                s[0] = 2;
                System.arraycopy(a.shape(), 0, s, 1, r);
                return a.expand(s);
            }
        }
    }

    @Property(tries = 120)
    void roundTripsRandomTensorsAndMetadata(@ForAll long seed, @ForAll @IntRange(min = 0, max = 6) int count) throws IOException {
        Random rnd = new Random(seed);
        Map<String, NDArray> tensors = randomTensors(rnd, count);
        Map<String, String> meta = rnd.nextBoolean() ? null : Map.of("format", "pt", "seed " + seed, "é\"\\\n" + seed);
        Path p = dir.resolve("rt-" + seed + ".safetensors");
        try {
            Safetensors.write(p, tensors, meta);
            long headerLength = java.nio.ByteBuffer.wrap(Files.readAllBytes(p), 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
            assertEquals(0, headerLength % 8);
            int chunk = rnd.nextBoolean() ? SafetensorsFile.DEFAULT_MAP_CHUNK_BYTES : 8 * (1 + rnd.nextInt(4));
            try (SafetensorsFile f = Safetensors.read(p, chunk)) {
                assertEquals(tensors.keySet(), Set(f.names()));
                assertEquals(meta == null ? Map.of() : meta, f.metadata());
                for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
                    NDArray back = f.get(e.getKey());
                    assertEquals(e.getValue().dtype(), back.dtype(), e.getKey());
                    assertArrayEquals(e.getValue().shape(), back.shape(), e.getKey());
                    assertArrayEquals(rawBits(e.getValue()), rawBits(back), e.getKey());
                }
            }
        } finally {
            Files.deleteIfExists(p);
        }
    }

    private static java.util.Set<String> Set(java.util.List<String> names) {
        java.util.Set<String> s = new java.util.HashSet<>(names);
        assertEquals(names.size(), s.size());
        return s;
    }

    /**
     * Corrupting a valid file (random bytes in the length or header, or truncation) gives
     * either a file that still validates, whose tensors all read, or a SafetensorsException:
     * never another exception, an OutOfMemoryError or a hang.
     */
    @Property(tries = 200)
    void corruptedFilesAreRefusedCleanlyOrReadConsistently(@ForAll long seed) throws IOException {
        Random rnd = new Random(seed);
        Path p = dir.resolve("fuzz-" + seed + ".safetensors");
        try {
            Safetensors.write(p, randomTensors(rnd, 1 + rnd.nextInt(3)), Map.of("k", "v"));
            byte[] bytes = Files.readAllBytes(p);
            long headerLength = java.nio.ByteBuffer.wrap(bytes, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
            switch (rnd.nextInt(3)) {
                case 0 -> bytes = Arrays.copyOf(bytes, rnd.nextInt(bytes.length)); // truncated
                case 1 -> bytes[rnd.nextInt(8)] = (byte) rnd.nextInt(256);          // length changed
                default -> {                                                         // header bytes changed
                    for (int i = 0, n = 1 + rnd.nextInt(3); i < n; i++) {
                        bytes[8 + rnd.nextInt((int) headerLength)] = (byte) "{}[]\",:0123456789-.eE \u0000x".charAt(rnd.nextInt(24));
                    }
                }
            }
            Files.write(p, bytes);
            try (SafetensorsFile f = Safetensors.read(p)) {
                long total = 0;
                for (String name : f.names()) {
                    NDArray a = f.get(name);
                    assertEquals(f.info(name).numel(), a.numel());
                    total += f.info(name).byteSize();
                }
                assertTrue(total <= bytes.length);
                Statistics.collect("still valid");
            } catch (SafetensorsException expected) {
                Statistics.collect("refused");
                assertTrue(expected.getMessage().contains(p.toString()), expected.getMessage());
            }
        } finally {
            Files.deleteIfExists(p);
        }
    }
}
