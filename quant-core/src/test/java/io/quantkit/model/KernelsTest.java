package io.quantkit.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The forward pass's product against the plain triple loop that sums each element from zero over the inputs in
 * increasing order: the same bits, on shapes that exercise every path of the kernel (fewer than four rows, a
 * remainder of rows, tiles of fewer and of at least 160 columns, odd input counts for the two-inputs-per-pass form,
 * more columns than one tile, more inputs than one block, and column ranges that start inside a row as a parallel split makes them).
 */
class KernelsTest {
    private static float[] naive(float[] x, int rows, int in, float[][] w, int out) {
        float[] y = new float[rows * out];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                float s = 0f;
                for (int i = 0; i < in; i++) {
                    s += x[r * in + i] * w[i][o];
                }
                y[r * out + o] = s;
            }
        }
        return y;
    }

    @Test
    void bitsEqualTheOrderedTripleLoop() {
        int[][] shapes = {{1, 1, 1}, {1, 64, 64}, {3, 7, 5}, {4, 3, 159}, {4, 5, 160}, {5, 64, 172}, {7, 172, 64},
            {9, 33, 513}, {4, 2, Kernels.TILE + 161}, {13, 31, 2 * Kernels.TILE + 3}, {2, 17, Kernels.TILE + 5},
            {6, Kernels.KBLOCK + 1, 33}, {9, 2 * Kernels.KBLOCK + 3, Kernels.TILE + 7}, {3, Kernels.KBLOCK * 3, 17}};
        SplittableRandom rnd = new SplittableRandom(7);
        for (int[] sh : shapes) {
            int rows = sh[0];
            int in = sh[1];
            int out = sh[2];
            float[] x = new float[rows * in];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (rnd.nextGaussian() * (1 + 10 * rnd.nextDouble()));
            }
            float[][] w = new float[in][out];
            for (float[] row : w) {
                for (int o = 0; o < out; o++) {
                    row[o] = (float) (rnd.nextGaussian() * 0.02);
                }
            }
            float[] want = naive(x, rows, in, w, out);
            float[] y = new float[rows * out];
            Kernels.matmul(x, in, w, out, y, 0, rows, 0, out);
            assertBits(want, y, sh, "whole");
            // split as the thread pool does: by rows, and by columns at an unaligned point
            float[] byRows = new float[rows * out];
            int rs = rows / 2;
            Kernels.matmul(x, in, w, out, byRows, 0, rs, 0, out);
            Kernels.matmul(x, in, w, out, byRows, rs, rows, 0, out);
            assertBits(want, byRows, sh, "rows split at " + rs);
            float[] byCols = new float[rows * out];
            int cs = Math.max(1, out / 3 + 1) % out;
            Kernels.matmul(x, in, w, out, byCols, 0, rows, 0, cs);
            Kernels.matmul(x, in, w, out, byCols, 0, rows, cs, out);
            assertBits(want, byCols, sh, "columns split at " + cs);
        }
    }

    private static void assertBits(float[] want, float[] got, int[] shape, String how) {
        for (int i = 0; i < want.length; i++) {
            assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]),
                    () -> String.format("%dx%d·%dx%d (%s): element differs", shape[0], shape[1], shape[1], shape[2], how));
        }
    }
}
