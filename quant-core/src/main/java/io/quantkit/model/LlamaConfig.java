package io.quantkit.model;

import java.util.Objects;

/**
 * Hyper-parameters of a Llama-architecture model.
 *
 * @param dim        model width (embedding size)
 * @param hiddenDim  feed-forward width (rows of w1/w3, columns of w2)
 * @param layers     number of transformer blocks
 * @param heads      query heads
 * @param kvHeads    key/value heads (grouped-query attention when fewer than {@code heads})
 * @param vocabSize  vocabulary size (rows of the embedding and the classifier)
 * @param seqLen     maximum sequence length the KV cache holds
 * @param normEps    RMSNorm epsilon (1e-5 for llama2.c models)
 * @param ropeTheta  RoPE base (10000 for Llama 1/2)
 * @param rope       which dimensions RoPE pairs
 */
public record LlamaConfig(int dim, int hiddenDim, int layers, int heads, int kvHeads, int vocabSize, int seqLen,
                          float normEps, float ropeTheta, RopeStyle rope) {

    /** Largest accepted width, feed-forward width, vocabulary or sequence length. */
    public static final int MAX_SIZE = 1 << 20;
    /** Largest accepted number of layers or heads. */
    public static final int MAX_COUNT = 4096;

    public LlamaConfig {
        Objects.requireNonNull(rope, "rope");
        check("dim", dim, MAX_SIZE);
        check("hidden_dim", hiddenDim, MAX_SIZE);
        check("layers", layers, MAX_COUNT);
        check("heads", heads, MAX_COUNT);
        check("kv_heads", kvHeads, MAX_COUNT);
        check("vocab_size", vocabSize, MAX_SIZE);
        check("seq_len", seqLen, MAX_SIZE);
        if (dim % heads != 0) {
            throw new IllegalArgumentException("dim (" + dim + ") is not a multiple of heads (" + heads + ")");
        }
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException("heads (" + heads + ") is not a multiple of kv_heads (" + kvHeads + ")");
        }
        if ((dim / heads) % 2 != 0) {
            throw new IllegalArgumentException("head size (" + dim / heads + ") must be even for RoPE");
        }
        if (!(normEps > 0) || !Float.isFinite(normEps)) {
            throw new IllegalArgumentException("norm epsilon (" + normEps + ") must be a positive finite number");
        }
        if (!(ropeTheta > 1) || !Float.isFinite(ropeTheta)) {
            throw new IllegalArgumentException("rope theta (" + ropeTheta + ") must be a finite number above 1");
        }
    }

    /** The llama2.c defaults for the remaining fields: eps 1e-5, theta 10000, adjacent-pair RoPE. */
    public static LlamaConfig llama2c(int dim, int hiddenDim, int layers, int heads, int kvHeads, int vocabSize,
                                      int seqLen) {
        return new LlamaConfig(dim, hiddenDim, layers, heads, kvHeads, vocabSize, seqLen, 1e-5f, 10000f,
                RopeStyle.ADJACENT_PAIRS);
    }

    private static void check(String name, int value, int max) {
        if (value < 1) {
            throw new IllegalArgumentException(name + " (" + value + ") must be at least 1");
        }
        if (value > max) {
            throw new IllegalArgumentException(name + " (" + value + ") exceeds the maximum (" + max + ")");
        }
    }

    /** Size of one attention head. */
    public int headSize() {
        return dim / heads;
    }

    /** Width of the key and value projections: {@code kvHeads * headSize}. */
    public int kvDim() {
        return kvHeads * headSize();
    }

    /** The same configuration with another maximum sequence length (the KV cache size). */
    public LlamaConfig withSeqLen(int newSeqLen) {
        return new LlamaConfig(dim, hiddenDim, layers, heads, kvHeads, vocabSize, newSeqLen, normEps, ropeTheta, rope);
    }
}
