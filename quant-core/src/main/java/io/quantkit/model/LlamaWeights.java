package io.quantkit.model;

import io.quantkit.tensor.Shape;
import io.quantkit.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiFunction;

/**
 * The named tensors of a Llama-architecture model, with llama.cpp's tensor names, plus its configuration.
 *
 * <p>Shapes follow this project's convention, outermost first: a linear weight is {@code [out, in]} (a row is
 * one output channel), the embedding is {@code [vocab, dim]}, norms are {@code [dim]}. {@code output.weight} is
 * optional: without it the classifier is the token embedding (tied). Tensors may be dense or quantized; the
 * model reads each through {@link Tensor#dequantize}, i.e. exactly as its stored format decodes.
 *
 * <p>A BitNet b1.58 model ({@link #bitnet()}) has two more norms per block, llama.cpp's {@code bitnet} tensors
 * {@code blk.N.attn_sub_norm.weight} ({@code [dim]}, before {@code attn_output}) and {@code blk.N.ffn_sub_norm.weight}
 * ({@code [hidden]}, before {@code ffn_down}): SubLN. A model is BitNet exactly when it has them.
 *
 * <p>Immutable (the tensors themselves are immutable too).
 */
public final class LlamaWeights {
    public static final String TOKEN_EMBD = "token_embd.weight";
    public static final String OUTPUT_NORM = "output_norm.weight";
    public static final String OUTPUT = "output.weight";

    /**
     * Per-layer tensor kinds, in llama.cpp's naming ({@code blk.N.<kind>.weight}); the last two (SubLN) only in a
     * BitNet model.
     */
    public enum LayerTensor {
        ATTN_NORM("attn_norm"), ATTN_Q("attn_q"), ATTN_K("attn_k"), ATTN_V("attn_v"), ATTN_OUTPUT("attn_output"),
        FFN_NORM("ffn_norm"), FFN_GATE("ffn_gate"), FFN_DOWN("ffn_down"), FFN_UP("ffn_up"),
        ATTN_SUB_NORM("attn_sub_norm"), FFN_SUB_NORM("ffn_sub_norm");

        private final String key;

        LayerTensor(String key) {
            this.key = key;
        }

        /** {@code blk.<layer>.<kind>.weight}. */
        public String name(int layer) {
            return "blk." + layer + "." + key + ".weight";
        }

        /** Whether only BitNet models (SubLN) have this tensor. */
        public boolean subLayerNorm() {
            return this == ATTN_SUB_NORM || this == FFN_SUB_NORM;
        }

        /** The expected shape for {@code config}. */
        public Shape shape(LlamaConfig c) {
            return switch (this) {
                case ATTN_NORM, FFN_NORM, ATTN_SUB_NORM -> Shape.of(c.dim());
                case FFN_SUB_NORM -> Shape.of(c.hiddenDim());
                case ATTN_Q, ATTN_OUTPUT -> Shape.of(c.dim(), c.dim());
                case ATTN_K, ATTN_V -> Shape.of(c.kvDim(), c.dim());
                case FFN_GATE, FFN_UP -> Shape.of(c.hiddenDim(), c.dim());
                case FFN_DOWN -> Shape.of(c.dim(), c.hiddenDim());
            };
        }
    }

    private final LlamaConfig config;
    private final Map<String, Tensor> tensors;
    private final boolean bitnet;

    private LlamaWeights(LlamaConfig config, Map<String, Tensor> tensors, boolean bitnet) {
        this.config = config;
        this.tensors = tensors;
        this.bitnet = bitnet;
    }

    /**
     * Checks that {@code tensors} holds every tensor of {@code config} with the right shape (and nothing
     * else); throws {@link IllegalArgumentException} naming the first problem. The model is BitNet b1.58 when
     * {@code tensors} holds {@code blk.0.attn_sub_norm.weight}, and then it needs every SubLN tensor.
     */
    public static LlamaWeights of(LlamaConfig config, Map<String, ? extends Tensor> tensors) {
        Objects.requireNonNull(config, "config");
        boolean bitnet = tensors.containsKey(LayerTensor.ATTN_SUB_NORM.name(0));
        Map<String, Tensor> copy = new LinkedHashMap<>();
        for (String name : expectedNames(config, tensors.containsKey(OUTPUT), bitnet)) {
            Tensor t = tensors.get(name);
            if (t == null) {
                throw new IllegalArgumentException("model has no tensor '" + name + "'");
            }
            Shape want = expectedShape(config, name);
            if (!t.shape().equals(want)) {
                throw new IllegalArgumentException("tensor '" + name + "' has shape " + t.shape()
                        + " but the configuration needs " + want);
            }
            copy.put(name, t);
        }
        for (String name : tensors.keySet()) {
            if (!copy.containsKey(name)) {
                throw new IllegalArgumentException("tensor '" + name + "' is not part of a Llama model");
            }
        }
        return new LlamaWeights(config, Collections.unmodifiableMap(copy), bitnet);
    }

    /** The names a (plain Llama) model of {@code config} has, in a fixed order (embedding, layers, final norm, classifier). */
    public static List<String> expectedNames(LlamaConfig config, boolean separateClassifier) {
        return expectedNames(config, separateClassifier, false);
    }

    /** The names a model of {@code config} has; {@code bitnet} adds each block's SubLN norms after its other tensors. */
    public static List<String> expectedNames(LlamaConfig config, boolean separateClassifier, boolean bitnet) {
        List<String> names = new ArrayList<>();
        names.add(TOKEN_EMBD);
        for (int l = 0; l < config.layers(); l++) {
            for (LayerTensor k : LayerTensor.values()) {
                if (bitnet || !k.subLayerNorm()) {
                    names.add(k.name(l));
                }
            }
        }
        names.add(OUTPUT_NORM);
        if (separateClassifier) {
            names.add(OUTPUT);
        }
        return names;
    }

    private static Shape expectedShape(LlamaConfig c, String name) {
        switch (name) {
            case TOKEN_EMBD:
            case OUTPUT:
                return Shape.of(c.vocabSize(), c.dim());
            case OUTPUT_NORM:
                return Shape.of(c.dim());
            default:
                for (int l = 0; l < c.layers(); l++) {
                    for (LayerTensor k : LayerTensor.values()) {
                        if (k.name(l).equals(name)) {
                            return k.shape(c);
                        }
                    }
                }
                throw new IllegalArgumentException("tensor '" + name + "' is not part of a Llama model");
        }
    }

    public LlamaConfig config() {
        return config;
    }

    /**
     * Whether this is a BitNet b1.58 model: SubLN norms before {@code attn_output} and {@code ffn_down}, and the input
     * of each block's seven linear layers quantized to 8 bits per token ({@link BitNet#quantizeActivations}).
     */
    public boolean bitnet() {
        return bitnet;
    }

    /** Every tensor by name, in the order of {@link #expectedNames}; unmodifiable. */
    public Map<String, Tensor> tensors() {
        return tensors;
    }

    public Tensor tensor(String name) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException("model has no tensor '" + name + "'");
        }
        return t;
    }

    /** Whether the classifier is the token embedding (no {@code output.weight}). */
    public boolean tiedClassifier() {
        return !tensors.containsKey(OUTPUT);
    }

    /** A copy where each tensor is replaced by {@code f(name, tensor)} (same shape required). */
    public LlamaWeights map(BiFunction<String, Tensor, ? extends Tensor> f) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        tensors.forEach((k, v) -> out.put(k, f.apply(k, v)));
        return of(config, out);
    }

    /** Bytes of stored data over all tensors. */
    public long storageBytes() {
        long n = 0;
        for (Tensor t : tensors.values()) {
            n += t.storageBytes();
        }
        return n;
    }
}
