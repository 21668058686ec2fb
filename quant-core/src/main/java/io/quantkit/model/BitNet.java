package io.quantkit.model;

/**
 * BitNet b1.58's activation quantization, shared by the training model (as a straight-through fake quantization) and
 * the inference model (for a {@link LlamaWeights#bitnet() BitNet} model, on the input of each block's seven linear
 * layers). Stateless and thread-safe.
 */
public final class BitNet {
    private BitNet() {
    }

    /**
     * 8-bit absmax quantization of one token's activations, {@code x[off .. off+n)} into {@code y} (same offset; in
     * place allowed):
     * <pre>
     * s = 127 / max|x|                    (float)
     * q = clamp(round_half_even(x·s), −128, 127)
     * y = q / s                           (float division)
     * </pre>
     * A row of zeros, or one whose maximum is not finite, is copied unchanged.
     */
    public static void quantizeActivations(float[] x, float[] y, int off, int n) {
        float amax = 0f;
        for (int i = off; i < off + n; i++) {
            amax = Math.max(amax, Math.abs(x[i]));
        }
        if (amax == 0f || !Float.isFinite(amax)) {
            System.arraycopy(x, off, y, off, n);
            return;
        }
        float s = 127f / amax;
        for (int i = off; i < off + n; i++) {
            float q = (float) Math.rint(x[i] * s);
            q = Math.max(-128f, Math.min(127f, q));
            y[i] = q / s;
        }
    }
}
