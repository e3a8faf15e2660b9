package dev.tessera.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Recycling of closed CPU storages for later kernel outputs. */
class CpuArrayPoolTest {
    private long savedBudgetMiB;

    @BeforeEach
    void freshPool() {
        savedBudgetMiB = CpuArrayPool.budgetBytes() >> 20;
        CpuArrayPool.configure(64);
    }

    @AfterEach
    void restore() {
        CpuArrayPool.configure(savedBudgetMiB);
    }

    private static NDArray input(int rows, int cols) {
        Generator gen = new Generator(3);
        return NDArray.normal(gen, DType.F32, 0, 1, rows, cols);
    }

    @Test
    void closedOutputIsReusedByTheNextKernelAndResultsStayRight() {
        NDArray x = input(64, 512); // 32768 elements, above the recycling threshold
        NDArray first = x.softmax(-1);
        float[] expected = first.toFloatArray();
        Object array = ((CpuStorage) first.storage()).array();
        first.close();
        assertEquals(64 * 512 * 4L, CpuArrayPool.heldBytes());

        NDArray second = x.softmax(-1);
        assertSame(array, ((CpuStorage) second.storage()).array(), "the closed output's array is reused");
        assertEquals(0, CpuArrayPool.heldBytes());
        assertArrayEquals(expected, second.toFloatArray(), "reused memory must not change the result");
        assertThrows(IllegalStateException.class, () -> first.softmax(-1), "the closed array stays closed");
    }

    @Test
    void zeroFilledAllocationsNeverComeFromThePool() {
        NDArray x = input(64, 512);
        NDArray y = x.softmax(-1);
        y.close();
        NDArray zeros = NDArray.zeros(DType.F32, 64, 512);
        for (float v : zeros.toFloatArray()) assertEquals(0f, v);
        assertEquals(64 * 512 * 4L, CpuArrayPool.heldBytes(), "zeros() leaves the pooled array alone");
    }

    @Test
    void wrappedCallerArraysAreNeverRecycled() {
        float[] mine = new float[CpuArrayPool.MIN_ELEMENTS * 2];
        NDArray wrapped = new NDArray(CpuStorage.wrap(DType.F32, mine), mine.length);
        wrapped.close();
        assertEquals(0, CpuArrayPool.heldBytes());
        NDArray out = input(2, CpuArrayPool.MIN_ELEMENTS).exp();
        assertNotSame(mine, ((CpuStorage) out.storage()).array());
    }

    @Test
    void smallArraysAndArraysOverTheBudgetAreLeftToTheCollector() {
        NDArray small = input(4, 8).exp();
        small.close();
        assertEquals(0, CpuArrayPool.heldBytes());

        CpuArrayPool.configure(1); // 1 MiB
        NDArray big = input(512, 1024).exp(); // 2 MiB: larger than the whole budget
        big.close();
        assertEquals(0, CpuArrayPool.heldBytes());
        assertTrue(CpuArrayPool.report().contains("1 not kept"), CpuArrayPool.report());

        CpuArrayPool.configure(0);
        NDArray d = input(256, 512).exp();
        d.close();
        assertEquals(0, CpuArrayPool.heldBytes(), "budget 0 turns recycling off");
    }

    @Test
    void theArraysKeptLongestAreLetGoFirstToStayInBudget() {
        CpuArrayPool.configure(1); // 1 MiB: two 512 KiB arrays, or four 256 KiB ones
        NDArray x = input(256, 512), y = input(128, 512);
        NDArray a = x.softmax(-1), b = x.softmax(-1), c = x.softmax(-1);
        Object arrayB = ((CpuStorage) b.storage()).array(), arrayC = ((CpuStorage) c.storage()).array();
        a.close();
        b.close();
        c.close(); // a, kept longest, goes
        assertEquals(2 * 256 * 512 * 4L, CpuArrayPool.heldBytes());
        assertTrue(CpuArrayPool.report().contains("1 let go"), CpuArrayPool.report());

        // Smaller arrays arrive (say, an evaluation batch): the old size makes room for them.
        NDArray d = y.softmax(-1), e = y.softmax(-1);
        d.close(); // fits beside b and c? 1.25 MiB: no, b goes
        e.close(); // c goes
        assertEquals(256 * 512 * 4L + 2 * 128 * 512 * 4L, CpuArrayPool.heldBytes());
        NDArray again = x.softmax(-1);
        assertSame(arrayC, ((CpuStorage) again.storage()).array(), "the newest array of the old size is still kept");
        assertNotSame(arrayB, ((CpuStorage) again.storage()).array());
        assertArrayEquals(x.softmax(-1).toFloatArray(), again.toFloatArray(), 1e-6f); // tolerance: see Determinism notes in ARCHITECTURE
    }

    @Test
    void outOfMemoryLetsTheKeptArraysGoAndTriesOnceMore() {
        NDArray x = input(64, 512);
        x.exp().close();
        assertEquals(64 * 512 * 4L, CpuArrayPool.heldBytes());
        int[] calls = {0};
        String result = CpuArrayPool.retryAfterReleasing(() -> {
            if (calls[0]++ == 0) throw new OutOfMemoryError("Java heap space (simulated)");
            return "allocated";
        });
        assertEquals("allocated", result);
        assertEquals(2, calls[0]);
        assertEquals(0, CpuArrayPool.heldBytes(), "every kept array was let go");
        assertTrue(CpuArrayPool.report().contains("1 releases on low memory"), CpuArrayPool.report());

        // With nothing kept, the error is the caller's, and the allocation is not repeated.
        calls[0] = 0;
        OutOfMemoryError e = assertThrows(OutOfMemoryError.class, () -> CpuArrayPool.retryAfterReleasing(() -> {
            calls[0]++;
            throw new OutOfMemoryError("Java heap space (simulated)");
        }));
        assertEquals("Java heap space (simulated)", e.getMessage());
        assertEquals(1, calls[0]);
    }

    @Test
    void aRealOutOfMemoryErrorIsStillThrownWhenNothingIsKept() {
        // More than any test heap: the pool has nothing to give up, so the JVM's error surfaces.
        CpuArrayPool.configure(0);
        assertThrows(OutOfMemoryError.class, () -> CpuStorage.allocate(DType.F64, Integer.MAX_VALUE - 16));
    }

    @Test
    void testBuildsPoisonOutputsSoUnwrittenElementsShow() {
        // Surefire sets tessera.cpu.poison=true for every test JVM of the project.
        assertTrue(CpuArrayPool.POISON, "tests must run with -Dtessera.cpu.poison=true");
        CpuStorage s = CpuStorage.allocateForOverwrite(DType.F32, 10);
        for (float v : s.f32()) assertTrue(Float.isNaN(v));
        CpuStorage i = CpuStorage.allocateForOverwrite(DType.I64, 3);
        for (long v : i.i64()) assertEquals(0x5a5a5a5a5a5a5a5bL, v);
    }

    @Test
    void badBudgetIsRefusedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CpuArrayPool.configure(-1));
        assertTrue(e.getMessage().contains("budget"), e.getMessage());
    }
}
