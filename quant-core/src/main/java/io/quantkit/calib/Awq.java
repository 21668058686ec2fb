package io.quantkit.calib;

import io.quantkit.model.LlamaConfig;
import io.quantkit.model.LlamaWeights;
import io.quantkit.quant.Codecs;
import io.quantkit.quant.Scheme;
import io.quantkit.tensor.FloatTensor;
import io.quantkit.tensor.Shape;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * Activation-aware equalisation in the spirit of AWQ (Lin et al. 2024) for weight quantization: per group of
 * weights sharing an input ({@link Smoothing#groups}), the factors {@code s_j = max(x̄_j^α, 1e-4)}, normalised by
 * {@code sqrt(max s · min s)}, where {@code x̄_j} is the mean |x_j| over calibration tokens (for attn_output, the
 * largest over the att channels sharing a v channel); α is searched over {@code 0, 1/GRID, …, (GRID−1)/GRID}
 * for the least output error of the quantized group
 * <pre>
 * E(α) = Σ_W Σ_rows Δ_r G Δ_rᵀ,   Δ = W − Q(W·diag s)·diag(1/s),   G = E[x xᵀ] (the profile's Gram matrix)
 * </pre>
 * (α = 0 is plain round-to-nearest, so E never exceeds it), and the chosen s is folded as {@link Smoothing#fold}
 * does. AWQ measures the error on the block's output with real activations; G gives the same figure for one linear
 * layer without running the model. Deterministic.
 */
public final class Awq {
    /** Points of the α grid (AWQ's n_grid). */
    public static final int GRID = 20;

    private Awq() {
    }

    /**
     * The equalised weights for {@code scheme} (per tensor: the scheme each weight will be quantized with).
     *
     * @param meanAbs mean |x_j| of every linear weight's input ({@link ActivationStats#channelMeanAbs()})
     * @param stats   the input statistics with Gram matrices ({@link TensorStats#gram()}), by tensor name
     */
    public static LlamaWeights apply(LlamaWeights weights, Map<String, double[]> meanAbs,
                                     Map<String, TensorStats> stats, Function<String, Scheme> scheme) {
        LlamaConfig c = weights.config();
        Map<String, double[]> factors = new LinkedHashMap<>();
        for (Smoothing.Group g : Smoothing.groups(weights)) {
            TensorStats st = stats.get(g.input());
            if (st == null || st.width() != g.width()) {
                throw new IllegalArgumentException("no input statistics of width " + g.width() + " for '"
                        + g.input() + "'");
            }
            double[] gram = st.gram();
            double[] x = Smoothing.reduce(g, c, Smoothing.channels(meanAbs, g));
            double best = Double.POSITIVE_INFINITY;
            double[] bestS = null;
            for (int i = 0; i < GRID; i++) {
                double[] s = candidate(x, i / (double) GRID);
                double e = error(weights, g, Smoothing.expand(g, c, s), gram, scheme);
                if (e < best) {
                    best = e;
                    bestS = s;
                }
            }
            if (bestS != null) {
                factors.put(g.input(), bestS);
            }
        }
        return Smoothing.fold(weights, factors);
    }

    /** {@code s_j = max(x_j^α, 1e-4) / sqrt(max s · min s)}. */
    static double[] candidate(double[] x, double alpha) {
        double[] s = new double[x.length];
        double mx = 0;
        double mn = Double.POSITIVE_INFINITY;
        for (int j = 0; j < s.length; j++) {
            s[j] = Math.max(Math.pow(x[j], alpha), 1e-4);
            mx = Math.max(mx, s[j]);
            mn = Math.min(mn, s[j]);
        }
        double norm = Math.sqrt(mx * mn);
        for (int j = 0; j < s.length; j++) {
            s[j] /= norm;
        }
        return s;
    }

    /** E for one candidate: every weight of the group scaled, quantized, unscaled, and weighed by G. */
    static double error(LlamaWeights weights, Smoothing.Group g, double[] cols, double[] gram,
                        Function<String, Scheme> scheme) {
        int in = g.width();
        double e = 0;
        for (String n : g.weights()) {
            float[] w = weights.tensor(n).toFloatArray();
            float[] ws = new float[w.length];
            for (int i = 0; i < w.length; i++) {
                ws[i] = (float) (w[i] * cols[i % in]);
            }
            Shape shape = weights.tensor(n).shape();
            float[] q;
            try {
                q = Codecs.forScheme(scheme.apply(n)).quantize(FloatTensor.wrap(shape, ws)).toFloatArray();
            } catch (IllegalArgumentException ex) {
                return Double.POSITIVE_INFINITY; // a shape the scheme cannot store: no equalisation for the group
            }
            int rows = w.length / in;
            double[] d = new double[in];
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j < in; j++) {
                    d[j] = w[r * in + j] - q[r * in + j] / cols[j];
                }
                for (int i = 0; i < in; i++) {
                    if (d[i] == 0) {
                        continue;
                    }
                    double acc = 0;
                    int gi = i * in;
                    for (int j = 0; j < in; j++) {
                        acc += gram[gi + j] * d[j];
                    }
                    e += d[i] * acc;
                }
            }
        }
        return e;
    }
}
