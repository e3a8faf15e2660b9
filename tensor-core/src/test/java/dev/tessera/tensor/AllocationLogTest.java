package dev.tessera.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class AllocationLogTest {

    @Test
    void recordsStoragesMadeOnThisThreadAndPassesThemOutward() {
        NDArray x = NDArray.fromArray(new float[] {1, 2, 3}, 3);
        try (AllocationLog outer = AllocationLog.start()) {
            NDArray a = x.exp();
            try (AllocationLog inner = AllocationLog.start()) {
                NDArray b = x.mul(2.0);
                assertEquals(1, inner.storages().size());
                assertSame(b.storage(), inner.storages().get(0));
            }
            assertEquals(2, outer.storages().size(), "the inner log's storages move to the outer one");
            assertSame(a.storage(), outer.storages().get(0));
            new NDArray(CpuStorage.wrap(DType.F32, new float[4]), 4); // the caller's array: not recorded
            x.toFloatArray(); // a host copy handed out: not recorded
            assertEquals(2, outer.storages().size());
        }
        NDArray after = x.exp();
        assertTrue(after.numel() == 3, "nothing is recorded once the log is closed");
    }

    @Test
    void closingOutOfOrderOrFromAnotherThreadIsRefused() throws Exception {
        AllocationLog outer = AllocationLog.start();
        AllocationLog inner = AllocationLog.start();
        IllegalStateException e = assertThrows(IllegalStateException.class, outer::close);
        assertTrue(e.getMessage().contains("out of order"), e.getMessage());
        Throwable[] seen = new Throwable[1];
        Thread t = new Thread(() -> {
            try {
                inner.close();
            } catch (Throwable ex) {
                seen[0] = ex;
            }
        });
        t.start();
        t.join();
        assertTrue(seen[0] instanceof IllegalStateException, "closing from another thread is refused");
        inner.close();
        outer.close();
    }
}
