package io.quantkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Arrays;
import java.util.List;

/** One run of the command line in this JVM, with stdout, stderr and the exit code captured. */
record CliRun(int exit, String out, String err) {

    static CliRun of(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
        return new CliRun(code, out.toString(), err.toString());
    }

    List<String> errLines() {
        if (err.isEmpty()) {
            return List.of();
        }
        String e = err.endsWith("\n") ? err.substring(0, err.length() - 1) : err;
        return Arrays.asList(e.split("\n", -1));
    }

    /** Asserts exit 2, nothing on stdout, exactly one stderr line starting "quant: error: "; returns that line. */
    String assertBadInput() {
        assertEquals(2, exit, () -> "exit code; stderr was: " + err);
        assertEquals("", out, "stdout must stay empty on an error");
        List<String> lines = errLines();
        assertEquals(1, lines.size(), () -> "exactly one stderr line expected, got: " + err);
        assertTrue(lines.get(0).startsWith("quant: error: "), lines.get(0));
        return lines.get(0);
    }

    JsonNode json() {
        assertEquals(0, exit, () -> "exit code; stderr was: " + err);
        try {
            return Json.mapper().readTree(out);
        } catch (java.io.IOException e) {
            throw new AssertionError("stdout is not one JSON document: " + out, e);
        }
    }
}
