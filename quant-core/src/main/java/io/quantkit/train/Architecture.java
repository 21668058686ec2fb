package io.quantkit.train;

import io.quantkit.model.LlamaConfig;
import io.quantkit.model.RopeStyle;
import java.util.Objects;

/**
 * A Llama-architecture model as the trainer sees it: the shape ({@link LlamaConfig}, the one description of a Llama
 * model that the inference model uses too, validated there) plus the two choices only training makes: whether the
 * classifier is the token embedding and whether the blocks carry BitNet's SubLN. Immutable.
 *
 * @param llama            dimensions, RMSNorm epsilon and RoPE base; the training model rotates adjacent pairs
 *                         (llama2.c's convention), so {@code llama.rope()} must be {@link RopeStyle#ADJACENT_PAIRS}
 * @param sharedClassifier true when the classifier is the token embedding (tied)
 * @param subNorms         BitNet's SubLN: an RMSNorm (with its own gain) on the input of {@code wo} (the attention
 *                         output) and on the input of {@code w2} (the SwiGLU output), so that every linear layer of a
 *                         block reads RMS-normalized input ({@code wq}, {@code wk}, {@code wv}, {@code w1},
 *                         {@code w3} already do)
 */
public record Architecture(LlamaConfig llama, boolean sharedClassifier, boolean subNorms) {

    public Architecture {
        Objects.requireNonNull(llama, "llama");
        if (llama.rope() != RopeStyle.ADJACENT_PAIRS) {
            throw new IllegalArgumentException("the training model rotates adjacent pairs (llama2.c's RoPE), not "
                    + llama.rope());
        }
    }

    /** A plain Llama block (no SubLN) with every field given. */
    public Architecture(int dim, int hiddenDim, int nLayers, int nHeads, int nKvHeads, int vocabSize, int seqLen,
                        boolean sharedClassifier, float normEps, float ropeTheta) {
        this(dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize, seqLen, sharedClassifier, normEps, ropeTheta, false);
    }

    /** Every field given. */
    public Architecture(int dim, int hiddenDim, int nLayers, int nHeads, int nKvHeads, int vocabSize, int seqLen,
                        boolean sharedClassifier, float normEps, float ropeTheta, boolean subNorms) {
        this(new LlamaConfig(dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize, seqLen, normEps, ropeTheta,
                RopeStyle.ADJACENT_PAIRS), sharedClassifier, subNorms);
    }

    /** A llama2.c-style model: RMSNorm eps 1e-5, RoPE theta 10000, adjacent-pair RoPE, no SubLN. */
    public static Architecture llama(int dim, int hiddenDim, int nLayers, int nHeads, int nKvHeads, int vocabSize,
                                     int seqLen, boolean sharedClassifier) {
        return new Architecture(LlamaConfig.llama2c(dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize, seqLen),
                sharedClassifier, false);
    }

    /** The same shape with or without BitNet's SubLN. */
    public Architecture withSubNorms(boolean on) {
        return new Architecture(llama, sharedClassifier, on);
    }

    public int dim() {
        return llama.dim();
    }

    public int hiddenDim() {
        return llama.hiddenDim();
    }

    public int nLayers() {
        return llama.layers();
    }

    public int nHeads() {
        return llama.heads();
    }

    public int nKvHeads() {
        return llama.kvHeads();
    }

    public int vocabSize() {
        return llama.vocabSize();
    }

    /** Longest context the model is trained or evaluated on. */
    public int seqLen() {
        return llama.seqLen();
    }

    public float normEps() {
        return llama.normEps();
    }

    public float ropeTheta() {
        return llama.ropeTheta();
    }

    public int headSize() {
        return llama.headSize();
    }

    public int kvDim() {
        return llama.kvDim();
    }

    /** Query heads per key/value head. */
    public int groupSize() {
        return llama.heads() / llama.kvHeads();
    }
}
