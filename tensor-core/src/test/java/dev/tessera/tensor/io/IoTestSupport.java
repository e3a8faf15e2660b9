package dev.tessera.tensor.io;

import dev.tessera.tensor.CpuStorage;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.NDArray;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Random;

/** Helpers for the safetensors tests: raw element bits read straight from storage, hand-built files, random arrays. */
final class IoTestSupport {
    private IoTestSupport() {}

    /**
     * The elements of a CPU array in row-major order as raw bits (floats as their bit patterns,
     * so NaN payloads compare exactly), read straight from storage through shape, strides and
     * offset (no backend involved).
     */
    static long[] rawBits(NDArray a) {
        CpuStorage s = (CpuStorage) a.storage();
        int[] shape = a.shape(), strides = a.strides();
        int n = a.numel();
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            int pos = a.offset(), rest = i;
            for (int d = shape.length - 1; d >= 0; d--) {
                pos += (rest % shape[d]) * strides[d];
                rest /= shape[d];
            }
            out[i] = switch (a.dtype()) {
                case F32 -> Float.floatToRawIntBits(s.f32()[pos]);
                case F64 -> Double.doubleToRawLongBits(s.f64()[pos]);
                case BF16, F16 -> s.bits16()[pos];
                case I32 -> s.i32()[pos];
                case I64 -> s.i64()[pos];
                case BOOL -> s.bool()[pos] != 0 ? 1 : 0;
            };
        }
        return out;
    }

    /** A file: 8-byte little-endian length of the header bytes, the header as given (no padding added), the data. */
    static byte[] file(String header, byte[]... data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
        out.writeBytes(h);
        for (byte[] d : data) out.writeBytes(d);
        return out.toByteArray();
    }

    /** Bytes written as hex pairs, spaces ignored: hex("00 00 80 3f"). */
    static byte[] hex(String pairs) {
        String s = pairs.replace(" ", "");
        byte[] out = new byte[s.length() / 2];
        for (int i = 0; i < out.length; i++) out[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        return out;
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }

    /** A contiguous array of numel random elements; floats from random bits (NaN, Inf, subnormals included). */
    static NDArray randomArray(Random rnd, DType dtype, int... shape) {
        int n = 1;
        for (int d : shape) n *= d;
        CpuStorage s = CpuStorage.allocate(dtype, n);
        for (int i = 0; i < n; i++) {
            switch (dtype) {
                case F32 -> s.f32()[i] = Float.intBitsToFloat(rnd.nextInt());
                case F64 -> s.f64()[i] = Double.longBitsToDouble(rnd.nextLong());
                case BF16, F16 -> s.bits16()[i] = (short) rnd.nextInt();
                case I32 -> s.i32()[i] = rnd.nextInt();
                case I64 -> s.i64()[i] = rnd.nextLong();
                case BOOL -> s.bool()[i] = (byte) rnd.nextInt(2);
            }
        }
        return new NDArray(s, shape);
    }
}
