package dev.tessera.gpu;

import dev.tessera.tensor.Backends;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Device;
import dev.tessera.tensor.NDArray;

/**
 * Run in a child JVM whose OpenCL loader sees no driver (see OpenClWithoutPlatformTest): prints
 * what the backend says instead of crashing.
 */
public final class NoPlatformProbe {
    public static void main(String[] args) {
        System.out.println("available=" + OpenCl.isAvailable());
        System.out.println("devices=" + OpenCl.devices().size());
        System.out.println("report=" + OpenCl.report());
        try {
            Backends.forDevice(Device.opencl(0));
            System.out.println("open=succeeded");
        } catch (OpenClUnavailableException e) {
            System.out.println("open=" + e.getMessage());
        }
        try {
            NDArray.zeros(DType.F32, 2).to(Device.opencl(0));
            System.out.println("transfer=succeeded");
        } catch (RuntimeException e) {
            System.out.println("transfer=" + e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }
}
