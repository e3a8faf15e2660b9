package dev.tessera.tensor.io;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tessera.tensor.CpuStorage;
import dev.tessera.tensor.Device;
import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.Shapes;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Reads and writes the safetensors format: an 8-byte little-endian header length N, N bytes of
 * UTF-8 JSON ({@code {"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...,
 * "__metadata__": {string: string}}}), then the tensors' bytes, little-endian and row-major.
 *
 * <pre>{@code
 * Safetensors.write(path, Map.of("w", w, "b", b), Map.of("format", "pt"));
 * try (SafetensorsFile f = Safetensors.read(path)) {   // header validated, no tensor read yet
 *     NDArray w = f.get("w");
 * }
 * Map<String, NDArray> all = Safetensors.load(path);
 * }</pre>
 *
 * <p>Files are written the way Hugging Face's writer does, so that the same tensors give the
 * same bytes: tensors ordered by dtype alignment, largest first (I64, F64, F32, I32, BF16, F16,
 * BOOL), then by name (UTF-8 byte order); compact JSON with {@code __metadata__} first (its keys
 * sorted) and each entry's fields in the order dtype, shape, data_offsets; the header padded with
 * spaces to a multiple of 8 bytes so the data starts 8-byte aligned. The file is written to a
 * temporary file in the same directory, forced to disk and then atomically renamed over the
 * target, so a crash or a failure never leaves a partial file under the real name and leaves
 * any previous file untouched.
 */
public final class Safetensors {
    /** Header parser: duplicate keys and trailing garbage are errors; strings and names may be as long as the header. */
    static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            // Characters outside the BMP as 4 UTF-8 bytes (as serde_json writes them), not as escaped surrogate pairs.
            .enable(JsonWriteFeature.COMBINE_UNICODE_SURROGATES_IN_UTF8)
            .disable(JsonWriteFeature.WRITE_HEX_UPPER_CASE) // control characters as \u001f, again as serde_json
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxStringLength((int) SafetensorsFile.MAX_HEADER_BYTES)
                    .maxNameLength((int) SafetensorsFile.MAX_HEADER_BYTES)
                    .build())
            .build())
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private static final int WRITE_BUFFER_BYTES = 1 << 20;

    private Safetensors() {}

    /** Opens a file and validates its whole header; tensors are read on demand. Close the result. */
    public static SafetensorsFile read(Path path) throws IOException {
        return SafetensorsFile.open(path, SafetensorsFile.DEFAULT_MAP_CHUNK_BYTES);
    }

    /** As {@link #read(Path)}, mapping tensor data in pieces of at most mapChunkBytes (a multiple of 8); for tests. */
    static SafetensorsFile read(Path path, int mapChunkBytes) throws IOException {
        return SafetensorsFile.open(path, mapChunkBytes);
    }

    /** Reads every tensor of a file into CPU arrays, in file order. */
    public static Map<String, NDArray> load(Path path) throws IOException {
        try (SafetensorsFile f = read(path)) {
            return f.readAll();
        }
    }

    /** Writes tensors without metadata. */
    public static void write(Path path, Map<String, NDArray> tensors) throws IOException {
        write(path, tensors, null, null);
    }

    /**
     * Writes tensors (any device, any layout: views are written row-major, device arrays are
     * copied to the host one at a time) and optional metadata (null writes no
     * {@code __metadata__} key). Names must be non-empty and not {@code "__metadata__"}.
     * Atomically replaces an existing file; on failure the previous file is left as it was.
     */
    public static void write(Path path, Map<String, NDArray> tensors, Map<String, String> metadata) throws IOException {
        write(path, tensors, metadata, null);
    }

    /** Called after each tensor's data reaches the temporary file; tests inject failures with it. */
    interface WriteHook {
        void afterTensor(String name, Path tempFile) throws IOException;
    }

    static void write(Path path, Map<String, NDArray> tensors, Map<String, String> metadata, WriteHook hook) throws IOException {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(tensors, "tensors");
        List<Planned> plan = plan(path, tensors);
        validateMetadata(path, metadata);
        byte[] header = header(plan, metadata);

        Path target = path.toAbsolutePath();
        Path dir = target.getParent();
        Path temp = null;
        FileChannel out = null;
        try {
            for (int attempt = 0; out == null; attempt++) {
                temp = dir.resolve("." + target.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
                try {
                    out = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                } catch (FileAlreadyExistsException e) {
                    if (attempt >= 10) throw e;
                }
            }
            ByteBuffer buf = ByteBuffer.allocateDirect(WRITE_BUFFER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            buf.putLong(header.length).put(header).flip();
            writeFully(out, buf);
            for (Planned p : plan) {
                writeData(out, p.array, buf);
                if (out.position() != 8 + header.length + p.end) {
                    throw new IOException("safetensors file " + path + ", tensor '" + p.name + "': wrote up to byte " + out.position()
                            + " but planned " + (8 + header.length + p.end) + "; did the array change while it was written?");
                }
                if (hook != null) hook.afterTensor(p.name, temp);
            }
            out.force(true);
            out.close();
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            temp = null;
        } catch (IOException | RuntimeException | Error e) {
            if (out != null) {
                try {
                    out.close();
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            if (temp != null) {
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
        syncDirectory(dir);
    }

    /** One tensor's place in the file. */
    private record Planned(String name, byte[] utf8Name, NDArray array, FileDtype dtype, long begin, long end) {}

    private static List<Planned> plan(Path path, Map<String, NDArray> tensors) {
        List<Planned> unordered = new ArrayList<>();
        for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
            String name = e.getKey();
            NDArray a = e.getValue();
            if (name == null || name.isEmpty()) {
                throw new IllegalArgumentException("safetensors write " + path + ": tensor names must be non-empty, got " + (name == null ? "null" : "''"));
            }
            if (SafetensorsFile.METADATA_KEY.equals(name)) {
                throw new IllegalArgumentException("safetensors write " + path + ": '" + name + "' is reserved for metadata and cannot name a tensor");
            }
            if (a == null) throw new IllegalArgumentException("safetensors write " + path + ", tensor '" + name + "': array is null");
            if (a.storage().isClosed()) {
                throw new IllegalArgumentException("safetensors write " + path + ", tensor '" + name + "': its storage ("
                        + a.dtype() + Shapes.str(a.shape()) + ") was already closed");
            }
            unordered.add(new Planned(name, name.getBytes(StandardCharsets.UTF_8), a, FileDtype.of(a.dtype()), 0, 0));
        }
        // Hugging Face's order: larger alignment first, then name; Rust compares names as UTF-8 bytes.
        unordered.sort(Comparator.comparing((Planned p) -> p.dtype, Comparator.reverseOrder())
                .thenComparing(Planned::utf8Name, Arrays::compareUnsigned));
        List<Planned> plan = new ArrayList<>();
        long offset = 0;
        for (Planned p : unordered) {
            long bytes = (long) p.array.numel() * p.dtype.byteSize;
            plan.add(new Planned(p.name, p.utf8Name, p.array, p.dtype, offset, offset + bytes));
            offset += bytes;
        }
        return plan;
    }

    private static void validateMetadata(Path path, Map<String, String> metadata) {
        if (metadata == null) return;
        for (Map.Entry<String, String> e : metadata.entrySet()) {
            if (e.getKey() == null || e.getValue() == null) {
                throw new IllegalArgumentException("safetensors write " + path + ": metadata keys and values must be non-null, got "
                        + e.getKey() + " -> " + e.getValue());
            }
        }
    }

    /** The JSON header, padded with spaces to a multiple of 8 bytes. */
    private static byte[] header(List<Planned> plan, Map<String, String> metadata) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (JsonGenerator g = JSON.getFactory().createGenerator(bytes)) {
            g.writeStartObject();
            if (metadata != null) {
                g.writeObjectFieldStart(SafetensorsFile.METADATA_KEY);
                for (Map.Entry<String, String> e : new TreeMap<>(metadata).entrySet()) g.writeStringField(e.getKey(), e.getValue());
                g.writeEndObject();
            }
            for (Planned p : plan) {
                g.writeObjectFieldStart(p.name);
                g.writeStringField("dtype", p.dtype.name());
                g.writeArrayFieldStart("shape");
                for (int d : p.array.shape()) g.writeNumber(d);
                g.writeEndArray();
                g.writeArrayFieldStart("data_offsets");
                g.writeNumber(p.begin);
                g.writeNumber(p.end);
                g.writeEndArray();
                g.writeEndObject();
            }
            g.writeEndObject();
        }
        int pad = (8 - bytes.size() % 8) % 8;
        for (int i = 0; i < pad; i++) bytes.write(' ');
        if (bytes.size() > SafetensorsFile.MAX_HEADER_BYTES) {
            throw new IllegalArgumentException("safetensors header would be " + bytes.size() + " bytes, over the format's limit of "
                    + SafetensorsFile.MAX_HEADER_BYTES + " (too many tensors or too much metadata)");
        }
        return bytes.toByteArray();
    }

    /** Writes the array's elements row-major, little-endian, through buf. */
    private static void writeData(FileChannel out, NDArray array, ByteBuffer buf) throws IOException {
        NDArray a = array.device().isCpu() ? array : array.to(Device.CPU);
        int n = a.numel();
        if (n == 0) return;
        CpuStorage s = (CpuStorage) a.storage();
        s.checkOpen();
        int size = a.dtype().byteSize();
        buf.clear();
        if (a.isContiguous()) {
            // Row-major without gaps: elements offset .. offset + n - 1 of the backing array.
            int perChunk = buf.capacity() / size;
            for (int done = 0; done < n; ) {
                int count = Math.min(perChunk, n - done), from = a.offset() + done;
                buf.clear();
                switch (a.dtype()) {
                    case F32 -> buf.asFloatBuffer().put(s.f32(), from, count);
                    case F64 -> buf.asDoubleBuffer().put(s.f64(), from, count);
                    case BF16, F16 -> buf.asShortBuffer().put(s.bits16(), from, count);
                    case I32 -> buf.asIntBuffer().put(s.i32(), from, count);
                    case I64 -> buf.asLongBuffer().put(s.i64(), from, count);
                    case BOOL -> {
                        byte[] b = s.bool();
                        for (int i = 0; i < count; i++) buf.put(i, (byte) (b[from + i] != 0 ? 1 : 0));
                    }
                }
                buf.position(0).limit(count * size);
                writeFully(out, buf);
                done += count;
            }
            return;
        }
        // A strided view: walk its indices like an odometer, last dim fastest.
        int[] shape = a.shape(), strides = a.strides();
        int[] index = new int[shape.length];
        int pos = a.offset();
        for (int i = 0; i < n; i++) {
            if (buf.remaining() < size) {
                buf.flip();
                writeFully(out, buf);
                buf.clear();
            }
            switch (a.dtype()) {
                case F32 -> buf.putFloat(s.f32()[pos]);
                case F64 -> buf.putDouble(s.f64()[pos]);
                case BF16, F16 -> buf.putShort(s.bits16()[pos]);
                case I32 -> buf.putInt(s.i32()[pos]);
                case I64 -> buf.putLong(s.i64()[pos]);
                case BOOL -> buf.put((byte) (s.bool()[pos] != 0 ? 1 : 0));
            }
            for (int d = shape.length - 1; d >= 0; d--) {
                pos += strides[d];
                if (++index[d] < shape[d]) break;
                pos -= strides[d] * shape[d];
                index[d] = 0;
            }
        }
        buf.flip();
        writeFully(out, buf);
        buf.clear();
    }

    private static void writeFully(FileChannel out, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) out.write(buf);
    }

    /**
     * Forces the directory entry of the rename to disk. Best effort: some platforms (Windows)
     * cannot open a directory as a channel; the rename itself is atomic either way.
     */
    private static void syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException e) {
            // Not supported here; the data itself was forced before the rename.
        }
    }
}
