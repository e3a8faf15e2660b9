package dev.tessera.gpu;

import static dev.tessera.gpu.OpenClTestSupport.DEV;
import static dev.tessera.gpu.OpenClTestSupport.dev;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.tensor.Backends;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Device;
import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.UnaryOp;
import dev.tessera.tensor.testing.RandomArrays;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Discovery, selection, memory ownership and the error paths of the OpenCL backend. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpenClRuntimeTest {
    private OpenClBackend ocl;

    @BeforeAll
    void setUp() { ocl = OpenClTestSupport.requireDevice(); }

    // ---- discovery and selection ----------------------------------------------------------------

    @Test
    void reportsTheDevicesFound() {
        List<OpenClDeviceInfo> devices = OpenCl.devices();
        assertFalse(devices.isEmpty());
        OpenClDeviceInfo d = devices.get(0);
        assertEquals(0, d.index());
        assertTrue(d.globalMemBytes() > 0 && d.maxAllocBytes() > 0 && d.maxWorkGroupSize() > 0 && d.computeUnits() > 0, d.describe());
        String report = OpenCl.report();
        assertTrue(report.contains(d.name()) && report.contains("opencl:0"), report);
        assertTrue(ocl.describe().contains(d.name()));
        assertEquals(1, Backends.provider("opencl").listDevices().stream().filter(s -> s.contains(d.name())).count());
    }

    @Test
    void selectsDevicesByIndexOrNameAndNamesWhatIsMissing() {
        String name = OpenCl.devices().get(0).name();
        assertEquals(DEV, OpenCl.device(name.substring(0, Math.min(6, name.length())).toUpperCase()));
        OpenClUnavailableException noName = assertThrows(OpenClUnavailableException.class, () -> OpenCl.device("no-such-device-xyz"));
        assertTrue(noName.getMessage().contains("no-such-device-xyz") && noName.getMessage().contains(name), noName.getMessage());
        int missing = OpenCl.devices().size() + 5;
        OpenClUnavailableException noIndex = assertThrows(OpenClUnavailableException.class, () -> Backends.forDevice(Device.opencl(missing)));
        assertTrue(noIndex.getMessage().contains("opencl:" + missing + " does not exist"), noIndex.getMessage());
        assertTrue(OpenClRuntime.INSTALL_HINT.contains("pocl-opencl-icd") && OpenClRuntime.INSTALL_HINT.contains("nvidia"));
    }

    @Test
    void theServiceLoaderFindsTheBackend() {
        assertTrue(Backends.forDevice(DEV) instanceof OpenClBackend);
        NDArray x = dev(NDArray.fromArray(new float[] {1, 2, 3}, 3));
        assertTrue(x.storage() instanceof OpenClStorage);
        assertEquals(DEV, x.device());
        assertEquals(DEV, x.exp().device());
    }

    // ---- memory ---------------------------------------------------------------------------------

    @Test
    void repeatedStepsInAScopeKeepDeviceMemoryFlat() {
        NDArray w = dev(RandomArrays.random(21, DType.F32, 33, 17));
        NDArray x = dev(RandomArrays.random(22, DType.F32, 9, 33));
        MemoryStats before = null;
        for (int i = 0; i < 3000; i++) {
            try (OpenClScope scope = OpenCl.scope()) {
                NDArray h = x.matmul(w).gelu();
                NDArray s = h.softmax(1).mul(h).sum(true, 1);
                if (i % 500 == 0) assertTrue(Double.isFinite(s.toFloatArray()[0]));
                assertTrue(scope.size() >= 4);
            }
            if (i == 10) before = ocl.memoryStats();
        }
        MemoryStats after = ocl.memoryStats();
        assertNotNull(before);
        // Flat: never above the level after warm-up (it may drop when the Cleaner frees earlier tests' garbage).
        assertTrue(after.bytesInUse() <= before.bytesInUse(), "bytes in use after 3000 steps: " + before + " -> " + after);
        assertTrue(after.liveBuffers() <= before.liveBuffers(), "live buffers: " + before + " -> " + after);
        assertEquals(before.peakBytesInUse(), after.peakBytesInUse(), "peak: " + before + " -> " + after);
        assertEquals(before.driverAllocations(), after.driverAllocations(), "no driver allocation after warm-up: " + before + " -> " + after);
        assertTrue(after.cacheHits() > before.cacheHits() + 3000, "cache hits: " + before + " -> " + after);
    }

    @Test
    void scopesReleaseAllButKeptArraysAndCloseIsExplicit() {
        NDArray a = dev(RandomArrays.random(23, DType.F32, 5, 7));
        long live0 = ocl.memoryStats().liveBuffers();
        NDArray kept;
        NDArray dropped;
        try (OpenClScope outer = OpenCl.scope()) {
            try (OpenClScope inner = OpenCl.scope()) {
                kept = inner.keep(a.mul(2.0));
                dropped = a.add(1.0);
            }
            assertTrue(dropped.storage().isClosed());
            assertFalse(kept.storage().isClosed());
            assertEquals(1, outer.size(), "the kept array moved to the enclosing scope");
            outer.keep(kept);
        }
        assertFalse(kept.storage().isClosed());
        assertEquals(2.0 * a.getDouble(1, 2), kept.getDouble(1, 2), 1e-6);
        IllegalStateException closed = assertThrows(IllegalStateException.class, () -> dropped.exp());
        assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
        long live1 = ocl.memoryStats().liveBuffers();
        kept.close();
        assertTrue(ocl.memoryStats().liveBuffers() <= live1 - 1 && ocl.memoryStats().liveBuffers() <= live0, "closing returns the buffer");
    }

    // ---- malformed use --------------------------------------------------------------------------

    @Test
    void aKernelCompileErrorShowsTheBuildLog() {
        OpenClCompileException e = assertThrows(OpenClCompileException.class,
                () -> ocl.compileProgram("broken.cl", "__kernel void k(__global float* x) { x[0] = undefined_thing + 1; }", ""));
        assertTrue(e.getMessage().contains("broken.cl") && e.getMessage().contains("Build log"), e.getMessage());
        assertTrue(e.buildLog().contains("undefined_thing"), e.buildLog());
    }

    @Test
    void anAllocationBeyondTheDeviceLimitIsAClearError() {
        long maxAlloc = ocl.info().maxAllocBytes();
        int numel = Integer.MAX_VALUE - 8;
        long bytes = (long) numel * 8;
        if (bytes > maxAlloc) {
            // one buffer larger than CL_DEVICE_MAX_MEM_ALLOC_SIZE
            OpenClOutOfMemoryException e = assertThrows(OpenClOutOfMemoryException.class, () -> NDArray.zeros(DEV, DType.F64, numel));
            assertTrue(e.getMessage().contains(Long.toString(bytes)) && e.getMessage().contains("opencl:0"), e.getMessage());
        } else {
            // a large GPU: fill its memory with the largest arrays until the driver refuses one
            List<NDArray> held = new java.util.ArrayList<>();
            long limit = ocl.info().globalMemBytes() / bytes + 3;
            try {
                OpenClOutOfMemoryException e = assertThrows(OpenClOutOfMemoryException.class, () -> {
                    for (int i = 0; i < limit; i++) held.add(NDArray.zeros(DEV, DType.F64, numel));
                });
                assertTrue(e.getMessage().contains("out of device memory") && e.getMessage().contains("opencl:0"), e.getMessage());
            } finally {
                held.forEach(NDArray::close);
                ocl.emptyCache();
            }
        }
        // the device still works afterwards
        assertEquals(3.0, dev(NDArray.fromArray(new float[] {1, 2}, 2)).sum().item(), 0);
    }

    @Test
    void mixingDevicesInOneOpNamesBothDevices() {
        NDArray onDevice = dev(NDArray.fromArray(new float[] {1, 2, 3}, 3));
        NDArray onCpu = NDArray.fromArray(new float[] {1, 2, 3}, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> onDevice.add(onCpu));
        assertTrue(e.getMessage().contains("opencl:0") && e.getMessage().contains("cpu"), e.getMessage());
        // straight into the backend, past NDArray's checks
        IllegalArgumentException direct = assertThrows(IllegalArgumentException.class, () -> ocl.unary(UnaryOp.EXP, onCpu, 0));
        assertTrue(direct.getMessage().contains("unary EXP") && direct.getMessage().contains("cpu") && direct.getMessage().contains("opencl:0"),
                direct.getMessage());
    }

    @Test
    void unsupportedDtypesAreNamedNotFallenBackFrom() {
        NDArray bools = dev(NDArray.fromArray(new boolean[] {true, false}, 2));
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, () -> ocl.reduce(dev.tessera.tensor.ReduceOp.SUM, bools, new int[] {0}, false));
        assertTrue(e.getMessage().contains("sum") && e.getMessage().contains("bool"), e.getMessage());
    }

    // ---- debug switch ---------------------------------------------------------------------------

    @Test
    void theDebugSwitchPrintsEveryLaunchWithItsSizes() {
        NDArray a = dev(RandomArrays.random(24, DType.F32, 65, 3));
        NDArray b = dev(RandomArrays.random(25, DType.F32, 3, 129));
        PrintStream saved = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        OpenCl.setDebug(true);
        try {
            System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
            a.matmul(b).relu();
        } finally {
            OpenCl.setDebug(false);
            System.setErr(saved);
        }
        String log = buf.toString(StandardCharsets.UTF_8);
        int tile = ocl.gemmTile();
        String gemm = "launch gemm" + tile + " global=[" + (129 + tile - 1) / tile * 16 + ", " + (65 + tile - 1) / tile * 16 + ", 1] local=[16, 16, 1]";
        assertTrue(log.contains(gemm), gemm + " in:\n" + log);
        assertTrue(log.contains("launch unary:relu"), log);
        long before = ocl.launchCount();
        a.exp();
        assertEquals(before + 1, ocl.launchCount());
    }
}
