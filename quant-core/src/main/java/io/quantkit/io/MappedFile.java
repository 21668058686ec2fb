package io.quantkit.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A read-only file mapped into memory in chunks, addressed with 64-bit offsets.
 *
 * <p>Java 17 maps at most 2 GiB per {@link java.nio.MappedByteBuffer}, so the file is mapped as chunks of
 * {@code 2^chunkShift} bytes (1 GiB by default). Each chunk overlaps the next by {@link #OVERLAP} bytes, so any
 * read of at most {@code OVERLAP} bytes is served by one buffer without a boundary check; longer slices that cross
 * a chunk get a mapping of their own. Every accessor checks its range against the file size and throws
 * {@link BadFileException} ("... past the end of the file") for reads beyond it, so truncated files are
 * reported, never read out of bounds.
 *
 * <p>Absolute reads are thread-safe. {@link #close()} closes the channel; further reads through this object
 * throw {@link IllegalStateException}. Mappings are released by the garbage collector (Java 17 has no
 * supported explicit unmap; forcing one would crash a thread still reading a tensor view). On Linux and macOS
 * the file may be renamed or deleted while mapped.
 */
public final class MappedFile implements AutoCloseable {
    /** Chunk size exponent used by {@link #open(Path)}: 1 GiB chunks. */
    public static final int DEFAULT_CHUNK_SHIFT = 30;
    /** Bytes by which consecutive chunks overlap: the longest read guaranteed to need one buffer. */
    public static final int OVERLAP = 1 << 16;

    private final Path path;
    private final FileChannel channel;
    private final long size;
    private final int shift;
    private final long mask;
    private final int overlap;
    private final ByteBuffer[] chunks;
    private volatile boolean closed;

    private MappedFile(Path path, FileChannel channel, int shift) throws IOException {
        this.path = path;
        this.channel = channel;
        this.size = channel.size();
        this.shift = shift;
        long chunk = 1L << shift;
        this.mask = chunk - 1;
        this.overlap = (int) Math.min(OVERLAP, chunk);
        long n = size == 0 ? 0 : ((size - 1) >>> shift) + 1;
        if (n > Integer.MAX_VALUE) {
            throw new IOException("file too large to map: " + size + " bytes");
        }
        this.chunks = new ByteBuffer[(int) n];
        for (int i = 0; i < chunks.length; i++) {
            long start = (long) i << shift;
            long len = Math.min(size - start, chunk + overlap);
            chunks[i] = channel.map(FileChannel.MapMode.READ_ONLY, start, len).order(ByteOrder.LITTLE_ENDIAN);
        }
    }

    /** Maps {@code path} read-only with 1 GiB chunks. */
    public static MappedFile open(Path path) throws IOException {
        return open(path, DEFAULT_CHUNK_SHIFT);
    }

    /** Maps {@code path} with chunks of {@code 2^chunkShift} bytes (tests use small chunks to cross boundaries). */
    public static MappedFile open(Path path, int chunkShift) throws IOException {
        if (chunkShift < 4 || chunkShift > 30) {
            throw new IllegalArgumentException("chunk shift " + chunkShift + " must be in 4..30");
        }
        FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
        try {
            return new MappedFile(path, ch, chunkShift);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    /** File size in bytes. */
    public long size() {
        return size;
    }

    /** Throws {@link BadFileException} unless {@code [offset, offset + length)} lies inside the file. */
    public void checkRange(long offset, long length, String what) {
        if (offset < 0 || length < 0 || offset > size || length > size - offset) {
            throw BadFileException.of(path, "%s (%s bytes at offset %s) runs past the end of the file (%d bytes)",
                    what, Long.toUnsignedString(length), Long.toUnsignedString(offset), size);
        }
    }

    private ByteBuffer chunk(long offset, int len) {
        if (closed) {
            throw new IllegalStateException(path.getFileName() + " is closed");
        }
        if (offset < 0 || offset > size - len) {
            throw BadFileException.of(path, "read of %d bytes at offset %d runs past the end of the file (%d bytes)",
                    len, offset, size);
        }
        return chunks[(int) (offset >>> shift)];
    }

    public byte get(long offset) {
        return chunk(offset, 1).get((int) (offset & mask));
    }

    public short getShort(long offset) {
        return chunk(offset, 2).getShort((int) (offset & mask));
    }

    public int getInt(long offset) {
        return chunk(offset, 4).getInt((int) (offset & mask));
    }

    public long getLong(long offset) {
        return chunk(offset, 8).getLong((int) (offset & mask));
    }

    public float getFloat(long offset) {
        return chunk(offset, 4).getFloat((int) (offset & mask));
    }

    public double getDouble(long offset) {
        return chunk(offset, 8).getDouble((int) (offset & mask));
    }

    /** Copies {@code len} bytes at {@code offset} into {@code dst[dstOff..]}. */
    public void get(long offset, byte[] dst, int dstOff, int len) {
        checkRange(offset, len, "read");
        int done = 0;
        while (done < len) {
            long pos = offset + done;
            int n = (int) Math.min(len - done, (mask + 1) - (pos & mask));
            ByteBuffer c = chunk(pos, n).duplicate();
            c.position((int) (pos & mask));
            c.get(dst, dstOff + done, n);
            done += n;
        }
    }

    /**
     * A read-only little-endian view of {@code [offset, offset + len)}, positioned at 0. Zero-copy: a view of a
     * chunk when the range fits in one, otherwise a mapping of its own.
     */
    public ByteBuffer slice(long offset, int len) {
        checkRange(offset, len, "slice");
        if (len == 0) {
            return ByteBuffer.allocate(0).order(ByteOrder.LITTLE_ENDIAN).asReadOnlyBuffer();
        }
        ByteBuffer c = chunk(offset, 1);
        int pos = (int) (offset & mask);
        if ((long) pos + len <= c.capacity()) {
            ByteBuffer d = c.duplicate();
            d.position(pos).limit(pos + len);
            return d.slice().order(ByteOrder.LITTLE_ENDIAN).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
        }
        try {
            return channel.map(FileChannel.MapMode.READ_ONLY, offset, len).order(ByteOrder.LITTLE_ENDIAN)
                    .asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        channel.close();
    }
}
