package dev.tessera.tensor.io;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.tessera.tensor.CpuStorage;
import dev.tessera.tensor.NDArray;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An open safetensors file whose header has been read and validated in full; tensors are read on
 * demand. Each {@link #get} maps the tensor's bytes (read-only, in pieces of at most 1 GiB, so
 * files and tensors over 2 GB work) and copies them once into a new CPU {@link NDArray}; nothing
 * is cached, so two gets of one name give two independent arrays.
 *
 * <p>Opening refuses, with a {@link SafetensorsException} naming the file, the tensor and the
 * problem: files shorter than 8 bytes; a header length over 100,000,000 bytes or past the end of
 * the file; a header that is not UTF-8, not JSON, not an object, or has a duplicate key; entries
 * missing dtype, shape or data_offsets or with fields of the wrong type; unknown or unsupported
 * dtypes; negative dims; element or byte counts that overflow 64 bits; data_offsets whose end is
 * before their begin, whose length is not numel x dtype size, or that reach past the data section;
 * tensors that overlap, leave a hole between them, or leave trailing bytes at the end of the data
 * section (the tensors must tile the data section exactly, as in the reference implementation);
 * and a {@code __metadata__} that is not an object of strings. It also refuses tensors with more
 * elements than one Tessera array holds (2^31 - 9).
 *
 * <p>Dtypes: F32, F64, BF16, F16 (raw 16-bit patterns kept as they are), I32, I64 and BOOL load
 * unchanged (BOOL bytes other than 0 load as 1); U8, I8, I16 and U16 are widened to I32 and U32
 * to I64, exactly. U64 and the 8-bit and smaller float types are refused.
 *
 * <p>Thread-safe: gets may run concurrently. Closing releases the file handle; mapped pieces are
 * unmapped by the garbage collector once the copies are done.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** Largest header accepted, as in the reference implementation. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    static final String METADATA_KEY = "__metadata__";
    static final int DEFAULT_MAP_CHUNK_BYTES = 1 << 30;
    private static final int MAX_ARRAY_ELEMENTS = Integer.MAX_VALUE - 8;

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final long dataLength;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;
    private final int mapChunkBytes;

    private SafetensorsFile(Path path, FileChannel channel, int mapChunkBytes) throws IOException {
        this.path = path;
        this.channel = channel;
        this.mapChunkBytes = mapChunkBytes;
        long fileSize = channel.size();
        if (fileSize < 8) {
            throw new SafetensorsException(path, null, "file has " + fileSize + " bytes, fewer than the 8 bytes of the header length");
        }
        ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(lengthBytes, 0);
        long headerLength = lengthBytes.getLong(0);
        if (headerLength < 0 || headerLength > MAX_HEADER_BYTES) {
            throw new SafetensorsException(path, null, "header length " + Long.toUnsignedString(headerLength)
                    + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes");
        }
        if (headerLength > fileSize - 8) {
            throw new SafetensorsException(path, null, "header length " + headerLength + " reaches beyond the end of the file ("
                    + fileSize + " bytes): header truncated");
        }
        byte[] header = new byte[(int) headerLength];
        readFully(ByteBuffer.wrap(header), 8);
        this.dataStart = 8 + headerLength;
        this.dataLength = fileSize - dataStart;

        JsonNode root = parseHeader(header);
        List<TensorInfo> infos = new ArrayList<>();
        Map<String, String> meta = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> field : root.properties()) {
            if (METADATA_KEY.equals(field.getKey())) {
                parseMetadata(field.getValue(), meta);
            } else {
                infos.add(parseEntry(field.getKey(), field.getValue()));
            }
        }
        infos.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end).thenComparing(TensorInfo::name));
        checkTiling(infos);
        Map<String, TensorInfo> byName = new LinkedHashMap<>();
        for (TensorInfo t : infos) byName.put(t.name(), t);
        this.tensors = Collections.unmodifiableMap(byName);
        this.metadata = Collections.unmodifiableMap(meta);
    }

    /** Opens and validates the header; the caller closes the result. */
    static SafetensorsFile open(Path path, int mapChunkBytes) throws IOException {
        if (mapChunkBytes <= 0 || mapChunkBytes % 8 != 0) {
            throw new IllegalArgumentException("map chunk must be a positive multiple of 8 bytes, got " + mapChunkBytes);
        }
        FileChannel channel = FileChannel.open(path, StandardOpenOption.READ);
        try {
            return new SafetensorsFile(path, channel, mapChunkBytes);
        } catch (IOException | RuntimeException | Error e) {
            try {
                channel.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    // ---- header ---------------------------------------------------------------------------

    private JsonNode parseHeader(byte[] header) throws SafetensorsException {
        String json;
        try {
            // Strict decoding: Jackson alone would guess UTF-16/32 from the first bytes.
            CharBuffer chars = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(header));
            json = chars.toString();
        } catch (CharacterCodingException e) {
            throw new SafetensorsException(path, null, "header is not valid UTF-8", e);
        }
        JsonNode root;
        try {
            root = Safetensors.JSON.readTree(json);
        } catch (JsonProcessingException e) {
            String detail = e.getOriginalMessage();
            if (e instanceof JsonParseException && detail != null && detail.startsWith("Duplicate field")) {
                throw new SafetensorsException(path, null, "header has a duplicate key: " + detail, e);
            }
            throw new SafetensorsException(path, null, "header is not valid JSON: " + detail, e);
        }
        if (root == null || !root.isObject()) {
            throw new SafetensorsException(path, null, "header is not a JSON object (found "
                    + (root == null || root.isMissingNode() ? "nothing" : root.getNodeType().toString().toLowerCase()) + ")");
        }
        return root;
    }

    private void parseMetadata(JsonNode node, Map<String, String> into) throws SafetensorsException {
        if (node.isNull()) return; // the reference implementation reads null as "no metadata"
        if (!node.isObject()) {
            throw new SafetensorsException(path, null, METADATA_KEY + " must be an object of string to string, got " + abbreviate(node));
        }
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!e.getValue().isTextual()) {
                throw new SafetensorsException(path, null, METADATA_KEY + " must map strings to strings, but key '" + e.getKey()
                        + "' holds " + abbreviate(e.getValue()));
            }
            into.put(e.getKey(), e.getValue().textValue());
        }
    }

    private TensorInfo parseEntry(String name, JsonNode node) throws SafetensorsException {
        if (!node.isObject()) {
            throw new SafetensorsException(path, name, "entry must be an object with dtype, shape and data_offsets, got " + abbreviate(node));
        }
        JsonNode dtypeNode = field(name, node, "dtype");
        if (!dtypeNode.isTextual()) {
            throw new SafetensorsException(path, name, "field 'dtype' must be a string, got " + abbreviate(dtypeNode));
        }
        String dtypeName = dtypeNode.textValue();
        FileDtype dtype = FileDtype.parse(dtypeName);
        if (dtype == null) {
            String what = FileDtype.UNSUPPORTED.contains(dtypeName) ? "dtype '" + dtypeName + "' is not supported by Tessera"
                    : "unknown dtype '" + abbreviate(dtypeName) + "'";
            throw new SafetensorsException(path, name, what + " (Tessera reads F32, F64, BF16, F16, I32, I64, BOOL, and U8, I8, I16, U16, U32 widened)");
        }

        JsonNode shapeNode = field(name, node, "shape");
        if (!shapeNode.isArray()) {
            throw new SafetensorsException(path, name, "field 'shape' must be an array of integers, got " + abbreviate(shapeNode));
        }
        String shapeText = abbreviate(shapeNode);
        long[] dims = new long[shapeNode.size()];
        for (int i = 0; i < dims.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.isIntegralNumber()) {
                throw new SafetensorsException(path, name, "shape " + shapeText + " holds " + abbreviate(d) + ", not an integer");
            }
            if (!d.canConvertToLong() || d.longValue() < 0) {
                throw new SafetensorsException(path, name, "shape " + shapeText + " has a negative or oversized dimension " + d);
            }
            dims[i] = d.longValue();
        }
        long numel = 1, byteCount;
        try {
            for (long d : dims) numel = Math.multiplyExact(numel, d);
            byteCount = Math.multiplyExact(numel, (long) dtype.byteSize);
        } catch (ArithmeticException e) {
            throw new SafetensorsException(path, name, "shape " + shapeText + " of dtype " + dtypeName + " overflows: its element or byte count exceeds 2^63");
        }

        JsonNode offsets = field(name, node, "data_offsets");
        if (!offsets.isArray() || offsets.size() != 2) {
            throw new SafetensorsException(path, name, "field 'data_offsets' must be an array [begin, end], got " + abbreviate(offsets));
        }
        long begin = offset(name, offsets, 0), end = offset(name, offsets, 1);
        String range = "data_offsets [" + begin + ", " + end + "]";
        if (end < begin) {
            throw new SafetensorsException(path, name, range + " end before begin");
        }
        if (end - begin != byteCount) {
            throw new SafetensorsException(path, name, range + " hold " + (end - begin) + " bytes, but the byte count of dtype "
                    + dtypeName + " and shape " + shapeText + " is " + numel + " x " + dtype.byteSize + " = " + byteCount);
        }
        if (numel > MAX_ARRAY_ELEMENTS) {
            throw new SafetensorsException(path, name, "shape " + shapeText + " has " + numel
                    + " elements, more than one Tessera array holds (" + MAX_ARRAY_ELEMENTS + ")");
        }
        if (end > dataLength) {
            throw new SafetensorsException(path, name, range + " out of range: the data section has " + dataLength
                    + " bytes (file truncated?)");
        }
        int[] shape = new int[dims.length];
        for (int i = 0; i < dims.length; i++) shape[i] = (int) dims[i]; // each dim <= numel <= int range, or numel == 0
        if (numel == 0) {
            for (long d : dims) {
                if (d > Integer.MAX_VALUE) {
                    throw new SafetensorsException(path, name, "shape " + shapeText + " has a dimension over " + Integer.MAX_VALUE);
                }
            }
        }
        return new TensorInfo(name, dtypeName, dtype.loadsAs, shape, begin, end);
    }

    private JsonNode field(String name, JsonNode entry, String field) throws SafetensorsException {
        JsonNode v = entry.get(field);
        if (v == null) {
            throw new SafetensorsException(path, name, "entry is missing field '" + field + "' (needs dtype, shape and data_offsets)");
        }
        return v;
    }

    private long offset(String name, JsonNode offsets, int i) throws SafetensorsException {
        JsonNode v = offsets.get(i);
        if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
            throw new SafetensorsException(path, name, "data_offsets " + abbreviate(offsets) + " must hold two non-negative 64-bit integers");
        }
        return v.longValue();
    }

    /** The tensors, sorted by begin, must tile [0, dataLength) exactly: no overlap, no hole, nothing after. */
    private void checkTiling(List<TensorInfo> sorted) throws SafetensorsException {
        long covered = 0;
        TensorInfo last = null;
        for (TensorInfo t : sorted) {
            if (t.begin() > covered) {
                throw new SafetensorsException(path, t.name(), "hole in the data section: bytes [" + covered + ", " + t.begin()
                        + ") before this tensor belong to no tensor" + (last == null ? "" : " (previous tensor '" + last.name() + "' ends at " + covered + ")"));
            }
            if (t.begin() < covered) {
                throw new SafetensorsException(path, t.name(), "data_offsets [" + t.begin() + ", " + t.end() + "] overlap tensor '"
                        + last.name() + "' [" + last.begin() + ", " + last.end() + "]");
            }
            if (last == null || t.end() > t.begin()) last = t;
            covered = t.end();
        }
        if (covered != dataLength) {
            throw new SafetensorsException(path, null, "the data section has " + dataLength + " bytes but the tensors cover only the first "
                    + covered + ": " + (dataLength - covered) + " trailing bytes belong to no tensor");
        }
    }

    private static String abbreviate(Object o) {
        String s = String.valueOf(o);
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }

    private void readFully(ByteBuffer dst, long position) throws IOException {
        long pos = position;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, pos);
            if (n < 0) throw new SafetensorsException(path, null, "file ended at byte " + pos + " while reading the header");
            pos += n;
        }
    }

    // ---- public view ----------------------------------------------------------------------

    public Path path() { return path; }

    /** Tensor names in the order of their data in the file. */
    public List<String> names() { return List.copyOf(tensors.keySet()); }

    public boolean contains(String name) { return tensors.containsKey(name); }

    /** Header information of one tensor; throws naming the file when there is no such tensor. */
    public TensorInfo info(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            List<String> names = names();
            String listed = names.size() <= 10 ? names.toString() : names.subList(0, 10) + " and " + (names.size() - 10) + " more";
            throw new IllegalArgumentException("safetensors file " + path + " has no tensor '" + name + "'; it has " + listed);
        }
        return t;
    }

    /** Headers of all tensors, in file order. */
    public List<TensorInfo> infos() { return List.copyOf(tensors.values()); }

    /** The {@code __metadata__} map (empty when the file has none), in file order. */
    public Map<String, String> metadata() { return metadata; }

    /** Reads one tensor into a new contiguous CPU array. */
    public NDArray get(String name) throws IOException {
        TensorInfo t = info(name);
        if (!channel.isOpen()) throw new IllegalStateException("safetensors file " + path + " was closed; cannot read tensor '" + name + "'");
        FileDtype fd = FileDtype.parse(t.fileDtype());
        int n = t.numel();
        Object array = CpuStorage.newHostArray(fd.loadsAs, n);
        long fileSize = channel.size();
        if (dataStart + t.end() > fileSize) {
            throw new SafetensorsException(path, name, "file shrank to " + fileSize + " bytes since it was opened; the tensor ends at byte " + (dataStart + t.end()));
        }
        int elementsPerChunk = mapChunkBytes / fd.byteSize;
        for (int done = 0; done < n; ) {
            int count = Math.min(elementsPerChunk, n - done);
            MappedByteBuffer mapped = channel.map(FileChannel.MapMode.READ_ONLY, dataStart + t.begin() + (long) done * fd.byteSize, (long) count * fd.byteSize);
            mapped.order(ByteOrder.LITTLE_ENDIAN);
            copy(fd, mapped, array, done, count);
            done += count;
        }
        return new NDArray(CpuStorage.wrap(fd.loadsAs, array), t.shape());
    }

    /** Copies count little-endian elements from src into dst[offset...], widening where needed. */
    private static void copy(FileDtype fd, ByteBuffer src, Object dst, int offset, int count) {
        switch (fd) {
            case F32 -> src.asFloatBuffer().get((float[]) dst, offset, count);
            case F64 -> src.asDoubleBuffer().get((double[]) dst, offset, count);
            case F16, BF16 -> src.asShortBuffer().get((short[]) dst, offset, count);
            case I32 -> src.asIntBuffer().get((int[]) dst, offset, count);
            case I64 -> src.asLongBuffer().get((long[]) dst, offset, count);
            case BOOL -> {
                byte[] b = (byte[]) dst;
                src.get(b, offset, count);
                for (int i = offset; i < offset + count; i++) b[i] = (byte) (b[i] != 0 ? 1 : 0);
            }
            case U8 -> {
                int[] a = (int[]) dst;
                for (int i = 0; i < count; i++) a[offset + i] = src.get(i) & 0xFF;
            }
            case I8 -> {
                int[] a = (int[]) dst;
                for (int i = 0; i < count; i++) a[offset + i] = src.get(i);
            }
            case I16 -> {
                int[] a = (int[]) dst;
                for (int i = 0; i < count; i++) a[offset + i] = src.getShort(2 * i);
            }
            case U16 -> {
                int[] a = (int[]) dst;
                for (int i = 0; i < count; i++) a[offset + i] = src.getShort(2 * i) & 0xFFFF;
            }
            case U32 -> {
                long[] a = (long[]) dst;
                for (int i = 0; i < count; i++) a[offset + i] = src.getInt(4 * i) & 0xFFFFFFFFL;
            }
        }
    }

    /** Reads every tensor, in file order. */
    public Map<String, NDArray> readAll() throws IOException {
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (String name : tensors.keySet()) out.put(name, get(name));
        return out;
    }

    @Override
    public void close() throws IOException { channel.close(); }

    @Override
    public String toString() {
        return "SafetensorsFile(" + path + ", " + tensors.size() + " tensors)";
    }
}
