package io.quantkit.calib;

import io.quantkit.eval.Progress;
import io.quantkit.model.LlamaModel;
import io.quantkit.model.LlamaWeights;
import io.quantkit.model.ThreadPool;
import io.quantkit.quant.QuantizedTensor;
import io.quantkit.quant.Scheme;
import io.quantkit.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Mixed precision to a size target: measures each weight's sensitivity to each candidate scheme as the mean
 * KL divergence (ΔKLD) of the next-token distribution from the unquantized model's, on calibration sequences,
 * when only that weight is quantized; then picks one candidate per weight minimising the summed ΔKLD subject
 * to the total stored bytes (every tensor: weights, scales, outliers, and the 1-D tensors kept as they are)
 * fitting the budget. The choice is an exact multiple-choice knapsack (dynamic programming over bytes in
 * units of {@link #BYTE_UNIT}, sizes rounded up), assuming the ΔKLD of different weights add up.
 */
public final class MixedPrecision {
    /** Granularity of the knapsack, in bytes. */
    public static final int BYTE_UNIT = 16;
    /** Largest number of knapsack cells (weights × budget units). */
    public static final long MAX_CELLS = 1L << 28;

    private MixedPrecision() {
    }

    /** One candidate encoding of a weight. */
    public record Candidate(Scheme scheme, Method method) {
        @Override
        public String toString() {
            return scheme + (method == Method.RTN ? "" : " (" + method.cliName() + ")");
        }
    }

    /** A measured option: its bytes and ΔKLD. */
    public record Option(Candidate candidate, long bytes, double deltaKld) {
    }

    /** The chosen candidate per weight (every 2-D tensor), in model order. */
    public record Plan(Map<String, Option> choice, long bytes, long budget, double predictedKld) {
        /** As a recipe: one line per weight ("NAME SCHEME METHOD"), then 1-D tensors kept. */
        public String recipe(String header) {
            StringBuilder sb = new StringBuilder();
            for (String line : header.split("\n")) {
                sb.append("# ").append(line).append('\n');
            }
            for (Map.Entry<String, Option> e : choice.entrySet()) {
                Option o = e.getValue();
                sb.append(String.format(Locale.ROOT, "%-28s %-36s %-7s # %d bytes, dKLD %.6f%n", e.getKey(),
                        o.candidate().scheme(), o.candidate().method().cliName(), o.bytes(), o.deltaKld()));
            }
            sb.append("@1d keep\n");
            return sb.toString();
        }
    }

    /**
     * The candidates tried for a weight with rows of {@code cols}, all by GPTQ: 4 and 5 bits in groups of 32
     * (or the divisor of {@code cols} nearest 32), 6 and 8 bits per row.
     */
    public static List<Candidate> defaultCandidates(int cols) {
        List<Candidate> out = new ArrayList<>();
        int group = cols % 32 == 0 ? 32 : divisorNear(cols, 32);
        for (String s : new String[] {"int:bits=4,group=" + group, "int:bits=5,group=" + group,
            "int:bits=6,group=0", "int:bits=8,group=0"}) {
            out.add(new Candidate(Scheme.parse(s), Method.GPTQ));
        }
        return out;
    }

    /**
     * int4-outliers candidates for a weight with rows of {@code cols}, all by GPTQ with outliers chosen by
     * {@code select=error}: groups of 32 and 64 (for rows that 32 does not divide, the divisors of {@code cols}
     * nearest 32 and 64) with outlier budgets of 0, 0.5 % and 1.5 % of the weights.
     */
    public static List<Candidate> outlierCandidates(int cols) {
        List<Candidate> out = new ArrayList<>();
        int[] groups = cols % 32 == 0 ? new int[] {32, 64} : new int[] {divisorNear(cols, 32), divisorNear(cols, 64)};
        for (int g : groups) {
            for (String b : new String[] {"0", "0.5%", "1.5%"}) {
                out.add(new Candidate(Scheme.parse("int4-outliers:group=" + g + ",budget=" + b + ",select=error"),
                        Method.GPTQ));
            }
        }
        return out;
    }

    /** Which candidates the planner tries per weight. */
    public enum Candidates {
        /** {@link #defaultCandidates}: int4/int5 in groups, int6/int8 per row. */
        MIXED,
        /** {@link #outlierCandidates}: int4-outliers only, group size and outlier budget chosen per weight. */
        INT4_OUTLIERS;

        /** The candidates for rows of {@code cols}. */
        public List<Candidate> forColumns(int cols) {
            return this == MIXED ? defaultCandidates(cols) : outlierCandidates(cols);
        }

        /** Lower-case name as used on the command line (mixed, int4-outliers). */
        public String cliName() {
            return this == MIXED ? "mixed" : "int4-outliers";
        }

        public static Candidates parse(String s) {
            for (Candidates c : values()) {
                if (c.cliName().equals(s)) {
                    return c;
                }
            }
            throw new IllegalArgumentException("unknown plan candidates '" + s + "' (mixed, int4-outliers)");
        }
    }

    private static int divisorNear(int n, int target) {
        int best = n;
        for (int d = 1; d <= n; d++) {
            if (n % d == 0 && Math.abs(d - target) < Math.abs(best - target)) {
                best = d;
            }
        }
        return best;
    }

    /** Measures every {@link Candidates#MIXED} candidate of every 2-D weight (natural column order). */
    public static Map<String, List<Option>> measure(LlamaWeights weights, CalibrationProfile profile,
                                                   List<int[]> sequences, ThreadPool pool, Progress progress) {
        return measure(weights, profile, sequences, pool, progress, Candidates.MIXED, false);
    }

    /** Measures every candidate of every 2-D weight; {@code actOrder} as GPTQ applies it. */
    public static Map<String, List<Option>> measure(LlamaWeights weights, CalibrationProfile profile,
                                                   List<int[]> sequences, ThreadPool pool, Progress progress,
                                                   Candidates candidates, boolean actOrder) {
        Objects.requireNonNull(progress, "progress");
        KlScorer scorer = new KlScorer(weights, sequences, pool);
        Map<String, List<Option>> out = new LinkedHashMap<>();
        List<String> names = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : weights.tensors().entrySet()) {
            if (e.getValue().shape().rank() == 2) {
                names.add(e.getKey());
            }
        }
        long total = 0;
        for (String n : names) {
            total += candidates.forColumns((int) weights.tensor(n).shape().rowLength()).size();
        }
        long done = 0;
        for (String name : names) {
            Tensor t = weights.tensor(name);
            TensorStats stats = profile == null ? null : profile.stats(name);
            List<Option> opts = new ArrayList<>();
            for (Candidate c : candidates.forColumns((int) t.shape().rowLength())) {
                QuantizedTensor q = CalibratedQuantizer.quantize(t, c.scheme(), c.method(), stats, actOrder);
                double kl = scorer.kl(weights.map((n, x) -> n.equals(name) ? q : x));
                opts.add(new Option(c, q.storageBytes(), kl));
                progress.update(++done, total);
            }
            out.put(name, opts);
        }
        return out;
    }

    /** The plan with the least summed ΔKLD whose total bytes (with {@code fixedBytes} for the rest) fit. */
    public static Plan choose(Map<String, List<Option>> options, long fixedBytes, long budget) {
        long avail = budget - fixedBytes;
        if (avail < 0) {
            throw new IllegalArgumentException("the byte budget (" + budget + ") is below the tensors kept as they are ("
                    + fixedBytes + " bytes)");
        }
        int units = (int) Math.min(Integer.MAX_VALUE - 1, avail / BYTE_UNIT);
        List<String> names = new ArrayList<>(options.keySet());
        if ((long) names.size() * (units + 1) > MAX_CELLS) {
            throw new IllegalArgumentException("knapsack of " + names.size() + " weights x " + units
                    + " units exceeds the maximum (" + MAX_CELLS + " cells)");
        }
        double inf = Double.POSITIVE_INFINITY;
        double[] best = new double[units + 1]; // best[u]: least ΔKLD using at most u units
        int[][] pick = new int[names.size()][units + 1];
        for (int t = 0; t < names.size(); t++) {
            List<Option> opts = options.get(names.get(t));
            double[] next = new double[units + 1];
            java.util.Arrays.fill(next, inf);
            for (int u = 0; u <= units; u++) {
                int bestK = -1;
                double bestV = inf;
                for (int k = 0; k < opts.size(); k++) {
                    Option o = opts.get(k);
                    long cost = (o.bytes() + BYTE_UNIT - 1) / BYTE_UNIT;
                    if (cost > u || best[(int) (u - cost)] == inf) {
                        continue;
                    }
                    double v = best[(int) (u - cost)] + o.deltaKld();
                    if (v < bestV) {
                        bestV = v;
                        bestK = k;
                    }
                }
                next[u] = bestV;
                pick[t][u] = bestK;
            }
            best = next;
        }
        if (best[units] == inf) {
            throw new IllegalArgumentException("no choice of candidates fits " + budget + " bytes");
        }
        Map<String, Option> choice = new LinkedHashMap<>();
        int u = units;
        Option[] chosen = new Option[names.size()];
        for (int t = names.size() - 1; t >= 0; t--) {
            Option o = options.get(names.get(t)).get(pick[t][u]);
            chosen[t] = o;
            u -= (int) ((o.bytes() + BYTE_UNIT - 1) / BYTE_UNIT);
        }
        long bytes = fixedBytes;
        double kl = 0;
        for (int t = 0; t < names.size(); t++) {
            choice.put(names.get(t), chosen[t]);
            bytes += chosen[t].bytes();
            kl += chosen[t].deltaKld();
        }
        return new Plan(choice, bytes, budget, kl);
    }

    /** Applies a plan: each planned weight quantized by its candidate, the rest unchanged. */
    public static LlamaWeights apply(LlamaWeights weights, CalibrationProfile profile, Plan plan) {
        return weights.map((n, t) -> {
            Option o = plan.choice().get(n);
            if (o == null) {
                return t;
            }
            return CalibratedQuantizer.quantize(t, o.candidate().scheme(), o.candidate().method(),
                    profile == null ? null : profile.stats(n), false);
        });
    }

    /** Mean KL divergence of next-token distributions from a fixed reference model, over fixed sequences. */
    public static final class KlScorer {
        private final List<int[]> sequences;
        private final ThreadPool pool;
        private final double[][] refLogProbs; // per sequence: log-probs, positions x vocab
        private final int vocab;

        public KlScorer(LlamaWeights reference, List<int[]> sequences, ThreadPool pool) {
            this.sequences = List.copyOf(sequences);
            this.pool = pool;
            LlamaModel m = LlamaModel.load(reference);
            this.vocab = m.config().vocabSize();
            this.refLogProbs = new double[sequences.size()][];
            pool.forRange(sequences.size(), 1, (from, to) -> {
                for (int s = from; s < to; s++) {
                    refLogProbs[s] = logProbs(m, this.sequences.get(s));
                }
            });
        }

        private double[] logProbs(LlamaModel m, int[] seq) {
            LlamaModel.Session session = m.newSession(seq.length, ThreadPool.SEQUENTIAL);
            float[] logits = session.forward(seq, 0, seq.length, 0);
            int rows = seq.length;
            double[] out = new double[rows * vocab];
            for (int r = 0; r < rows; r++) {
                int off = r * vocab;
                double max = Double.NEGATIVE_INFINITY;
                for (int t = 0; t < vocab; t++) {
                    max = Math.max(max, logits[off + t]);
                }
                double z = 0;
                for (int t = 0; t < vocab; t++) {
                    z += Math.exp(logits[off + t] - max);
                }
                double lz = max + Math.log(z);
                for (int t = 0; t < vocab; t++) {
                    out[off + t] = logits[off + t] - lz;
                }
            }
            return out;
        }

        /** Mean KL(reference ‖ model) over every position of every sequence; sums combined in sequence order. */
        public double kl(LlamaWeights weights) {
            LlamaModel m = LlamaModel.load(weights);
            double[] perSeq = new double[sequences.size()];
            int[] counts = new int[sequences.size()];
            pool.forRange(sequences.size(), 1, (from, to) -> {
                for (int s = from; s < to; s++) {
                    double[] lp = logProbs(m, sequences.get(s));
                    double[] ref = refLogProbs[s];
                    double sum = 0;
                    int rows = lp.length / vocab;
                    for (int r = 0; r < rows; r++) {
                        double d = 0;
                        for (int t = r * vocab; t < (r + 1) * vocab; t++) {
                            d += Math.exp(ref[t]) * (ref[t] - lp[t]);
                        }
                        sum += Math.max(0, d);
                    }
                    perSeq[s] = sum;
                    counts[s] = rows;
                }
            });
            double sum = 0;
            long n = 0;
            for (int s = 0; s < perSeq.length; s++) {
                sum += perSeq[s];
                n += counts[s];
            }
            return sum / n;
        }
    }
}
