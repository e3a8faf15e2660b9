package dev.tessera.tensor.cpu;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tessera.tensor.CpuArrayPool;
import dev.tessera.tensor.CrossEntropyResult;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.NormGrads;
import dev.tessera.tensor.NormResult;
import dev.tessera.tensor.Parallel;
import dev.tessera.tensor.UnaryOp;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The tuned kernels allocate nothing in proportion to their data once compiled: no per-call
 * temporaries, no per-call packing buffers, and no boxed vectors. The last is how a Vector API
 * kernel fails when C2 stops inlining inside it (it then allocates an object per vector operation
 * and runs 5-12x slower), so this also guards the kernels' size against C2's inlining budget.
 *
 * <p>Counted: bytes allocated by the calling thread and the pool's worker threads
 * (ThreadMXBean), per call, with each result closed so that its array returns to the CPU array
 * pool for the next call's output. A kernel passes once a batch of calls stays under 1/64 of the
 * bytes it reads and writes (at least 16 KiB: result objects, the job handed to the pool, the
 * per-task partial sums of the norm backward's weight gradients). Until the JIT has compiled a
 * kernel, its vectors are boxed, so each kernel is run in batches until one passes or 60 s
 * have gone by.
 *
 * <p>The build runs this class in JVMs of its own (default width and AVX2), as a fresh program
 * would use the kernels. After other test classes in the same JVM, some kernels were sometimes
 * compiled with boxed vector stores (C2 could not prove the vectors' species constant), on JDK 17
 * and 25, AVX2 and AVX-512 alike: up to 3 MB per product and 9-59 MB per norm backward or cross
 * entropy call. What a JVM has run before decides it; see
 * docs/measurements/2026-11-29-kernel-allocation-session12.txt.
 */
class KernelAllocationTest {
    private static final long DEADLINE_NANOS = 60_000_000_000L;
    private static final int BATCH = 10;
    private static com.sun.management.ThreadMXBean threads;
    private static int savedThreads;
    private static long savedPoolBytes;

    @BeforeAll
    static void setUp() {
        assumeTrue(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean t && t.isThreadAllocatedMemorySupported(),
                "per-thread allocation counts are not available on this JVM");
        threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        threads.setThreadAllocatedMemoryEnabled(true);
        savedThreads = Parallel.threads();
        savedPoolBytes = CpuArrayPool.budgetBytes();
        Parallel.setThreads(2); // the pool's threads take part, whatever the machine
        CpuArrayPool.configure(512); // outputs come back from the pool (the default is a quarter of the heap)
    }

    @AfterAll
    static void tearDown() {
        if (threads == null) return;
        Parallel.setThreads(savedThreads);
        CpuArrayPool.configure(savedPoolBytes >> 20);
    }

    private record Kernel(String name, long dataBytes, Supplier<Object> call) {}

    @Test
    void tunedKernelsAllocateNothingPerElementOnceCompiled() {
        Generator gen = new Generator(20261129);
        int rows = 1024, cols = 768;
        long rowBytes = 4L * rows * cols;
        NDArray x = NDArray.normal(gen, DType.F32, 0, 1, rows, cols), g = NDArray.normal(gen, DType.F32, 0, 1, rows, cols);
        NDArray w = NDArray.normal(gen, DType.F32, 1, 0.1, cols), b = NDArray.normal(gen, DType.F32, 0, 0.1, cols);
        NDArray a = NDArray.normal(gen, DType.F32, 0, 1, 512, 768), bm = NDArray.normal(gen, DType.F32, 0, 1, 768, 1024);
        NDArray bt = NDArray.normal(gen, DType.F32, 0, 1, 1024, 768);
        int ceRows = 256, vocab = 8192;
        NDArray logits = NDArray.normal(gen, DType.F32, 0, 2, ceRows, vocab);
        long[] labels = new long[ceRows];
        for (int i = 0; i < ceRows; i++) labels[i] = (i * 7919L) % vocab;
        NDArray targets = NDArray.fromArray(labels, ceRows);
        int params = 1 << 20;
        NDArray p = NDArray.normal(gen, DType.F32, 0, 1, params), pg = NDArray.normal(gen, DType.F32, 0, 1, params);
        NDArray m = NDArray.zeros(DType.F32, params), v = NDArray.zeros(DType.F32, params);
        NDArray probs = x.softmax(-1);
        NormResult ln = x.layerNorm(w, b, 1e-5);
        CrossEntropyResult ce = logits.crossEntropy(targets, -100, 0);
        long[] step = {1};

        long gemmBytes = 4L * (512 * 768 + 768 * 1024 + 512 * 1024);
        List<Kernel> kernels = List.of(
                new Kernel("matmul [512, 768] @ [768, 1024]", gemmBytes, () -> a.matmul(bm)),
                new Kernel("matmul [512, 768] @ [1024, 768]^T", gemmBytes, () -> a.matmul(bt.mT())),
                new Kernel("matmul [768, 512] ([512, 768]^T) @ [512, 768]", 4L * (3 * 512 * 768 + 768 * 768), () -> a.mT().matmul(a)),
                new Kernel("softmax", 2 * rowBytes, () -> x.softmax(-1)),
                new Kernel("softmax backward", 3 * rowBytes, () -> probs.softmaxBackward(g, -1, false)),
                new Kernel("log softmax", 2 * rowBytes, () -> x.logSoftmax(-1)),
                new Kernel("layer norm", 2 * rowBytes, () -> x.layerNorm(w, b, 1e-5)),
                new Kernel("layer norm backward", 3 * rowBytes, () -> x.layerNormBackward(g, ln.mean(), ln.rstd(), w, true)),
                new Kernel("gelu (exact)", 2 * rowBytes, x::gelu),
                new Kernel("gelu (tanh)", 2 * rowBytes, x::geluTanh),
                new Kernel("gelu (exact) backward", 3 * rowBytes, () -> x.unaryBackward(UnaryOp.GELU, g, 0)),
                new Kernel("gelu (tanh) backward", 3 * rowBytes, () -> x.unaryBackward(UnaryOp.GELU_TANH, g, 0)),
                new Kernel("cross entropy", 4L * ceRows * vocab, () -> logits.crossEntropy(targets, -100, 0)),
                new Kernel("cross entropy backward", 8L * ceRows * vocab, () -> logits.crossEntropyBackward(targets, ce.logSumExp(), -100, 0, 1.0 / ceRows)),
                new Kernel("adamw step", 5L * 4 * params, () -> {
                    p.adamwStep(pg, m, v, 1e-3, 0.9, 0.999, 1e-8, 0.01, step[0]++);
                    return null;
                }));

        List<String> failures = new ArrayList<>();
        for (Kernel k : kernels) {
            long limit = Math.max(16 << 10, k.dataBytes() / 64);
            long perCall = leastBytesPerCall(k, limit);
            if (perCall > limit) {
                failures.add(String.format("%s: %,d bytes allocated per call after %d s of calls (limit %,d; the kernel moves %,d bytes)",
                        k.name(), perCall, DEADLINE_NANOS / 1_000_000_000L, limit, k.dataBytes()));
            }
        }
        if (!failures.isEmpty()) {
            fail("kernels that allocate in proportion to their data (boxed vectors or per-call buffers):\n  "
                    + String.join("\n  ", failures));
        }
    }

    /** Runs batches of calls until one allocates at most limit bytes per call or the deadline passes; the least seen. */
    private static long leastBytesPerCall(Kernel k, long limit) {
        close(k.call().get()); // starts the pool's threads if need be
        long[] ids = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith(Parallel.WORKER_NAME_PREFIX)).mapToLong(Thread::getId).toArray();
        long least = Long.MAX_VALUE;
        long start = System.nanoTime();
        do {
            long before = allocatedBytes(ids);
            for (int i = 0; i < BATCH; i++) close(k.call().get());
            least = Math.min(least, (allocatedBytes(ids) - before) / BATCH);
        } while (least > limit && System.nanoTime() - start < DEADLINE_NANOS);
        return least;
    }

    /** The calling thread's allocated bytes plus those of the given (pool) threads. */
    private static long allocatedBytes(long[] poolThreadIds) {
        long sum = threads.getThreadAllocatedBytes(Thread.currentThread().getId());
        for (long bytes : threads.getThreadAllocatedBytes(poolThreadIds)) sum += Math.max(0, bytes); // -1: thread gone
        return sum;
    }

    private static void close(Object result) {
        if (result instanceof NDArray r) {
            r.close();
        } else if (result instanceof NormResult r) {
            r.out().close();
            r.mean().close();
            r.rstd().close();
        } else if (result instanceof NormGrads r) {
            r.input().close();
            if (r.weight() != null) r.weight().close();
            if (r.bias() != null) r.bias().close();
        } else if (result instanceof CrossEntropyResult r) {
            r.loss().close();
            r.logSumExp().close();
        }
    }
}
