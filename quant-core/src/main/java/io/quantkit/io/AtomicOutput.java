package io.quantkit.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * An output file that appears complete or not at all: data goes to a hidden temporary file in the target's
 * folder; {@link #commit()} forces it to disk, renames it over the target with {@code ATOMIC_MOVE} and syncs the
 * folder; {@link #close()} without commit deletes it. An existing target is refused unless {@code force}.
 */
public final class AtomicOutput implements AutoCloseable {
    private final Path target;
    private final Path temp;
    private final FileChannel channel;
    private final boolean force;
    private boolean committed;

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
        Path temp = Files.createTempFile(dir, "." + abs.getFileName() + ".", ".partial");
        FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE, StandardOpenOption.READ,
                StandardOpenOption.TRUNCATE_EXISTING);
        return new AtomicOutput(abs, temp, ch, force);
    }

    /** Writes {@code text} (UTF-8) to {@code target} atomically; an existing target only with {@code force}. */
    public static void writeString(Path target, String text, boolean force) throws IOException {
        try (AtomicOutput ao = create(target, force)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            while (b.hasRemaining()) {
                ao.channel().write(b);
            }
            ao.commit();
        }
    }

    /** The channel to write to (positioned at 0). */
    public FileChannel channel() {
        return channel;
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
                channel.close();
            } finally {
                Files.deleteIfExists(temp);
            }
        }
    }
}
