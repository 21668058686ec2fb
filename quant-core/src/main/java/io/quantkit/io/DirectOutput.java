package io.quantkit.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.NonReadableChannelException;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A write channel for large streamed outputs that bypasses the page cache where the file system allows it
 * ({@code O_DIRECT}): bytes are gathered in an aligned staging buffer of {@link #STAGE_BYTES} and written from
 * there straight to the device, so the kernel copies nothing into its page cache and has no dirty pages to write
 * back. Measured on this project's machine (docs/benchmarks.md, ConvertBench): a buffered write of the bytes costs
 * more CPU than the converter's quantization loops, a direct one a small fraction of it.
 *
 * <p>The file is opened a second time with {@code O_DIRECT}; where that is refused (tmpfs, some network file
 * systems, or {@link #BUFFERED_PROPERTY} set to {@code true}) every write goes to the ordinary channel instead, with
 * the same result. The last partial stage is written padded to the alignment and the file is then truncated to its
 * length through the ordinary channel, so the file holds exactly the bytes written. Bytes before the end may be
 * rewritten ({@link #position(long)} then {@link #write}): inside the staged tail they are patched in the buffer,
 * earlier ones go through the ordinary channel (Linux keeps the two coherent; a container header filled in at the
 * end is one such rewrite). {@link #finish()} must be called before the ordinary channel is forced and closed;
 * {@link #close()} releases the direct descriptor only.
 *
 * <p>Not thread-safe. Reading is not supported.
 */
public final class DirectOutput implements SeekableByteChannel {
    /** Bytes gathered before one direct write. */
    public static final int STAGE_BYTES = 1 << 23;
    /** Alignment of direct writes (buffer address, file offset, length) when the file system reports a smaller one. */
    static final int MIN_ALIGNMENT = 4096;
    /** System property that, when {@code true}, turns direct writes off (every write is buffered). */
    public static final String BUFFERED_PROPERTY = "quantkit.io.buffered";

    private final FileChannel plain;
    private final FileChannel direct; // null: everything goes to plain
    private final int alignment;
    private final ByteBuffer stage;
    private long flushed; // bytes of the file written by direct writes (a multiple of alignment)
    private long size;    // logical size: flushed + stage position
    private long cursor;  // where the next write goes
    private boolean finished;
    private boolean open = true;

    private DirectOutput(FileChannel plain, FileChannel direct, int alignment, long start) {
        this.plain = plain;
        this.direct = direct;
        this.alignment = alignment;
        this.stage = direct == null ? null : ByteBuffer.allocateDirect(STAGE_BYTES + alignment).alignedSlice(alignment);
        if (stage != null) {
            stage.limit(STAGE_BYTES);
        }
        this.size = start;
        this.cursor = start;
        this.flushed = start;
    }

    /**
     * A direct channel over {@code path}, whose ordinary (read-write) channel is {@code plain}; the file must be empty.
     * Falls back to {@code plain} when direct writes are refused or {@link #BUFFERED_PROPERTY} is set.
     */
    public static DirectOutput open(Path path, FileChannel plain) throws IOException {
        return open(path, plain, !Boolean.getBoolean(BUFFERED_PROPERTY));
    }

    /** {@link #open(Path, FileChannel)}, trying direct writes only if {@code tryDirect}. */
    static DirectOutput open(Path path, FileChannel plain, boolean tryDirect) throws IOException {
        if (plain.size() != 0) {
            throw new IllegalArgumentException("direct output " + path + " must start empty");
        }
        if (!tryDirect) {
            return new DirectOutput(plain, null, 1, 0);
        }
        int alignment = MIN_ALIGNMENT;
        try {
            long b = Files.getFileStore(path).getBlockSize();
            if (b > alignment && b <= (1 << 20) && Long.bitCount(b) == 1) {
                alignment = (int) b;
            }
        } catch (IOException | UnsupportedOperationException e) {
            // keep the default alignment
        }
        FileChannel d;
        try {
            OpenOption directOption = com.sun.nio.file.ExtendedOpenOption.DIRECT;
            d = FileChannel.open(path, StandardOpenOption.WRITE, directOption);
        } catch (IOException | UnsupportedOperationException e) {
            return new DirectOutput(plain, null, 1, 0); // this file system takes no O_DIRECT
        }
        return new DirectOutput(plain, d, alignment, 0);
    }

    /** True if writes bypass the page cache. */
    public boolean isDirect() {
        return direct != null;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        if (!open || finished) {
            throw new ClosedChannelException();
        }
        int n = src.remaining();
        if (direct == null) {
            while (src.hasRemaining()) {
                cursor += plain.write(src, cursor);
            }
            size = Math.max(size, cursor);
            return n;
        }
        if (cursor < size) {
            overwrite(src);
            return n;
        }
        while (src.hasRemaining()) {
            int k = Math.min(stage.remaining(), src.remaining());
            ByteBuffer part = src.duplicate();
            part.limit(part.position() + k);
            stage.put(part);
            src.position(src.position() + k);
            if (!stage.hasRemaining()) {
                drain(STAGE_BYTES);
            }
        }
        size = flushed + stage.position();
        cursor = size;
        return n;
    }

    /** Writes the first {@code len} bytes of the stage (a multiple of the alignment) at {@link #flushed}. */
    private void drain(int len) throws IOException {
        ByteBuffer b = stage.duplicate();
        b.position(0).limit(len);
        long at = flushed;
        while (b.hasRemaining()) {
            at += direct.write(b, at);
        }
        flushed = at;
        stage.clear().limit(STAGE_BYTES);
    }

    /** Rewrites bytes at {@code cursor < size}: in the stage where it holds them, else through the plain channel. */
    private void overwrite(ByteBuffer src) throws IOException {
        if (cursor + src.remaining() > size) {
            throw new IllegalStateException("a rewrite must end within the bytes already written");
        }
        while (src.hasRemaining()) {
            if (cursor >= flushed) {
                int at = (int) (cursor - flushed);
                int k = src.remaining();
                for (int i = 0; i < k; i++) {
                    stage.put(at + i, src.get(src.position() + i));
                }
                src.position(src.position() + k);
                cursor += k;
            } else {
                int k = (int) Math.min(src.remaining(), flushed - cursor);
                ByteBuffer part = src.duplicate();
                part.limit(part.position() + k);
                while (part.hasRemaining()) {
                    cursor += plain.write(part, cursor);
                }
                src.position(src.position() + k);
            }
        }
    }

    /**
     * Writes what is staged and leaves the file exactly {@link #size()} bytes long; call once, before forcing and
     * closing the ordinary channel.
     */
    public void finish() throws IOException {
        if (finished) {
            return;
        }
        if (direct != null) {
            int tail = stage.position();
            if (tail > 0) {
                int padded = (tail + alignment - 1) / alignment * alignment;
                for (int i = tail; i < padded; i++) {
                    stage.put(i, (byte) 0);
                }
                drain(padded);
            }
            direct.close();
            plain.truncate(size);
        }
        finished = true;
    }

    @Override
    public int read(ByteBuffer dst) {
        throw new NonReadableChannelException();
    }

    @Override
    public long position() {
        return cursor;
    }

    /** Moves the write cursor; a position past the end appends zeros up to it. */
    @Override
    public DirectOutput position(long newPosition) throws IOException {
        if (newPosition < 0) {
            throw new IllegalArgumentException("negative position " + newPosition);
        }
        if (newPosition > size) {
            cursor = size;
            ByteBuffer zeros = ByteBuffer.allocate((int) Math.min(1 << 16, newPosition - size));
            while (size < newPosition) {
                zeros.clear().limit((int) Math.min(zeros.capacity(), newPosition - size));
                write(zeros);
            }
        }
        cursor = newPosition;
        return this;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public SeekableByteChannel truncate(long s) {
        throw new UnsupportedOperationException("a direct output only grows");
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    /** Releases the direct descriptor (without {@link #finish()} the staged tail is dropped). */
    @Override
    public void close() throws IOException {
        open = false;
        if (direct != null && direct.isOpen()) {
            direct.close();
        }
    }
}
