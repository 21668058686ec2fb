package io.quantkit.calib;

import io.quantkit.tensor.Tensor;

/** The error GPTQ minimises, written out independently of {@link Gptq} for tests here and in quant-cli. */
public final class OutputError {
    private OutputError() {
    }

    /** Σ over rows of eᵀ G e, e = w − q, G = {@code s}'s input second moment E[xxᵀ]. */
    public static double of(Tensor w, Tensor q, TensorStats s) {
        float[] a = w.toFloatArray();
        float[] b = q.toFloatArray();
        int cols = s.width();
        double[] g = s.gram();
        double sum = 0;
        for (int r = 0; r < a.length / cols; r++) {
            for (int i = 0; i < cols; i++) {
                double ei = a[r * cols + i] - b[r * cols + i];
                for (int j = 0; j < cols; j++) {
                    sum += ei * g[i * cols + j] * (a[r * cols + j] - b[r * cols + j]);
                }
            }
        }
        return sum;
    }
}
