package io.quantkit.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * An output folder (a sharded checkpoint) that appears complete or not at all: files are written into a hidden
 * temporary folder beside the target; {@link #commit()} forces every file to disk and renames the folder to the
 * target with {@code ATOMIC_MOVE}; {@link #close()} without commit deletes the temporary folder.
 *
 * <p>An existing target is refused unless {@code force}, and even then only a folder that holds nothing but
 * {@code .safetensors} and {@code .json} files is replaced (so {@code --force} cannot wipe an unrelated folder);
 * replacing renames the old folder aside, moves the new one in and then deletes the old one.
 */
public final class AtomicFolder implements AutoCloseable {
    private final Path target;
    private final Path temp;
    private final boolean force;
    private boolean committed;

    private AtomicFolder(Path target, Path temp, boolean force) {
        this.target = target;
        this.temp = temp;
        this.force = force;
    }

    /** Creates the temporary folder for {@code target}; checks an existing target as described above. */
    public static AtomicFolder create(Path target, boolean force) throws IOException {
        Path abs = target.toAbsolutePath().normalize();
        checkReplaceable(abs, force);
        Path parent = abs.getParent();
        Files.createDirectories(parent);
        return new AtomicFolder(abs, newFolder(parent, "." + abs.getFileName() + ".", ".partial"), force);
    }

    /**
     * A new, empty folder with a random name, created like any new folder (its permissions follow the umask, as
     * the final output's should), not with {@link Files#createTempDirectory}, whose folders are private (0700).
     */
    private static Path newFolder(Path parent, String prefix, String suffix) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path p = parent.resolve(prefix + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE)
                    + suffix);
            try {
                return Files.createDirectory(p);
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 100) {
                    throw e;
                }
            }
        }
    }

    private static void checkReplaceable(Path abs, boolean force) throws IOException {
        if (!Files.exists(abs)) {
            return;
        }
        if (!force) {
            throw new FileAlreadyExistsException(abs.toString(), null, "exists; use --force to replace it");
        }
        if (!Files.isDirectory(abs)) {
            throw new IllegalArgumentException("output " + abs + " is a file; a sharded output is a folder");
        }
        for (Path p : list(abs)) {
            String n = String.valueOf(p.getFileName());
            if (!Files.isRegularFile(p) || !(n.endsWith(".safetensors") || n.endsWith(".json"))) {
                throw new IllegalArgumentException("output folder " + abs + " holds " + n + "; only a folder of "
                        + ".safetensors and .json files is replaced with --force");
            }
        }
    }

    private static List<Path> list(Path dir) throws IOException {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            ds.forEach(out::add);
        }
        out.sort(null);
        return out;
    }

    /** The temporary folder to write into. */
    public Path temp() {
        return temp;
    }

    public Path target() {
        return target;
    }

    /** fsync of every file and the folder, then the atomic rename (replacing an old folder if {@code force}). */
    public void commit() throws IOException {
        for (Path p : list(temp)) {
            try (FileChannel c = FileChannel.open(p, StandardOpenOption.WRITE)) {
                c.force(true);
            }
        }
        sync(temp);
        checkReplaceable(target, force);
        Path old = null;
        if (Files.exists(target)) {
            old = newFolder(target.getParent(), "." + target.getFileName() + ".", ".old");
            Files.delete(old);
            Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        committed = true;
        sync(target.getParent());
        if (old != null) {
            deleteTree(old);
        }
    }

    private static void sync(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // some platforms cannot open or sync a folder; the rename itself is still atomic
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        for (Path p : list(dir)) {
            Files.deleteIfExists(p);
        }
        Files.deleteIfExists(dir);
    }

    @Override
    public void close() throws IOException {
        if (!committed) {
            deleteTree(temp);
        }
    }
}
