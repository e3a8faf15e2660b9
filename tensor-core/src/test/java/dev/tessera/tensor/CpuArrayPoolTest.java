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

        CpuArrayPool.configure(1); // 1 MiB: one 512 KiB array fits, the third does not
        NDArray x = input(256, 512);
        NDArray a = x.exp(), b = x.exp(), c = x.exp();
        a.close();
        b.close();
        c.close();
        assertEquals(2 * 256 * 512 * 4L, CpuArrayPool.heldBytes());
        assertTrue(CpuArrayPool.report().contains("1 dropped"), CpuArrayPool.report());

        CpuArrayPool.configure(0);
        NDArray d = x.exp();
        d.close();
        assertEquals(0, CpuArrayPool.heldBytes(), "budget 0 turns recycling off");
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
