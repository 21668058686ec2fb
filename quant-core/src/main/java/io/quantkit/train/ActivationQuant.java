package io.quantkit.train;

import io.quantkit.format.Bf16;
import io.quantkit.model.BitNet;

/**
 * Fake quantization of the inputs of the linear layers (not the classifier), applied row by row (one row = one
 * token). The backward pass is straight-through: the gradient reaching the quantized input is passed to the
 * unquantized input unchanged.
 */
public enum ActivationQuant {
    /** Inputs stay float32. */
    NONE,
    /** Each input rounded to bfloat16 (round to nearest, ties to even), as in mixed-precision training. */
    BF16,
    /**
     * BitNet's 8-bit absmax per token ({@link BitNet#quantizeActivations}, which the inference model applies to a
     * BitNet model): {@code s = 127 / max|x|}, {@code q = clamp(round_half_even(x·s), -128, 127)}, input replaced by
     * {@code q / s}. A row of zeros stays zero.
     */
    INT8_ABSMAX;

    /** Quantizes {@code n} values of {@code x} from {@code off} into {@code y} (same offset); in place allowed. */
    void applyRow(float[] x, float[] y, int off, int n) {
        switch (this) {
            case NONE -> System.arraycopy(x, off, y, off, n);
            case BF16 -> {
                for (int i = off; i < off + n; i++) {
                    y[i] = Bf16.round(x[i]);
                }
            }
            case INT8_ABSMAX -> BitNet.quantizeActivations(x, y, off, n);
        }
    }
}
