package dev.tessera.examples.jmh;

import dev.tessera.tensor.NDArray;
import java.util.Random;

/** Inputs for the JMH benchmarks: seeded, so every fork measures the same data. */
final class JmhData {
    private JmhData() {}

    /** n standard normal floats. */
    static float[] gaussian(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
        return v;
    }

    /** n class indices in [0, classes). */
    static int[] targets(Random r, int n, int classes) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = r.nextInt(classes);
        return t;
    }

    /**
     * The first element of a benchmark's output, which is then closed so that its array is recycled
     * for the next call, as in training (returned to JMH so the call cannot be optimised away).
     */
    static double firstAndClose(NDArray out) {
        double first = out.getDouble(new int[out.shape().length]);
        out.close();
        return first;
    }
}
