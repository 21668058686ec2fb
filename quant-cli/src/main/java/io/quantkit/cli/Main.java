package io.quantkit.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the {@code quant} command. Only this class calls {@link System#exit}. */
@Command(name = "quant", mixinStandardHelpOptions = true, version = "quant 0.1.0-SNAPSHOT",
        description = "Quantize language-model weights and measure what it costs.")
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Builds the command line with every subcommand and the error handlers (used by tests too). */
    public static CommandLine commandLine() {
        return new CommandLine(new Main());
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
