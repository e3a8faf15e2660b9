package dev.tessera.examples.bench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * A TorchScript archive, written here byte by byte, whose module computes libtorch's
 * {@code gelu(x, approximate="tanh")}: DJL's API only reaches the erf form, and GPT-2 uses the tanh
 * form, so this is how {@code bench cpu} compares Tessera's tanh GELU with libtorch's on the same
 * function. No Python is involved: the archive is the zip that {@code torch.jit.save} would write
 * for a module without parameters.
 *
 * <p>Entries, all under one folder and stored uncompressed: {@code code/__torch__.py} (the class
 * in TorchScript's Python subset), {@code data.pkl} (the module object: a protocol-2 pickle of a
 * {@code __torch__.GeluTanh} with state {@code {"training": False}}), {@code constants.pkl} (an
 * empty tuple), {@code version} and {@code byteorder}. The version must be 10 for libtorch 2.7:
 * below it the loader substitutes the old one-argument gelu signature and rejects
 * {@code approximate}, above it refuses the file.
 */
final class TanhGeluScript {
    private TanhGeluScript() {}

    static final String FOLDER = "gelu_tanh/";

    static final String CODE = """
            class GeluTanh(Module):
              __parameters__ = []
              __buffers__ = []
              training : bool
              def forward(self: __torch__.GeluTanh,
                x: Tensor) -> Tensor:
                return torch.gelu(x, approximate="tanh")
            """;

    /** The module object: GLOBAL __torch__.GeluTanh, NEWOBJ, BUILD with {"training": False}. */
    static byte[] dataPickle() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(0x80); // PROTO
        b.write(2);
        b.writeBytes("c__torch__\nGeluTanh\n".getBytes(StandardCharsets.US_ASCII)); // GLOBAL module, name
        b.write('q'); // BINPUT 0
        b.write(0);
        b.write(')'); // EMPTY_TUPLE: the constructor's arguments
        b.write(0x81); // NEWOBJ
        b.write('q'); // BINPUT 1
        b.write(1);
        b.write('}'); // EMPTY_DICT: the state
        b.write('q'); // BINPUT 2
        b.write(2);
        b.write('X'); // BINUNICODE, 4-byte little-endian length
        b.writeBytes(new byte[] {8, 0, 0, 0});
        b.writeBytes("training".getBytes(StandardCharsets.US_ASCII));
        b.write('q'); // BINPUT 3
        b.write(3);
        b.write(0x89); // NEWFALSE
        b.write('s'); // SETITEM
        b.write('b'); // BUILD: the object's attributes from the dict
        b.write('.'); // STOP
        return b.toByteArray();
    }

    /** Protocol-2 pickle of an empty tuple: the module has no constants. */
    static byte[] constantsPickle() {
        return new byte[] {(byte) 0x80, 2, ')', 'q', 0, '.'};
    }

    /** The archive's bytes, ready for DJL's {@code JniUtils.loadModule} from a stream. */
    static byte[] archive() {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("data.pkl", dataPickle());
        entries.put("code/__torch__.py", CODE.getBytes(StandardCharsets.UTF_8));
        entries.put("constants.pkl", constantsPickle());
        entries.put("version", "10\n".getBytes(StandardCharsets.US_ASCII));
        entries.put("byteorder", "little".getBytes(StandardCharsets.US_ASCII));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                byte[] data = e.getValue();
                CRC32 crc = new CRC32();
                crc.update(data);
                ZipEntry entry = new ZipEntry(FOLDER + e.getKey());
                entry.setMethod(ZipEntry.STORED);
                entry.setSize(data.length);
                entry.setCompressedSize(data.length);
                entry.setCrc(crc.getValue());
                zip.putNextEntry(entry);
                zip.write(data);
                zip.closeEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // in memory: cannot happen
        }
        return bytes.toByteArray();
    }
}
