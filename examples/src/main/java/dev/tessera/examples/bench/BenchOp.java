package dev.tessera.examples.bench;

/**
 * One prepared operation of a benchmark row: inputs are already built, {@link #run()} executes it
 * once and discards the outputs, {@link #close()} frees the inputs.
 */
public interface BenchOp extends AutoCloseable {
    void run();

    /** The output of one more run, row-major, for comparing the two sides; null when not comparable. */
    default float[] output() { return null; }

    @Override
    default void close() {}
}
