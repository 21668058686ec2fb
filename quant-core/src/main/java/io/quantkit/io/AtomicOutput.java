package io.quantkit.io;

import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * An output file that appears complete or not at all: data goes to a hidden temporary file in the target's
 * folder; {@link #commit()} forces it to disk, renames it over the target with {@code ATOMIC_MOVE} and syncs the
 * folder; {@link #close()} without commit deletes it. An existing target is refused unless {@code force}.
 *
 * <p>The temporary file is created like any new file ({@code CREATE_NEW}, so its permissions follow the user's
 * umask, as the final output's should), not with {@link Files#createTempFile}, whose files are private (0600).
 * Every file the project writes goes through this class.
 */
public final class AtomicOutput implements AutoCloseable {
    private final Path target;
    private final Path temp;
    private final FileChannel channel;
    private final boolean force;
    private boolean committed;
    private OutputStream stream;
    private DirectOutput direct;

    private AtomicOutput(Path target, Path temp, FileChannel channel, boolean force) {
        this.target = target;
        this.temp = temp;
        this.channel = channel;
        this.force = force;
    }

    /**
     * Creates the temporary file for {@code target}. Throws {@link FileAlreadyExistsException} if the target exists
     * and {@code force} is false.
     */
    public static AtomicOutput create(Path target, boolean force) throws IOException {
        Path abs = target.toAbsolutePath();
        if (Files.isDirectory(abs)) {
            throw new IllegalArgumentException("output " + target + " is a folder, not a file");
        }
        if (Files.exists(abs) && !force) {
            throw new FileAlreadyExistsException(target.toString(), null, "exists; use --force to replace it");
        }
        Path dir = abs.getParent();
        Files.createDirectories(dir);
        for (int attempt = 0; ; attempt++) {
            Path temp = dir.resolve("." + abs.getFileName() + "."
                    + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE) + ".partial");
            try {
                FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                        StandardOpenOption.READ);
                return new AtomicOutput(abs, temp, ch, force);
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 100) {
                    throw e;
                }
            }
        }
    }

    /** What writes the content of an atomic output. */
    @FunctionalInterface
    public interface Body {
        void writeTo(OutputStream out) throws IOException;
    }

    /**
     * Writes {@code target} atomically with what {@code body} writes to a buffered stream; an existing target only
     * with {@code force}. On any failure the target is untouched and the temporary file is gone.
     */
    public static void write(Path target, boolean force, Body body) throws IOException {
        try (AtomicOutput ao = create(target, force)) {
            OutputStream out = ao.stream();
            body.writeTo(out);
            out.flush();
            ao.commit();
        }
    }

    /** Writes {@code bytes} to {@code target} atomically; an existing target only with {@code force}. */
    public static void writeBytes(Path target, byte[] bytes, boolean force) throws IOException {
        write(target, force, out -> out.write(bytes));
    }

    /** Writes {@code text} (UTF-8) to {@code target} atomically; an existing target only with {@code force}. */
    public static void writeString(Path target, String text, boolean force) throws IOException {
        writeBytes(target, text.getBytes(java.nio.charset.StandardCharsets.UTF_8), force);
    }

    /**
     * A buffered stream over {@link #channel()} (the same stream on every call). Closing it does not close the
     * channel; flush it before {@link #commit()} (commit flushes it too).
     */
    public OutputStream stream() {
        if (stream == null) {
            stream = new BufferedOutputStream(new FilterOutputStream(Channels.newOutputStream(channel)) {
                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    out.write(b, off, len);
                }

                @Override
                public void close() throws IOException {
                    flush();
                }
            }, 1 << 16);
        }
        return stream;
    }

    /** The channel to write to (positioned at 0). */
    public FileChannel channel() {
        return channel;
    }

    /**
     * A channel for one large streamed output that bypasses the page cache where it can ({@link DirectOutput});
     * the same one on every call. Use it or {@link #channel()}, not both. {@link #commit()} finishes it.
     */
    public DirectOutput directChannel() throws IOException {
        if (direct == null) {
            direct = DirectOutput.open(temp, channel);
        }
        return direct;
    }

    public Path target() {
        return target;
    }

    /** The temporary file (for tests and messages). */
    public Path temp() {
        return temp;
    }

    /** fsync, atomic rename over the target, fsync of the folder. */
    public void commit() throws IOException {
        if (stream != null) {
            stream.flush();
        }
        if (direct != null) {
            direct.finish();
        }
        channel.force(true);
        channel.close();
        if (!force && Files.exists(target)) {
            throw new FileAlreadyExistsException(target.toString(), null, "appeared while converting; not replaced");
        }
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        committed = true;
        try (FileChannel d = FileChannel.open(target.getParent(), StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // some platforms cannot open or sync a folder; the rename itself is still atomic
        }
    }

    @Override
    public void close() throws IOException {
        if (!committed) {
            try {
                if (direct != null) {
                    direct.close();
                }
                channel.close();
            } finally {
                Files.deleteIfExists(temp);
            }
        }
    }
}
