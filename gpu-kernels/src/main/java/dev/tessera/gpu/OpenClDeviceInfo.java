package dev.tessera.gpu;

import java.util.List;
import java.util.Locale;

/**
 * What the OpenCL runtime reports about one device. {@code index} is the device's number for
 * {@code Device.opencl(index)}: devices of all platforms, in platform order.
 */
public record OpenClDeviceInfo(int index, String platformName, String platformVersion, String name, String vendor,
                               String type, String version, String driverVersion, int computeUnits, long globalMemBytes,
                               long maxAllocBytes, long localMemBytes, long maxWorkGroupSize, long[] maxWorkItemSizes,
                               boolean fp64, List<String> extensions) {

    /** One line: index, name, type, platform, memory, limits. */
    public String describe() {
        return String.format(Locale.ROOT,
                "opencl:%d %s [%s] on %s (%s); %d compute units, %s global memory (max buffer %s), %s local memory, "
                        + "max work-group %d, fp64 %s, driver %s",
                index, name, type, platformName, version, computeUnits, mib(globalMemBytes), mib(maxAllocBytes),
                kib(localMemBytes), maxWorkGroupSize, fp64 ? "yes" : "no", driverVersion);
    }

    private static String mib(long b) { return String.format(Locale.ROOT, "%.0f MiB", b / 1048576.0); }

    private static String kib(long b) { return String.format(Locale.ROOT, "%.0f KiB", b / 1024.0); }
}
