package io.quantkit.train;

/**
 * The shape of a Llama-architecture model as the trainer sees it (the fields of a llama2.c header plus the
 * RMSNorm epsilon and RoPE base). Validated on construction; immutable.
 *
 * @param dim        model width
 * @param hiddenDim  SwiGLU hidden width
 * @param nLayers    transformer blocks
 * @param nHeads     query heads; {@code dim} must be a multiple of it and the head size even (RoPE pairs)
 * @param nKvHeads   key/value heads (grouped-query attention); must divide {@code nHeads}
 * @param vocabSize  tokens
 * @param seqLen     longest context the model is trained or evaluated on
 * @param sharedClassifier true when the classifier is the token embedding (tied)
 * @param normEps    RMSNorm epsilon
 * @param ropeTheta  RoPE base
 * @param subNorms   BitNet's SubLN: an RMSNorm (with its own gain) on the input of {@code wo} (the attention output)
 *                   and on the input of {@code w2} (the SwiGLU output), so that every linear layer of a block reads
 *                   RMS-normalized input ({@code wq}, {@code wk}, {@code wv}, {@code w1}, {@code w3} already do)
 */
public record Architecture(int dim, int hiddenDim, int nLayers, int nHeads, int nKvHeads, int vocabSize, int seqLen,
                           boolean sharedClassifier, float normEps, float ropeTheta, boolean subNorms) {

    /** Largest width, hidden width, vocabulary or context accepted (keeps every array index in an int). */
    public static final int MAX_SIZE = 1 << 20;
    /** Most layers accepted. */
    public static final int MAX_LAYERS = 1024;

    public Architecture {
        check("dim", dim, MAX_SIZE);
        check("hidden_dim", hiddenDim, MAX_SIZE);
        check("n_layers", nLayers, MAX_LAYERS);
        check("n_heads", nHeads, dim);
        check("n_kv_heads", nKvHeads, nHeads);
        check("vocab_size", vocabSize, MAX_SIZE);
        check("seq_len", seqLen, MAX_SIZE);
        if (dim % nHeads != 0) {
            throw new IllegalArgumentException("dim (" + dim + ") is not a multiple of n_heads (" + nHeads + ")");
        }
        if ((dim / nHeads) % 2 != 0) {
            throw new IllegalArgumentException("head size (" + dim / nHeads + ") must be even for RoPE");
        }
        if (nHeads % nKvHeads != 0) {
            throw new IllegalArgumentException("n_heads (" + nHeads + ") is not a multiple of n_kv_heads (" + nKvHeads + ")");
        }
        if (!(normEps > 0) || !Float.isFinite(normEps)) {
            throw new IllegalArgumentException("norm epsilon (" + normEps + ") must be positive and finite");
        }
        if (!(ropeTheta > 1) || !Float.isFinite(ropeTheta)) {
            throw new IllegalArgumentException("RoPE theta (" + ropeTheta + ") must be greater than 1 and finite");
        }
    }

    /** A plain Llama block (no SubLN). */
    public Architecture(int dim, int hiddenDim, int nLayers, int nHeads, int nKvHeads, int vocabSize, int seqLen,
                        boolean sharedClassifier, float normEps, float ropeTheta) {
        this(dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize, seqLen, sharedClassifier, normEps, ropeTheta, false);
    }

    /** The same shape with or without BitNet's SubLN. */
    public Architecture withSubNorms(boolean on) {
        return new Architecture(dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize, seqLen, sharedClassifier, normEps,
                ropeTheta, on);
    }

    /** A llama2.c-style model: RMSNorm eps 1e-5, RoPE theta 10000. */
    public static Architecture llama(int dim, int hiddenDim, int nLayers, int nHeads, int nKvHeads, int vocabSize,
                                     int seqLen, boolean sharedClassifier) {
        return new Architecture(dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize, seqLen, sharedClassifier,
                1e-5f, 10000f);
    }

    private static void check(String name, int v, int max) {
        if (v < 1) {
            throw new IllegalArgumentException(name + " (" + v + ") must be at least 1");
        }
        if (v > max) {
            throw new IllegalArgumentException(name + " (" + v + ") exceeds the maximum (" + max + ")");
        }
    }

    public int headSize() {
        return dim / nHeads;
    }

    public int kvDim() {
        return nKvHeads * headSize();
    }

    /** Query heads per key/value head. */
    public int groupSize() {
        return nHeads / nKvHeads;
    }
}
