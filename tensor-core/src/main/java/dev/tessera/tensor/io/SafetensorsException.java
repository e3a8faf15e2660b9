package dev.tessera.tensor.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A safetensors file that breaks the format's rules (or holds something Tessera cannot load).
 * The message names the file, the tensor when one is at fault, and the problem.
 */
public class SafetensorsException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final String tensor;

    public SafetensorsException(Path file, String tensor, String problem) {
        this(file, tensor, problem, null);
    }

    public SafetensorsException(Path file, String tensor, String problem, Throwable cause) {
        super(describe(file, tensor, problem), cause);
        this.file = file;
        this.tensor = tensor;
    }

    /** The file at fault. */
    public Path file() { return file; }

    /** The tensor at fault, or null when the problem concerns the whole file. */
    public String tensor() { return tensor; }

    static String describe(Path file, String tensor, String problem) {
        StringBuilder sb = new StringBuilder("safetensors file ").append(file);
        if (tensor != null) sb.append(", tensor '").append(tensor).append('\'');
        return sb.append(": ").append(problem).toString();
    }
}
