package dev.tessera.tensor;

import java.util.Objects;

/** Where an array's storage lives: the host CPU or an accelerator found by a backend provider. */
public final class Device {
    public static final String CPU_KIND = "cpu";
    public static final String OPENCL_KIND = "opencl";

    public static final Device CPU = new Device(CPU_KIND, 0);

    private final String kind;
    private final int index;

    private Device(String kind, int index) {
        this.kind = Objects.requireNonNull(kind);
        this.index = index;
    }

    public static Device of(String kind, int index) {
        if (CPU_KIND.equals(kind)) {
            if (index != 0) throw new IllegalArgumentException("there is one cpu device, index 0; got " + index);
            return CPU;
        }
        if (index < 0) throw new IllegalArgumentException("device index must be >= 0, got " + index);
        return new Device(kind, index);
    }

    /** The i-th OpenCL device in the order the OpenCL backend lists them. */
    public static Device opencl(int index) { return of(OPENCL_KIND, index); }

    /** Parses "cpu", "opencl", "opencl:1". */
    public static Device parse(String text) {
        String t = text.trim();
        int colon = t.indexOf(':');
        if (colon < 0) return of(t, 0);
        try {
            return of(t.substring(0, colon), Integer.parseInt(t.substring(colon + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad device '" + text + "': expected kind or kind:index, e.g. opencl:0");
        }
    }

    public String kind() { return kind; }

    public int index() { return index; }

    public boolean isCpu() { return CPU_KIND.equals(kind); }

    @Override
    public boolean equals(Object o) {
        return o instanceof Device d && d.kind.equals(kind) && d.index == index;
    }

    @Override
    public int hashCode() { return kind.hashCode() * 31 + index; }

    @Override
    public String toString() { return isCpu() ? kind : kind + ":" + index; }
}
