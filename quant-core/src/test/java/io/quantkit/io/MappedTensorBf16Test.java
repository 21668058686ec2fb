package io.quantkit.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quantkit.tensor.DType;
import io.quantkit.tensor.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link MappedTensor#copyBf16Bits}: the file's little-endian bf16 patterns, at any offset, for BF16 only. */
class MappedTensorBf16Test {
    @TempDir
    Path dir;

    @Test
    void bitPatternsAreTheFilesShortsAndAgreeWithDequantize() throws Exception {
        long seed = 20261201L;
        Random r = new Random(seed);
        int n = 20011; // prime; more than two 8192-element pieces
        byte[] data = new byte[3 + 2 * n];
        r.nextBytes(data);
        Path p = dir.resolve("x.bin");
        Files.write(p, data);
        ByteBuffer ref = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        try (MappedFile f = MappedFile.open(p, 12)) { // 4 KiB chunks: views cross chunk boundaries
            MappedTensor t = MappedTensor.of(f, 3, DType.BF16, Shape.of(n));
            for (int[] range : new int[][] {{0, n}, {1, n - 1}, {8191, 8194}, {n - 1, 1}, {5, 0}}) {
                short[] got = new short[range[1] + 2];
                assertTrue(t.copyBf16Bits(range[0], got, 1, range[1]));
                float[] dq = new float[range[1]];
                t.dequantize(range[0], dq, 0, range[1]);
                for (int i = 0; i < range[1]; i++) {
                    assertEquals(ref.getShort(3 + 2 * (range[0] + i)), got[1 + i], "seed " + seed + " at " + i);
                    assertEquals(Float.floatToRawIntBits(dq[i]), got[1 + i] << 16);
                }
                assertEquals(0, got[0]);
                assertEquals(0, got[got.length - 1]);
            }
            assertThrows(IndexOutOfBoundsException.class, () -> t.copyBf16Bits(n - 1, new short[2], 0, 2));
            MappedTensor f16 = MappedTensor.of(f, 3, DType.F16, Shape.of(n));
            short[] untouched = new short[4];
            assertFalse(f16.copyBf16Bits(0, untouched, 0, 4));
            assertArrayEquals(new short[4], untouched);
        }
    }
}
