package io.quantkit.model;

/**
 * The rotation angles of rotary position embeddings, computed once for the training model and the inference model
 * alike (so both rotate by the same bits). Stateless and thread-safe.
 */
public final class Rope {
    private Rope() {
    }

    /**
     * Fills {@code cos[r·half + j]} and {@code sin[r·half + j]} ({@code half = headSize/2}) for positions
     * {@code p = from + r}, {@code 0 <= r < count}: pair {@code j} turns by {@code p · theta^(-2j/headSize)}, as
     * llama2.c computes it: the frequency {@code 1/theta^(2j/headSize)} in float (the exponent a float division, the
     * power in {@link StrictMath}), the angle {@code p · freq} in float, then {@link StrictMath#cos}/{@code sin}.
     */
    public static void tables(int from, int count, int headSize, float theta, float[] cos, float[] sin) {
        int half = headSize / 2;
        float[] freq = new float[half];
        for (int j = 0; j < half; j++) {
            freq[j] = (float) (1.0 / StrictMath.pow(theta, (float) (2 * j) / headSize));
        }
        for (int r = 0; r < count; r++) {
            int p = from + r;
            for (int j = 0; j < half; j++) {
                float angle = p * freq[j];
                cos[r * half + j] = (float) StrictMath.cos(angle);
                sin[r * half + j] = (float) StrictMath.sin(angle);
            }
        }
    }
}
