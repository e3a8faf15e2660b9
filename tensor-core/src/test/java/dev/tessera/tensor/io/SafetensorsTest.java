package dev.tessera.tensor.io;

import static dev.tessera.tensor.io.IoTestSupport.concat;
import static dev.tessera.tensor.io.IoTestSupport.file;
import static dev.tessera.tensor.io.IoTestSupport.hex;
import static dev.tessera.tensor.io.IoTestSupport.randomArray;
import static dev.tessera.tensor.io.IoTestSupport.rawBits;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.tensor.CpuStorage;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.NDArray;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {
    @TempDir
    Path dir;

    // ---- writer output checked byte for byte against the format ----------------------------

    @Test
    void writesOneF32TensorExactlyAsTheFormatSays() throws IOException {
        NDArray t = NDArray.fromArray(new float[] {0, 1, 2, 3, 4, 5}, 1, 1, 2, 3);
        Path p = dir.resolve("one.safetensors");
        Safetensors.write(p, Map.of("attn0", t));

        String json = "{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}";
        assertEquals(65, json.length());
        byte[] expected = concat(
                hex("48 00 00 00 00 00 00 00"),              // header length 72 = 65 + 7 spaces
                json.getBytes(StandardCharsets.US_ASCII),
                "       ".getBytes(StandardCharsets.US_ASCII),
                hex("00000000 0000803f 00000040 00004040 00008040 0000a040")); // 0f .. 5f little-endian
        assertArrayEquals(expected, Files.readAllBytes(p));
    }

    @Test
    void writesEmptyFilesAndMetadataExactly() throws IOException {
        Path p = dir.resolve("empty.safetensors");
        Safetensors.write(p, Map.of());
        assertArrayEquals(concat(hex("0800000000000000"), "{}      ".getBytes(StandardCharsets.US_ASCII)), Files.readAllBytes(p));

        Safetensors.write(p, Map.of(), Map.of("framework", "pt"));
        String json = "{\"__metadata__\":{\"framework\":\"pt\"}}     "; // 35 + 5 = 40
        assertArrayEquals(concat(hex("2800000000000000"), json.getBytes(StandardCharsets.US_ASCII)), Files.readAllBytes(p));

        // Escapes as serde_json writes them: short forms, lowercase \\u00xx for other controls, everything else raw UTF-8.
        Safetensors.write(p, Map.of(), Map.of("k", "\b\f\n\r\t\u0001\u001f\u007f/\"\\\u00e9\uD83D\uDE00"));
        byte[] escaped = concat("{\"__metadata__\":{\"k\":\"".getBytes(StandardCharsets.US_ASCII),
                "\\b\\f\\n\\r\\t\\u0001\\u001f".getBytes(StandardCharsets.US_ASCII),
                hex("7f 2f 5c22 5c5c c3a9 f09f9880"), // DEL and '/' raw, \" and \\, e-acute and the emoji as UTF-8
                "\"}}".getBytes(StandardCharsets.US_ASCII));
        int pad = (8 - escaped.length % 8) % 8;
        assertArrayEquals(concat(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(escaped.length + pad).array(),
                escaped, " ".repeat(pad).getBytes(StandardCharsets.US_ASCII)), Files.readAllBytes(p));
    }

    @Test
    void writesDtypesInAlignmentOrderThenByNameWithExactBytes() throws IOException {
        Map<String, NDArray> m = new LinkedHashMap<>();
        m.put("b", NDArray.fromArray(new boolean[] {true, false, true}, 3));
        m.put("\uD83D\uDE00", NDArray.fromArray(new boolean[] {false}, 1)); // emoji: UTF-8 F0 9F 98 80
        m.put("\uFF21", NDArray.fromArray(new boolean[] {true}, 1));        // fullwidth A: UTF-8 EF BC A1, sorts first in UTF-8
        m.put("c", NDArray.fromBits(DType.F16, new short[] {0x3C00, 0x7E01}, 2));
        m.put("y", new NDArray(CpuStorage.allocate(DType.F64, 0), 0, 2));
        m.put("a", new NDArray(CpuStorage.wrap(DType.I64, new long[] {258}))); // scalar, shape []
        m.put("z", NDArray.fromBits(DType.BF16, new short[] {(short) 0xBF80}, 1));
        m.put("i", NDArray.fromArray(new int[] {-2}, 1));
        m.put("A", NDArray.fromArray(new int[] {7}, 1));
        Path p = dir.resolve("mixed.safetensors");
        Safetensors.write(p, m);

        String json = "{"
                + "\"a\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]},"
                + "\"y\":{\"dtype\":\"F64\",\"shape\":[0,2],\"data_offsets\":[8,8]},"
                + "\"A\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[8,12]},"
                + "\"i\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[12,16]},"
                + "\"z\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[16,18]},"
                + "\"c\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[18,22]},"
                + "\"b\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[22,25]},"
                + "\"\uFF21\":{\"dtype\":\"BOOL\",\"shape\":[1],\"data_offsets\":[25,26]},"
                + "\"\uD83D\uDE00\":{\"dtype\":\"BOOL\",\"shape\":[1],\"data_offsets\":[26,27]}}";
        byte[] jsonBytes = json.getBytes(StandardCharsets.UTF_8); // names written as raw UTF-8, not \\u escapes
        int pad = (8 - jsonBytes.length % 8) % 8;
        byte[] expected = concat(
                ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(jsonBytes.length + pad).array(),
                jsonBytes,
                " ".repeat(pad).getBytes(StandardCharsets.US_ASCII),
                hex("0201000000000000"), // 258 as I64
                hex("07000000"),         // 7 as I32
                hex("feffffff"),         // -2 as I32
                hex("80bf"),             // BF16 -1.0
                hex("003c 017e"),        // F16 1.0 and a NaN pattern
                hex("01 00 01"),         // BOOL b
                hex("01"),               // BOOL fullwidth A
                hex("00"));              // BOOL emoji
        assertArrayEquals(expected, Files.readAllBytes(p));
    }

    @Test
    void headerIsPaddedWithSpacesSoDataStartsEightByteAligned() throws IOException {
        for (int len = 1; len <= 17; len++) {
            Path p = dir.resolve("pad" + len + ".safetensors");
            Safetensors.write(p, Map.of("n".repeat(len), NDArray.fromArray(new float[] {1.5f}, 1)));
            byte[] bytes = Files.readAllBytes(p);
            long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            assertEquals(0, n % 8, "header length " + n);
            String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
            String trimmed = header.stripTrailing();
            assertTrue(trimmed.endsWith("}"));
            assertTrue(header.length() - trimmed.length() < 8);
            assertTrue(header.substring(trimmed.length()).chars().allMatch(c -> c == ' '));
            assertEquals(8 + n + 4, bytes.length);
        }
    }

    // ---- reading hand-built files ------------------------------------------------------------

    @Test
    void readsHandBuiltFileInAnyKeyOrderWithWhitespaceAndMetadata() throws IOException {
        String header = "{ \"w\" : {\"shape\": [2, 2], \"data_offsets\": [8, 24], \"dtype\": \"F32\"},\n"
                + "  \"__metadata__\": {\"format\": \"pt\", \"note\": \"caf\\u00e9 \\\"q\\\"\"},\n"
                + "  \"s\": {\"dtype\": \"I64\", \"shape\": [], \"data_offsets\": [0, 8]},\n"
                + "  \"e\": {\"dtype\": \"BF16\", \"shape\": [3, 0], \"data_offsets\": [24, 24]} }   ";
        Path p = write("hand.safetensors", file(header,
                hex("ffffffffffffffff"),                           // s = -1
                hex("0000803f 000000c0 0000c07f 00008000")));       // 1, -2, NaN, smallest normal 2^-126
        try (SafetensorsFile f = Safetensors.read(p)) {
            assertEquals(List.of("s", "w", "e"), f.names()); // offset order
            assertEquals(Map.of("format", "pt", "note", "café \"q\""), f.metadata());
            TensorInfo w = f.info("w");
            assertEquals("F32", w.fileDtype());
            assertEquals(DType.F32, w.dtype());
            assertArrayEquals(new int[] {2, 2}, w.shape());
            assertEquals(8, w.begin());
            assertEquals(24, w.end());
            NDArray wa = f.get("w");
            assertArrayEquals(new int[] {2, 2}, wa.shape());
            assertArrayEquals(new long[] {0x3f800000, 0xc0000000L, 0x7fc00000, 0x00800000}, toUnsigned32(rawBits(wa)));
            NDArray s = f.get("s");
            assertEquals(0, s.rank());
            assertEquals(-1L, ((CpuStorage) s.storage()).i64()[0]);
            NDArray e = f.get("e");
            assertArrayEquals(new int[] {3, 0}, e.shape());
            assertEquals(DType.BF16, e.dtype());
            assertEquals(3, f.readAll().size());
        }
    }

    private static long[] toUnsigned32(long[] bits) {
        long[] out = bits.clone();
        for (int i = 0; i < out.length; i++) out[i] &= 0xFFFFFFFFL;
        return out;
    }

    @Test
    void widensSmallIntegerDtypesExactly() throws IOException {
        String header = "{\"u8\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]},"
                + "\"i8\":{\"dtype\":\"I8\",\"shape\":[2],\"data_offsets\":[2,4]},"
                + "\"i16\":{\"dtype\":\"I16\",\"shape\":[2],\"data_offsets\":[4,8]},"
                + "\"u16\":{\"dtype\":\"U16\",\"shape\":[2],\"data_offsets\":[8,12]},"
                + "\"u32\":{\"dtype\":\"U32\",\"shape\":[2],\"data_offsets\":[12,20]},"
                + "\"bool\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[20,23]}}";
        Path p = write("small.safetensors", file(header,
                hex("ff 07"), hex("ff 80"), hex("ffff 3412"), hex("ffff 3412"), hex("ffffffff 01000000"), hex("00 02 01")));
        for (int chunk : new int[] {8, SafetensorsFile.DEFAULT_MAP_CHUNK_BYTES}) {
            try (SafetensorsFile f = Safetensors.read(p, chunk)) {
                assertArrayEquals(new int[] {255, 7}, ((CpuStorage) f.get("u8").storage()).i32());
                assertArrayEquals(new int[] {-1, -128}, ((CpuStorage) f.get("i8").storage()).i32());
                assertArrayEquals(new int[] {-1, 0x1234}, ((CpuStorage) f.get("i16").storage()).i32());
                assertArrayEquals(new int[] {65535, 0x1234}, ((CpuStorage) f.get("u16").storage()).i32());
                assertArrayEquals(new long[] {4294967295L, 1}, ((CpuStorage) f.get("u32").storage()).i64());
                assertEquals(DType.I64, f.info("u32").dtype());
                assertEquals("U32", f.info("u32").fileDtype());
                assertArrayEquals(new byte[] {0, 1, 1}, ((CpuStorage) f.get("bool").storage()).bool()); // nonzero bytes load as 1
            }
        }
    }

    @Test
    void readsTensorsInManyMappedPieces() throws IOException {
        Random rnd = new Random(7);
        Map<String, NDArray> m = new LinkedHashMap<>();
        for (DType d : DType.values()) m.put("t_" + d, randomArray(rnd, d, 37, 3));
        Path p = dir.resolve("chunks.safetensors");
        Safetensors.write(p, m);
        for (int chunk : new int[] {8, 16, 24, 1 << 12}) {
            try (SafetensorsFile f = Safetensors.read(p, chunk)) {
                for (Map.Entry<String, NDArray> e : m.entrySet()) {
                    assertArrayEquals(rawBits(e.getValue()), rawBits(f.get(e.getKey())), e.getKey() + " with chunk " + chunk);
                }
            }
        }
    }

    @Test
    void readsTensorLyingBeyondTwoGigabytesInASparseFile() throws IOException {
        long big = 2147483656L; // 2^31 + 8 bytes: 268435457 I64 elements
        String header = "{\"big\":{\"dtype\":\"I64\",\"shape\":[268435457],\"data_offsets\":[0," + big + "]},"
                + "\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[" + big + "," + (big + 8) + "]}}";
        Path p = write("sparse.safetensors", file(header));
        long dataStart = Files.size(p);
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(hex("0000c03f 000020c1")), dataStart + big); // 1.5, -10 after a hole of 2 GB
        }
        try (SafetensorsFile f = Safetensors.read(p)) {
            assertEquals(big, f.info("big").byteSize());
            NDArray x = f.get("x");
            assertArrayEquals(new float[] {1.5f, -10f}, ((CpuStorage) x.storage()).f32());
        }
    }

    // ---- round trips ----------------------------------------------------------------------

    @Test
    void roundTripsEveryDtypeWithScalarsAndZeroSizeShapes() throws IOException {
        Random rnd = new Random(11);
        int[][] shapes = {{}, {0}, {3, 0, 2}, {1}, {5}, {2, 3, 4}};
        for (DType d : DType.values()) {
            Map<String, NDArray> m = new LinkedHashMap<>();
            for (int i = 0; i < shapes.length; i++) m.put("t" + i, randomArray(rnd, d, shapes[i]));
            Path p = dir.resolve("rt_" + d + ".safetensors");
            Safetensors.write(p, m);
            Map<String, NDArray> back = Safetensors.load(p);
            assertEquals(m.keySet(), back.keySet());
            for (String k : m.keySet()) {
                NDArray a = m.get(k), b = back.get(k);
                assertEquals(d, b.dtype());
                assertArrayEquals(a.shape(), b.shape(), k);
                if (b.numel() > 0) assertTrue(b.isContiguous()); // NDArray.isContiguous() says false for some zero-size shapes
                assertArrayEquals(rawBits(a), rawBits(b), d + " " + k);
            }
        }
    }

    @Test
    void writesNonContiguousViewsRowMajor() throws IOException {
        Random rnd = new Random(5);
        NDArray base = randomArray(rnd, DType.F32, 4, 5, 6);
        Map<String, NDArray> views = new LinkedHashMap<>();
        views.put("permuted", base.permute(2, 0, 1));
        views.put("sliced", base.slice(2, 1, 6, 2));
        views.put("selected", base.select(1, 3));
        views.put("narrowed", base.narrow(0, 1, 2).transpose(1, 2));
        views.put("expanded", randomArray(rnd, DType.BF16, 3, 1).expand(2, 3, 4));
        views.put("bools", randomArray(rnd, DType.BOOL, 3, 4).mT());
        views.put("longs", randomArray(rnd, DType.I64, 6).slice(0, 1, 6, 2));
        for (NDArray v : views.values()) assertFalse(v.isContiguous());
        Path p = dir.resolve("views.safetensors");
        Safetensors.write(p, views);
        Map<String, NDArray> back = Safetensors.load(p);
        for (String k : views.keySet()) {
            assertArrayEquals(views.get(k).shape(), back.get(k).shape(), k);
            assertArrayEquals(rawBits(views.get(k)), rawBits(back.get(k)), k);
        }
        // A contiguous array that starts inside its storage is written from its offset.
        NDArray row = base.select(0, 2);
        assertTrue(row.isContiguous() && row.offset() > 0);
        Safetensors.write(p, Map.of("row", row));
        assertArrayEquals(rawBits(row), rawBits(Safetensors.load(p).get("row")));
    }

    @Test
    void roundTripsMetadataWithAwkwardStrings() throws IOException {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("quote\"back\\slash", "line\nbreak\ttab\u0001ctl");
        meta.put("unicode é 中 \uD83D\uDE00", "");
        meta.put("", "empty key");
        Path p = dir.resolve("meta.safetensors");
        Safetensors.write(p, Map.of("x", NDArray.fromArray(new int[] {1, 2}, 2)), meta);
        try (SafetensorsFile f = Safetensors.read(p)) {
            assertEquals(meta, f.metadata());
        }
        Safetensors.write(p, Map.of("x", NDArray.fromArray(new int[] {1, 2}, 2)));
        try (SafetensorsFile f = Safetensors.read(p)) {
            assertTrue(f.metadata().isEmpty());
        }
    }

    @Test
    void lookupOfMissingTensorAndUseAfterCloseAreErrors() throws IOException {
        Path p = dir.resolve("x.safetensors");
        Safetensors.write(p, Map.of("x", NDArray.fromArray(new float[] {1}, 1)));
        SafetensorsFile f = Safetensors.read(p);
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> f.get("nope"));
        assertTrue(missing.getMessage().contains("'nope'") && missing.getMessage().contains("[x]"), missing.getMessage());
        f.close();
        assertThrows(IllegalStateException.class, () -> f.get("x"));
    }

    // ---- malformed files: one per rule --------------------------------------------------------

    private static final String VALID_ENTRY = "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";
    private static final byte[] EIGHT = hex("0000803f 00000040");

    @Test
    void refusesFileShorterThanEightBytes() throws IOException {
        assertRefused(hex("0100000000"), null, "fewer than the 8 bytes");
    }

    @Test
    void refusesHeaderLengthOverOneHundredMegabytes() throws IOException {
        byte[] f = concat(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(100_000_001L).array(), "{}".getBytes());
        assertRefused(f, null, "header length 100000001 exceeds the limit of 100000000");
        byte[] huge = concat(hex("ffffffffffffffff"), "{}".getBytes()); // 2^64 - 1 read unsigned
        assertRefused(huge, null, "18446744073709551615 exceeds the limit");
    }

    @Test
    void refusesHeaderLengthBeyondFileSize() throws IOException {
        byte[] valid = file("{" + VALID_ENTRY + "}", EIGHT);
        byte[] lying = valid.clone();
        lying[0] = (byte) 200; // declares a 200-byte header in a shorter file
        assertRefused(lying, null, "header length 200 reaches beyond the end of the file", "header truncated");
        byte[] cut = java.util.Arrays.copyOf(valid, 30); // file cut inside the header
        assertRefused(cut, null, "reaches beyond the end of the file");
    }

    @Test
    void refusesHeaderThatIsNotUtf8() throws IOException {
        byte[] f = file("{\"a\":{}}");
        f[10] = (byte) 0xFF;
        assertRefused(f, null, "not valid UTF-8");
    }

    @Test
    void refusesInvalidJson() throws IOException {
        assertRefused(file("{\"a\":"), null, "not valid JSON");
        assertRefused(file("{} {}"), null, "not valid JSON");
        assertRefused(file("{" + VALID_ENTRY + "} x", EIGHT), null, "not valid JSON");
        assertRefused(file("{'a': 1}"), null, "not valid JSON");
        assertRefused(file("{\"a\":" + "[".repeat(100_000)), null, "not valid JSON"); // deep nesting: refused, no StackOverflowError
    }

    @Test
    void refusesHeaderThatIsNotAnObject() throws IOException {
        assertRefused(file("[1, 2]"), null, "not a JSON object", "array");
        assertRefused(file("\"text\""), null, "not a JSON object");
        assertRefused(file(""), null, "not a JSON object");
        assertRefused(file("        "), null, "not a JSON object");
    }

    @Test
    void refusesEntriesWithMissingFieldsOrWrongTypes() throws IOException {
        assertRefused(file("{\"a\":5}"), "a", "entry must be an object");
        assertRefused(file("{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", EIGHT), "a", "missing field 'dtype'");
        assertRefused(file("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", EIGHT), "a", "missing field 'shape'");
        assertRefused(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", EIGHT), "a", "missing field 'data_offsets'");
        assertRefused(file("{\"a\":{\"dtype\":32,\"shape\":[2],\"data_offsets\":[0,8]}}", EIGHT), "a", "'dtype' must be a string");
        assertRefused(file("{\"a\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}", EIGHT), "a", "'shape' must be an array");
        assertRefused(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}", EIGHT), "a", "not an integer");
        assertRefused(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}", EIGHT), "a", "not an integer");
        assertRefused(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8]}}", EIGHT), "a", "must be an array [begin, end]");
        assertRefused(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,\"8\"]}}", EIGHT), "a", "two non-negative 64-bit integers");
        assertRefused(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8.0]}}", EIGHT), "a", "two non-negative 64-bit integers");
        assertRefused(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}", EIGHT), "a", "two non-negative 64-bit integers");
        assertRefused(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,99999999999999999999]}}", EIGHT), "a",
                "two non-negative 64-bit integers");
    }

    @Test
    void refusesDuplicateKeys() throws IOException {
        assertRefused(file("{" + VALID_ENTRY + "," + VALID_ENTRY + "}", EIGHT), null, "duplicate key", "'a'");
        assertRefused(file("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", EIGHT), null, "duplicate key");
        assertRefused(file("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}," + VALID_ENTRY + "}", EIGHT), null, "duplicate key");
    }

    @Test
    void refusesUnknownAndUnsupportedDtypes() throws IOException {
        assertRefused(file("{\"a\":{\"dtype\":\"Q7\",\"shape\":[2],\"data_offsets\":[0,8]}}", EIGHT), "a", "unknown dtype 'Q7'");
        assertRefused(file("{\"a\":{\"dtype\":\"f32\",\"shape\":[2],\"data_offsets\":[0,8]}}", EIGHT), "a", "unknown dtype 'f32'");
        assertRefused(file("{\"a\":{\"dtype\":\"U64\",\"shape\":[1],\"data_offsets\":[0,8]}}", EIGHT), "a", "dtype 'U64' is not supported");
        assertRefused(file("{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[8],\"data_offsets\":[0,8]}}", EIGHT), "a", "dtype 'F8_E4M3' is not supported");
    }

    @Test
    void refusesNegativeDimsAndOverflowingCounts() throws IOException {
        assertRefused(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", EIGHT), "a", "negative");
        assertRefused(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", EIGHT), "a", "overflows");
        assertRefused(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904],\"data_offsets\":[0,8]}}", EIGHT), "a", "overflows");
        assertRefused(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,8]}}", EIGHT), "a", "oversized");
    }

    @Test
    void refusesTensorsTooLargeForOneTesseraArray() throws IOException {
        // Valid per the format (the offsets could be right in a 16 GB file); Tessera arrays are int-indexed.
        assertRefused(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[65536,65536],\"data_offsets\":[0,17179869184]}}", EIGHT), "a",
                "4294967296 elements, more than one Tessera array holds");
    }

    @Test
    void refusesEndBeforeBeginAndByteCountMismatch() throws IOException {
        assertRefused(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", EIGHT), "a", "data_offsets [8, 0] end before begin");
        assertRefused(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", EIGHT), "a",
                "hold 8 bytes", "byte count", "3 x 4 = 12");
        assertRefused(file("{\"a\":{\"dtype\":\"BF16\",\"shape\":[],\"data_offsets\":[0,8]}}", EIGHT), "a", "1 x 2 = 2");
    }

    @Test
    void refusesOffsetsOutOfRangeAndTruncatedData() throws IOException {
        assertRefused(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", EIGHT), "a",
                "out of range", "data section has 8 bytes");
        byte[] valid = file("{" + VALID_ENTRY + "}", EIGHT);
        assertRefused(java.util.Arrays.copyOf(valid, valid.length - 1), "a", "out of range", "truncated");
    }

    @Test
    void refusesOverlappingOffsets() throws IOException {
        String h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
        assertRefused(file(h, EIGHT, hex("00000000")), "b", "overlap tensor 'a'");
        String same = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        assertRefused(file(same, EIGHT), null, "overlap tensor");
    }

    @Test
    void refusesHolesAndTrailingBytes() throws IOException {
        String gap = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}";
        assertRefused(file(gap, EIGHT, hex("00000000"), EIGHT), "b", "hole in the data section: bytes [8, 12)");
        String late = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
        assertRefused(file(late, hex("00000000"), EIGHT), "a", "hole in the data section: bytes [0, 4)");
        assertRefused(file("{" + VALID_ENTRY + "}", EIGHT, hex("00")), null, "1 trailing bytes belong to no tensor");
        assertRefused(file("{}", EIGHT), null, "8 trailing bytes belong to no tensor");
    }

    @Test
    void refusesMetadataThatIsNotStringToString() throws IOException {
        assertRefused(file("{\"__metadata__\":{\"k\":1}," + VALID_ENTRY + "}", EIGHT), null, "must map strings to strings", "'k'");
        assertRefused(file("{\"__metadata__\":{\"k\":null}}"), null, "must map strings to strings");
        assertRefused(file("{\"__metadata__\":{\"k\":{\"x\":\"y\"}}}"), null, "must map strings to strings");
        assertRefused(file("{\"__metadata__\":[\"k\"]}"), null, "__metadata__ must be an object");
        assertRefused(file("{\"__metadata__\":\"pt\"}"), null, "__metadata__ must be an object");
    }

    private void assertRefused(byte[] bytes, String tensor, String... fragments) throws IOException {
        Path p = write("bad.safetensors", bytes);
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> Safetensors.read(p).close());
        String msg = e.getMessage();
        assertTrue(msg.contains(p.toString()), "message should name the file: " + msg);
        for (String f : fragments) assertTrue(msg.contains(f), "message should contain '" + f + "': " + msg);
        if (tensor != null) {
            assertEquals(tensor, e.tensor(), msg);
            assertTrue(msg.contains("tensor '" + tensor + "'"), msg);
        }
        assertEquals(p, e.file());
    }

    private Path write(String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    // ---- failed and refused writes --------------------------------------------------------------

    @Test
    void refusedWritesLeaveExistingFileIntact() throws IOException {
        Path p = dir.resolve("keep.safetensors");
        Safetensors.write(p, Map.of("x", NDArray.fromArray(new float[] {1, 2, 3}, 3)), Map.of("v", "1"));
        byte[] before = Files.readAllBytes(p);
        NDArray ok = NDArray.fromArray(new float[] {4}, 1);

        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class, () -> Safetensors.write(p, Map.of("", ok)));
        assertTrue(empty.getMessage().contains("non-empty"), empty.getMessage());
        IllegalArgumentException reserved = assertThrows(IllegalArgumentException.class, () -> Safetensors.write(p, Map.of("__metadata__", ok)));
        assertTrue(reserved.getMessage().contains("reserved"), reserved.getMessage());
        Map<String, String> nullValue = new LinkedHashMap<>();
        nullValue.put("k", null);
        assertThrows(IllegalArgumentException.class, () -> Safetensors.write(p, Map.of("x", ok), nullValue));
        Map<String, NDArray> nullArray = new LinkedHashMap<>();
        nullArray.put("x", null);
        assertThrows(IllegalArgumentException.class, () -> Safetensors.write(p, nullArray));
        NDArray closed = NDArray.fromArray(new float[] {5}, 1);
        closed.close();
        IllegalArgumentException cl = assertThrows(IllegalArgumentException.class, () -> Safetensors.write(p, Map.of("ok", ok, "gone", closed)));
        assertTrue(cl.getMessage().contains("'gone'") && cl.getMessage().contains("closed"), cl.getMessage());

        assertArrayEquals(before, Files.readAllBytes(p));
        assertOnlyFiles("keep.safetensors");
    }

    @Test
    void failureMidWriteLeavesExistingFileIntactAndNoTemporaryFile() throws IOException {
        Path p = dir.resolve("model.safetensors");
        Safetensors.write(p, Map.of("x", NDArray.fromArray(new float[] {1, 2, 3}, 3)));
        byte[] before = Files.readAllBytes(p);
        Random rnd = new Random(3);
        Map<String, NDArray> next = Map.of("a", randomArray(rnd, DType.F32, 100), "b", randomArray(rnd, DType.F32, 100));
        Path[] seenTemp = new Path[1];
        IOException io = assertThrows(IOException.class, () -> Safetensors.write(p, next, null, (name, temp) -> {
            seenTemp[0] = temp;
            assertTrue(Files.exists(temp));
            assertEquals(p.toAbsolutePath().getParent(), temp.getParent());
            throw new IOException("disk full (injected)");
        }));
        assertEquals("disk full (injected)", io.getMessage());
        assertFalse(Files.exists(seenTemp[0]));
        assertArrayEquals(before, Files.readAllBytes(p));
        assertThrows(IllegalStateException.class, () -> Safetensors.write(p, next, null, (name, temp) -> {
            if (name.equals("b")) throw new IllegalStateException("crash (injected)");
        }));
        assertArrayEquals(before, Files.readAllBytes(p));
        assertOnlyFiles("model.safetensors");

        // A new file that fails is not created at all.
        Path fresh = dir.resolve("fresh.safetensors");
        assertThrows(IOException.class, () -> Safetensors.write(fresh, next, null, (name, temp) -> { throw new IOException("x"); }));
        assertFalse(Files.exists(fresh));
        assertOnlyFiles("model.safetensors");

        // And the same write without the failure replaces the old file.
        Safetensors.write(p, next);
        try (SafetensorsFile f = Safetensors.read(p)) {
            assertEquals(List.of("a", "b"), f.names());
        }
        assertOnlyFiles("model.safetensors");
    }

    @Test
    void writingOverADirectoryFailsCleanly() throws IOException {
        Path d = Files.createDirectory(dir.resolve("taken"));
        Files.writeString(d.resolve("inside"), "x");
        assertThrows(IOException.class, () -> Safetensors.write(d, Map.of("x", NDArray.fromArray(new float[] {1}, 1))));
        assertOnlyFiles("taken");
    }

    private void assertOnlyFiles(String... names) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(java.util.Set.of(names), s.map(q -> q.getFileName().toString()).collect(java.util.stream.Collectors.toSet()));
        }
    }
}
