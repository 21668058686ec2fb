package io.quantkit.cli;

import java.io.FileNotFoundException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/**
 * The exit codes of {@code quant} (documented in docs/cli.md) and which errors count as bad input.
 *
 * <ul>
 *   <li>0: success</li>
 *   <li>1: a failure while working (I/O error on output, a bug, out of memory)</li>
 *   <li>2: bad usage or bad input: unknown option or scheme, bad value, missing or malformed input file,
 *       existing output without {@code --force}</li>
 * </ul>
 */
public final class ExitCodes {
    public static final int OK = 0;
    public static final int FAILURE = 1;
    public static final int BAD_INPUT = 2;

    private ExitCodes() {
    }

    /** The exit code for an exception thrown by a command. */
    public static int of(Throwable t) {
        return isBadInput(t) ? BAD_INPUT : FAILURE;
    }

    /**
     * Whether {@code t} means the user's input was wrong (exit 2) rather than the work failing (exit 1):
     * {@link IllegalArgumentException} (the core's way to reject input), a missing input file, an output that
     * exists without {@code --force} (the readers' malformed-file exception, io.quantkit.io.BadFileException, is an
     * IllegalArgumentException). An {@link UncheckedIOException} is judged by its cause.
     */
    static boolean isBadInput(Throwable t) {
        Throwable x = t instanceof UncheckedIOException && t.getCause() != null ? t.getCause() : t;
        return x instanceof IllegalArgumentException
                || x instanceof NoSuchFileException
                || x instanceof FileNotFoundException
                || x instanceof FileAlreadyExistsException
                || x instanceof NotDirectoryException;
    }
}
