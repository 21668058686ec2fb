package io.quantkit.model;

/**
 * Sees the input of every linear layer as a {@link LlamaModel.Session} computes it: the extension point that
 * calibration (activation statistics, Hessians for GPTQ) uses.
 *
 * <p>Called on the session's thread, once per linear weight and forward call, before the matrix product, with
 * the rows the product consumes: {@code rows} consecutive rows of {@code width} floats at the start of
 * {@code x}. The array is the session's scratch buffer: read it during the call, never keep or change it.
 * Tensors sharing an input (q, k and v; gate and up) are each reported. A session without an observer pays one
 * null check per product.
 */
@FunctionalInterface
public interface ActivationObserver {

    /**
     * @param tensor the weight's name ({@code blk.0.attn_q.weight}, {@code output.weight}; the token embedding's
     *               name when the classifier is tied)
     * @param x      input rows, row-major; only the first {@code rows * width} floats are meaningful
     */
    void linearInput(String tensor, float[] x, int rows, int width);
}
