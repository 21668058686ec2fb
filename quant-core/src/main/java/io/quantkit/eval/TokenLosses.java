package io.quantkit.eval;

import java.util.Arrays;
import java.util.Objects;

/**
 * The negative log-likelihood of every scored token of a plan, in plan order (segment after segment, position after
 * position): what a paired comparison of two models scored on the same tokens needs.
 *
 * <p>Immutable; the values are copied in and never handed out as an array.
 */
public final class TokenLosses {
    private final double[] nll;

    private TokenLosses(double[] nll) {
        this.nll = nll;
    }

    /** The losses {@code nll[0 .. n)}, copied. */
    public static TokenLosses of(double[] nll) {
        return new TokenLosses(Objects.requireNonNull(nll, "nll").clone());
    }

    /** Wraps an array the caller gives up (no copy). */
    static TokenLosses wrap(double[] nll) {
        return new TokenLosses(nll);
    }

    /** Number of scored tokens. */
    public int count() {
        return nll.length;
    }

    /** The loss of scored token {@code i} (nats). */
    public double get(int i) {
        return nll[i];
    }

    /** Mean loss (summed in order). */
    public double mean() {
        double s = 0;
        for (double v : nll) {
            s += v;
        }
        return s / nll.length;
    }

    /**
     * The paired difference of {@code a} against {@code b} over the same tokens ({@code a - b}, token by token).
     *
     * @throws IllegalArgumentException when the two do not score the same number of tokens, or fewer than two
     */
    public static PairedDifference paired(TokenLosses a, TokenLosses b) {
        int n = a.nll.length;
        if (b.nll.length != n) {
            throw new IllegalArgumentException("paired losses need the same tokens (" + n + " vs " + b.nll.length + ")");
        }
        if (n < 2) {
            throw new IllegalArgumentException("paired losses need at least two tokens, got " + n);
        }
        double ma = a.mean();
        double mb = b.mean();
        double md = 0;
        for (int i = 0; i < n; i++) {
            md += a.nll[i] - b.nll[i];
        }
        md /= n;
        // second pass: (co)variances about the means, as population moments (llama.cpp's convention, /n), then
        // divided by n - 1 for the variance of a mean, as PerplexityResult's standard error is
        double vd = 0;
        double va = 0;
        double vb = 0;
        double cab = 0;
        for (int i = 0; i < n; i++) {
            double da = a.nll[i] - ma;
            double db = b.nll[i] - mb;
            double dd = a.nll[i] - b.nll[i] - md;
            vd += dd * dd;
            va += da * da;
            vb += db * db;
            cab += da * db;
        }
        vd /= n;
        va /= n;
        vb /= n;
        cab /= n;
        double pa = Math.exp(ma);
        double pb = Math.exp(mb);
        // delta method for exp(mean_a) - exp(mean_b) with the covariance of the two means
        double vDelta = Math.max(0.0, pa * pa * va + pb * pb * vb - 2 * pa * pb * cab);
        return new PairedDifference(md, Math.sqrt(vd / (n - 1)), pa - pb, Math.sqrt(vDelta / (n - 1)), n);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TokenLosses t && Arrays.equals(nll, t.nll);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(nll);
    }

    @Override
    public String toString() {
        return "TokenLosses[" + nll.length + " tokens, mean " + (nll.length == 0 ? Double.NaN : mean()) + "]";
    }
}
