package io.quantkit.quant;

import io.quantkit.tensor.Shape;
import java.util.Arrays;
import java.util.PriorityQueue;

/**
 * Outliers by the importance-weighted error they remove ({@code select=error}), chosen greedily: the grid part of
 * int4-outliers is a symmetric INT4 grid with one scale per group, s = amax(bulk) / 7 (the bulk: the group's
 * weights not yet chosen), so keeping weight j exactly removes
 *
 * <pre>
 * gain(j) = Σ_{i in group} imp_i·e_i²(s) − Σ_{i in group, i ≠ j} imp_i·e_i²(s')
 *   e_i(s) = w_i − s·clamp(round_half_even(w_i / s), −8, 7),  s' the scale of the bulk without j
 * </pre>
 * (s' = s unless j is the group's largest |w|, so every other candidate's gain is just imp_j·e_j²). Each step
 * takes the largest gain (ties: lower flat index), removes it, and re-scores its group, so an element's gain is
 * always measured against the group's scale after the removals so far. {@code imp} is the input channel's mean
 * x² (uniform = 1 when null, e.g. the token embedding). Deterministic; indexes returned ascending.
 */
public final class ErrorGainSelector implements OutlierSelector {
    private static final int QMAX = 7;
    private static final int QMIN = -8;

    private final double[] importance;
    private final int group;

    private ErrorGainSelector(double[] importance, int group) {
        this.importance = importance;
        this.group = group;
    }

    /**
     * A selector for the int4-outliers grid with groups of {@code group} (0: whole row) and per-column
     * {@code importance} (null: all 1).
     */
    public static ErrorGainSelector of(double[] importance, int group) {
        if (group < 0) {
            throw new IllegalArgumentException("group (" + group + ") must be >= 0");
        }
        if (importance != null) {
            for (double v : importance) {
                if (!(v >= 0) || Double.isInfinite(v)) {
                    throw new IllegalArgumentException("importance values must be finite and non-negative, got " + v);
                }
            }
        }
        return new ErrorGainSelector(importance == null ? null : importance.clone(), group);
    }

    @Override
    public int[] select(float[] w, Shape shape, int count) {
        if (count < 0 || count > w.length) {
            throw new IllegalArgumentException("outlier count (" + count + ") must be in 0.." + w.length);
        }
        int cols = (int) shape.rowLength();
        if (importance != null && cols != importance.length) {
            throw new IllegalArgumentException("tensor rows have " + cols + " columns but the importance has "
                    + importance.length);
        }
        if (count == 0) {
            return new int[0];
        }
        int g = group == 0 || group > cols ? cols : group;
        int perRow = (cols + g - 1) / g;
        int groups = w.length / cols * perRow;
        boolean[] taken = new boolean[w.length];
        double[] gain = new double[w.length];
        // one entry per group: {its best remaining gain, that element's index}; largest gain first, then lower index
        PriorityQueue<double[]> queue = new PriorityQueue<>((x, y) -> {
            int c = Double.compare(y[0], x[0]);
            return c != 0 ? c : Double.compare(x[1], y[1]);
        });
        for (int k = 0; k < groups; k++) {
            offer(queue, w, cols, g, perRow, k, taken, gain);
        }
        int[] out = new int[count];
        for (int n = 0; n < count; n++) {
            double[] top = queue.poll();
            int idx = (int) top[1];
            taken[idx] = true;
            out[n] = idx;
            offer(queue, w, cols, g, perRow, idx / cols * perRow + (idx % cols) / g, taken, gain);
        }
        Arrays.sort(out);
        return out;
    }

    /** Re-scores group {@code k} and queues its best remaining element (none if the group is exhausted). */
    private void offer(PriorityQueue<double[]> q, float[] w, int cols, int g, int perRow, int k, boolean[] taken,
                       double[] gain) {
        score(w, cols, g, perRow, k, taken, gain);
        int row = k / perRow;
        int from = row * cols + (k % perRow) * g;
        int to = Math.min(row * cols + cols, from + g);
        int best = -1;
        for (int i = from; i < to; i++) {
            if (!taken[i] && (best < 0 || gain[i] > gain[best])) {
                best = i;
            }
        }
        if (best >= 0) {
            q.add(new double[] {gain[best], best});
        }
    }

    /** Gains of the group's remaining elements against its current bulk scale. */
    private void score(float[] w, int cols, int g, int perRow, int k, boolean[] taken, double[] gain) {
        int row = k / perRow;
        int from = row * cols + (k % perRow) * g;
        int to = Math.min(row * cols + cols, from + g);
        int top = -1;
        double amax = 0;
        double second = 0;
        for (int i = from; i < to; i++) {
            if (taken[i]) {
                continue;
            }
            double a = Math.abs(w[i]);
            if (top < 0 || a > amax) {
                second = top < 0 ? 0 : amax;
                amax = a;
                top = i;
            } else if (a > second) {
                second = a;
            }
        }
        if (top < 0) {
            return;
        }
        double s = amax / QMAX;
        double total = 0;
        for (int i = from; i < to; i++) {
            if (!taken[i]) {
                double e = imp(i % cols) * sq(err(w[i], s));
                gain[i] = e;
                total += e;
            }
        }
        // removing the extreme rescales the rest
        double s2 = second / QMAX;
        double rest = 0;
        for (int i = from; i < to; i++) {
            if (!taken[i] && i != top) {
                rest += imp(i % cols) * sq(err(w[i], s2));
            }
        }
        gain[top] = total - rest;
    }

    private double imp(int col) {
        return importance == null ? 1 : importance[col];
    }

    private static double sq(double x) {
        return x * x;
    }

    static double err(double w, double s) {
        if (s == 0) {
            return w;
        }
        double q = Math.rint(w / s);
        q = Math.max(QMIN, Math.min(QMAX, q));
        return w - q * s;
    }
}
