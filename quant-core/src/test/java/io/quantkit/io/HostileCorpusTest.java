package io.quantkit.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.quantkit.tensor.Tensor;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The committed corpus of broken files (src/test/resources/hostile, made by reference/hostile/make_corpus.py):
 * each must fail with one {@link BadFileException} whose single-line message contains the fragment listed in
 * expected.tsv - never another exception, an out-of-memory error or a hang.
 */
class HostileCorpusTest {

    static Path corpus() {
        try {
            return Path.of(HostileCorpusTest.class.getResource("/hostile/expected.tsv").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Opens {@code p} and reads every element of every tensor (errors can be lazy). */
    static void openAndReadAll(Path p) throws IOException {
        try (Checkpoint c = Checkpoints.open(p)) {
            for (TensorInfo t : c.tensors()) {
                Tensor x = c.tensor(t);
                x.toFloatArray();
            }
        }
    }

    @TestFactory
    Stream<DynamicTest> everyFileFailsWithOneClearMessage() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (String line : Files.readAllLines(corpus().resolve("expected.tsv"))) {
            if (line.startsWith("#") || line.isBlank()) {
                continue;
            }
            String[] f = line.split("\t", 2);
            tests.add(DynamicTest.dynamicTest(f[0], () -> {
                try {
                    openAndReadAll(corpus().resolve(f[0]));
                    fail(f[0] + " was accepted");
                } catch (BadFileException e) {
                    String m = e.getMessage();
                    assertTrue(m.contains(f[1]), f[0] + ": message '" + m + "' lacks '" + f[1] + "'");
                    assertTrue(m.startsWith(f[0] + ": ") || m.startsWith("tensor "), m);
                    assertFalse(m.contains("\n"), m);
                }
            }));
        }
        assertEquals(92, tests.size());
        return tests.stream();
    }

    @Test
    void theUnbrokenBaseFileReads() throws IOException {
        try (Checkpoint c = Checkpoints.open(corpus().resolve("good.gguf"))) {
            assertEquals(List.of("a", "b"), c.names());
            assertEquals(15f, c.tensor("b").getFloat(15));
            assertEquals(4f, c.tensor("a").getFloat(3));
        }
    }
}
