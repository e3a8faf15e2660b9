package dev.tessera.examples;

import dev.tessera.examples.bench.BenchCommand;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code tessera} command-line program. Without a subcommand it runs the demonstration.
 */
@Command(name = "tessera",
        mixinStandardHelpOptions = true,
        version = "Tessera 0.1.0-SNAPSHOT",
        description = "Pure-Java engine to train and fine-tune small transformer models.",
        subcommands = {DemoCommand.class, DevicesCommand.class, BenchCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Callable<Integer> {

    @Override
    public Integer call() throws Exception {
        return new DemoCommand().call();
    }

    public static void main(String[] args) {
        int code = new CommandLine(new Main())
                .setExecutionExceptionHandler((ex, cmd, parsed) -> {
                    cmd.getErr().println("error: " + ex.getMessage());
                    if (System.getenv("TESSERA_DEBUG") != null) ex.printStackTrace(cmd.getErr());
                    return 1;
                })
                .execute(args);
        System.exit(code);
    }
}
