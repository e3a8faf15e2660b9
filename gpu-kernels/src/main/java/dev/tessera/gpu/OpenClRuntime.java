package dev.tessera.gpu;

import static org.jocl.CL.*;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;

/**
 * Finds the OpenCL platforms and devices once. Never throws for "nothing there": the absence of
 * the runtime library or of any platform is recorded as {@link #unavailableReason()}.
 */
final class OpenClRuntime {
    static final String INSTALL_HINT = "install an OpenCL driver (ICD) and loader: with an NVIDIA GPU the NVIDIA driver's "
            + "OpenCL ICD (/etc/OpenCL/vendors/nvidia.icd, Debian package nvidia-opencl-icd); on any Linux CPU PoCL "
            + "(apt-get install pocl-opencl-icd ocl-icd-libopencl1 ocl-icd-opencl-dev); `clinfo -l` should then list a device";

    record Entry(cl_platform_id platform, cl_device_id device, OpenClDeviceInfo info) {}

    private static List<Entry> entries;
    private static String unavailableReason;

    private OpenClRuntime() {}

    static synchronized List<Entry> entries() {
        if (entries == null) discover();
        return entries;
    }

    /** Why OpenCL cannot be used, or null when at least one device was found. */
    static synchronized String unavailableReason() {
        if (entries == null) discover();
        return unavailableReason;
    }

    static Entry entry(int index) {
        List<Entry> all = entries();
        if (all.isEmpty()) throw new OpenClUnavailableException("opencl:" + index + " cannot be opened: " + unavailableReason());
        if (index < 0 || index >= all.size()) {
            StringBuilder sb = new StringBuilder("opencl:" + index + " does not exist; " + all.size() + " OpenCL device(s) found:");
            for (Entry e : all) sb.append("\n  ").append(e.info.describe());
            throw new OpenClUnavailableException(sb.toString());
        }
        return all.get(index);
    }

    private static void discover() {
        List<Entry> found = new ArrayList<>();
        try {
            CL.setExceptionsEnabled(true);
            int[] count = new int[1];
            try {
                clGetPlatformIDs(0, null, count);
            } catch (CLException e) {
                // The ICD loader answers CL_PLATFORM_NOT_FOUND_KHR (-1001) when no driver is registered.
                count[0] = 0;
            }
            if (count[0] == 0) {
                entries = List.of();
                unavailableReason = "no OpenCL platform found (the OpenCL loader is present but no driver is registered in "
                        + "/etc/OpenCL/vendors); " + INSTALL_HINT;
                return;
            }
            cl_platform_id[] platforms = new cl_platform_id[count[0]];
            clGetPlatformIDs(platforms.length, platforms, null);
            for (cl_platform_id p : platforms) {
                int[] nd = new int[1];
                try {
                    clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, null, nd);
                } catch (CLException e) {
                    continue; // CL_DEVICE_NOT_FOUND: a platform without devices
                }
                cl_device_id[] devs = new cl_device_id[nd[0]];
                clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, devs.length, devs, null);
                for (cl_device_id d : devs) found.add(new Entry(p, d, info(found.size(), p, d)));
            }
            entries = List.copyOf(found);
            unavailableReason = found.isEmpty() ? "OpenCL platforms exist but report no device; " + INSTALL_HINT : null;
        } catch (LinkageError e) {
            entries = List.of();
            unavailableReason = "the OpenCL library could not be loaded (" + e + "); " + INSTALL_HINT;
        } catch (CLException e) {
            entries = List.copyOf(found);
            unavailableReason = found.isEmpty() ? "OpenCL device discovery failed (" + e.getMessage() + "); " + INSTALL_HINT : null;
        }
    }

    private static OpenClDeviceInfo info(int index, cl_platform_id p, cl_device_id d) {
        String ext = deviceString(d, CL_DEVICE_EXTENSIONS);
        List<String> exts = Arrays.stream(ext.trim().split("\\s+")).filter(s -> !s.isEmpty()).toList();
        long type = deviceLong(d, CL_DEVICE_TYPE);
        String typeName = (type & CL_DEVICE_TYPE_GPU) != 0 ? "GPU" : (type & CL_DEVICE_TYPE_CPU) != 0 ? "CPU"
                : (type & CL_DEVICE_TYPE_ACCELERATOR) != 0 ? "accelerator" : "other";
        long[] items = new long[3];
        clGetDeviceInfo(d, CL_DEVICE_MAX_WORK_ITEM_SIZES, Sizeof.size_t * 3L, Pointer.to(items), null);
        return new OpenClDeviceInfo(index, platformString(p, CL_PLATFORM_NAME), platformString(p, CL_PLATFORM_VERSION),
                deviceString(d, CL_DEVICE_NAME), deviceString(d, CL_DEVICE_VENDOR), typeName, deviceString(d, CL_DEVICE_VERSION),
                deviceString(d, CL_DRIVER_VERSION), (int) deviceInt(d, CL_DEVICE_MAX_COMPUTE_UNITS),
                deviceLong(d, CL_DEVICE_GLOBAL_MEM_SIZE), deviceLong(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE),
                deviceLong(d, CL_DEVICE_LOCAL_MEM_SIZE), deviceSizeT(d, CL_DEVICE_MAX_WORK_GROUP_SIZE), items,
                exts.contains("cl_khr_fp64"), exts);
    }

    static String deviceString(cl_device_id d, int param) {
        long[] size = new long[1];
        clGetDeviceInfo(d, param, 0, null, size);
        byte[] buf = new byte[(int) size[0]];
        clGetDeviceInfo(d, param, buf.length, Pointer.to(buf), null);
        return cString(buf);
    }

    static String platformString(cl_platform_id p, int param) {
        long[] size = new long[1];
        clGetPlatformInfo(p, param, 0, null, size);
        byte[] buf = new byte[(int) size[0]];
        clGetPlatformInfo(p, param, buf.length, Pointer.to(buf), null);
        return cString(buf);
    }

    private static String cString(byte[] buf) {
        int n = 0;
        while (n < buf.length && buf[n] != 0) n++;
        return new String(buf, 0, n, java.nio.charset.StandardCharsets.UTF_8).trim();
    }

    static long deviceLong(cl_device_id d, int param) {
        long[] v = new long[1];
        clGetDeviceInfo(d, param, Sizeof.cl_long, Pointer.to(v), null);
        return v[0];
    }

    static long deviceInt(cl_device_id d, int param) {
        int[] v = new int[1];
        clGetDeviceInfo(d, param, Sizeof.cl_int, Pointer.to(v), null);
        return v[0];
    }

    static long deviceSizeT(cl_device_id d, int param) {
        long[] v = new long[1];
        clGetDeviceInfo(d, param, Sizeof.size_t, Pointer.to(v), null);
        return v[0];
    }
}
