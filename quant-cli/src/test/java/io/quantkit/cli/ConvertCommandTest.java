package io.quantkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code quant convert} on a small safetensors file written here: a [2, 64] weight and a [64] norm, float32. */
class ConvertCommandTest {
    private static final String HEADER = "{\"w.weight\":{\"dtype\":\"F32\",\"shape\":[2,64],\"data_offsets\":[0,512]},"
            + "\"w.norm\":{\"dtype\":\"F32\",\"shape\":[64],\"data_offsets\":[512,768]}}";

    private static Path input(Path dir) throws IOException {
        byte[] h = HEADER.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + 768).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        for (int i = 0; i < 192; i++) {
            b.putFloat((i % 17 - 8) * 0.01f);
        }
        Path p = dir.resolve("in.safetensors");
        Files.write(p, b.array());
        return p;
    }

    @Test
    void convertsToGgufReportingEveryTensor(@TempDir Path dir) throws IOException {
        Path in = input(dir);
        Path out = dir.resolve("out.gguf");
        CliRun r = CliRun.of("convert", in.toString(), out.toString(), "--scheme", "f16", "--json", "--threads", "2");
        JsonNode doc = r.json();
        assertEquals(List.of("bits_per_weight", "bytes_in", "bytes_out", "container", "data_bytes_out", "fallbacks",
                "mb_per_second", "output", "parameter_count", "seconds", "tensor_count", "tensors", "threads"),
                FormatsCommandTest.fieldNames(doc));
        assertEquals("gguf", doc.get("container").asText());
        assertEquals(2, doc.get("tensor_count").asInt());
        assertEquals(192, doc.get("parameter_count").asLong());
        assertEquals(768, doc.get("bytes_in").asLong());
        // the weight in f16 (128 * 2 bytes), the 1-D norm kept in f32 (64 * 4 bytes)
        assertEquals(256 + 256, doc.get("data_bytes_out").asLong());
        assertEquals(Files.size(out), doc.get("bytes_out").asLong());
        assertEquals(8.0 * 512 / 192, doc.get("bits_per_weight").asDouble(), 1e-12);
        assertEquals(2, doc.get("threads").asInt());
        assertEquals(0, doc.get("fallbacks").asInt());
        JsonNode t0 = doc.get("tensors").get(0);
        assertEquals(List.of("bits_per_weight", "bytes_in", "bytes_out", "fallback", "input", "method", "name", "output",
                "rule", "shape"), FormatsCommandTest.fieldNames(t0));
        // progress: one plain line per tensor on stderr (not a terminal under test)
        List<String> progress = r.errLines();
        assertEquals(2, progress.size(), r.err());
        assertTrue(progress.get(0).startsWith("[1/2] "), r.err());
        assertTrue(progress.get(1).startsWith("[2/2] "), r.err());
        // and the result reads back
        JsonNode back = CliRun.of("inspect", "--json", out.toString()).json();
        assertEquals(2, back.get("tensor_count").asInt());
        for (JsonNode t : back.get("tensors")) {
            assertEquals(t.get("shape").size() == 1 ? "F32" : "F16", t.get("format").asText(), t.toString());
        }
    }

    @Test
    void existingOutputNeedsForce(@TempDir Path dir) throws IOException {
        Path in = input(dir);
        Path out = dir.resolve("out.gguf");
        Files.writeString(out, "precious");
        String line = CliRun.of("convert", in.toString(), out.toString(), "--scheme", "f16", "-q").assertBadInput();
        assertTrue(line.contains("out.gguf") && line.contains("--force"), line);
        assertEquals("precious", Files.readString(out), "the existing file is kept");
        CliRun forced = CliRun.of("convert", in.toString(), out.toString(), "--scheme", "bf16", "--force", "-q");
        assertEquals(0, forced.exit(), forced.err());
        assertEquals("", forced.err(), "--quiet prints no progress");
        assertFalse(Files.readString(out, StandardCharsets.ISO_8859_1).startsWith("precious"));
    }

    @Test
    void badUsageIsOneLineAndExitTwo(@TempDir Path dir) throws IOException {
        Path in = input(dir);
        String out = dir.resolve("out.gguf").toString();
        assertTrue(CliRun.of("convert", in.toString(), out, "--scheme", "q3_k").assertBadInput()
                .contains("unknown scheme 'q3_k'"));
        assertTrue(CliRun.of("convert", in.toString(), out).assertBadInput().contains("--scheme"));
        assertTrue(CliRun.of("convert", in.toString(), dir.resolve("out.bin").toString(), "--scheme", "f16")
                .assertBadInput().contains(".gguf or .safetensors"));
        assertTrue(CliRun.of("convert", in.toString(), out, "--scheme", "f16", "--recipe", dir.resolve("no.txt").toString())
                .assertBadInput().contains("no such file"));
        CliRun.of("convert", dir.resolve("absent.gguf").toString(), out, "--scheme", "f16").assertBadInput();
        CliRun.of("convert", in.toString(), out, "--scheme", "f16", "--threads", "-1").assertBadInput();
        assertFalse(Files.exists(Path.of(out)), "no output after a usage error");
    }

    @Test
    void recipeRulesComeFirst(@TempDir Path dir) throws IOException {
        Path in = input(dir);
        Path recipe = dir.resolve("recipe.txt");
        Files.writeString(recipe, "# keep the weight in bf16, everything else f16\nw.weight bf16\n");
        JsonNode doc = CliRun.of("convert", in.toString(), dir.resolve("o.safetensors").toString(), "--scheme", "f16",
                "--recipe", recipe.toString(), "--json", "-q").json();
        for (JsonNode t : doc.get("tensors")) {
            if (t.get("name").asText().equals("w.weight")) {
                assertTrue(t.get("output").asText().equalsIgnoreCase("bf16"), t.toString());
            }
        }
        Files.writeString(recipe, "w.weight int17\n");
        CliRun.of("convert", in.toString(), dir.resolve("p.safetensors").toString(), "--scheme", "f16",
                "--recipe", recipe.toString()).assertBadInput();
    }
}
