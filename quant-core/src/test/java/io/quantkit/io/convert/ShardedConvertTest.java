package io.quantkit.io.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantkit.io.Checkpoint;
import io.quantkit.io.Checkpoints;
import io.quantkit.io.TensorInfo;
import io.quantkit.io.safetensors.SafetensorsReader;
import io.quantkit.model.LlamaLoader;
import io.quantkit.quant.Scheme;
import java.net.URISyntaxException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code convert} writing our quantized layout as a sharded folder, and every reader taking it back. */
class ShardedConvertTest {
    @TempDir
    Path dir;

    static Path tinyHf() {
        try {
            return Path.of(ShardedConvertTest.class.getResource("/hf/tiny-tied/config.json").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void shardedInt4ReadsBackLikeTheSingleFile() throws Exception {
        Scheme s = Scheme.parse("int4:group=16");
        Path single = dir.resolve("one.safetensors");
        Path folder = dir.resolve("sharded");
        Converter.convert(tinyHf(), single, Converter.Options.of(s));
        long shard = 1500;
        ConvertSummary sum = Converter.convert(tinyHf(), folder, Converter.Options.of(s).withShardBytes(shard)
                .withThreads(2));
        assertEquals(folder.toAbsolutePath().normalize(), sum.output());
        JsonNode index = new ObjectMapper().readTree(folder.resolve("model.safetensors.index.json").toFile());
        // the shards: named model-0000K-of-0000N, every stored array mapped to the shard that holds it
        Map<String, String> wm = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = index.get("weight_map").properties().iterator(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            wm.put(e.getKey(), e.getValue().asText());
        }
        List<String> shards = wm.values().stream().distinct().sorted().toList();
        int n = shards.size();
        assertTrue(n >= 3, "several shards: " + shards);
        long total = 0;
        for (int k = 0; k < n; k++) {
            String name = String.format("model-%05d-of-%05d.safetensors", k + 1, n);
            assertEquals(name, shards.get(k));
            try (io.quantkit.io.MappedFile f = io.quantkit.io.MappedFile.open(folder.resolve(name))) {
                SafetensorsReader.Header h = SafetensorsReader.readHeader(folder.resolve(name), f, name);
                long data = 0;
                for (TensorInfo t : h.tensors()) {
                    assertEquals(name, wm.get(t.name()), t.name());
                    data += t.byteLength();
                }
                try (Checkpoint one = Checkpoints.open(folder.resolve(name))) { // each shard is a complete file
                    assertTrue(data <= shard || one.tensors().size() == 1, name + " holds " + data + " bytes");
                }
                total += data;
            }
        }
        assertEquals(total, index.get("metadata").get("total_size").asLong());
        assertEquals(sum.dataBytesOut(), total);
        try (Checkpoint a = Checkpoints.open(single); Checkpoint b = Checkpoints.open(folder)) {
            assertEquals(a.names(), b.names());
            for (TensorInfo t : a.tensors()) {
                TensorInfo u = b.info(t.name()).orElseThrow();
                assertEquals(t.format(), u.format(), t.name());
                assertEquals(t.shape(), u.shape(), t.name());
                assertArrayEquals(a.tensor(t).toFloatArray(), b.tensor(u).toFloatArray(), t.name());
            }
            // the model loader (eval, compare) takes the folder: llama.* keys come from the shards' metadata
            assertEquals(LlamaLoader.config(a), LlamaLoader.config(b));
            assertEquals(16, LlamaLoader.weights(b).config().dim());
        }
        // and convert reads it again: sharded int4 -> f32 GGUF holds the int4 values
        Path gguf = dir.resolve("again.gguf");
        Converter.convert(folder, gguf, Converter.Options.of(Scheme.parse("f32")));
        try (Checkpoint a = Checkpoints.open(single); Checkpoint g = Checkpoints.open(gguf)) {
            for (TensorInfo t : a.tensors()) {
                assertArrayEquals(a.tensor(t).toFloatArray(), g.tensor(t.name()).toFloatArray(), t.name());
            }
        }
    }

    @Test
    void outputBytesDoNotDependOnThreadsAndForceIsNeededToReplace() throws Exception {
        Path a = dir.resolve("a");
        Path b = dir.resolve("b");
        Converter.Options o = Converter.Options.of(Scheme.parse("int4:group=16")).withShardBytes(4000);
        Converter.convert(tinyHf(), a, o.withThreads(1));
        Converter.convert(tinyHf(), b, o.withThreads(3));
        List<String> names = list(a);
        assertEquals(names, list(b));
        for (String n : names) {
            assertArrayEquals(Files.readAllBytes(a.resolve(n)), Files.readAllBytes(b.resolve(n)), n);
        }
        assertThrows(java.nio.file.FileAlreadyExistsException.class, () -> Converter.convert(tinyHf(), a, o));
        Converter.convert(tinyHf(), a, o.withForce(true).withShardBytes(1 << 20));
        assertEquals(List.of("model-00001-of-00001.safetensors", "model.safetensors.index.json"), list(a));
        // --force does not wipe a folder that holds other files
        Files.writeString(a.resolve("notes.txt"), "mine");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Converter.convert(tinyHf(), a, o.withForce(true)));
        assertTrue(e.getMessage().contains("notes.txt"), e.getMessage());
        assertTrue(Files.exists(a.resolve("notes.txt")));
        // no temporary folder is left behind
        assertEquals(List.of("a", "b"), list(dir));
        IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class,
                () -> Converter.convert(tinyHf(), dir.resolve("x.safetensors"), o));
        assertTrue(e2.getMessage().contains("is a folder"), e2.getMessage());
        assertFalse(Files.exists(dir.resolve("x.safetensors")));
    }

    @Test
    void folderAndShardPermissionsFollowTheUmaskLikeAnyNewFolderAndFile() throws Exception {
        assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"));
        Path plainDir = Files.createDirectory(dir.resolve("plain"));
        Path plainFile = Files.writeString(dir.resolve("plain.txt"), "x");
        Path out = dir.resolve("out");
        Converter.convert(tinyHf(), out, Converter.Options.of(Scheme.parse("int4:group=16")).withShardBytes(4000));
        assertEquals(Files.getPosixFilePermissions(plainDir), Files.getPosixFilePermissions(out));
        for (String n : list(out)) {
            assertEquals(Files.getPosixFilePermissions(plainFile), Files.getPosixFilePermissions(out.resolve(n)), n);
        }
    }

    /** Spaces after a safetensors header's JSON: the padding of its header area. */
    static int headerPadding(Path f) throws Exception {
        byte[] b = Files.readAllBytes(f);
        long n = java.nio.ByteBuffer.wrap(b, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        int end = (int) (8 + n);
        int pad = 0;
        while (b[end - 1 - pad] == ' ') {
            pad++;
        }
        assertEquals('}', b[end - 1 - pad], f.getFileName() + ": the JSON ends where the padding starts");
        assertEquals(0, end % 8, f.getFileName() + ": data 8-aligned");
        return pad;
    }

    /**
     * When every tensor's stored arrays follow from the plan (copies, dense types, ggml block types), each file's
     * header area is exactly its JSON up to the 8-byte alignment, one file or sharded; the files read back.
     */
    @Test
    void plannedOutputsHaveExactHeaders() throws Exception {
        for (String scheme : new String[] {"q8_0", "bf16", "f16", "q4_0"}) {
            Path one = dir.resolve(scheme + ".safetensors");
            Converter.convert(tinyHf(), one, Converter.Options.of(Scheme.parse(scheme)));
            assertTrue(headerPadding(one) < 8, scheme + ": padding " + headerPadding(one));
            try (Checkpoint c = Checkpoints.open(one)) {
                assertFalse(c.tensors().isEmpty());
            }
            Path folder = dir.resolve(scheme + "-sharded");
            Converter.convert(tinyHf(), folder, Converter.Options.of(Scheme.parse(scheme)).withShardBytes(3000));
            List<String> files = list(folder).stream().filter(n -> n.endsWith(".safetensors")).toList();
            assertTrue(files.size() > 1, scheme + ": " + files);
            for (String n : files) {
                assertTrue(headerPadding(folder.resolve(n)) < 8, scheme + " " + n + ": padding "
                        + headerPadding(folder.resolve(n)));
            }
            try (Checkpoint c = Checkpoints.open(folder)) {
                try (Checkpoint d = Checkpoints.open(one)) {
                    assertEquals(d.tensors().size(), c.tensors().size(), scheme);
                }
            }
        }
    }

    static List<String> list(Path d) throws Exception {
        try (var s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
