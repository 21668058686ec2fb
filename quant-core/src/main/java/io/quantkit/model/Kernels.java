package io.quantkit.model;

/** The scalar kernels of the forward pass. Each output element is summed over its inputs in index order. */
final class Kernels {
    private Kernels() {
    }

    /**
     * {@code y[r*out + o] = sum_{i in order} x[r*in + i] * wT[i*out + o]} for rows {@code [r0, r1)} and columns
     * {@code [o0, o1)}.
     *
     * <p>The inner loop over contiguous columns is an axpy, which the JIT vectorizes. Four inputs are folded per
     * pass as {@code (((y + x0 w0) + x1 w1) + x2 w2) + x3 w3}: the same additions in the same order as one input at
     * a time (so the same bits), with a quarter of the loads and stores of {@code y}. Every element's sum runs
     * over {@code i} in order, so the result does not depend on how rows or columns are split between threads.
     */
    static void matmul(float[] x, int in, float[] wT, int out, float[] y, int r0, int r1, int o0, int o1) {
        for (int r = r0; r < r1; r++) {
            int yo = r * out;
            int xo = r * in;
            for (int o = o0; o < o1; o++) {
                y[yo + o] = 0f;
            }
            int i = 0;
            for (; i + 4 <= in; i += 4) {
                float x0 = x[xo + i];
                float x1 = x[xo + i + 1];
                float x2 = x[xo + i + 2];
                float x3 = x[xo + i + 3];
                int w0 = i * out;
                int w1 = w0 + out;
                int w2 = w1 + out;
                int w3 = w2 + out;
                for (int o = o0; o < o1; o++) {
                    y[yo + o] = y[yo + o] + x0 * wT[w0 + o] + x1 * wT[w1 + o] + x2 * wT[w2 + o] + x3 * wT[w3 + o];
                }
            }
            for (; i < in; i++) {
                float xi = x[xo + i];
                int wo = i * out;
                for (int o = o0; o < o1; o++) {
                    y[yo + o] += xi * wT[wo + o];
                }
            }
        }
    }
}
