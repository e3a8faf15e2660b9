package dev.tessera.gpu;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tessera.tensor.Backends;
import dev.tessera.tensor.Device;
import dev.tessera.tensor.NDArray;

/** Shared set-up of the OpenCL tests: skip (with the reason) when no OpenCL device exists. */
final class OpenClTestSupport {
    static final Device DEV = Device.opencl(0);

    private OpenClTestSupport() {}

    /** Skips the calling test class when there is no OpenCL platform, naming what is missing. */
    static OpenClBackend requireDevice() {
        assumeTrue(OpenCl.isAvailable(), () -> "OpenCL tests skipped: " + OpenCl.unavailableReason());
        // The scalar reference backend is the oracle: exact, independent of the Vector API backend.
        Backends.useScalarCpu(true);
        return OpenCl.backend(DEV);
    }

    static NDArray dev(NDArray cpu) { return cpu.to(DEV); }

    static NDArray host(NDArray d) { return d.to(Device.CPU); }
}
