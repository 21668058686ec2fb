package io.quantkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * The io corpus of broken files (quant-core test resources, /hostile/expected.tsv: file, fragment of the expected
 * message) through the command line: {@code inspect} (headers) and, when the header passes, {@code convert} (reads
 * every element) must exit 2 (entries that are folders - Hugging Face config.json + model.safetensors - are copied as
 * folders) with exactly one stderr line that carries the reader's message.
 */
class HostileFilesTest {
    @TempDir
    static Path dir;

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = HostileFilesTest.class.getResourceAsStream("/hostile/" + name)) {
            assertNotNull(in, "missing test resource /hostile/" + name + " (quant-core test-jar)");
            return in.readAllBytes();
        }
    }

    @TestFactory
    Stream<DynamicTest> everyBrokenFileIsOneLineAndExitTwo() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        String tsv = new String(resource("expected.tsv"), StandardCharsets.UTF_8);
        for (String line : tsv.split("\n")) {
            if (line.startsWith("#") || line.isBlank()) {
                continue;
            }
            String[] f = line.split("\t", 2);
            tests.add(DynamicTest.dynamicTest(f[0], () -> {
                Path p = dir.resolve(f[0]);
                if (HostileFilesTest.class.getResource("/hostile/" + f[0] + "/config.json") != null) {
                    // a Hugging Face folder: config.json and model.safetensors
                    Files.createDirectories(p);
                    for (String part : new String[] {"config.json", "model.safetensors"}) {
                        Files.write(p.resolve(part), resource(f[0] + "/" + part));
                    }
                } else {
                    Files.write(p, resource(f[0]));
                }
                CliRun r = CliRun.of("inspect", p.toString());
                if (r.exit() == 0) {
                    // the header is sound; the damage is in the data, which convert reads in full
                    Path out = dir.resolve(f[0] + ".out.safetensors");
                    r = CliRun.of("convert", p.toString(), out.toString(), "--scheme", "f32", "-q");
                    assertTrue(Files.notExists(out), "no output is left behind for " + f[0]);
                }
                String msg = r.assertBadInput();
                if (f.length > 1) {
                    assertTrue(msg.contains(f[1].trim()), f[0] + ": '" + msg + "' lacks '" + f[1] + "'");
                }
            }));
        }
        assertEquals(false, tests.isEmpty(), "expected.tsv lists no files");
        return tests.stream();
    }
}
