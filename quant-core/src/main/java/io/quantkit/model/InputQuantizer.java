package io.quantkit.model;

/**
 * Fake quantization of the input of every linear layer (the classifier included) as a {@link LlamaModel.Session}
 * computes it: the model multiplies the rows written to {@code out} instead of {@code x}.
 *
 * <p>Called on the session's thread, once per linear weight and forward call, after any {@link ActivationObserver}
 * has seen the float input. Tensors sharing an input (q, k and v; gate and up) are each called with the same
 * {@code x}. Implementations must be deterministic and thread-safe (sessions of one model may run at once).
 */
@FunctionalInterface
public interface InputQuantizer {

    /**
     * Writes the fake-quantized copy of {@code rows} rows of {@code width} floats at the start of {@code x} to the
     * start of {@code out} (another array; neither may be kept).
     *
     * @param tensor the weight's name, as for {@link ActivationObserver#linearInput}
     */
    void quantize(String tensor, float[] x, float[] out, int rows, int width);
}
