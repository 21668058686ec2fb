package io.quantkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
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

/** {@code quant inspect} on small files written byte by byte here, so every expected number is known. */
class InspectCommandTest {

    /** A safetensors file: u64 header length, the JSON header, then the data. */
    static Path safetensors(Path dir, String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        for (int i = 0; i < dataBytes; i++) {
            b.put((byte) i);
        }
        Path p = dir.resolve("model.safetensors");
        Files.write(p, b.array());
        return p;
    }

    private static final String HEADER = "{\"__metadata__\":{\"format\":\"pt\"},"
            + "\"a.weight\":{\"dtype\":\"BF16\",\"shape\":[3,4],\"data_offsets\":[0,24]},"
            + "\"b.bias\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[24,36]}}";

    @Test
    void jsonReportsFormatsShapesAndOffsetsAsTheHeaderSays(@TempDir Path dir) throws IOException {
        Path f = safetensors(dir, HEADER, 36);
        JsonNode doc = CliRun.of("inspect", "--json", f.toString()).json();
        assertEquals(List.of("bits_per_weight", "container", "data_bytes", "file", "file_bytes", "metadata",
                "parameter_count", "tensor_count", "tensors", "tokenizer"), FormatsCommandTest.fieldNames(doc));
        assertEquals("safetensors", doc.get("container").asText());
        assertEquals(2, doc.get("tensor_count").asInt());
        assertEquals(15, doc.get("parameter_count").asLong());
        assertEquals(36, doc.get("data_bytes").asLong());
        assertEquals(8.0 * 36 / 15, doc.get("bits_per_weight").asDouble(), 1e-12);
        long dataStart = 8 + HEADER.getBytes(StandardCharsets.UTF_8).length;
        assertEquals(dataStart + 36, doc.get("file_bytes").asLong());
        assertEquals("pt", doc.get("metadata").get("format").get("value").asText());
        JsonNode a = doc.get("tensors").get(0);
        assertEquals(List.of("bits_per_weight", "bytes", "file", "format", "name", "offset", "shape"),
                FormatsCommandTest.fieldNames(a));
        assertEquals("a.weight", a.get("name").asText());
        assertEquals("BF16", a.get("format").asText());
        assertEquals("[3,4]", a.get("shape").toString());
        assertEquals(24, a.get("bytes").asLong());
        assertEquals(16.0, a.get("bits_per_weight").asDouble(), 0.0);
        assertEquals(dataStart, a.get("offset").asLong());
        JsonNode b = doc.get("tensors").get(1);
        assertEquals("F32", b.get("format").asText());
        assertEquals(dataStart + 24, b.get("offset").asLong());
        assertTrue(doc.get("tokenizer").isNull());
    }

    @Test
    void textShowsTheTensorTable(@TempDir Path dir) throws IOException {
        Path f = safetensors(dir, HEADER, 36);
        CliRun r = CliRun.of("inspect", f.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("container:  safetensors"), r.out());
        assertTrue(r.out().contains("tensors:    2 holding 15 parameters in 36 bytes (19.2000 bits per weight)"),
                r.out());
        assertTrue(r.out().matches("(?s).*\\na\\.weight +BF16 +\\[3, 4\\] +24 +16\\.0000 +\\d+\\n.*"), r.out());
    }

    @Test
    void truncatedFileIsBadInput(@TempDir Path dir) throws IOException {
        Path f = safetensors(dir, HEADER, 20); // data section 16 bytes short
        String line = CliRun.of("inspect", f.toString()).assertBadInput();
        assertTrue(line.contains("model.safetensors"), "names the file: " + line);
    }

    @Test
    void headerLengthOfTwoToTheSixtyThirdIsBadInput(@TempDir Path dir) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(Long.MIN_VALUE).putLong(0);
        Path f = dir.resolve("huge.safetensors");
        Files.write(f, b.array());
        CliRun.of("inspect", "--json", f.toString()).assertBadInput();
    }

    @Test
    void garbageAndPickleAreBadInput(@TempDir Path dir) throws IOException {
        Path junk = dir.resolve("junk.dat");
        Files.write(junk, new byte[] {1, 2, 3});
        CliRun.of("inspect", junk.toString()).assertBadInput();
        Path pickle = dir.resolve("model.pt");
        Files.write(pickle, new byte[] {(byte) 0x80, 2, 'c', 'x'});
        String line = CliRun.of("inspect", pickle.toString()).assertBadInput();
        assertTrue(line.contains("pickle"), line);
    }

    @Test
    void missingFileIsBadInput(@TempDir Path dir) {
        Path f = dir.resolve("absent.gguf");
        assertEquals("quant: error: no such file: " + f, CliRun.of("inspect", f.toString()).assertBadInput());
    }

    @Test
    void negativeMaxArrayIsAUsageError(@TempDir Path dir) throws IOException {
        Path f = safetensors(dir, HEADER, 36);
        CliRun.of("inspect", "--max-array", "-2", f.toString()).assertBadInput();
    }
}
