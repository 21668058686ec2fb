package io.quantkit.io.llama2c;

import io.quantkit.io.BadFileException;
import io.quantkit.io.Checkpoint;
import io.quantkit.io.Container;
import io.quantkit.io.Limits;
import io.quantkit.io.MappedFile;
import io.quantkit.io.MappedSource;
import io.quantkit.io.MetaValue;
import io.quantkit.io.Metadata;
import io.quantkit.io.TensorInfo;
import io.quantkit.io.TokenizerData;
import io.quantkit.tensor.DType;
import io.quantkit.tensor.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads a llama2.c legacy checkpoint ({@code run.c}'s format, "version 0").
 *
 * <pre>
 * int32 dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len   (vocab_size &lt; 0: own classifier)
 * float32 token_embedding[vocab][dim]
 *         rms_att[L][dim], wq[L][dim][dim], wk[L][kv_dim][dim], wv[L][kv_dim][dim], wo[L][dim][dim],
 *         rms_ffn[L][dim], w1[L][hidden][dim], w2[L][dim][hidden], w3[L][hidden][dim], rms_final[dim],
 *         freq_cis_real[seq_len][head_size/2], freq_cis_imag[seq_len][head_size/2]   (legacy, unused)
 *         wcls[vocab][dim]                                                          (only if vocab_size &lt; 0)
 * kv_dim = dim * n_kv_heads / n_heads, head_size = dim / n_heads
 * </pre>
 * Tensors get llama.cpp's GGUF names ({@code token_embd.weight}, {@code blk.N.attn_q.weight}, ...,
 * {@code output.weight}), listed in file order with {@code output.weight} last; with a shared classifier
 * {@code output.weight} is the same bytes as {@code token_embd.weight}. The RoPE tables are not exposed.
 * Metadata uses llama.cpp's keys (general.architecture = llama, llama.embedding_length, ...; RMSNorm epsilon 1e-5,
 * the value llama2.c hard-codes). The file size must match the header exactly.
 */
public final class Llama2cReader {
    /** Bytes of the header: seven int32 values. */
    public static final int HEADER_BYTES = 28;
    /** RMSNorm epsilon hard-coded in llama2.c's run.c. */
    public static final float RMS_EPS = 1e-5f;

    private Llama2cReader() {
    }

    /** The seven header values. */
    public record Config(int dim, int hiddenDim, int nLayers, int nHeads, int nKvHeads, int vocabSize, int seqLen,
            boolean sharedClassifier) {
        public int headSize() {
            return dim / nHeads;
        }

        public int kvDim() {
            return dim / nHeads * nKvHeads;
        }

        /** Bytes the whole file must have; throws {@link ArithmeticException} if that overflows a long. */
        public long fileBytes() {
            long d = dim;
            long l = nLayers;
            long kv = kvDim();
            long h = hiddenDim;
            long dd = Math.multiplyExact(d, d);
            long floats = Math.multiplyExact((long) vocabSize, d);
            floats = Math.addExact(floats, Math.multiplyExact(l, Math.addExact(Math.multiplyExact(2, d),
                    Math.addExact(Math.multiplyExact(2, dd), Math.addExact(Math.multiplyExact(2 * kv, d),
                            Math.multiplyExact(3 * h, d))))));
            floats = Math.addExact(floats, d + (long) seqLen * headSize());
            if (!sharedClassifier) {
                floats = Math.addExact(floats, Math.multiplyExact((long) vocabSize, d));
            }
            return Math.addExact(HEADER_BYTES, Math.multiplyExact(4, floats));
        }
    }

    /** Parses and validates the header; the file size is checked against it. */
    public static Config readConfig(Path path, MappedFile f) {
        if (f.size() < HEADER_BYTES) {
            throw BadFileException.of(path, "file (%d bytes) is shorter than the 28-byte llama2.c header", f.size());
        }
        int[] h = new int[7];
        for (int i = 0; i < 7; i++) {
            h[i] = f.getInt(4L * i);
        }
        String[] names = {"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"};
        for (int i = 0; i < 7; i++) {
            long v = i == 5 ? Math.abs((long) h[i]) : h[i];
            if (v <= 0) {
                throw BadFileException.of(path, "llama2.c header value %s (%d) must be positive", names[i], h[i]);
            }
            long max = i == 5 ? Limits.MAX_VOCAB : Limits.MAX_LLAMA2C_DIM;
            if (v > max) {
                throw BadFileException.of(path, Limits.exceeds("llama2.c header value " + names[i], v, max));
            }
        }
        if (h[0] % h[3] != 0 || (h[0] / h[3]) % 2 != 0) {
            throw BadFileException.of(path, "dim (%d) is not n_heads (%d) times an even head size", h[0], h[3]);
        }
        if (h[4] > h[3] || h[3] % h[4] != 0) {
            throw BadFileException.of(path, "n_kv_heads (%d) does not divide n_heads (%d)", h[4], h[3]);
        }
        Config c = new Config(h[0], h[1], h[2], h[3], h[4], Math.abs(h[5]), h[6], h[5] > 0);
        long expected;
        try {
            expected = c.fileBytes();
        } catch (ArithmeticException e) {
            throw BadFileException.of(path, "the llama2.c header %s implies a size that overflows 64 bits",
                    java.util.Arrays.toString(h));
        }
        if (f.size() != expected) {
            throw BadFileException.of(path, "file has %d bytes but the llama2.c header %s needs exactly %d",
                    f.size(), java.util.Arrays.toString(h), expected);
        }
        return c;
    }

    /** True if {@code path} looks like a llama2.c checkpoint: a sane header and exactly the size it implies. */
    public static boolean looksLike(Path path) {
        try (MappedFile f = MappedFile.open(path)) {
            readConfig(path, f);
            return true;
        } catch (IOException | IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * Opens {@code model}; {@code tokenizer} is a tok.bin to attach, or null to look for one beside the model
     * ({@code tok<vocab>.bin}, {@code tokenizer.bin}, {@code tok.bin}), or none.
     */
    public static Checkpoint open(Path model, Path tokenizer) throws IOException {
        MappedFile f = MappedFile.open(model);
        try {
            Config c = readConfig(model, f);
            TokenizerData tok = null;
            Path tokPath = tokenizer != null ? tokenizer : findTokenizer(model, c.vocabSize());
            if (tokPath != null) {
                tok = TokBinReader.read(tokPath, c.vocabSize());
            }
            String file = String.valueOf(model.getFileName());
            List<TensorInfo> infos = layout(c, file);
            return Checkpoint.of(Container.LLAMA2C, model, infos, metadata(c, model), tok,
                    MappedSource.dense(file, f));
        } catch (IOException | RuntimeException e) {
            f.close();
            throw e;
        }
    }

    static Path findTokenizer(Path model, int vocab) {
        Path dir = model.toAbsolutePath().getParent();
        if (dir == null) {
            return null;
        }
        for (String n : new String[] {"tok" + vocab + ".bin", "tokenizer.bin", "tok.bin"}) {
            Path p = dir.resolve(n);
            if (Files.isRegularFile(p) && !p.equals(model.toAbsolutePath())) {
                return p;
            }
        }
        return null;
    }

    /** The tensors of a llama2.c file in file order, with llama.cpp's names. */
    static List<TensorInfo> layout(Config c, String file) {
        List<TensorInfo> out = new ArrayList<>();
        long d = c.dim();
        long kv = c.kvDim();
        long h = c.hiddenDim();
        int layers = c.nLayers();
        long[] pos = {HEADER_BYTES};
        long embOffset = pos[0];
        add(out, file, pos, "token_embd.weight", c.vocabSize(), d);
        perLayer(out, file, pos, layers, "attn_norm", d);
        perLayer(out, file, pos, layers, "attn_q", d, d);
        perLayer(out, file, pos, layers, "attn_k", kv, d);
        perLayer(out, file, pos, layers, "attn_v", kv, d);
        perLayer(out, file, pos, layers, "attn_output", d, d);
        perLayer(out, file, pos, layers, "ffn_norm", d);
        perLayer(out, file, pos, layers, "ffn_gate", h, d);
        perLayer(out, file, pos, layers, "ffn_down", d, h);
        perLayer(out, file, pos, layers, "ffn_up", h, d);
        add(out, file, pos, "output_norm.weight", d);
        pos[0] += 4L * c.seqLen() * c.headSize(); // freq_cis_real + freq_cis_imag
        Shape cls = Shape.of(c.vocabSize(), d);
        long clsOffset = c.sharedClassifier() ? embOffset : pos[0];
        out.add(new TensorInfo("output.weight", DType.F32.name(), cls, file, clsOffset, 4 * cls.numel()));
        return out;
    }

    private static void perLayer(List<TensorInfo> out, String file, long[] pos, int layers, String kind, long... dims) {
        for (int i = 0; i < layers; i++) {
            add(out, file, pos, "blk." + i + "." + kind + ".weight", dims);
        }
    }

    private static void add(List<TensorInfo> out, String file, long[] pos, String name, long... dims) {
        Shape s = Shape.of(dims);
        out.add(new TensorInfo(name, DType.F32.name(), s, file, pos[0], 4 * s.numel()));
        pos[0] += 4 * s.numel();
    }

    static Metadata metadata(Config c, Path model) {
        Map<String, MetaValue> m = new TreeMap<>();
        String stem = String.valueOf(model.getFileName()).replaceFirst("\\.bin$", "");
        m.put("general.architecture", MetaValue.str("llama"));
        m.put("general.name", MetaValue.str(stem));
        m.put("llama.context_length", MetaValue.u32(c.seqLen()));
        m.put("llama.embedding_length", MetaValue.u32(c.dim()));
        m.put("llama.feed_forward_length", MetaValue.u32(c.hiddenDim()));
        m.put("llama.block_count", MetaValue.u32(c.nLayers()));
        m.put("llama.attention.head_count", MetaValue.u32(c.nHeads()));
        m.put("llama.attention.head_count_kv", MetaValue.u32(c.nKvHeads()));
        m.put("llama.rope.dimension_count", MetaValue.u32(c.headSize()));
        m.put("llama.attention.layer_norm_rms_epsilon", MetaValue.f32(RMS_EPS));
        m.put("llama.vocab_size", MetaValue.u32(c.vocabSize()));
        return Metadata.of(m);
    }
}
