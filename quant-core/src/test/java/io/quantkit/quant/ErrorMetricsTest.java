package io.quantkit.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quantkit.tensor.FloatTensor;
import io.quantkit.tensor.Shape;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Reference values computed with Python's decimal module (40 digits) or in closed form. */
class ErrorMetricsTest {

    @Test
    void smallExample() {
        ErrorMetrics m = ErrorMetrics.of(new float[] {1, 2, 3, 4}, new float[] {1, 2, 3, 5});
        assertEquals(4, m.count());
        assertEquals(0.25, m.mse(), 0);
        assertEquals(0.5, m.rmse(), 0);
        assertEquals(1.0, m.maxAbsError(), 0);
        assertEquals(14.771212547196624, m.sqnrDb(), 1e-13);          // 10·log10(30)
        assertEquals(0.9939990885479664, m.cosine(), 1e-15);          // 34/√(30·39)
        assertEquals(0.18257418583505536, m.relativeFrobenius(), 1e-16); // √(1/30)
        assertEquals(0, m.nonFinite());
    }

    @Test
    void compensatedSummationKeepsSmallTerms() {
        // Σx² = 1e16 + 1e6: a plain double sum drops every 1 added to 1e16 (its ulp is 2)
        int n = 1_000_001;
        float[] x = new float[n];
        Arrays.fill(x, 1f);
        x[0] = 1e8f;
        float[] y = x.clone();
        y[0] = 1e8f + 8f; // the next float above 1e8
        ErrorMetrics m = ErrorMetrics.of(x, y);
        assertEquals(7.9999999996000000000300e-8, m.relativeFrobenius(), 1e-21);
        assertEquals(141.93820026059542, m.sqnrDb(), 1e-12);
        assertEquals(64.0 / n, m.mse(), 0);
    }

    @Test
    void zeroSignal() {
        ErrorMetrics exact = ErrorMetrics.of(new float[3], new float[3]);
        assertEquals(Double.POSITIVE_INFINITY, exact.sqnrDb());
        assertEquals(0, exact.relativeFrobenius());
        assertEquals(1, exact.cosine());
        ErrorMetrics off = ErrorMetrics.of(new float[3], new float[] {0, 1, 0});
        assertEquals(Double.NEGATIVE_INFINITY, off.sqnrDb());
        assertEquals(Double.POSITIVE_INFINITY, off.relativeFrobenius());
        assertEquals(0, off.cosine());
        assertEquals(1.0 / 3, off.mse(), 0);
        ErrorMetrics allLost = ErrorMetrics.of(new float[] {1, 2}, new float[2]);
        assertEquals(0, allLost.cosine());
        assertEquals(1, allLost.relativeFrobenius(), 0);
        assertEquals(0, allLost.sqnrDb(), 0);
    }

    @Test
    void exactReconstruction() {
        ErrorMetrics m = ErrorMetrics.of(new float[] {1, -2}, new float[] {1, -2});
        assertEquals(Double.POSITIVE_INFINITY, m.sqnrDb());
        assertEquals(0, m.mse());
        assertEquals(1, m.cosine(), 0);
    }

    @Test
    void empty() {
        ErrorMetrics m = ErrorMetrics.of(new float[0], new float[0]);
        assertEquals(0, m.count());
        assertEquals(0, m.mse());
        assertEquals(Double.POSITIVE_INFINITY, m.sqnrDb());
    }

    @Test
    void nonFiniteReconstructionIsInfiniteError() {
        ErrorMetrics m = ErrorMetrics.of(new float[] {1, 2, 3}, new float[] {1, Float.NaN, Float.POSITIVE_INFINITY});
        assertEquals(2, m.nonFinite());
        assertEquals(Double.POSITIVE_INFINITY, m.mse());
        assertEquals(Double.POSITIVE_INFINITY, m.maxAbsError());
        assertEquals(Double.NEGATIVE_INFINITY, m.sqnrDb());
        assertTrue(Double.isNaN(m.cosine()));
    }

    @Test
    void nonFiniteOriginalIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ErrorMetrics.of(new float[] {1, Float.NaN}, new float[] {1, 1}));
        assertTrue(e.getMessage().contains("element 1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ErrorMetrics.of(new float[2], new float[3]));
        assertThrows(IllegalArgumentException.class, () -> ErrorMetrics.of(
                FloatTensor.of(Shape.of(2), new float[2]), FloatTensor.of(Shape.of(1, 2), new float[2])));
    }

    @Test
    void tensorFormStreamsToTheSameResult() {
        long seed = 77;
        Random r = new Random(seed);
        int n = 200_003; // more than three chunks, not a multiple of the chunk
        float[] x = new float[n];
        float[] y = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextGaussian();
            y[i] = x[i] + (float) (r.nextGaussian() * 0.01);
        }
        ErrorMetrics a = ErrorMetrics.of(x, y);
        ErrorMetrics b = ErrorMetrics.of(FloatTensor.of(Shape.of(n), x), FloatTensor.of(Shape.of(n), y));
        assertEquals(a, b, "seed " + seed);
        // SQNR of additive noise with σ ratio 100: 40 dB within sampling error
        assertEquals(40, a.sqnrDb(), 0.1, "seed " + seed);
    }
}
