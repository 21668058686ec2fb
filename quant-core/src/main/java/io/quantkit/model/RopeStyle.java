package io.quantkit.model;

/**
 * Which pairs of dimensions of a query/key head RoPE rotates together.
 *
 * <p>Pair {@code j} (0 &le; j &lt; headSize/2) is rotated by the angle {@code pos * theta^(-2j/headSize)}.
 */
public enum RopeStyle {
    /**
     * Adjacent dimensions {@code (2j, 2j+1)}: llama2.c, Meta's original Llama code, and ggml's "normal" rope
     * that llama.cpp uses for the {@code llama} architecture (GGUF files from llama2.c or from Hugging Face
     * after the converter's q/k permutation).
     */
    ADJACENT_PAIRS,
    /**
     * Dimensions {@code (j, j + headSize/2)}: Hugging Face transformers' {@code rotate_half} (its checkpoints
     * hold q/k weights permuted for this pairing; ggml calls it "neox").
     */
    HALF_SPLIT
}
