package io.quantkit.io;

import java.nio.file.Path;

/**
 * A checkpoint file that is malformed, truncated, hostile or of a kind we refuse to read. The message is one
 * sentence naming the file, what is wrong and, where it helps, the limit that was exceeded; the CLI prints it
 * as one line and exits with status 2.
 *
 * <p>It extends {@link IllegalArgumentException} so callers that treat "bad input" generically keep working.
 */
public class BadFileException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public BadFileException(String message) {
        super(message);
    }

    public BadFileException(String message, Throwable cause) {
        super(message, cause);
    }

    /** {@code "<file name>: <message>"}. */
    public static BadFileException of(Path file, String message) {
        return new BadFileException(name(file) + ": " + message);
    }

    /** {@code "<file name>: <message>"} with the formatted message. */
    public static BadFileException of(Path file, String format, Object... args) {
        return new BadFileException(name(file) + ": " + String.format(java.util.Locale.ROOT, format, args));
    }

    private static String name(Path file) {
        return file == null ? "(input)" : String.valueOf(file.getFileName() == null ? file : file.getFileName());
    }
}
