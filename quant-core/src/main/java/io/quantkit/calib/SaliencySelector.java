package io.quantkit.calib;

import io.quantkit.quant.OutlierSelector;
import io.quantkit.tensor.Shape;
import java.util.Arrays;

/**
 * Outliers by saliency: the {@code count} weights with the largest {@code imp[col] · w²}, where {@code imp} is the
 * per-input-channel mean of x² of the layer's input (so a weight's score is the expected squared output change
 * if it were zeroed). Ties go to the lower index; indexes are returned ascending.
 */
public final class SaliencySelector implements OutlierSelector {
    private final double[] importance;

    private SaliencySelector(double[] importance) {
        this.importance = importance;
    }

    /** A selector for weights whose rows have {@code importance.length} columns. */
    public static SaliencySelector of(double[] importance) {
        for (double v : importance) {
            if (!(v >= 0) || Double.isInfinite(v)) {
                throw new IllegalArgumentException("importance values must be finite and non-negative, got " + v);
            }
        }
        return new SaliencySelector(importance.clone());
    }

    @Override
    public int[] select(float[] w, Shape shape, int count) {
        if (count < 0 || count > w.length) {
            throw new IllegalArgumentException("outlier count (" + count + ") must be in 0.." + w.length);
        }
        int cols = (int) shape.rowLength();
        if (cols != importance.length) {
            throw new IllegalArgumentException("tensor rows have " + cols + " columns but the importance has "
                    + importance.length);
        }
        double[] score = new double[w.length];
        for (int i = 0; i < w.length; i++) {
            score[i] = importance[i % cols] * (double) w[i] * w[i];
        }
        Integer[] idx = new Integer[w.length];
        for (int i = 0; i < w.length; i++) {
            idx[i] = i;
        }
        Arrays.sort(idx, (a, b) -> {
            int c = Double.compare(score[b], score[a]);
            return c != 0 ? c : Integer.compare(a, b);
        });
        int[] out = new int[count];
        for (int j = 0; j < count; j++) {
            out[j] = idx[j];
        }
        Arrays.sort(out);
        return out;
    }
}
