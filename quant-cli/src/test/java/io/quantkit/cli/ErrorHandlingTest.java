package io.quantkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad usage and bad input: exit 2, exactly one line on stderr, nothing on stdout. */
class ErrorHandlingTest {

    @Test
    void unknownScheme() {
        String line = CliRun.of("formats", "int5").assertBadInput();
        assertTrue(line.contains("unknown scheme 'int5'"), line);
        assertTrue(line.contains("q4_0"), "lists the known schemes: " + line);
    }

    @Test
    void badSchemeParameter() {
        String line = CliRun.of("formats", "int4:grop=64").assertBadInput();
        assertTrue(line.contains("no parameter 'grop'"), line);
        String range = CliRun.of("formats", "int:bits=9").assertBadInput();
        assertTrue(range.contains("bits (9) must be in 2..8"), range);
    }

    @Test
    void unknownOption() {
        String line = CliRun.of("formats", "--bogus").assertBadInput();
        assertEquals("quant: error: Unknown option: '--bogus' (see 'quant formats --help')", line);
    }

    @Test
    void unknownCommandSuggestsTheNearOne() {
        String line = CliRun.of("formatz").assertBadInput();
        assertTrue(line.contains("did you mean formats"), line); // picocli may list more (e.g. "or calibrate")
    }

    @Test
    void missingFile(@TempDir Path dir) {
        Path missing = dir.resolve("nope.jsh");
        String line = CliRun.of("jshell", missing.toString()).assertBadInput();
        assertEquals("quant: error: no such file: " + missing, line);
    }

    @Test
    void failureWhileWorkingIsExitOneAndVerboseAddsTheTrace() {
        RuntimeException boom = new IllegalStateException("disk on fire");
        assertEquals(1, ExitCodes.of(boom));
        assertEquals(2, ExitCodes.of(new IllegalArgumentException("bad")));
        assertEquals(2, ExitCodes.of(new java.io.UncheckedIOException(new java.nio.file.NoSuchFileException("x"))));
        assertEquals(1, ExitCodes.of(new java.io.UncheckedIOException(new java.io.IOException("No space left"))));
        assertEquals("IOException: No space left", ErrorHandler.describe(new java.io.IOException("No space left")));
        assertEquals("disk on fire", ErrorHandler.describe(boom));
        assertEquals("a b", ErrorHandler.describe(new IllegalArgumentException("a\n  b")));
    }

    @Test
    void verboseAddsStackTrace() {
        CliRun v = CliRun.of("formats", "--verbose", "nope");
        assertEquals(2, v.exit());
        assertTrue(v.errLines().size() > 3, "stack trace expected under --verbose: " + v.err());
        assertTrue(v.errLines().get(0).startsWith("quant: error: unknown scheme 'nope'"), v.err());
        assertTrue(v.err().contains("at io.quantkit"), v.err());
    }

    @Test
    void noArgumentsPrintsHelp() {
        CliRun r = CliRun.of();
        assertEquals(0, r.exit());
        assertTrue(r.out().startsWith("Usage: quant"), r.out());
        assertTrue(r.out().contains("Exit codes:"), r.out());
        assertEquals("", r.err());
    }
}
