package io.quantkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.quantkit.testing.SharedData;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code quant convert} on stories260K (dim 64, hidden 172: the five ffn_down weights have rows of 172). */
@Tag("real-data")
class ConvertRealDataTest {

    @Test
    void llama2cToGgufF32HasTheReferenceTensors(@TempDir Path dir) {
        String bin = SharedData.path("stories260K/stories260K.bin").toString();
        String ref = SharedData.path("stories260K/stories260K-f32.gguf").toString();
        Path out = dir.resolve("s.gguf");
        JsonNode doc = CliRun.of("convert", bin, out.toString(), "--scheme", "f32", "--json", "-q").json();
        assertEquals(48, doc.get("tensor_count").asInt());
        assertEquals(4 * 292_800, doc.get("data_bytes_out").asLong());
        Map<String, String> expected = new HashMap<>();
        for (JsonNode t : CliRun.of("inspect", "--json", ref).json().get("tensors")) {
            expected.put(t.get("name").asText(), t.get("format").asText() + t.get("shape"));
        }
        Map<String, String> got = new HashMap<>();
        for (JsonNode t : CliRun.of("inspect", "--json", out.toString()).json().get("tensors")) {
            got.put(t.get("name").asText(), t.get("format").asText() + t.get("shape"));
        }
        assertEquals(expected, got, "same names, formats and shapes as llama.cpp's own conversion");
    }

    @Test
    void q8_0FallsBackForRowsOf172UnlessStrict(@TempDir Path dir) {
        String bin = SharedData.path("stories260K/stories260K.bin").toString();
        JsonNode doc = CliRun.of("convert", bin, dir.resolve("q8.gguf").toString(), "--scheme", "q8_0", "--json",
                "-q").json();
        assertEquals(5, doc.get("fallbacks").asInt(), "the five ffn_down weights [64, 172]");
        for (JsonNode t : doc.get("tensors")) {
            boolean down = t.get("name").asText().endsWith("ffn_down.weight");
            assertEquals(down, !t.get("fallback").isNull(), t.toString());
        }
        String line = CliRun.of("convert", bin, dir.resolve("strict.gguf").toString(), "--scheme", "q8_0", "--strict",
                "-q").assertBadInput();
        assertEquals(true, line.contains("172"), line);
    }
}
