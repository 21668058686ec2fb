package io.quantkit.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MappedFileTest {
    @TempDir
    Path dir;

    /** 16-byte chunks (overlap 16): every multi-byte read and slice crosses boundaries somewhere. */
    @Test
    void readsAcrossChunkBoundariesMatchAHeapBuffer() throws Exception {
        long seed = 20261124L;
        Random r = new Random(seed);
        byte[] data = new byte[1031]; // prime length
        r.nextBytes(data);
        Path p = dir.resolve("x.bin");
        Files.write(p, data);
        ByteBuffer ref = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        try (MappedFile f = MappedFile.open(p, 4)) {
            assertEquals(1031, f.size());
            for (int i = 0; i + 8 <= data.length; i++) {
                assertEquals(ref.get(i), f.get(i), "seed " + seed + " byte " + i);
                assertEquals(ref.getShort(i), f.getShort(i));
                assertEquals(ref.getInt(i), f.getInt(i));
                assertEquals(ref.getLong(i), f.getLong(i));
                assertEquals(Float.floatToRawIntBits(ref.getFloat(i)), Float.floatToRawIntBits(f.getFloat(i)));
            }
            for (int len : new int[] {0, 1, 15, 16, 17, 33, 100, 1031}) {
                for (int off = 0; off + len <= data.length; off += 7) {
                    ByteBuffer s = f.slice(off, len);
                    assertEquals(len, s.remaining());
                    byte[] got = new byte[len];
                    s.get(got);
                    byte[] viaGet = new byte[len];
                    f.get(off, viaGet, 0, len);
                    for (int i = 0; i < len; i++) {
                        assertEquals(data[off + i], got[i], "slice " + off + "+" + len);
                        assertEquals(data[off + i], viaGet[i]);
                    }
                }
            }
            BadFileException e = assertThrows(BadFileException.class, () -> f.getInt(1028));
            assertEquals("x.bin: read of 4 bytes at offset 1028 runs past the end of the file (1031 bytes)",
                    e.getMessage());
            assertThrows(BadFileException.class, () -> f.slice(1000, 32));
            assertThrows(BadFileException.class, () -> f.checkRange(Long.MAX_VALUE, 2, "x"));
        }
    }

    @Test
    void closedFileRefusesReads() throws Exception {
        Path p = dir.resolve("y.bin");
        Files.write(p, new byte[64]);
        MappedFile f = MappedFile.open(p);
        f.close();
        assertThrows(IllegalStateException.class, () -> f.getInt(0));
    }

    @Test
    void emptyFile() throws Exception {
        Path p = dir.resolve("z.bin");
        Files.write(p, new byte[0]);
        try (MappedFile f = MappedFile.open(p)) {
            assertEquals(0, f.size());
            assertEquals(0, f.slice(0, 0).remaining());
            assertThrows(BadFileException.class, () -> f.get(0));
        }
    }
}
