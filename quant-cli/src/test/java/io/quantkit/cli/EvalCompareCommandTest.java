package io.quantkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quantkit.quant.Scheme;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Argument handling of {@code quant eval} and {@code quant compare} (no model needed). */
class EvalCompareCommandTest {

    @Test
    void schemeListKeepsParametersWithTheirScheme() {
        CommandLine.Model.CommandSpec spec = Main.commandLine().getSubcommands().get("compare").getCommandSpec();
        List<Scheme> s = CompareCommand.parseSchemes(spec, "int4:group=64,asym,q4_0, fp8-e4m3:scale=channel,int8");
        assertEquals(List.of(Scheme.parse("int4:group=64,asym"), Scheme.parse("q4_0"),
                Scheme.parse("fp8-e4m3:scale=channel"), Scheme.parse("int8")), s);
    }

    @Test
    void unknownSchemeIsBadUsage() {
        String line = CliRun.of("compare", "x.gguf", "--data", "t.txt", "--schemes", "q4_0,q9_9").assertBadInput();
        assertTrue(line.contains("unknown scheme 'q9_9'"), line);
    }

    @Test
    void unknownMethodIsBadUsage(@TempDir Path dir) throws Exception {
        Path text = Files.writeString(dir.resolve("t.txt"), "hello");
        String line = CliRun.of("eval", "x.gguf", "--data", text.toString(), "--method", "wiki").assertBadInput();
        assertTrue(line.contains("unknown perplexity method 'wiki'"), line);
    }

    @Test
    void missingModelFileIsBadInput(@TempDir Path dir) throws Exception {
        Path text = Files.writeString(dir.resolve("t.txt"), "hello");
        CliRun.of("eval", dir.resolve("none.gguf").toString(), "--data", text.toString()).assertBadInput();
    }

    @Test
    void evalNeedsData() {
        CliRun.of("eval", "x.gguf").assertBadInput();
    }

    @Test
    void textIsCutAtACharacterBoundary(@TempDir Path dir) throws Exception {
        Path text = Files.write(dir.resolve("t.txt"), "ab\u00e9c".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        assertEquals("ab", EvalCommand.readText(text, 3)); // byte 3 is inside é: cut before it
        assertEquals("ab\u00e9", EvalCommand.readText(text, 4));
        assertEquals("ab\u00e9c", EvalCommand.readText(text, 0));
    }

    @Test
    void activationSchemesAreCheckedBeforeAnyWork() {
        String line = CliRun.of("compare", "x.gguf", "--data", "t.txt", "--activations", "int9").assertBadInput();
        assertTrue(line.contains("--activations: unknown activation format 'int9'"), line);
        line = CliRun.of("compare", "x.gguf", "--data", "t.txt", "--activations", "int8:observer=kl").assertBadInput();
        assertTrue(line.contains("needs --calibration-data"), line);
        line = CliRun.of("compare", "x.gguf", "--data", "t.txt", "--activations", "int8",
                "--calibration-data", "c.txt").assertBadInput();
        assertTrue(line.contains("--calibration-data is only used"), line);
        line = CliRun.of("compare", "x.gguf", "--data", "t.txt", "--activations", "int8", "--activations",
                "int8:dynamic").assertBadInput();
        assertTrue(line.contains("given twice"), line);
    }

    @Test
    void chartDrawsNonPositiveDeltaPplAtAFloorOnTheLogAxis() {
        List<Chart.Point> pts = List.of(new Chart.Point(16, -0.0003, "f16"), new Chart.Point(8, 0.0047, "int8"),
                new Chart.Point(2, 447.66, "ternary"));
        double floor = CompareCommand.logFloor(pts);
        assertEquals(1e-4, floor, 1e-18, "a decade below 0.0047, rounded down to a power of ten");
        List<Chart.Point> drawn = CompareCommand.onLogAxis(pts, floor);
        assertEquals(new Chart.Point(16, 1e-4, "f16 (ΔPPL -0.0003)"), drawn.get(0));
        assertEquals(pts.get(1), drawn.get(1));
        assertEquals(pts.get(2), drawn.get(2));
        assertEquals(1e-4, CompareCommand.logFloor(List.of(new Chart.Point(4, 0, "x"))), 0.0);
        assertEquals(0.01, CompareCommand.logFloor(List.of(new Chart.Point(4, 0.5, "x"))), 1e-15);
    }
}
