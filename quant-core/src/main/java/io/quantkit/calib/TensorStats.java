package io.quantkit.calib;

import java.util.Arrays;

/**
 * Statistics of the input of one linear layer over a calibration pass, all accumulated in double in token
 * order (so they do not depend on the thread count).
 *
 * <pre>
 * rows            number of input rows (tokens) seen
 * mean_sq[j]      Σ x_j² / rows         per input channel: the importance (llama.cpp's imatrix value)
 * absmax[j]       max |x_j|             per input channel
 * min[j], max[j]  per input channel
 * gram[i][j]      Σ x_i·x_j / rows      the input's second moment; GPTQ's Hessian is H = 2·gram
 * hist[b]         counts of |x| over every channel: b = 0 for x = 0, else
 *                 b = 1 + clamp(⌊8·log2|x|⌋ − 8·HIST_MIN_EXP, 0, HIST_BINS − 2)  (8 bins per octave,
 *                 octaves 2^HIST_MIN_EXP .. 2^HIST_MAX_EXP, the ends clamped)
 * </pre>
 * Immutable once built; arrays are never exposed without copying.
 */
public final class TensorStats {
    /** Lowest octave of the histogram (|x| below 2^-32 falls in the first bin). */
    public static final int HIST_MIN_EXP = -32;
    /** Highest octave of the histogram. */
    public static final int HIST_MAX_EXP = 32;
    /** Bins per octave. */
    public static final int HIST_PER_OCTAVE = 8;
    /** Bins, including the zero bin. */
    public static final int HIST_BINS = 1 + (HIST_MAX_EXP - HIST_MIN_EXP) * HIST_PER_OCTAVE;
    /** Widest input accepted (the Gram matrix is width² doubles). */
    public static final int MAX_WIDTH = 1 << 14;

    private final int width;
    private final long rows;
    private final double[] meanSq;
    private final double[] absmax;
    private final double[] min;
    private final double[] max;
    private final double[] gram; // full width x width, symmetric
    private final long[] hist;

    TensorStats(int width, long rows, double[] meanSq, double[] absmax, double[] min, double[] max, double[] gram,
                long[] hist) {
        if (meanSq.length != width || absmax.length != width || min.length != width || max.length != width
                || gram.length != width * width || hist.length != HIST_BINS) {
            throw new IllegalArgumentException("statistics arrays do not match the input width " + width);
        }
        this.width = width;
        this.rows = rows;
        this.meanSq = meanSq;
        this.absmax = absmax;
        this.min = min;
        this.max = max;
        this.gram = gram;
        this.hist = hist;
    }

    public int width() {
        return width;
    }

    public long rows() {
        return rows;
    }

    /** Per-channel mean of x² (importance). */
    public double[] importance() {
        return meanSq.clone();
    }

    public double[] absmax() {
        return absmax.clone();
    }

    public double[] min() {
        return min.clone();
    }

    public double[] max() {
        return max.clone();
    }

    /** The {@code width × width} matrix Σ x xᵀ / rows, row-major. */
    public double[] gram() {
        return gram.clone();
    }

    public long[] histogram() {
        return hist.clone();
    }

    /** The lower edge of histogram bin {@code b ≥ 1}. */
    public static double binLow(int b) {
        return Math.pow(2, HIST_MIN_EXP + (b - 1) / (double) HIST_PER_OCTAVE);
    }

    /** The histogram bin of a value. */
    static int bin(float v) {
        float a = Math.abs(v);
        if (a == 0) {
            return 0;
        }
        int e = Math.getExponent(a);
        int sub;
        if (e < HIST_MIN_EXP) {
            return 1;
        } else if (e >= HIST_MAX_EXP) {
            return HIST_BINS - 1;
        }
        // mantissa fraction m in [1, 2): sub-bin ⌊8·log2 m⌋ by comparing against 2^(k/8) (exact thresholds)
        float m = Math.scalb(a, -e);
        sub = 0;
        while (sub < HIST_PER_OCTAVE - 1 && m >= SUB_EDGES[sub + 1]) {
            sub++;
        }
        return 1 + (e - HIST_MIN_EXP) * HIST_PER_OCTAVE + sub;
    }

    private static final float[] SUB_EDGES = new float[HIST_PER_OCTAVE];

    static {
        for (int k = 0; k < HIST_PER_OCTAVE; k++) {
            SUB_EDGES[k] = (float) Math.pow(2, k / (double) HIST_PER_OCTAVE);
        }
    }

    /** The smallest |x| bound below which at least {@code fraction} of the values lie (bin upper edge). */
    public double percentile(double fraction) {
        if (!(fraction > 0 && fraction <= 1)) {
            throw new IllegalArgumentException("percentile fraction (" + fraction + ") must be in (0, 1]");
        }
        long total = 0;
        for (long c : hist) {
            total += c;
        }
        double need = fraction * total;
        long seen = 0;
        for (int b = 0; b < HIST_BINS; b++) {
            seen += hist[b];
            if (seen >= need) {
                return b == 0 ? 0 : Math.min(binLow(b + 1), maxAbs());
            }
        }
        return maxAbs();
    }

    private double maxAbs() {
        double m = 0;
        for (double a : absmax) {
            m = Math.max(m, a);
        }
        return m;
    }

    /** Mutable accumulator; one thread at a time. */
    static final class Accumulator {
        final int width;
        long rows;
        final double[] sumSq;
        final double[] absmax;
        final double[] min;
        final double[] max;
        final double[] gram;
        final long[] hist = new long[HIST_BINS];
        private final double[] row;

        Accumulator(int width) {
            if (width < 1 || width > MAX_WIDTH) {
                throw new IllegalArgumentException("input width (" + width + ") must be in 1.." + MAX_WIDTH);
            }
            this.width = width;
            sumSq = new double[width];
            absmax = new double[width];
            min = new double[width];
            max = new double[width];
            Arrays.fill(min, Double.POSITIVE_INFINITY);
            Arrays.fill(max, Double.NEGATIVE_INFINITY);
            gram = new double[width * width];
            row = new double[width];
        }

        void add(float[] x, int n, int w) {
            if (w != width) {
                throw new IllegalArgumentException("input width " + w + " differs from the " + width + " seen before");
            }
            for (int r = 0; r < n; r++) {
                int o = r * w;
                for (int j = 0; j < w; j++) {
                    float v = x[o + j];
                    double d = v;
                    row[j] = d;
                    sumSq[j] += d * d;
                    absmax[j] = Math.max(absmax[j], Math.abs(d));
                    min[j] = Math.min(min[j], d);
                    max[j] = Math.max(max[j], d);
                    hist[bin(v)]++;
                }
                // upper triangle (i ≤ j), mirrored when finished
                for (int i = 0; i < w; i++) {
                    double xi = row[i];
                    if (xi == 0) {
                        continue;
                    }
                    int g = i * w;
                    for (int j = i; j < w; j++) {
                        gram[g + j] += xi * row[j];
                    }
                }
                rows++;
            }
        }

        TensorStats finish() {
            double inv = rows == 0 ? 0 : 1.0 / rows;
            double[] ms = new double[width];
            double[] g = new double[width * width];
            for (int i = 0; i < width; i++) {
                ms[i] = sumSq[i] * inv;
                for (int j = i; j < width; j++) {
                    double v = gram[i * width + j] * inv;
                    g[i * width + j] = v;
                    g[j * width + i] = v;
                }
            }
            double[] mn = min.clone();
            double[] mx = max.clone();
            if (rows == 0) {
                Arrays.fill(mn, 0);
                Arrays.fill(mx, 0);
            }
            return new TensorStats(width, rows, ms, absmax.clone(), mn, mx, g, hist.clone());
        }
    }
}
