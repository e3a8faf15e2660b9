package dev.tessera.tensor.cpu;

import dev.tessera.tensor.CrossEntropyResult;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.NormResult;
import dev.tessera.tensor.Parallel;
import dev.tessera.tensor.UnaryOp;
import java.util.Arrays;
import java.util.Random;
import java.util.function.Supplier;

/**
 * Scratch timing of the fused F32 row and unary kernels (not a test: run by hand). Prints the
 * median ns per element (output allocation included) at 1 and 2 threads.
 * Args: [runs] [kernel-name regex].
 */
public final class ScratchKernelTiming {
    private ScratchKernelTiming() {}

    static volatile Object sink;

    static final java.lang.management.ThreadMXBean MX = java.lang.management.ManagementFactory.getThreadMXBean();

    /** Median ns per element: wall clock, or (cpu) the calling thread's CPU time, which the other processes' load does not inflate. */
    static double medianNs(Supplier<Object> f, int runs, long numel, boolean cpu) {
        // warm up for 1.5 s (at least 10 calls): under load C2 needs seconds for these methods
        long until = System.nanoTime() + 1_500_000_000L;
        for (int i = 0; i < 10 || System.nanoTime() < until; i++) sink = f.get();
        double[] t = new double[runs];
        for (int i = 0; i < runs; i++) {
            long t0 = cpu ? MX.getCurrentThreadCpuTime() : System.nanoTime();
            sink = f.get();
            t[i] = ((cpu ? MX.getCurrentThreadCpuTime() : System.nanoTime()) - t0) / (double) numel;
        }
        Arrays.sort(t);
        return t[runs / 2];
    }

    static NDArray randn(Random r, double scale, int... shape) {
        int n = 1;
        for (int s : shape) n *= s;
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * scale);
        return NDArray.fromArray(a, shape);
    }

    public static void main(String[] args) {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 21;
        String filter = args.length > 1 ? args[1] : "";
        Random r = new Random(1);
        int n = 4096, c = 768;
        NDArray x = randn(r, 2, n, c), g = randn(r, 1, n, c), w = randn(r, 1, c), b = randn(r, 1, c);
        NormResult ln = x.layerNorm(w, b, 1e-5);
        int vN = 256, vV = 50257;
        NDArray logitsBig = randn(r, 2, vN, vV);
        long[] tgt = new long[n];
        for (int i = 0; i < n; i++) tgt[i] = r.nextInt(c);
        NDArray t = NDArray.fromArray(tgt, n);
        long[] tgtBig = new long[vN];
        for (int i = 0; i < vN; i++) tgtBig[i] = r.nextInt(vV);
        NDArray tb = NDArray.fromArray(tgtBig, vN);
        CrossEntropyResult ce = x.crossEntropy(t, -100, 0);
        CrossEntropyResult ceBig = logitsBig.crossEntropy(tb, -100, 0);
        float[] xa = CpuBackend.f32(x), ga = CpuBackend.f32(g), rawOut = new float[n * c];
        Object[][] kernels = {
            {"floorAlloc", (Supplier<Object>) () -> new float[n * c], (long) n * c},
            {"floorCopy", (Supplier<Object>) () -> { float[] o = new float[n * c]; System.arraycopy(xa, 0, o, 0, n * c); return o; }, (long) n * c},
            {"l1Neg", (Supplier<Object>) () -> { for (int q = 0; q < 1024; q++) UnaryKernels.f32(UnaryOp.NEG, xa, 0, rawOut, 0, 4 * c, 0); return rawOut; }, 1024L * 4 * c},
            {"l1GeluT", (Supplier<Object>) () -> { for (int q = 0; q < 1024; q++) UnaryKernels.f32(UnaryOp.GELU_TANH, xa, 0, rawOut, 0, 4 * c, 0); return rawOut; }, 1024L * 4 * c},
            {"l1GeluTBwd", (Supplier<Object>) () -> { for (int q = 0; q < 1024; q++) UnaryKernels.backwardF32(UnaryOp.GELU_TANH, xa, 0, ga, 0, rawOut, 0, 4 * c, 0); return rawOut; }, 1024L * 4 * c},
            {"rawNeg", (Supplier<Object>) () -> { UnaryKernels.f32(UnaryOp.NEG, xa, 0, rawOut, 0, n * c, 0); return rawOut; }, (long) n * c},
            {"rawGeluT", (Supplier<Object>) () -> { UnaryKernels.f32(UnaryOp.GELU_TANH, xa, 0, rawOut, 0, n * c, 0); return rawOut; }, (long) n * c},
            {"rawGeluTBwd", (Supplier<Object>) () -> { UnaryKernels.backwardF32(UnaryOp.GELU_TANH, xa, 0, ga, 0, rawOut, 0, n * c, 0); return rawOut; }, (long) n * c},
            {"rawSoftmaxNew", (Supplier<Object>) () -> { RowKernels.softmaxRowsF32(xa, 0, rawOut, c, 0, n, false); return rawOut; }, (long) n * c},
            {"rawLogSoftmaxNew", (Supplier<Object>) () -> { RowKernels.softmaxRowsF32(xa, 0, rawOut, c, 0, n, true); return rawOut; }, (long) n * c},
            {"rawSoftmaxNew", (Supplier<Object>) () -> { RowKernels.softmaxRowsF32(xa, 0, rawOut, c, 0, n, false); return rawOut; }, (long) n * c},
            {"floorNeg", (Supplier<Object>) () -> x.neg(), (long) n * c},
            {"geluTanh", (Supplier<Object>) () -> x.geluTanh(), (long) n * c},
            {"geluTanhBwd", (Supplier<Object>) () -> x.unaryBackward(UnaryOp.GELU_TANH, g, 0), (long) n * c},
            {"softmax", (Supplier<Object>) () -> x.softmax(-1), (long) n * c},
            {"logSoftmax", (Supplier<Object>) () -> x.logSoftmax(-1), (long) n * c},
            {"layerNorm", (Supplier<Object>) () -> x.layerNorm(w, b, 1e-5), (long) n * c},
            {"layerNormBwd", (Supplier<Object>) () -> x.layerNormBackward(g, ln.mean(), ln.rstd(), w, true), (long) n * c},
            {"ceFwd", (Supplier<Object>) () -> x.crossEntropy(t, -100, 0), (long) n * c},
            {"ceBwd", (Supplier<Object>) () -> x.crossEntropyBackward(t, ce.logSumExp(), -100, 0, 1.0 / n), (long) n * c},
            {"ceFwdV", (Supplier<Object>) () -> logitsBig.crossEntropy(tb, -100, 0), (long) vN * vV},
            {"ceBwdV", (Supplier<Object>) () -> logitsBig.crossEntropyBackward(tb, ceBig.logSumExp(), -100, 0, 1.0 / vN), (long) vN * vV},
        };
        System.out.println(x.backend().describe());
        System.out.printf("%-14s %8s %8s %8s%n", "kernel", "1T cpu", "1T wall", "2T wall");
        for (Object[] k : kernels) {
            if (!java.util.regex.Pattern.compile(filter).matcher((String) k[0]).find()) continue;
            @SuppressWarnings("unchecked")
            Supplier<Object> f = (Supplier<Object>) k[1];
            long numel = (Long) k[2];
            Parallel.setThreads(1);
            if (System.getProperty("loopSeconds") != null) {
                long end = System.nanoTime() + (long) (Double.parseDouble(System.getProperty("loopSeconds")) * 1e9);
                while (System.nanoTime() < end) sink = f.get();
                continue;
            }
            try {
                f.get();
            } catch (LinkageError e) { // kernels missing from an older build of the main classes
                System.out.printf("%-14s (not in this build)%n", k[0]);
                continue;
            }
            double oneCpu = medianNs(f, runs, numel, true);
            double one = medianNs(f, runs, numel, false);
            Parallel.setThreads(2);
            double two = medianNs(f, runs, numel, false);
            com.sun.management.ThreadMXBean smx = (com.sun.management.ThreadMXBean) MX;
            Parallel.setThreads(1);
            long b0 = smx.getCurrentThreadAllocatedBytes();
            sink = f.get();
            double bytesPerEl = (smx.getCurrentThreadAllocatedBytes() - b0) / (double) numel;
            System.out.printf("%-14s %8.3f %8.3f %8.3f  alloc B/el %.2f%n", k[0], oneCpu, one, two, bytesPerEl);
        }
    }
}
