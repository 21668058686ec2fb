package io.quantkit.io.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.quantkit.io.Checkpoint;
import io.quantkit.io.Checkpoints;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The 8-bit float and unsigned dtypes decode to the values their specifications give (worked by hand). */
class SafetensorsDtypeTest {
    @TempDir
    Path dir;

    @Test
    void eightBitFloatsAndU64() throws Exception {
        String h = "{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[5],\"data_offsets\":[0,5]},"
                + "\"b\":{\"dtype\":\"F8_E5M2\",\"shape\":[4],\"data_offsets\":[5,9]},"
                + "\"c\":{\"dtype\":\"F8_E8M0\",\"shape\":[3],\"data_offsets\":[9,12]},"
                + "\"d\":{\"dtype\":\"U64\",\"shape\":[1],\"data_offsets\":[12,20]}}";
        ByteBuffer b = ByteBuffer.allocate(8 + h.length() + 20).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length()).put(h.getBytes(StandardCharsets.US_ASCII));
        // E4M3: 0x38 = 0.0111.000 = 1.0; 0x7E = 1111.110 = 1.75*2^8 = 448; 0xFE = -448; 0x01 = 2^-9; 0x7F NaN
        b.put(new byte[] {0x38, 0x7E, (byte) 0xFE, 0x01, 0x7F});
        // E5M2: 0x3C = 01111.00 = 1.0; 0x7B = 11110.11 = 1.75*2^15 = 57344; 0x7C = +Inf; 0x01 = 2^-16
        b.put(new byte[] {0x3C, 0x7B, 0x7C, 0x01});
        // E8M0: 0x7F = 2^0; 0x00 = 2^-127; 0xFF = NaN
        b.put(new byte[] {0x7F, 0x00, (byte) 0xFF});
        b.putLong(-1L); // U64 max = 2^64 - 1 → nearest float 2^64
        Path p = dir.resolve("f8.safetensors");
        Files.write(p, b.array());
        try (Checkpoint c = Checkpoints.open(p)) {
            assertArrayEquals(new float[] {1f, 448f, -448f, 0x1p-9f, Float.NaN}, c.tensor("a").toFloatArray());
            assertArrayEquals(new float[] {1f, 57344f, Float.POSITIVE_INFINITY, 0x1p-16f}, c.tensor("b").toFloatArray());
            assertArrayEquals(new float[] {1f, 0x1p-127f, Float.NaN}, c.tensor("c").toFloatArray());
            assertArrayEquals(new float[] {0x1p64f}, c.tensor("d").toFloatArray());
        }
    }
}
