package io.quantkit.cli;

import java.io.PrintWriter;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * Turns every error into ONE line on stderr, {@code quant: error: ...}, and an exit code (see {@link ExitCodes}).
 * The stack trace follows only under {@code --verbose}.
 */
final class ErrorHandler implements IExecutionExceptionHandler, IParameterExceptionHandler {
    static final String PREFIX = "quant: error: ";

    @Override
    public int handleParseException(ParameterException ex, String[] args) {
        CommandLine cmd = ex.getCommandLine();
        StringBuilder msg = new StringBuilder(oneLine(ex.getMessage()));
        if (ex instanceof UnmatchedArgumentException u) {
            List<String> suggestions = u.getSuggestions();
            if (!suggestions.isEmpty()) {
                msg.append("; did you mean ").append(String.join(" or ", suggestions)).append('?');
            }
        }
        msg.append(" (see '").append(cmd.getCommandSpec().qualifiedName()).append(" --help')");
        PrintWriter err = cmd.getErr();
        err.println(PREFIX + msg);
        if (verbose(ex.getCommandLine().getParseResult())) {
            ex.printStackTrace(err);
        }
        err.flush();
        return ExitCodes.BAD_INPUT;
    }

    @Override
    public int handleExecutionException(Exception ex, CommandLine cmd, ParseResult parseResult) {
        PrintWriter err = cmd.getErr();
        err.println(PREFIX + describe(ex));
        if (verbose(parseResult)) {
            ex.printStackTrace(err);
        }
        err.flush();
        return ExitCodes.of(ex);
    }

    /** One line describing {@code t}: its message (or its type when it has none), with file names spelled out. */
    static String describe(Throwable t) {
        Throwable x = t;
        if (x instanceof java.io.UncheckedIOException && x.getCause() != null) {
            x = x.getCause();
        }
        if (x instanceof NoSuchFileException f) {
            return "no such file: " + f.getFile();
        }
        if (x instanceof FileAlreadyExistsException f) {
            return f.getFile() + " already exists (use --force to replace it)";
        }
        String m = x.getMessage();
        if (m == null || m.isBlank()) {
            return x.getClass().getSimpleName();
        }
        // a bare JDK message says little without its type ("Java heap space", "/tmp/x (Permission denied)")
        boolean ownWords = x instanceof IllegalArgumentException || x instanceof IllegalStateException
                || !x.getClass().getName().startsWith("java.");
        return oneLine(ownWords ? m : x.getClass().getSimpleName() + ": " + m);
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.strip().replaceAll("\\s*[\\r\\n]+\\s*", " ");
    }

    private static boolean verbose(ParseResult pr) {
        for (ParseResult p = pr; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--verbose")) {
                return true;
            }
        }
        return false;
    }
}
