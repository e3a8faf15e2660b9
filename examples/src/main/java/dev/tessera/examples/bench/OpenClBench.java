package dev.tessera.examples.bench;

import dev.tessera.gpu.OpenCl;
import dev.tessera.gpu.OpenClBackend;
import dev.tessera.gpu.OpenClDeviceInfo;
import dev.tessera.tensor.Backends;
import dev.tessera.tensor.CrossEntropyResult;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Device;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.NormResult;
import dev.tessera.tensor.UnaryOp;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tessera bench opencl}: GEMM GFLOP/s at GPT-2 shapes and the time of the fused kernels at
 * (N, C) = (4096, 768) on an OpenCL device, beside the CPU backend's figures measured in the same
 * run. CPU and device runs are interleaved and medians reported; device times include waiting for
 * the kernel to finish (clFinish) but no host transfer.
 */
@Command(name = "opencl", mixinStandardHelpOptions = true,
        description = "OpenCL kernels beside the CPU backend: GEMM GFLOP/s at GPT-2 shapes, softmax / layer norm / GELU / "
                + "cross entropy / AdamW times at (rows, 768).")
public final class OpenClBench implements Callable<Integer> {
    @Option(names = "--device", defaultValue = "0", description = "OpenCL device: index (0, opencl:1) or part of its name (H200, nvidia) (default: ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--rows", defaultValue = "4096", description = "Rows N (tokens) of every shape (default: ${DEFAULT-VALUE}; smaller for a quick run).")
    int rows;

    @Option(names = "--iters", defaultValue = "10", description = "Timed runs per kernel and backend (default: ${DEFAULT-VALUE}).")
    int iters;

    @Option(names = "--warmup", defaultValue = "2", description = "Untimed runs first (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--no-cpu", description = "Skip the CPU backend's figures (e.g. on a slow host).")
    boolean noCpu;

    public static void main(String[] args) {
        System.exit(new CommandLine(new OpenClBench()).execute(args));
    }

    @Override
    public Integer call() {
        if (!OpenCl.isAvailable()) {
            System.err.println("tessera bench opencl: " + OpenCl.report());
            return 2;
        }
        String d = device.startsWith("opencl:") ? device.substring("opencl:".length()) : device;
        Device dev = !d.isEmpty() && d.chars().allMatch(Character::isDigit) ? Device.opencl(Integer.parseInt(d)) : OpenCl.device(d);
        OpenClBackend ocl = OpenCl.backend(dev);
        OpenClDeviceInfo info = ocl.info();
        System.out.println("OpenCL device: " + info.describe());
        System.out.println("CPU backend:   " + (noCpu ? "(skipped)" : Backends.cpu().describe()));
        System.out.printf(Locale.ROOT, "medians of %d runs after %d warm-up runs, CPU and device interleaved; F32%n", iters, warmup);
        if (info.type().equals("CPU")) {
            System.out.println("note: this OpenCL device is a CPU (e.g. PoCL); its figures only show that the path runs.");
        }
        Generator g = new Generator(7);
        int n = rows, c = 768;

        System.out.printf(Locale.ROOT, "%n%-34s %14s %14s %9s%n", "GEMM (GPT-2 shapes)", "cpu GFLOP/s", "opencl GFLOP/s", "ratio");
        int[][] gemms = {{n, 768, 2304}, {n, 768, 3072}, {n, 3072, 768}};
        for (int[] s : gemms) {
            NDArray a = NDArray.normal(g, DType.F32, 0, 1, s[0], s[1]), b = NDArray.normal(g, DType.F32, 0, 1, s[1], s[2]);
            NDArray ad = a.to(dev), bd = b.to(dev);
            double[] t = time(() -> a.matmul(b), () -> ad.matmul(bd), ocl);
            double flops = 2.0 * s[0] * s[1] * s[2];
            String name = "[" + s[0] + "x" + s[1] + "] @ [" + s[1] + "x" + s[2] + "]";
            double cpu = noCpu ? Double.NaN : flops / t[0] / 1e9, gpu = flops / t[1] / 1e9;
            System.out.printf(Locale.ROOT, "%-34s %14.1f %14.1f %9s%n", name, cpu, gpu, ratio(gpu, cpu));
        }

        System.out.printf(Locale.ROOT, "%n%-34s %14s %14s %9s%n", "kernel at (" + n + ", " + c + ")", "cpu ms", "opencl ms", "speedup");
        NDArray x = NDArray.normal(g, DType.F32, 0, 1, n, c), gy = NDArray.normal(g, DType.F32, 0, 1, n, c);
        NDArray w = NDArray.normal(g, DType.F32, 1, 0.1, c), bias = NDArray.normal(g, DType.F32, 0, 0.1, c);
        NDArray targets = NDArray.randint(g, 0, c, n);
        NDArray xd = x.to(dev), gyd = gy.to(dev), wd = w.to(dev), bd = bias.to(dev), td = targets.to(dev);
        NormResult lnC = x.layerNorm(w, bias, 1e-5), lnD = xd.layerNorm(wd, bd, 1e-5);
        CrossEntropyResult ceC = x.crossEntropy(targets, -100, 0), ceD = xd.crossEntropy(td, -100, 0);
        row("softmax", () -> x.softmax(-1), () -> xd.softmax(-1), ocl);
        row("softmax backward", () -> x.softmaxBackward(gy, -1, false), () -> xd.softmaxBackward(gyd, -1, false), ocl);
        row("layer norm", () -> x.layerNorm(w, bias, 1e-5).out(), () -> xd.layerNorm(wd, bd, 1e-5).out(), ocl);
        row("layer norm backward", () -> x.layerNormBackward(gy, lnC.mean(), lnC.rstd(), w, true).input(),
                () -> xd.layerNormBackward(gyd, lnD.mean(), lnD.rstd(), wd, true).input(), ocl);
        row("gelu (tanh, GPT-2)", x::geluTanh, xd::geluTanh, ocl);
        row("gelu backward", () -> x.unaryBackward(UnaryOp.GELU_TANH, gy, 0), () -> xd.unaryBackward(UnaryOp.GELU_TANH, gyd, 0), ocl);
        row("cross entropy (V = " + c + ")", () -> x.crossEntropy(targets, -100, 0).loss(), () -> xd.crossEntropy(td, -100, 0).loss(), ocl);
        row("cross entropy backward", () -> x.crossEntropyBackward(targets, ceC.logSumExp(), -100, 0, 1.0 / n),
                () -> xd.crossEntropyBackward(td, ceD.logSumExp(), -100, 0, 1.0 / n), ocl);
        NDArray p = x.copy(), m = NDArray.zeros(DType.F32, n, c), v = NDArray.zeros(DType.F32, n, c);
        NDArray pd = xd.copy(), md = NDArray.zeros(dev, DType.F32, n, c), vd = NDArray.zeros(dev, DType.F32, n, c);
        long[] step = {0, 0};
        row("adamw (" + n + " x " + c + " params)", () -> { p.adamwStep(gy, m, v, 1e-3, 0.9, 0.999, 1e-8, 0.01, ++step[0]); return null; },
                () -> { pd.adamwStep(gyd, md, vd, 1e-3, 0.9, 0.999, 1e-8, 0.01, ++step[1]); return null; }, ocl);
        System.out.printf(Locale.ROOT, "%ndevice memory: %s%n", ocl.memoryStats());
        return 0;
    }

    private void row(String name, Supplier<NDArray> cpu, Supplier<NDArray> gpu, OpenClBackend ocl) {
        double[] t = time(cpu, gpu, ocl);
        System.out.printf(Locale.ROOT, "%-34s %14.3f %14.3f %9s%n", name, t[0] * 1e3, t[1] * 1e3, ratio(t[0], t[1]));
    }

    private static String ratio(double a, double b) {
        return Double.isNaN(a) || Double.isNaN(b) ? "-" : String.format(Locale.ROOT, "%.2fx", a / b);
    }

    /** Median seconds of cpu and gpu, interleaved; device results are waited for and released each run. */
    private double[] time(Supplier<NDArray> cpu, Supplier<NDArray> gpu, OpenClBackend ocl) {
        List<Double> tc = new ArrayList<>(), tg = new ArrayList<>();
        for (int i = 0; i < warmup + iters; i++) {
            if (!noCpu) {
                long t0 = System.nanoTime();
                cpu.get();
                long t1 = System.nanoTime();
                if (i >= warmup) tc.add((t1 - t0) / 1e9);
            }
            ocl.synchronize();
            long t0 = System.nanoTime();
            NDArray r = gpu.get();
            ocl.synchronize();
            long t1 = System.nanoTime();
            if (r != null) r.close();
            if (i >= warmup) tg.add((t1 - t0) / 1e9);
        }
        return new double[] {noCpu ? Double.NaN : median(tc), median(tg)};
    }

    private static double median(List<Double> v) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(a);
        return a.length == 0 ? Double.NaN : a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }
}
