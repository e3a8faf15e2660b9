package dev.tessera.gpu;

/** A kernel program failed to compile; the message and {@link #buildLog()} carry the compiler's log. */
public final class OpenClCompileException extends OpenClException {
    private final String buildLog;

    public OpenClCompileException(String message, String buildLog, Throwable cause) {
        super(message, cause);
        this.buildLog = buildLog;
    }

    /** The device compiler's build log. */
    public String buildLog() { return buildLog; }
}
