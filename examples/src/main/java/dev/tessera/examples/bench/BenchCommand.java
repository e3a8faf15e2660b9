package dev.tessera.examples.bench;

import picocli.CommandLine.Command;

/** Parent of the benchmark commands: {@code bench cpu} and {@code bench opencl}. */
@Command(name = "bench",
        description = "Benchmarks that print ratios against a reference measured in the same run.",
        subcommands = {CpuBench.class, OpenClBench.class})
public final class BenchCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
