package io.quantkit.eval;

import io.quantkit.model.Generate;
import io.quantkit.model.LlamaModel;
import io.quantkit.model.ThreadPool;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs a model over an {@link EvalPlan}: perplexity, and optionally the next-token log-probabilities (to serve as
 * a baseline) or the divergence from a baseline's.
 *
 * <p>Segments are independent, so they run in parallel, one session per worker computing on its own thread;
 * per-segment sums are combined in segment order, so results do not depend on the thread count.
 */
public final class Evaluator {
    /** Most floats a kept set of log-probabilities may hold (scored positions times vocabulary). */
    public static final long MAX_KEPT_FLOATS = 1L << 28;

    private Evaluator() {
    }

    /** Next-token log-probabilities of every scored position, per segment ({@code scored x vocab} floats). */
    public static final class LogProbs {
        private final float[][] perSegment;
        private final int vocab;

        private LogProbs(float[][] perSegment, int vocab) {
            this.perSegment = perSegment;
            this.vocab = vocab;
        }

        public int vocab() {
            return vocab;
        }
    }

    /**
     * The outcome of one run. {@code logProbs} is null unless kept; {@code divergence} unless a baseline was given;
     * {@code losses} holds every scored token's NLL in plan order (for paired comparisons of runs on one plan).
     */
    public record Run(PerplexityResult perplexity, LogProbs logProbs, Divergence divergence, TokenLosses losses,
                      double seconds) {
    }

    /**
     * Evaluates {@code model} on {@code plan}. With {@code keep}, the log-probabilities are returned for later use
     * as a baseline; with a non-null {@code baseline} (from the same plan), the divergence from it is computed.
     */
    public static Run run(LlamaModel model, EvalPlan plan, ThreadPool pool, boolean keep, LogProbs baseline,
                          Progress progress) {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(plan, "plan");
        Objects.requireNonNull(pool, "pool");
        Objects.requireNonNull(progress, "progress");
        long start = System.nanoTime();
        int vocab = model.config().vocabSize();
        int segments = plan.segments().size();
        if (keep && plan.scoredTokens() * vocab > MAX_KEPT_FLOATS) {
            throw new IllegalArgumentException("keeping log-probabilities of " + plan.scoredTokens() + " positions x "
                    + vocab + " tokens exceeds the maximum (" + MAX_KEPT_FLOATS + " floats); use a shorter text");
        }
        if (baseline != null && (baseline.perSegment.length != segments || baseline.vocab != vocab)) {
            throw new IllegalArgumentException("baseline was computed on a different plan or vocabulary");
        }
        double[] nll = new double[segments];
        double[] nll2 = new double[segments];
        float[][] kept = keep ? new float[segments][] : null;
        double[][] kl = baseline != null ? new double[segments][] : null;
        double[][] losses = new double[segments][];
        int[] agree = new int[segments];
        int capacity = plan.maxLength();
        AtomicLong done = new AtomicLong();
        long total = plan.scoredTokens();
        pool.forRange(segments, 1, (from, to) -> {
            LlamaModel.Session session = model.newSession(capacity, ThreadPool.SEQUENTIAL);
            double[] lp = new double[vocab];
            for (int s = from; s < to; s++) {
                EvalPlan.Segment seg = plan.segments().get(s);
                session.reset();
                int first = seg.scoreFrom();
                int scored = seg.scored();
                // the last token is never input to a scored prediction
                float[] logits = session.forward(seg.tokensUnsafe(), 0, seg.length() - 1, first);
                float[] keepRows = keep ? new float[scored * vocab] : null;
                double[] klRows = kl != null ? new double[scored] : null;
                double[] lossRows = new double[scored];
                double sum = 0;
                double sum2 = 0;
                int same = 0;
                for (int i = 0; i < scored; i++) {
                    int off = i * vocab;
                    logSoftmax(logits, off, vocab, lp);
                    int target = seg.token(first + i + 1);
                    double v = -lp[target];
                    lossRows[i] = v;
                    sum += v;
                    sum2 += v * v;
                    if (keepRows != null) {
                        for (int t = 0; t < vocab; t++) {
                            keepRows[off + t] = (float) lp[t];
                        }
                    }
                    if (klRows != null) {
                        float[] base = baseline.perSegment[s];
                        double d = 0;
                        for (int t = 0; t < vocab; t++) {
                            // both sides rounded to float as the baseline is stored, so that identical
                            // models give exactly 0
                            double pb = base[off + t];
                            d += Math.exp(pb) * (pb - (float) lp[t]);
                        }
                        klRows[i] = Math.max(0.0, d);
                        if (Generate.argmax(base, off, vocab) == Generate.argmax(logits, off, vocab)) {
                            same++;
                        }
                    }
                }
                nll[s] = sum;
                nll2[s] = sum2;
                losses[s] = lossRows;
                agree[s] = same;
                if (keep) {
                    kept[s] = keepRows;
                }
                if (kl != null) {
                    kl[s] = klRows;
                }
                progress.update(done.addAndGet(scored), total);
            }
        });
        double sum = 0;
        double sum2 = 0;
        for (int s = 0; s < segments; s++) {
            sum += nll[s];
            sum2 += nll2[s];
        }
        PerplexityResult ppl = perplexity(sum, sum2, total);
        double[] allLosses = new double[Math.toIntExact(total)];
        for (int s = 0, k = 0; s < segments; s++) {
            System.arraycopy(losses[s], 0, allLosses, k, losses[s].length);
            k += losses[s].length;
        }
        Divergence div = null;
        if (kl != null) {
            double[] all = new double[Math.toIntExact(total)];
            int k = 0;
            long sameTotal = 0;
            for (int s = 0; s < segments; s++) {
                System.arraycopy(kl[s], 0, all, k, kl[s].length);
                k += kl[s].length;
                sameTotal += agree[s];
            }
            div = divergence(all, sameTotal);
        }
        return new Run(ppl, keep ? new LogProbs(kept, vocab) : null, div, TokenLosses.wrap(allLosses),
                (System.nanoTime() - start) / 1e9);
    }

    /** Perplexity from the sum and sum of squares of {@code n} per-token NLLs (standard error as llama.cpp). */
    static PerplexityResult perplexity(double sum, double sumSquares, long n) {
        double mean = sum / n;
        double ppl = Math.exp(mean);
        double err = Double.NaN;
        if (n > 1) {
            double var = sumSquares / n - mean * mean;
            err = var > 0 ? ppl * Math.sqrt(var / (n - 1)) : 0.0;
        }
        return new PerplexityResult(mean, ppl, err, n);
    }

    /** Mean, median and maximum of per-position KL values, and the top-1 agreement. */
    static Divergence divergence(double[] kl, long sameTop) {
        int n = kl.length;
        double sum = 0;
        double max = 0;
        for (double v : kl) {
            sum += v;
            max = Math.max(max, v);
        }
        double[] sorted = kl.clone();
        Arrays.sort(sorted);
        double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        return new Divergence(sum / n, median, max, (double) sameTop / n, n);
    }

    /** {@code out[t] = logits[off+t] - log(sum exp(logits))}, computed in double with the maximum subtracted. */
    static void logSoftmax(float[] logits, int off, int vocab, double[] out) {
        double logZ = logZ(logits, off, vocab);
        for (int t = 0; t < vocab; t++) {
            out[t] = logits[off + t] - logZ;
        }
    }

    /**
     * The negative log-likelihood of {@code target} under the logits {@code logits[off .. off+vocab)}, with exactly the
     * arithmetic of a perplexity run here (so another caller, e.g. the trainer's held-out evaluation, reports the
     * same bits for the same logits).
     */
    public static double tokenNll(float[] logits, int off, int vocab, int target) {
        Objects.checkFromIndexSize(off, vocab, logits.length);
        Objects.checkIndex(target, vocab);
        double lp = logits[off + target] - logZ(logits, off, vocab);
        return -lp;
    }

    /** {@code log(sum exp(logits))} in double, the maximum subtracted first. */
    private static double logZ(float[] logits, int off, int vocab) {
        double max = Double.NEGATIVE_INFINITY;
        for (int t = 0; t < vocab; t++) {
            max = Math.max(max, logits[off + t]);
        }
        double z = 0;
        for (int t = 0; t < vocab; t++) {
            z += Math.exp(logits[off + t] - max);
        }
        return max + Math.log(z);
    }
}
