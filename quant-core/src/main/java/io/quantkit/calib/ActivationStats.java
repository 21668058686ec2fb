package io.quantkit.calib;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What the activation observers need to know of one linear layer's input, gathered in two passes over the same
 * calibration batches (a batch is one call of the model's observer hook: one forward of one sequence):
 *
 * <pre>
 * pass 1  rows; min, max over every value; per-channel absmax and mean |x|; each batch's min and max (in order)
 * pass 2  hist[b], b = min(BINS − 1, ⌊|x| · BINS / A⌋) computed in double, A = the absmax of pass 1
 *         (BINS bins of width w = A / BINS over [0, A]; all values in bin 0 when A = 0)
 * </pre>
 * Sums and orders do not depend on the thread count (the hook runs on the session's thread). Immutable once
 * built; arrays are copied out.
 */
public final class ActivationStats {
    /** Bins of the |x| histogram (as TensorRT's and PyTorch's histogram calibrators). */
    public static final int BINS = 2048;
    /** Levels of |x| the KL observer quantizes the reference distribution to (int8: 0..127). */
    public static final int KL_LEVELS = 128;
    /** Smoothing added to empty bins before KL divergence (as MXNet's entropy calibration). */
    static final double KL_EPS = 1e-4;

    private final long rows;
    private final double min;
    private final double max;
    private final double[] channelAbsmax;
    private final double[] channelMeanAbs;
    private final double[] batchMin;
    private final double[] batchMax;
    private final long[] hist;

    private ActivationStats(long rows, double min, double max, double[] channelAbsmax, double[] channelMeanAbs,
                            double[] batchMin, double[] batchMax, long[] hist) {
        this.rows = rows;
        this.min = min;
        this.max = max;
        this.channelAbsmax = channelAbsmax;
        this.channelMeanAbs = channelMeanAbs;
        this.batchMin = batchMin;
        this.batchMax = batchMax;
        this.hist = hist;
    }

    public long rows() {
        return rows;
    }

    public double min() {
        return min;
    }

    public double max() {
        return max;
    }

    /** max |x| over every value: the histogram's range. */
    public double absmax() {
        return Math.max(-min, max);
    }

    /** Per input channel max |x_j| (SmoothQuant's activation statistic). */
    public double[] channelAbsmax() {
        return channelAbsmax.clone();
    }

    /** Per input channel mean |x_j| (AWQ's activation statistic). */
    public double[] channelMeanAbs() {
        return channelMeanAbs.clone();
    }

    public double[] batchMin() {
        return batchMin.clone();
    }

    public double[] batchMax() {
        return batchMax.clone();
    }

    public long[] histogram() {
        return hist.clone();
    }

    /** Width of one histogram bin. */
    public double binWidth() {
        return absmax() / BINS;
    }

    /** The clipping threshold T the observer chooses for a grid of {@code format} (see {@link Observer}). */
    public double threshold(Observer observer, double param, ActivationScheme.Format format) {
        return switch (observer) {
            case MINMAX -> absmax();
            case EMA -> emaThreshold(param);
            case PERCENTILE -> percentileThreshold(param);
            case MSE -> mseThreshold(format);
            case KL -> klThreshold();
        };
    }

    /** The static threshold of {@code scheme} (which has an observer). */
    public double threshold(ActivationScheme scheme) {
        if (scheme.observer() == null) {
            throw new IllegalArgumentException(scheme + " has no observer (static scales)");
        }
        return threshold(scheme.observer(), scheme.param(), scheme.format());
    }

    /** The moving-average min and max after every batch: {@code {min, max}}. */
    public double[] emaRange(double c) {
        if (batchMin.length == 0) {
            return new double[] {0, 0};
        }
        double mn = batchMin[0];
        double mx = batchMax[0];
        for (int i = 1; i < batchMin.length; i++) {
            mn = mn + c * (batchMin[i] - mn);
            mx = mx + c * (batchMax[i] - mx);
        }
        return new double[] {mn, mx};
    }

    double emaThreshold(double c) {
        double[] r = emaRange(c);
        return Math.max(-r[0], r[1]);
    }

    /** Percentile {@code p} (in percent) of |x|: the upper edge of the first bin whose cumulative count ≥ p/100·N. */
    double percentileThreshold(double p) {
        long total = 0;
        for (long h : hist) {
            total += h;
        }
        double need = p / 100 * total;
        long seen = 0;
        double w = binWidth();
        for (int b = 0; b < BINS; b++) {
            seen += hist[b];
            if (seen >= need) {
                return (b + 1) * w;
            }
        }
        return absmax();
    }

    /** Squared error Σ_b n_b·(c_b − fq_T(c_b))² of the bin centres at threshold {@code t}. */
    double histogramError(double t, ActivationScheme.Format format) {
        double w = binWidth();
        float scale = (float) (t / format.qmax());
        double err = 0;
        for (int b = 0; b < BINS; b++) {
            if (hist[b] == 0) {
                continue;
            }
            float c = (float) ((b + 0.5) * w);
            double d = (double) c - ActivationQuantizer.fakeQuant(c, scale, format);
            err += hist[b] * d * d;
        }
        return err;
    }

    double mseThreshold(ActivationScheme.Format format) {
        double w = binWidth();
        if (w == 0) {
            return 0;
        }
        double best = Double.POSITIVE_INFINITY;
        int bestK = BINS;
        for (int k = 1; k <= BINS; k++) {
            double e = histogramError(k * w, format);
            if (e < best) {
                best = e;
                bestK = k;
            }
        }
        return bestK * w;
    }

    /**
     * TensorRT-style entropy calibration. For each candidate {@code i = KL_LEVELS .. BINS} (threshold i·w):
     * <pre>
     * P = hist[0, i), with every count at or above bin i added to P[i−1]   (clipped outliers)
     * Q: hist[0, i) merged into KL_LEVELS groups of m = ⌊i / KL_LEVELS⌋ bins (the last group takes the
     *    rest up to i); each group's total spread evenly over the group's bins where P ≠ 0, 0 elsewhere
     * both smoothed: every zero count becomes ε = 1e-4, every non-zero one loses ε·zeros/non-zeros
     * D(i) = Σ p log(p / q) of the normalised P and Q (∞ when Q has no non-zero count)
     * </pre>
     * T = i·w for the first i of least D. All in double.
     */
    public double klThreshold() {
        double w = binWidth();
        if (w == 0) {
            return 0;
        }
        long[] suffix = new long[BINS + 1];
        for (int b = BINS - 1; b >= 0; b--) {
            suffix[b] = suffix[b + 1] + hist[b];
        }
        double[] p = new double[BINS];
        double[] q = new double[BINS];
        double best = Double.POSITIVE_INFINITY;
        int bestI = BINS;
        for (int i = KL_LEVELS; i <= BINS; i++) {
            for (int j = 0; j < i; j++) {
                p[j] = hist[j];
            }
            p[i - 1] += suffix[i];
            int m = i / KL_LEVELS;
            for (int g = 0; g < KL_LEVELS; g++) {
                int start = g * m;
                int stop = g == KL_LEVELS - 1 ? i : start + m;
                double total = 0;
                int nonzero = 0;
                for (int j = start; j < stop; j++) {
                    total += hist[j];
                    if (p[j] != 0) {
                        nonzero++;
                    }
                }
                for (int j = start; j < stop; j++) {
                    q[j] = p[j] != 0 && nonzero > 0 ? total / nonzero : 0;
                }
            }
            double d = smooth(p, i) && smooth(q, i) ? divergence(p, q, i) : Double.POSITIVE_INFINITY;
            if (d < best) {
                best = d;
                bestI = i;
            }
        }
        return bestI * w;
    }

    /** MXNet's smoothing of counts in place; false when every count is zero. */
    private static boolean smooth(double[] a, int n) {
        int zeros = 0;
        for (int j = 0; j < n; j++) {
            if (a[j] == 0) {
                zeros++;
            }
        }
        int nonzeros = n - zeros;
        if (nonzeros == 0) {
            return false;
        }
        double eps1 = KL_EPS * zeros / nonzeros;
        for (int j = 0; j < n; j++) {
            a[j] = a[j] == 0 ? KL_EPS : a[j] - eps1;
        }
        return true;
    }

    private static double divergence(double[] p, double[] q, int n) {
        double sp = 0;
        double sq = 0;
        for (int j = 0; j < n; j++) {
            sp += p[j];
            sq += q[j];
        }
        double d = 0;
        for (int j = 0; j < n; j++) {
            double pj = p[j] / sp;
            double qj = q[j] / sq;
            if (pj > 0) {
                d += pj * Math.log(pj / qj);
            }
        }
        return d;
    }

    /**
     * Mutable two-pass accumulator; one thread at a time. Pass 1 ({@link #add} until {@link #beginHistogram})
     * records ranges, pass 2 (the same batches again) fills the histogram.
     */
    public static final class Accumulator {
        private final int width;
        private long rows;
        private double min = Double.POSITIVE_INFINITY;
        private double max = Double.NEGATIVE_INFINITY;
        private final double[] channelAbsmax;
        private final double[] channelSumAbs;
        private final List<double[]> batches = new ArrayList<>();
        private long[] hist; // null during pass 1
        private double range;

        public Accumulator(int width) {
            if (width < 1) {
                throw new IllegalArgumentException("input width (" + width + ") must be at least 1");
            }
            this.width = width;
            channelAbsmax = new double[width];
            channelSumAbs = new double[width];
        }

        /** Adds one batch of {@code rows} rows of {@code width} floats from the start of {@code x}. */
        public void add(float[] x, int n, int w) {
            if (w != width) {
                throw new IllegalArgumentException("input width " + w + " differs from the " + width + " seen before");
            }
            if (hist == null) {
                double bmin = Double.POSITIVE_INFINITY;
                double bmax = Double.NEGATIVE_INFINITY;
                for (int r = 0; r < n; r++) {
                    int o = r * w;
                    for (int j = 0; j < w; j++) {
                        double v = x[o + j];
                        if (!Double.isFinite(v)) {
                            throw new IllegalArgumentException("activation is not finite (" + v + ")");
                        }
                        bmin = Math.min(bmin, v);
                        bmax = Math.max(bmax, v);
                        channelAbsmax[j] = Math.max(channelAbsmax[j], Math.abs(v));
                        channelSumAbs[j] += Math.abs(v);
                    }
                }
                if (n > 0) {
                    batches.add(new double[] {bmin, bmax});
                    min = Math.min(min, bmin);
                    max = Math.max(max, bmax);
                }
                rows += n;
            } else {
                double k = range == 0 ? 0 : BINS / range;
                for (int i = 0; i < n * w; i++) {
                    int b = (int) Math.min(BINS - 1, Math.floor(Math.abs((double) x[i]) * k));
                    hist[b]++;
                }
            }
        }

        /** Ends pass 1: the histogram's range is now fixed to the absmax seen. */
        public void beginHistogram() {
            if (hist != null) {
                throw new IllegalStateException("the histogram pass has already begun");
            }
            hist = new long[BINS];
            range = rows == 0 ? 0 : Math.max(-min, max);
        }

        public ActivationStats finish() {
            if (hist == null) {
                throw new IllegalStateException("the histogram pass has not been run");
            }
            double[] bmin = new double[batches.size()];
            double[] bmax = new double[batches.size()];
            for (int i = 0; i < bmin.length; i++) {
                bmin[i] = batches.get(i)[0];
                bmax[i] = batches.get(i)[1];
            }
            double[] mean = new double[width];
            for (int j = 0; j < width; j++) {
                mean[j] = rows == 0 ? 0 : channelSumAbs[j] / rows;
            }
            return new ActivationStats(rows, rows == 0 ? 0 : min, rows == 0 ? 0 : max, channelAbsmax.clone(), mean,
                    bmin, bmax, Arrays.copyOf(hist, BINS));
        }
    }
}
