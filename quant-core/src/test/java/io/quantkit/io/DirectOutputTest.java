package io.quantkit.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DirectOutputTest {
    @TempDir
    Path dir;

    /**
     * Writes {@code total} seeded bytes in pieces of random sizes (heap, direct and read-only buffers), skips ahead
     * once, then rewrites a header at 0 and a span just before the end; returns the file's bytes and checks them
     * against the same operations on a byte array.
     */
    private byte[] writeAndCheck(boolean tryDirect, int total, long seed) throws IOException {
        SplittableRandom rnd = new SplittableRandom(seed);
        byte[] expect = new byte[total];
        Path f = dir.resolve("out-" + tryDirect + "-" + total + "-" + seed);
        try (FileChannel plain = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                StandardOpenOption.READ); DirectOutput d = DirectOutput.open(f, plain, tryDirect)) {
            int header = Math.min(total, 1000);
            d.position(header); // zeros up to it, as SafetensorsWriter reserves its header area
            assertEquals(header, d.size());
            int pos = header;
            while (pos < total) {
                int n = Math.min(total - pos, 1 + rnd.nextInt(rnd.nextBoolean() ? 3000 : 3 << 20));
                byte[] b = new byte[n];
                for (int i = 0; i < n; i++) {
                    b[i] = (byte) rnd.nextInt();
                }
                System.arraycopy(b, 0, expect, pos, n);
                ByteBuffer buf = switch (rnd.nextInt(3)) {
                    case 0 -> ByteBuffer.wrap(b);
                    case 1 -> ByteBuffer.allocateDirect(n).put(b).flip();
                    default -> ByteBuffer.wrap(b).asReadOnlyBuffer();
                };
                assertEquals(n, d.write(buf));
                assertFalse(buf.hasRemaining());
                pos += n;
                assertEquals(pos, d.size());
            }
            if (total >= 2000) { // a rewrite inside the not yet written tail
                byte[] late = new byte[700];
                Arrays.fill(late, (byte) 0x5a);
                System.arraycopy(late, 0, expect, total - 900, late.length);
                d.position(total - 900).write(ByteBuffer.wrap(late));
            }
            byte[] head = new byte[header];
            for (int i = 0; i < header; i++) {
                head[i] = (byte) (i * 7 + 1);
            }
            System.arraycopy(head, 0, expect, 0, header);
            d.position(0).write(ByteBuffer.wrap(head));
            d.finish();
            plain.force(true);
        }
        byte[] got = Files.readAllBytes(f);
        assertEquals(total, got.length, "file length");
        assertArrayEquals(expect, got, "bytes, direct " + tryDirect + ", seed " + seed);
        return got;
    }

    @Test
    void directAndBufferedWriteTheSameBytes() throws IOException {
        // lengths: empty, below one alignment unit, one stage exactly, and several stages with a partial tail
        for (int total : new int[] {0, 1, 999, 4096, DirectOutput.STAGE_BYTES, 2 * DirectOutput.STAGE_BYTES + 12345}) {
            long seed = 0xD1EC7L + total;
            assertArrayEquals(writeAndCheck(false, total, seed), writeAndCheck(true, total, seed), "total " + total);
        }
    }

    @Test
    void rewritesPastTheEndAndReadsAreRefused() throws IOException {
        Path f = dir.resolve("refuse");
        try (FileChannel plain = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                StandardOpenOption.READ); DirectOutput d = DirectOutput.open(f, plain)) {
            d.write(ByteBuffer.wrap(new byte[10]));
            d.position(5);
            assertThrows(IllegalStateException.class, () -> d.write(ByteBuffer.wrap(new byte[6])));
            assertThrows(java.nio.channels.NonReadableChannelException.class, () -> d.read(ByteBuffer.allocate(1)));
            assertThrows(UnsupportedOperationException.class, () -> d.truncate(0));
        }
    }

    @Test
    void aFileThatIsNotEmptyIsRefused() throws IOException {
        Path f = dir.resolve("full");
        Files.write(f, new byte[3]);
        try (FileChannel plain = FileChannel.open(f, StandardOpenOption.WRITE, StandardOpenOption.READ)) {
            assertThrows(IllegalArgumentException.class, () -> DirectOutput.open(f, plain));
        }
    }
}
