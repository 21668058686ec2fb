package io.quantkit.io.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quantkit.io.Checkpoint;
import io.quantkit.io.Checkpoints;
import io.quantkit.io.TensorInfo;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files in quantkit's layout written byte by byte: an int4-outliers tensor [1, 32] (group 32) in layout version 1
 * (I32 flat indexes) and version 2 (block ends and u16 offsets) reads to the same values; an unknown version is
 * refused. Codes 0x11 (every code +1) with scale 0.5 (f16 0x3800) decode to 0.5; the outlier at index 7 is
 * 4.0 (bf16 0x4080).
 */
class QuantLayoutVersionTest {
    @TempDir
    Path dir;

    private static final String SCHEME = "int4-outliers:group=32,budget=4%";

    private Path file(String version, String[][] parts) throws Exception {
        StringBuilder arrays = new StringBuilder();
        StringBuilder tensors = new StringBuilder();
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (String[] p : parts) { // role, stored name, dtype, shape, hex
            byte[] b = HexFormat.of().parseHex(p[4]);
            arrays.append(arrays.length() == 0 ? "" : ",").append("[\\\"").append(p[0]).append("\\\",\\\"")
                    .append(p[1]).append("\\\"]");
            tensors.append(",\"").append(p[1]).append("\":{\"dtype\":\"").append(p[2]).append("\",\"shape\":[")
                    .append(p[3]).append("],\"data_offsets\":[").append(data.size()).append(',')
                    .append(data.size() + b.length).append("]}");
            data.write(b);
        }
        String h = "{\"__metadata__\":{\"quantkit.format\":\"" + version + "\",\"quantkit.tensor.w\":\"{\\\"scheme\\\":\\\""
                + SCHEME + "\\\",\\\"shape\\\":[1,32],\\\"arrays\\\":[" + arrays + "]}\"}" + tensors + "}";
        byte[] hb = h.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + hb.length + data.size()).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(hb.length).put(hb).put(data.toByteArray());
        Path p = dir.resolve("v" + version + ".safetensors");
        Files.write(p, b.array());
        return p;
    }

    private static final String CODES = "11".repeat(16);

    private static float[] expected() {
        float[] w = new float[32];
        java.util.Arrays.fill(w, 0.5f);
        w[7] = 4f;
        return w;
    }

    @Test
    void version1AndVersion2ReadToTheSameTensor() throws Exception {
        Path v1 = file("1", new String[][] {
            {"codes", "w", "U8", "16", CODES}, {"scales", "w_scale", "F16", "1,1", "0038"},
            {"outlier_index", "w_outlier_index", "I32", "1", "07000000"},
            {"outlier_value", "w_outlier_value", "BF16", "1", "8040"}});
        Path v2 = file("2", new String[][] {
            {"codes", "w", "U8", "16", CODES}, {"scales", "w_scale", "F16", "1,1", "0038"},
            {"outlier_block_end", "w_outlier_block_end", "I32", "1", "01000000"},
            {"outlier_offset", "w_outlier_offset", "U16", "1", "0700"},
            {"outlier_value", "w_outlier_value", "BF16", "1", "8040"}});
        for (Path p : new Path[] {v1, v2}) {
            try (Checkpoint c = Checkpoints.open(p)) {
                TensorInfo t = c.info("w").orElseThrow();
                assertEquals(SCHEME, t.format(), p.toString());
                assertArrayEquals(expected(), c.tensor(t).toFloatArray(), p.toString());
            }
        }
    }

    @Test
    void aVersion1FileConvertsToVersion2() throws Exception {
        Path v1 = file("1", new String[][] {
            {"codes", "w", "U8", "16", CODES}, {"scales", "w_scale", "F16", "1,1", "0038"},
            {"outlier_index", "w_outlier_index", "I32", "1", "07000000"},
            {"outlier_value", "w_outlier_value", "BF16", "1", "8040"}});
        Path f32 = dir.resolve("f32.safetensors");
        io.quantkit.io.convert.Converter.convert(v1, f32,
                io.quantkit.io.convert.Converter.Options.of(io.quantkit.quant.Scheme.parse("f32")));
        Path v2 = dir.resolve("again.safetensors");
        io.quantkit.io.convert.Converter.convert(v1, v2,
                io.quantkit.io.convert.Converter.Options.of(io.quantkit.quant.Scheme.parse(SCHEME)));
        try (Checkpoint a = Checkpoints.open(f32); Checkpoint b = Checkpoints.open(v2)) {
            assertArrayEquals(expected(), a.tensor("w").toFloatArray());
            assertEquals("2", b.metadata().getString("quantkit.format"));
            String entry = b.metadata().getString("quantkit.tensor.w");
            assertTrue(entry.contains("[\"outlier_block_end\",\"w_outlier_block_end\"],[\"outlier_offset\","
                    + "\"w_outlier_offset\"]"), entry);
            assertEquals(4f, b.tensor("w").getFloat(7));
        }
    }

    @Test
    void unknownLayoutVersionIsRefused() throws Exception {
        Path v3 = file("3", new String[][] {
            {"codes", "w", "U8", "16", CODES}, {"scales", "w_scale", "F16", "1,1", "0038"},
            {"outlier_block_end", "w_outlier_block_end", "I32", "1", "01000000"},
            {"outlier_offset", "w_outlier_offset", "U16", "1", "0700"},
            {"outlier_value", "w_outlier_value", "BF16", "1", "8040"}});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Checkpoints.open(v3).close());
        assertTrue(e.getMessage().contains("'3' is not a layout version this build reads (1, 2)"), e.getMessage());
    }
}
