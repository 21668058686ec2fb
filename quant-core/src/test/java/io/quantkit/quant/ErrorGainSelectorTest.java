package io.quantkit.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.quantkit.tensor.Shape;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link ErrorGainSelector} against a brute-force greedy: at each step, every remaining weight is tried as the
 * next outlier, the group is re-quantized (symmetric INT4, s = amax of the rest / 7) and the importance-weighted
 * squared error of the whole tensor is summed; the lowest total wins (ties: lower index).
 */
class ErrorGainSelectorTest {
    static double groupedError(float[] w, boolean[] out, double[] imp, int cols, int g) {
        double total = 0;
        for (int r = 0; r < w.length / cols; r++) {
            for (int from = 0; from < cols; from += g) {
                int to = Math.min(cols, from + g);
                double amax = 0;
                for (int c = from; c < to; c++) {
                    if (!out[r * cols + c]) {
                        amax = Math.max(amax, Math.abs(w[r * cols + c]));
                    }
                }
                double s = amax / 7;
                for (int c = from; c < to; c++) {
                    int i = r * cols + c;
                    if (out[i]) {
                        continue;
                    }
                    double q = s == 0 ? 0 : Math.max(-8, Math.min(7, Math.rint(w[i] / s)));
                    double e = w[i] - q * s;
                    total += (imp == null ? 1 : imp[c]) * e * e;
                }
            }
        }
        return total;
    }

    static int[] bruteGreedy(float[] w, double[] imp, int cols, int g, int k) {
        boolean[] out = new boolean[w.length];
        int[] chosen = new int[k];
        for (int n = 0; n < k; n++) {
            int best = -1;
            double bestErr = Double.POSITIVE_INFINITY;
            for (int i = 0; i < w.length; i++) {
                if (out[i]) {
                    continue;
                }
                out[i] = true;
                double e = groupedError(w, out, imp, cols, g);
                out[i] = false;
                if (e < bestErr) {
                    bestErr = e;
                    best = i;
                }
            }
            out[best] = true;
            chosen[n] = best;
        }
        Arrays.sort(chosen);
        return chosen;
    }

    @Test
    void matchesBruteForceGreedyOnSeededTensors() {
        for (long seed = 1; seed <= 6; seed++) {
            Random rnd = new Random(seed);
            int rows = 3;
            int cols = 37; // prime: a short last group
            int g = seed % 2 == 0 ? 8 : 0;
            float[] w = new float[rows * cols];
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) (rnd.nextGaussian() * (rnd.nextInt(10) == 0 ? 5 : 1)); // heavy tail
            }
            double[] imp = new double[cols];
            for (int c = 0; c < cols; c++) {
                imp[c] = seed <= 3 ? 1 : 0.01 + rnd.nextDouble() * 3;
            }
            for (int k : new int[] {0, 1, 4, 11}) {
                int[] got = ErrorGainSelector.of(seed <= 3 ? null : imp, g).select(w, Shape.of(rows, cols), k);
                assertArrayEquals(bruteGreedy(w, seed <= 3 ? null : imp, cols, g == 0 ? cols : g, k), got,
                        "seed " + seed + ", k " + k);
            }
        }
    }

    @Test
    void keepsTheWeightWhoseErrorMattersNotTheLargest() {
        // one group, s = 7/7 = 1: errors 0, 0.1 (−6.9 → −7), 0.49 (0.49 → 0), 0; total 0.2501.
        // Keeping 0.49 leaves 0.01; keeping 7 (magnitude's choice) rescales to 6.9/7 and leaves 0.2420.
        float[] w = {7f, -6.9f, 0.49f, 3f};
        assertArrayEquals(new int[] {0}, OutlierSelector.byMagnitude().select(w, Shape.of(1, 4), 1));
        assertArrayEquals(new int[] {2}, ErrorGainSelector.of(null, 0).select(w, Shape.of(1, 4), 1));
        // with importance 0 on column 2 only −6.9's 0.01 counts: keeping it leaves 0, keeping 7 leaves 0.0018
        assertArrayEquals(new int[] {1}, ErrorGainSelector.of(new double[] {1, 1, 0, 1}, 0)
                .select(w, Shape.of(1, 4), 1));
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> ErrorGainSelector.of(new double[] {1, Double.NaN}, 0));
        assertThrows(IllegalArgumentException.class, () -> ErrorGainSelector.of(null, -1));
        assertThrows(IllegalArgumentException.class,
                () -> ErrorGainSelector.of(new double[] {1, 1}, 0).select(new float[6], Shape.of(2, 3), 1));
        assertThrows(IllegalArgumentException.class,
                () -> ErrorGainSelector.of(null, 0).select(new float[6], Shape.of(2, 3), 7));
    }
}
