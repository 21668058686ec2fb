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
 * <p>Immutable (the tensors themselves are immutable too).
 */
public final class LlamaWeights {
    public static final String TOKEN_EMBD = "token_embd.weight";
    public static final String OUTPUT_NORM = "output_norm.weight";
    public static final String OUTPUT = "output.weight";

    /** Per-layer tensor kinds, in llama.cpp's naming ({@code blk.N.<kind>.weight}). */
    public enum LayerTensor {
        ATTN_NORM("attn_norm"), ATTN_Q("attn_q"), ATTN_K("attn_k"), ATTN_V("attn_v"), ATTN_OUTPUT("attn_output"),
        FFN_NORM("ffn_norm"), FFN_GATE("ffn_gate"), FFN_DOWN("ffn_down"), FFN_UP("ffn_up");

        private final String key;

        LayerTensor(String key) {
            this.key = key;
        }

        /** {@code blk.<layer>.<kind>.weight}. */
        public String name(int layer) {
            return "blk." + layer + "." + key + ".weight";
        }

        /** The expected shape for {@code config}. */
        public Shape shape(LlamaConfig c) {
            return switch (this) {
                case ATTN_NORM, FFN_NORM -> Shape.of(c.dim());
                case ATTN_Q, ATTN_OUTPUT -> Shape.of(c.dim(), c.dim());
                case ATTN_K, ATTN_V -> Shape.of(c.kvDim(), c.dim());
                case FFN_GATE, FFN_UP -> Shape.of(c.hiddenDim(), c.dim());
                case FFN_DOWN -> Shape.of(c.dim(), c.hiddenDim());
            };
        }
    }

    private final LlamaConfig config;
    private final Map<String, Tensor> tensors;

    private LlamaWeights(LlamaConfig config, Map<String, Tensor> tensors) {
        this.config = config;
        this.tensors = tensors;
    }

    /**
     * Checks that {@code tensors} holds every tensor of {@code config} with the right shape (and nothing
     * else); throws {@link IllegalArgumentException} naming the first problem.
     */
    public static LlamaWeights of(LlamaConfig config, Map<String, ? extends Tensor> tensors) {
        Objects.requireNonNull(config, "config");
        Map<String, Tensor> copy = new LinkedHashMap<>();
        for (String name : expectedNames(config, tensors.containsKey(OUTPUT))) {
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
        return new LlamaWeights(config, Collections.unmodifiableMap(copy));
    }

    /** The names a model of {@code config} has, in a fixed order (embedding, layers, final norm, classifier). */
    public static List<String> expectedNames(LlamaConfig config, boolean separateClassifier) {
        List<String> names = new ArrayList<>();
        names.add(TOKEN_EMBD);
        for (int l = 0; l < config.layers(); l++) {
            for (LayerTensor k : LayerTensor.values()) {
                names.add(k.name(l));
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
