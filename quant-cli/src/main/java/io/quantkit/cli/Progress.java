package io.quantkit.cli;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * Progress of long work on stderr: a bar redrawn in place on a terminal, one plain line per step otherwise
 * (logs, CI, tests), nothing when quiet. Not thread-safe: call from one thread.
 */
final class Progress {
    enum Mode { BAR, LINES, QUIET }

    /** Width of the bar itself, in characters. */
    private static final int BAR_WIDTH = 24;

    private final PrintWriter err;
    private final Mode mode;
    private final int columns;
    private boolean drawn;

    private Progress(PrintWriter err, Mode mode, int columns) {
        this.err = err;
        this.mode = mode;
        this.columns = columns;
    }

    /** A bar when stdout is a terminal (and TERM is not "dumb"), plain lines otherwise, nothing if quiet. */
    static Progress auto(PrintWriter err, boolean quiet) {
        if (quiet) {
            return new Progress(err, Mode.QUIET, 0);
        }
        boolean terminal = System.console() != null && !"dumb".equals(System.getenv("TERM"));
        return new Progress(err, terminal ? Mode.BAR : Mode.LINES, terminalColumns());
    }

    static Progress of(PrintWriter err, Mode mode) {
        return new Progress(err, mode, 100);
    }

    private static int terminalColumns() {
        try {
            int c = Integer.parseInt(System.getenv().getOrDefault("COLUMNS", "100").trim());
            return Math.max(40, Math.min(c, 400));
        } catch (NumberFormatException e) {
            return 100;
        }
    }

    /** Step {@code done} of {@code total} finished; {@code what} says what it was. */
    void step(int done, int total, String what) {
        switch (mode) {
            case QUIET -> {
                return;
            }
            case LINES -> err.printf(Locale.ROOT, "[%d/%d] %s%n", done, total, what);
            case BAR -> {
                int filled = total == 0 ? BAR_WIDTH : (int) ((long) BAR_WIDTH * done / total);
                String head = String.format(Locale.ROOT, "[%s%s] %d/%d ", "#".repeat(filled),
                        ".".repeat(BAR_WIDTH - filled), done, total);
                String line = head + what;
                if (line.length() > columns - 1) {
                    line = line.substring(0, Math.max(head.length(), columns - 4)) + "...";
                }
                err.print("\r\033[K" + line);
                drawn = true;
            }
        }
        err.flush();
    }

    /** Ends the display (clears the bar's line). */
    void finish() {
        if (mode == Mode.BAR && drawn) {
            err.print("\r\033[K");
            err.flush();
        }
    }
}
