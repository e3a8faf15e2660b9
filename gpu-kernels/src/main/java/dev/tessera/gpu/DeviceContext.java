package dev.tessera.gpu;

import static org.jocl.CL.*;

import dev.tessera.tensor.Device;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_context_properties;
import org.jocl.cl_device_id;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;
import org.jocl.cl_program;

/**
 * One opened OpenCL device: its context, in-order command queue, caching allocator, and the
 * programs built for it (each built once, on first use, and cached with its kernels). Launches are
 * serialized on this object because a cl_kernel's arguments are shared state.
 */
final class DeviceContext {
    private static final String KERNEL_DIR = "/dev/tessera/gpu/kernels/";

    private final Device device;
    private final OpenClDeviceInfo info;
    private final cl_device_id deviceId;
    private final cl_context context;
    private final cl_command_queue queue;
    private final BufferPool pool;
    private final Map<String, cl_program> programs = new HashMap<>();
    private final Map<String, cl_kernel> kernels = new HashMap<>();
    private final int localSize;
    private final int rowGroupSize;
    private long launches;

    DeviceContext(int index) {
        OpenClRuntime.Entry e = OpenClRuntime.entry(index);
        this.device = Device.opencl(index);
        this.info = e.info();
        this.deviceId = e.device();
        cl_context_properties props = new cl_context_properties();
        props.addProperty(CL_CONTEXT_PLATFORM, e.platform());
        try {
            this.context = clCreateContext(props, 1, new cl_device_id[] {deviceId}, null, null, null);
            this.queue = clCreateCommandQueue(context, deviceId, 0, null);
        } catch (CLException ex) {
            throw new OpenClException(label() + ": could not create a context and command queue (" + ex.getMessage() + ")", ex);
        }
        this.pool = new BufferPool(context, label(), info.maxAllocBytes());
        int wg = (int) Math.min(256, info.maxWorkGroupSize());
        this.localSize = Integer.highestOneBit(Math.max(1, wg));
        this.rowGroupSize = localSize;
    }

    Device device() { return device; }

    OpenClDeviceInfo info() { return info; }

    BufferPool pool() { return pool; }

    cl_command_queue queue() { return queue; }

    cl_context context() { return context; }

    int rowGroupSize() { return rowGroupSize; }

    boolean hasInt64Atomics() { return info.extensions().contains("cl_khr_int64_base_atomics"); }

    long launches() { return launches; }

    String label() { return device + " (" + info.name() + ")"; }

    // ---- programs -------------------------------------------------------------------------

    /**
     * The program made of common.cl, the given extra files and file, built with these -D defines;
     * built on first use and cached under that key.
     */
    synchronized cl_program program(String file, List<String> prelude, String defines) {
        String key = file + "|" + prelude + "|" + defines;
        cl_program p = programs.get(key);
        if (p != null) return p;
        StringBuilder src = new StringBuilder(readResource("common.cl"));
        for (String f : prelude) src.append('\n').append(readResource(f));
        src.append('\n').append(readResource(file));
        String options = defines + " -DWG=" + rowGroupSize + (info.fp64() ? " -DHAS_FP64" : "")
                + (hasInt64Atomics() ? " -DHAS_INT64_ATOMICS" : "");
        p = build(file, src.toString(), options);
        programs.put(key, p);
        return p;
    }

    /** Builds a program from source; throws {@link OpenClCompileException} carrying the build log. */
    cl_program build(String name, String source, String options) {
        cl_program p = clCreateProgramWithSource(context, 1, new String[] {source}, null, null);
        long t0 = System.nanoTime();
        try {
            clBuildProgram(p, 1, new cl_device_id[] {deviceId}, options, null, null);
        } catch (CLException e) {
            String log = buildLog(p);
            clReleaseProgram(p);
            throw new OpenClCompileException(label() + ": OpenCL program '" + name + "' failed to compile with options '" + options
                    + "' (" + e.getMessage() + "). Build log:\n" + log, log, e);
        }
        if (OpenCl.debug()) {
            System.err.printf(Locale.ROOT, "[opencl] %s built program %s (%s) in %.0f ms%n", device, name, options, (System.nanoTime() - t0) / 1e6);
        }
        return p;
    }

    private String buildLog(cl_program p) {
        try {
            long[] size = new long[1];
            clGetProgramBuildInfo(p, deviceId, CL_PROGRAM_BUILD_LOG, 0, null, size);
            byte[] buf = new byte[(int) size[0]];
            clGetProgramBuildInfo(p, deviceId, CL_PROGRAM_BUILD_LOG, buf.length, Pointer.to(buf), null);
            int n = buf.length;
            while (n > 0 && buf[n - 1] == 0) n--;
            return new String(buf, 0, n, StandardCharsets.UTF_8);
        } catch (CLException e) {
            return "(build log unavailable: " + e.getMessage() + ")";
        }
    }

    private static String readResource(String file) {
        try (InputStream in = DeviceContext.class.getResourceAsStream(KERNEL_DIR + file)) {
            if (in == null) throw new OpenClException("kernel source " + KERNEL_DIR + file + " is missing from the class path");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new OpenClException("cannot read kernel source " + KERNEL_DIR + file, e);
        }
    }

    synchronized cl_kernel kernel(cl_program program, String programKey, String name) {
        String key = programKey + "#" + name;
        cl_kernel k = kernels.get(key);
        if (k == null) {
            try {
                k = clCreateKernel(program, name, null);
            } catch (CLException e) {
                throw new OpenClException(label() + ": kernel '" + name + "' not found in program " + programKey + " (" + e.getMessage() + ")", e);
            }
            kernels.put(key, k);
        }
        return k;
    }

    // ---- launching ------------------------------------------------------------------------

    /**
     * Sets the arguments and enqueues kernel over global (rounded up to local where local is given).
     * Arguments: OpenClStorage or cl_mem (a buffer), ViewArg (the View struct), Integer, Long, Float,
     * Double, Short (ushort), Byte (uchar). Does nothing when a global size is 0.
     */
    synchronized void launch(cl_kernel kernel, String name, long[] global, long[] local, Object... args) {
        for (long g : global) if (g == 0) return;
        long[] g = global.clone();
        if (local != null) for (int i = 0; i < g.length; i++) g[i] = (g[i] + local[i] - 1) / local[i] * local[i];
        for (int i = 0; i < args.length; i++) setArg(kernel, i, args[i], name);
        if (OpenCl.debug()) {
            StringBuilder sb = new StringBuilder();
            for (Object a : args) {
                if (a instanceof Number) sb.append(sb.length() == 0 ? "" : ", ").append(a);
            }
            System.err.printf(Locale.ROOT, "[opencl] %s launch %s global=%s local=%s scalars=(%s)%n", device, name,
                    Arrays.toString(g), local == null ? "auto" : Arrays.toString(local), sb);
        }
        try {
            clEnqueueNDRangeKernel(queue, kernel, g.length, null, g, local, 0, null, null);
        } catch (CLException e) {
            throw new OpenClException(label() + ": launching kernel " + name + " with global " + Arrays.toString(g) + " local "
                    + Arrays.toString(local) + " failed: " + e.getMessage(), e);
        }
        launches++;
    }

    private static void setArg(cl_kernel k, int i, Object a, String name) {
        if (a instanceof OpenClStorage s) {
            s.checkOpen();
            clSetKernelArg(k, i, Sizeof.cl_mem, Pointer.to(s.buffer()));
        } else if (a instanceof cl_mem m) {
            clSetKernelArg(k, i, Sizeof.cl_mem, Pointer.to(m));
        } else if (a instanceof ViewArg v) {
            clSetKernelArg(k, i, ViewArg.BYTES, Pointer.to(v.data));
        } else if (a instanceof Integer v) {
            clSetKernelArg(k, i, Sizeof.cl_int, Pointer.to(new int[] {v}));
        } else if (a instanceof Long v) {
            clSetKernelArg(k, i, Sizeof.cl_long, Pointer.to(new long[] {v}));
        } else if (a instanceof Float v) {
            clSetKernelArg(k, i, Sizeof.cl_float, Pointer.to(new float[] {v}));
        } else if (a instanceof Double v) {
            clSetKernelArg(k, i, Sizeof.cl_double, Pointer.to(new double[] {v}));
        } else if (a instanceof Short v) {
            clSetKernelArg(k, i, Sizeof.cl_short, Pointer.to(new short[] {v}));
        } else if (a instanceof Byte v) {
            clSetKernelArg(k, i, Sizeof.cl_char, Pointer.to(new byte[] {v}));
        } else {
            throw new IllegalArgumentException("kernel " + name + " argument " + i + ": unsupported type " + (a == null ? "null" : a.getClass()));
        }
    }

    int localSize() { return localSize; }

    void finish() { clFinish(queue); }
}
