package io.quantkit.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quantkit.calib.CalibrationProfile;
import io.quantkit.testing.SharedData;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code quant calibrate} on stories260K: byte-identical profiles for a fixed seed, JSON keys, errors. */
@Tag("real-data")
class CalibrateCommandTest {
    @TempDir
    Path dir;

    @Test
    void sameSeedGivesByteIdenticalProfilesOnAnyThreadCount() throws Exception {
        String model = SharedData.path("stories260K/stories260K.bin").toString();
        String tok = SharedData.path("stories260K/tok512.bin").toString();
        // JSONL data made from the sample (a different container for the same kind of text)
        String text = Files.readString(SharedData.path("corpora/tinystories_val_sample.txt"));
        StringBuilder jsonl = new StringBuilder();
        for (String story : text.substring(200_000, 260_000).split("\n\n")) {
            jsonl.append(new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(java.util.Map.of("text", story))).append('\n');
        }
        Path data = dir.resolve("cal.jsonl");
        Files.writeString(data, jsonl);
        Path a = dir.resolve("a.json");
        Path b = dir.resolve("b.json");
        JsonNode j = CliRun.of("calibrate", model, "--tokenizer", tok, "--data", data.toString(), "--out",
                a.toString(), "--samples", "8", "--ctx", "64", "--seed", "5", "--threads", "1", "--json").json();
        assertEquals(8, j.get("samples").asInt());
        assertEquals(64, j.get("ctx").asInt());
        assertEquals(512, j.get("tokens").asInt());
        assertEquals(36, j.get("tensors").asInt(), "7 linear weights x 5 layers + the classifier");
        assertTrue(CalibrationProfile.sha256(SharedData.path("stories260K/stories260K.bin")).startsWith("b0a507e7"));
        assertEquals(CalibrationProfile.sha256(SharedData.path("stories260K/stories260K.bin")),
                j.get("model_sha256").asText());
        CliRun r = CliRun.of("calibrate", model, "--tokenizer", tok, "--data", data.toString(), "--out", b.toString(),
                "--samples", "8", "--ctx", "64", "--seed", "5", "--threads", "2");
        assertEquals(0, r.exit(), r.err());
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b), "profiles must be byte-identical");
        CalibrationProfile p = CalibrationProfile.read(a);
        assertEquals(5, p.provenance().seed());
        assertEquals("cal.jsonl", p.provenance().dataFile());
        // an existing output is refused without --force; too many samples is one clear line
        String e = CliRun.of("calibrate", model, "--tokenizer", tok, "--data", data.toString(), "--out", a.toString())
                .assertBadInput();
        assertTrue(e.contains("exists"), e);
        e = CliRun.of("calibrate", model, "--tokenizer", tok, "--data", data.toString(), "--out",
                dir.resolve("c.json").toString(), "--samples", "100000").assertBadInput();
        assertTrue(e.contains("exceeds the"), e);
    }
}
