package dev.tessera.gpu;

/** A device buffer could not be allocated, even after the allocator's cache was emptied. */
public final class OpenClOutOfMemoryException extends OpenClException {
    public OpenClOutOfMemoryException(String message, Throwable cause) { super(message, cause); }
}
