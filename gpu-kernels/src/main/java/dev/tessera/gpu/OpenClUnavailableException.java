package dev.tessera.gpu;

/** No OpenCL runtime or platform, or no device with the requested index or name. */
public final class OpenClUnavailableException extends OpenClException {
    public OpenClUnavailableException(String message) { super(message); }
}
