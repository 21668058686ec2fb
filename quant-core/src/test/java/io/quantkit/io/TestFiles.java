package io.quantkit.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/** Small synthetic checkpoints written byte by byte from the format descriptions (not with our writers). */
public final class TestFiles {
    private TestFiles() {
    }

    /**
     * A llama2.c checkpoint with the given header; weights are seeded Gaussians (seed reported by callers) except
     * that float {@code k} of the weights (after the header) is stored at index k when {@code indexValues}.
     */
    public static Path llama2c(Path dir, String name, int dim, int hidden, int layers, int heads, int kvHeads,
            int vocab, int seqLen, long seed, boolean indexValues) throws IOException {
        int kv = dim / heads * kvHeads;
        long floats = (long) Math.abs(vocab) * dim + layers * (2L * dim + 2L * dim * dim + 2L * kv * dim
                + 3L * hidden * dim) + dim + (long) seqLen * (dim / heads) + (vocab < 0 ? (long) -vocab * dim : 0);
        ByteBuffer b = ByteBuffer.allocate((int) (28 + 4 * floats)).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : new int[] {dim, hidden, layers, heads, kvHeads, vocab, seqLen}) {
            b.putInt(v);
        }
        Random r = new Random(seed);
        for (long i = 0; i < floats; i++) {
            b.putFloat(indexValues ? (float) i : (float) (r.nextGaussian() * 0.05));
        }
        Path p = dir.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    /** A tok.bin with {@code n} tokens: 0 "<unk>", 1 "\n<s>\n", 2 "\n</s>\n", then "t3", "t 4" ... score -i. */
    public static Path tokBin(Path dir, String name, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(64 * n + 4).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(8);
        for (int i = 0; i < n; i++) {
            String s = i == 0 ? "<unk>" : i == 1 ? "\n<s>\n" : i == 2 ? "\n</s>\n" : i % 2 == 0 ? "t " + i : "t" + i;
            byte[] t = s.getBytes(StandardCharsets.UTF_8);
            b.putFloat(-i).putInt(t.length).put(t);
        }
        Path p = dir.resolve(name);
        Files.write(p, java.util.Arrays.copyOf(b.array(), b.position()));
        return p;
    }
}
