package io.quantkit.model;

import io.quantkit.io.Checkpoint;
import io.quantkit.io.Container;
import io.quantkit.io.MetaValue;
import io.quantkit.io.Metadata;
import io.quantkit.io.TokenizerData;
import io.quantkit.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Builds {@link LlamaWeights} and a {@link Tokenizer} from an opened {@link Checkpoint}: GGUF with
 * {@code general.architecture = llama}, a llama2.c {@code .bin} or a Hugging Face Llama folder (whose readers use
 * the same names and keys), or our safetensors outputs of any of them.
 *
 * <p>RoPE: llama.cpp evaluates the {@code llama} architecture with adjacent-pair ("normal") rotation; GGUF
 * converters permute Hugging Face q/k weights into that layout, and llama2.c uses it natively.
 *
 * <p>BitNet b1.58 ({@code general.architecture = bitnet}, llama.cpp's name): the same hyper-parameters under
 * {@code bitnet.*}, and the SubLN tensors {@code blk.N.attn_sub_norm.weight} / {@code blk.N.ffn_sub_norm.weight}.
 * llama.cpp rotates the {@code bitnet} architecture's q/k by halves ("neox", Hugging Face's layout, which its
 * converter keeps); models trained here rotate adjacent pairs and say so with {@value #BITNET_ROPE_KEY} =
 * {@code adjacent}.
 */
public final class LlamaLoader {
    /** Metadata key of a {@code bitnet} model whose q/k rows are laid out for adjacent-pair RoPE (value {@code adjacent}). */
    public static final String BITNET_ROPE_KEY = "bitnet.rope.pairs";

    private LlamaLoader() {
    }

    /** The {@code general.architecture} of {@code cp}: {@code llama} or {@code bitnet}; throws for anything else. */
    public static String architecture(Checkpoint cp) {
        Metadata m = cp.metadata();
        String arch = m.contains("general.architecture") ? m.getString("general.architecture") : "";
        if (!arch.equals("llama") && !arch.equals("bitnet")) {
            throw new IllegalArgumentException(cp.path().getFileName() + " is not a Llama or BitNet model "
                    + "(general.architecture is '" + arch + "')");
        }
        return arch;
    }

    /**
     * The configuration from {@code llama.*} metadata; vocabulary size from the embedding's rows. Numbers may be
     * typed (GGUF, llama2.c, Hugging Face config) or decimal strings (safetensors {@code __metadata__}, which holds
     * only strings: our own safetensors outputs carry the input's llama.* keys that way).
     */
    public static LlamaConfig config(Checkpoint cp) {
        Metadata m = cp.metadata();
        String a = architecture(cp) + ".";
        int dim = integer(m, a + "embedding_length");
        int heads = integer(m, a + "attention.head_count");
        int kvHeads = m.contains(a + "attention.head_count_kv") ? integer(m, a + "attention.head_count_kv") : heads;
        if (m.contains(a + "rope.dimension_count")
                && integer(m, a + "rope.dimension_count") != dim / Math.max(1, heads)) {
            throw new IllegalArgumentException("partial RoPE (" + a + "rope.dimension_count "
                    + integer(m, a + "rope.dimension_count") + " of head size " + dim / Math.max(1, heads)
                    + ") is not supported");
        }
        Tensor emb = cp.tensor(LlamaWeights.TOKEN_EMBD);
        int vocab = Math.toIntExact(emb.shape().dim(0));
        float eps = m.contains(a + "attention.layer_norm_rms_epsilon")
                ? real(m, a + "attention.layer_norm_rms_epsilon") : 1e-5f;
        float theta = m.contains(a + "rope.freq_base") ? real(m, a + "rope.freq_base") : 10000f;
        RopeStyle rope = RopeStyle.ADJACENT_PAIRS;
        if (a.equals("bitnet.")) {
            String pairs = m.contains(BITNET_ROPE_KEY) ? m.getString(BITNET_ROPE_KEY) : "halves";
            if (!pairs.equals("adjacent") && !pairs.equals("halves")) {
                throw new IllegalArgumentException("metadata '" + BITNET_ROPE_KEY + "' (\"" + pairs
                        + "\") is neither adjacent nor halves");
            }
            rope = pairs.equals("adjacent") ? RopeStyle.ADJACENT_PAIRS : RopeStyle.HALF_SPLIT;
        }
        return new LlamaConfig(dim, integer(m, a + "feed_forward_length"), integer(m, a + "block_count"), heads,
                kvHeads, vocab, integer(m, a + "context_length"), eps, theta, rope);
    }

    private static int integer(Metadata m, String key) {
        if (m.get(key).orElse(null) instanceof MetaValue.Str s) {
            try {
                return Integer.parseInt(s.value());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("metadata '" + key + "' (\"" + s.value() + "\") is not an integer");
            }
        }
        return m.getInt(key);
    }

    private static float real(Metadata m, String key) {
        if (m.get(key).orElse(null) instanceof MetaValue.Str s) {
            try {
                return Float.parseFloat(s.value());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("metadata '" + key + "' (\"" + s.value() + "\") is not a number");
            }
        }
        return (float) m.getDouble(key);
    }

    /**
     * The model's tensors as lazy views over the checkpoint (decoded when a {@link LlamaModel} is built). A
     * {@code output.weight} is kept even when it aliases the embedding (llama2.c's shared classifier), as llama.cpp
     * does, so it is quantized like any other tensor.
     */
    public static LlamaWeights weights(Checkpoint cp) {
        LlamaConfig c = config(cp);
        boolean bitnet = architecture(cp).equals("bitnet");
        Map<String, Tensor> t = new LinkedHashMap<>();
        for (String name : LlamaWeights.expectedNames(c, cp.has(LlamaWeights.OUTPUT), bitnet)) {
            t.put(name, cp.tensor(name));
        }
        for (String name : cp.names()) {
            if (!t.containsKey(name) && !name.equals("rope_freqs.weight")) {
                throw new IllegalArgumentException("tensor '" + name + "' is not part of a " + (bitnet ? "BitNet" : "Llama")
                        + " model");
            }
        }
        return LlamaWeights.of(c, t);
    }

    /** The tokenizer the checkpoint carries; throws if it has none. */
    public static Tokenizer tokenizer(Checkpoint cp) {
        TokenizerData d = cp.tokenizer().orElseThrow(() -> new IllegalArgumentException(cp.path().getFileName()
                + " carries no tokenizer (for a llama2.c .bin, give --tokenizer tok.bin)"));
        boolean addSpacePrefix = !cp.metadata().contains("tokenizer.ggml.add_space_prefix")
                || cp.metadata().getBool("tokenizer.ggml.add_space_prefix");
        return tokenizer(d, cp.container(), addSpacePrefix);
    }

    /** A tokenizer for {@code data} read from a container of kind {@code container}. */
    public static Tokenizer tokenizer(TokenizerData d, Container container, boolean addSpacePrefix) {
        String model = d.model().toLowerCase(Locale.ROOT);
        switch (model) {
            case "llama": {
                float[] scores = d.hasScores() ? d.scores() : new float[d.size()];
                int bos = d.bosId() >= 0 ? d.bosId() : 1;
                int eos = d.eosId() >= 0 ? d.eosId() : 2;
                int unk = d.unkId() >= 0 ? d.unkId() : 0;
                return container == Container.LLAMA2C
                        ? SentencePieceTokenizer.ofLlama2c(d.tokens(), scores, d.tokenTypes(), bos, eos, unk)
                        : SentencePieceTokenizer.ofGguf(d.tokens(), scores, d.tokenTypes(), bos, eos, unk,
                                addSpacePrefix);
            }
            case "gpt2":
                return Gpt2Tokenizer.of(d.tokens(), d.merges(), d.tokenTypes(), d.bosId(), d.eosId());
            default:
                throw new IllegalArgumentException("tokenizer model '" + d.model() + "' is not supported (llama, gpt2)");
        }
    }
}
