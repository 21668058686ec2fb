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

    /**
     * F4 / F6_E2M3 / F6_E3M2 (safetensors 0.6), LSB-first bit stream. Codes and values worked by hand from the OCP MX
     * spec: E2M1 codes 1, 2, 7, 15, 10, 8 = 0.5, 1, 6, -6, -1, -0; E2M3 011111 = 2^2 * 1.875 = 7.5, 000001 = 1/8,
     * 001000 = 1, 100100 = -4/8; E3M2 011111 = 2^4 * 1.75 = 28, 000001 = 1/16, 001100 = 1, 110010 = -2^1 * 1.5.
     * Packed: F4 bytes 0x21 0xF7 0x8A (low nibble first); E2M3 31 | 1 << 6 | 8 << 12 | 36 << 18 = 0x90805F;
     * E3M2 31 | 1 << 6 | 12 << 12 | 50 << 18 = 0xC8C05F, each stored little-endian in three bytes.
     */
    @Test
    void subByteFloats() throws Exception {
        String h = "{\"f4\":{\"dtype\":\"F4\",\"shape\":[2,3],\"data_offsets\":[0,3]},"
                + "\"e2m3\":{\"dtype\":\"F6_E2M3\",\"shape\":[4],\"data_offsets\":[3,6]},"
                + "\"e3m2\":{\"dtype\":\"F6_E3M2\",\"shape\":[2,2],\"data_offsets\":[6,9]}}";
        ByteBuffer b = ByteBuffer.allocate(8 + h.length() + 9).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length()).put(h.getBytes(StandardCharsets.US_ASCII));
        b.put(new byte[] {0x21, (byte) 0xF7, (byte) 0x8A});
        b.put(new byte[] {0x5F, (byte) 0x80, (byte) 0x90});
        b.put(new byte[] {0x5F, (byte) 0xC0, (byte) 0xC8});
        Path p = dir.resolve("sub.safetensors");
        Files.write(p, b.array());
        try (Checkpoint c = Checkpoints.open(p)) {
            assertArrayEquals(new float[] {0.5f, 1f, 6f, -6f, -1f, -0f}, c.tensor("f4").toFloatArray());
            assertArrayEquals(new float[] {7.5f, 0.125f, 1f, -0.5f}, c.tensor("e2m3").toFloatArray());
            assertArrayEquals(new float[] {28f, 0.0625f, 1f, -3f}, c.tensor("e3m2").toFloatArray());
            org.junit.jupiter.api.Assertions.assertEquals(3, c.info("f4").orElseThrow().byteLength());
            org.junit.jupiter.api.Assertions.assertEquals(4.0, c.info("f4").orElseThrow().bitsPerWeight());
            org.junit.jupiter.api.Assertions.assertEquals(6.0, c.info("e3m2").orElseThrow().bitsPerWeight());
            org.junit.jupiter.api.Assertions.assertEquals(3, c.tensor("e2m3").storageBytes());
        }
    }
}
