package io.quantkit.cli;

import io.quantkit.io.AtomicOutput;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Hidden {@code quant cli-docs [--out FILE]}: writes docs/cli.md, the command reference, from picocli's usage
 * help of every command. A unit test (CliDocsTest) fails when the committed file differs from this text.
 */
@Command(name = "cli-docs", hidden = true, mixinStandardHelpOptions = true,
        description = "Generate docs/cli.md from the usage help of every command.")
final class CliDocsCommand implements Callable<Integer> {
    /** The command that regenerates docs/cli.md, quoted in the file and in the drift test's message. */
    static final String REGENERATE = "./quant cli-docs --out docs/cli.md";

    @Spec
    CommandSpec spec;

    @Option(names = "--out", paramLabel = "FILE", description = "Write here instead of stdout.")
    Path out;

    @Override
    public Integer call() throws IOException {
        String text = generate(Main.commandLine());
        if (out == null) {
            spec.commandLine().getOut().print(text);
            spec.commandLine().getOut().flush();
        } else {
            AtomicOutput.writeString(out, text, true);
        }
        return ExitCodes.OK;
    }

    /** The complete text of docs/cli.md for this command tree (deterministic: fixed width, no colours). */
    static String generate(CommandLine root) {
        StringBuilder sb = new StringBuilder();
        sb.append("# quant: command reference\n\n");
        sb.append("<!-- Generated from picocli's usage help by `").append(REGENERATE).append("`.\n");
        sb.append("     Do not edit by hand: a unit test fails when this file differs from the generated text. -->\n\n");
        sb.append("`./quant` builds the CLI on first use (or when sources changed) and runs it; `./quant jshell` is\n");
        sb.append("handled by the launcher itself. Every command that reports numbers has `--json`: one JSON\n");
        sb.append("document on stdout and nothing else there (progress and errors go to stderr), keys sorted and\n");
        sb.append("stable, snake_case, listed under each command. Numbers that do not exist (NaN, a shape a scheme\n");
        sb.append("cannot store) are `null`.\n\n");
        sb.append("Exit codes: 0 success; 1 failure while working; 2 bad usage or bad input. Errors print one line\n");
        sb.append("on stderr, `quant: error: ...`; `--verbose` adds the stack trace.\n\n");
        sb.append("Shell completion: `source <(./quant completion)`.\n");
        append(sb, root);
        return sb.toString();
    }

    private static void append(StringBuilder sb, CommandLine cmd) {
        CommandSpec s = cmd.getCommandSpec();
        sb.append("\n## ").append(s.qualifiedName()).append("\n\n```text\n");
        sb.append(cmd.getUsageMessage(CommandLine.Help.Ansi.OFF).stripTrailing()).append("\n```\n");
        for (java.util.Map.Entry<String, CommandLine> e : cmd.getSubcommands().entrySet()) {
            CommandLine sub = e.getValue();
            CommandSpec ss = sub.getCommandSpec();
            // aliases map to the same CommandLine; visit each command once, under its own name
            if (!ss.usageMessage().hidden() && ss.name().equals(e.getKey())
                    && !(ss.userObject() instanceof CommandLine.HelpCommand)) {
                append(sb, sub);
            }
        }
    }
}
