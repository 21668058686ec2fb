package io.quantkit.cli;

import io.quantkit.simd.Simd;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * Entry point of the {@code quant} command. Only this class calls {@link System#exit}; every command is a
 * {@code Callable<Integer>} returning its exit code, and {@link ErrorHandler} maps exceptions to one stderr line.
 */
@Command(name = "quant", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Quantize language-model weights and measure what it costs.",
        // one subcommand per line, so that branches adding commands merge cleanly
        subcommands = {
            FormatsCommand.class,
            InspectCommand.class,
            ConvertCommand.class,
            SurveyCommand.class,
            EvalCommand.class,
            CompareCommand.class,
            CalibrateCommand.class,
            QatCommand.class,
            TrainCommand.class,
            JshellCommand.class,
            CompletionCommand.class,
            CliDocsCommand.class,
            CommandLine.HelpCommand.class,
        },
        footerHeading = "%nExit codes:%n",
        footer = {
            "  0  success",
            "  1  failure while working (I/O error on output, internal error)",
            "  2  bad usage or bad input (unknown option or scheme, missing or",
            "     malformed file, existing output without --force)",
            "",
            "Errors print one line on stderr (\"quant: error: ...\");",
            "--verbose adds the stack trace.",
        })
public final class Main implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return ExitCodes.OK;
    }

    /** Builds the command line with every subcommand and the error handlers (used by tests too). */
    public static CommandLine commandLine() {
        ErrorHandler errors = new ErrorHandler();
        return new CommandLine(new Main())
                .setExecutionExceptionHandler(errors)
                .setParameterExceptionHandler(errors)
                .setCaseInsensitiveEnumValuesAllowed(true);
    }

    /** A command line writing to the given streams (tests capture output this way). */
    public static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        return commandLine().setOut(out).setErr(err);
    }

    /** {@code quant --version}: the version, and which path the kernels take ({@link Simd#describe()}). */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"quant 0.1.0-SNAPSHOT", "kernels: " + Simd.describe()};
        }
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
