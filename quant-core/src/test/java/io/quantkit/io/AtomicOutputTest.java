package io.quantkit.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicOutputTest {
    @TempDir
    Path dir;

    private long leftovers() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".partial")).count();
        }
    }

    @Test
    void writesWholeContentAndLeavesNoTemporaryFile() throws IOException {
        Path out = dir.resolve("sub/a.bin");
        byte[] data = new byte[200_000];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 31 + 7);
        }
        AtomicOutput.writeBytes(out, data, false);
        assertArrayEquals(data, Files.readAllBytes(out));
        assertEquals(0, leftovers());
    }

    @Test
    void refusesAnExistingTargetWithoutForceAndKeepsIt() throws IOException {
        Path out = dir.resolve("a.txt");
        Files.writeString(out, "keep");
        assertThrows(FileAlreadyExistsException.class, () -> AtomicOutput.writeString(out, "new", false));
        assertEquals("keep", Files.readString(out));
        AtomicOutput.writeString(out, "new", true);
        assertEquals("new", Files.readString(out));
    }

    @Test
    void aFailingBodyLeavesTargetAndFolderAsTheyWere() throws IOException {
        Path out = dir.resolve("a.txt");
        Files.writeString(out, "before");
        IOException e = assertThrows(IOException.class, () -> AtomicOutput.write(out, true, os -> {
            os.write("half".getBytes(StandardCharsets.UTF_8));
            throw new IOException("disk full");
        }));
        assertEquals("disk full", e.getMessage());
        assertEquals("before", Files.readString(out));
        assertEquals(0, leftovers());
    }

    @Test
    void permissionsFollowTheUmaskLikeAnyNewFile() throws IOException {
        assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"));
        Path plain = dir.resolve("plain.txt");
        Files.writeString(plain, "x");
        Path atomic = dir.resolve("atomic.txt");
        AtomicOutput.writeString(atomic, "x", false);
        Set<PosixFilePermission> expected = Files.getPosixFilePermissions(plain);
        assertEquals(expected, Files.getPosixFilePermissions(atomic));
    }

    @Test
    void streamAndCommitByHand() throws IOException {
        Path out = dir.resolve("s.txt");
        try (AtomicOutput ao = AtomicOutput.create(out, false)) {
            ao.stream().write("abc".getBytes(StandardCharsets.UTF_8));
            assertFalse(Files.exists(out), "visible before commit");
            ao.commit();
        }
        assertEquals("abc", Files.readString(out));
        try (AtomicOutput ao = AtomicOutput.create(dir.resolve("t.txt"), false)) {
            ao.stream().write('x');
        }
        assertFalse(Files.exists(dir.resolve("t.txt")), "closed without commit must leave nothing");
        assertEquals(0, leftovers());
    }
}
