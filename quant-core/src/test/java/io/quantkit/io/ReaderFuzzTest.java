package io.quantkit.io;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import io.quantkit.io.gguf.GgufReader;
import io.quantkit.io.llama2c.Llama2cReader;
import io.quantkit.io.llama2c.TokBinReader;
import io.quantkit.io.safetensors.SafetensorsReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutation fuzzing of every reader: thousands of seeded mutations (bit flips, truncations, extreme 1/2/4/8-byte
 * values, insertions, deletions) of a valid file. Each mutant must either read completely or fail with a
 * {@link BadFileException} with a one-line message; any other exception fails the test and reports the seed and
 * mutant index (the mutant is kept in the temp folder). Count-bounded, so it cannot run away in time.
 */
class ReaderFuzzTest {
    static final int MUTANTS = 2500;
    static final long SEED = 0x5eed_0f_f11e5L;

    @TempDir
    Path dir;

    interface Reader {
        void read(Path p) throws IOException;
    }

    static final long[] EXTREMES = {0, 1, -1, 0x7f, 0x80, 0xff, 0x7fff, 0xffff, Integer.MAX_VALUE, 0xffffffffL,
        Long.MAX_VALUE, Long.MIN_VALUE, 1L << 32, 1L << 40, 31, 32, 33, 1000};

    static byte[] mutate(byte[] base, Random r) {
        byte[] b = base.clone();
        int kind = r.nextInt(6);
        switch (kind) {
            case 0 -> { // flip 1..8 random bits
                int n = 1 + r.nextInt(8);
                for (int i = 0; i < n && b.length > 0; i++) {
                    b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
                }
            }
            case 1 -> { // truncate
                return java.util.Arrays.copyOf(b, b.length == 0 ? 0 : r.nextInt(b.length));
            }
            case 2 -> { // extreme value of width 1, 2, 4 or 8
                int w = 1 << r.nextInt(4);
                if (b.length >= w) {
                    int at = r.nextInt(b.length - w + 1);
                    ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
                    long v = EXTREMES[r.nextInt(EXTREMES.length)];
                    switch (w) {
                        case 1 -> bb.put(at, (byte) v);
                        case 2 -> bb.putShort(at, (short) v);
                        case 4 -> bb.putInt(at, (int) v);
                        default -> bb.putLong(at, v);
                    }
                }
            }
            case 3 -> { // insert random bytes
                int at = r.nextInt(b.length + 1);
                byte[] ins = new byte[1 + r.nextInt(16)];
                r.nextBytes(ins);
                byte[] out = new byte[b.length + ins.length];
                System.arraycopy(b, 0, out, 0, at);
                System.arraycopy(ins, 0, out, at, ins.length);
                System.arraycopy(b, at, out, at + ins.length, b.length - at);
                return out;
            }
            case 4 -> { // delete a range
                if (b.length > 1) {
                    int at = r.nextInt(b.length - 1);
                    int n = 1 + r.nextInt(Math.min(16, b.length - at - 1) + 1);
                    n = Math.min(n, b.length - at);
                    byte[] out = new byte[b.length - n];
                    System.arraycopy(b, 0, out, 0, at);
                    System.arraycopy(b, at + n, out, at, b.length - at - n);
                    return out;
                }
            }
            default -> { // random byte(s) in a text region: swap digits/quotes for JSON, etc.
                int n = 1 + r.nextInt(4);
                for (int i = 0; i < n && b.length > 0; i++) {
                    b[r.nextInt(b.length)] = (byte) "0123456789\"{}[],:-eE. \\\u00ff".charAt(r.nextInt(24));
                }
            }
        }
        return b;
    }

    void fuzz(String what, byte[] base, String ext, Reader reader) throws IOException {
        Random r = new Random(SEED ^ what.hashCode());
        Path p = dir.resolve("mutant" + ext);
        reader.read(writeTo(p, base)); // the base file itself must read
        for (int i = 0; i < MUTANTS; i++) {
            byte[] m = mutate(base, r);
            Files.write(p, m);
            try {
                reader.read(p);
            } catch (BadFileException e) {
                assertNotNull(e.getMessage());
                assertFalse(e.getMessage().contains("\n"), e.getMessage());
            } catch (RuntimeException | IOException | Error e) {
                Path keep = dir.resolve(what + "-" + i + ext);
                Files.write(keep, m);
                fail(what + " mutant " + i + " (seed " + SEED + ") threw " + e + "; kept as " + keep, e);
            }
        }
    }

    private static Path writeTo(Path p, byte[] b) throws IOException {
        Files.write(p, b);
        return p;
    }

    static void readAll(Checkpoint c) {
        try (c) {
            for (TensorInfo t : c.tensors()) {
                c.tensor(t).toFloatArray();
            }
        }
    }

    @Test
    void gguf() throws IOException {
        byte[] base = Files.readAllBytes(HostileCorpusTest.corpus().resolve("good.gguf"));
        fuzz("gguf", base, ".gguf", p -> readAll(GgufReader.open(p)));
    }

    @Test
    void safetensors() throws IOException {
        String h = "{\"__metadata__\":{\"k\":\"v\"},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[8,16]},"
                + "\"c\":{\"dtype\":\"F8_E4M3\",\"shape\":[4],\"data_offsets\":[16,20]}}";
        ByteBuffer b = ByteBuffer.allocate(8 + h.length() + 20).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length()).put(h.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        for (int i = 0; i < 20; i++) {
            b.put((byte) (i * 13));
        }
        fuzz("safetensors", b.array(), ".safetensors", p -> readAll(SafetensorsReader.open(p)));
    }

    @Test
    void quantkitSafetensorsLayout() throws IOException {
        String meta = "{\\\"scheme\\\":\\\"q4_0\\\",\\\"shape\\\":[1,32],\\\"arrays\\\":[[\\\"blocks\\\",\\\"w\\\"]]}";
        String h = "{\"__metadata__\":{\"quantkit.format\":\"1\",\"quantkit.tensor.w\":\"" + meta + "\"},"
                + "\"w\":{\"dtype\":\"U8\",\"shape\":[1,18],\"data_offsets\":[0,18]}}";
        ByteBuffer b = ByteBuffer.allocate(8 + h.length() + 18).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length()).put(h.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        b.putShort((short) 0x3c00);
        fuzz("quantkit", b.array(), ".safetensors", p -> readAll(SafetensorsReader.open(p)));
    }

    @Test
    void subByteSafetensors() throws IOException {
        String h = "{\"a\":{\"dtype\":\"F4\",\"shape\":[2,3],\"data_offsets\":[0,3]},"
                + "\"b\":{\"dtype\":\"F6_E3M2\",\"shape\":[4],\"data_offsets\":[3,6]},"
                + "\"c\":{\"dtype\":\"F6_E2M3\",\"shape\":[1,4],\"data_offsets\":[6,9]}}";
        ByteBuffer b = ByteBuffer.allocate(8 + h.length() + 9).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length()).put(h.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        for (int i = 0; i < 9; i++) {
            b.put((byte) (i * 29 + 7));
        }
        fuzz("subbyte", b.array(), ".safetensors", p -> readAll(SafetensorsReader.open(p)));
    }

    /** Hugging Face folders: mutants of config.json beside a valid model.safetensors (tiny-tied fixture). */
    @Test
    void huggingFaceConfig() throws IOException {
        Path hf;
        try {
            hf = Path.of(ReaderFuzzTest.class.getResource("/hf/tiny-tied/config.json").toURI()).getParent();
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        Path folder = Files.createDirectories(dir.resolve("hf"));
        Files.copy(hf.resolve("model.safetensors"), folder.resolve("model.safetensors"));
        fuzz("hfconfig", Files.readAllBytes(hf.resolve("config.json")), ".json", p -> {
            Files.copy(p, folder.resolve("config.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            readAll(Checkpoints.open(folder));
        });
    }

    @Test
    void sentencePieceModel() throws IOException {
        Path spm;
        try {
            spm = Path.of(ReaderFuzzTest.class.getResource("/hf/tiny-tied/tokenizer.model").toURI());
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        fuzz("spm", Files.readAllBytes(spm), ".model", p -> io.quantkit.io.hf.SentencePieceModel.read(p));
    }

    @Test
    void llama2c() throws IOException {
        Path base = TestFiles.llama2c(dir, "base.bin", 8, 16, 1, 2, 1, 6, 4, SEED, true);
        fuzz("llama2c", Files.readAllBytes(base), ".bin", p -> readAll(Llama2cReader.open(p, null)));
    }

    @Test
    void tokBin() throws IOException {
        Path base = TestFiles.tokBin(dir, "tok.bin", 12);
        fuzz("tokbin", Files.readAllBytes(base), ".tok", p -> TokBinReader.read(p));
    }

    @Test
    void detection() throws IOException {
        byte[] base = Files.readAllBytes(HostileCorpusTest.corpus().resolve("good.gguf"));
        fuzz("detect", base, ".bin", p -> readAll(Checkpoints.open(p)));
    }
}
