package dev.tessera.gpu;

/** A failure of the OpenCL runtime or of this backend; the message names the device and the problem. */
public class OpenClException extends RuntimeException {
    public OpenClException(String message) { super(message); }

    public OpenClException(String message, Throwable cause) { super(message, cause); }
}
