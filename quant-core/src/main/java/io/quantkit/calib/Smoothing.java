package io.quantkit.calib;

import io.quantkit.model.LlamaConfig;
import io.quantkit.model.LlamaWeights;
import io.quantkit.model.LlamaWeights.LayerTensor;
import io.quantkit.tensor.FloatTensor;
import io.quantkit.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Per-channel equalisation: a linear layer's input channel j is divided by a factor s_j and the weight's column j
 * multiplied by it, which leaves the product unchanged in exact arithmetic. SmoothQuant (Xiao et al. 2023) picks
 * {@code s_j = max|X_j|^α / max|W_j|^(1−α)} (max over calibration tokens and over the weight's column j; s_j = 1
 * where either is 0) to move activation outliers into the weights, which quantize per row; {@link Awq} picks s
 * by searching the weights' quantization error.
 *
 * <p>The division is folded into the operation that produces the input, so the forward pass is unchanged:
 * <pre>
 * q, k, v        ← attn_norm weight        (one s for the three: max|W_j| over q, k and v together)
 * gate, up       ← ffn_norm weight         (one s for the two)
 * attn_output    ← rows of v               (softmax·V is linear in V: att channel h·hs+i comes from v channel
 *                                            (h / (heads/kv_heads))·hs+i, so the att channels that share a
 *                                            v channel share one s, taken over the maxima of that group)
 * down           ← rows of up              (silu(gate)·up is linear in up)
 * output         ← output_norm weight      (only when the classifier is not tied to the embedding; a tied
 *                                            classifier is left alone, as its columns are the embedding)
 * </pre>
 * Statistics are those of the float model before equalisation; each fold is exact for them, so one pass suffices.
 */
public final class Smoothing {
    private Smoothing() {
    }

    /** Where a group's division goes. */
    public enum Fold {
        /** Into the preceding RMSNorm weight (s has the input's width). */
        NORM,
        /** Into the rows of v (s has one entry per v channel, kv_dim wide). */
        V_ROWS,
        /** Into the rows of up (s has the hidden width). */
        UP_ROWS
    }

    /**
     * Linear weights sharing one input.
     *
     * @param input   the name the input's statistics are kept under (the group's first weight)
     * @param weights every weight that consumes the input
     * @param width   input channels
     * @param fold    where the division goes
     * @param target  the tensor the division is folded into (a norm, v or up)
     */
    public record Group(String input, List<String> weights, int width, Fold fold, String target) {
        public Group {
            weights = List.copyOf(weights);
        }
    }

    /**
     * The groups of a model, in layer order (the classifier last, if it is not tied). A BitNet model is refused: its
     * SubLN norms sit between v (and up) and the layers whose inputs they produce.
     */
    public static List<Group> groups(LlamaWeights w) {
        if (w.bitnet()) {
            throw new IllegalArgumentException("equalisation (SmoothQuant, AWQ) is not defined here for a BitNet model "
                    + "(its SubLN norms sit between v/up and attn_output/ffn_down)");
        }
        LlamaConfig c = w.config();
        List<Group> g = new ArrayList<>();
        for (int l = 0; l < c.layers(); l++) {
            g.add(new Group(LayerTensor.ATTN_Q.name(l), List.of(LayerTensor.ATTN_Q.name(l), LayerTensor.ATTN_K.name(l),
                    LayerTensor.ATTN_V.name(l)), c.dim(), Fold.NORM, LayerTensor.ATTN_NORM.name(l)));
            g.add(new Group(LayerTensor.ATTN_OUTPUT.name(l), List.of(LayerTensor.ATTN_OUTPUT.name(l)), c.dim(),
                    Fold.V_ROWS, LayerTensor.ATTN_V.name(l)));
            g.add(new Group(LayerTensor.FFN_GATE.name(l), List.of(LayerTensor.FFN_GATE.name(l),
                    LayerTensor.FFN_UP.name(l)), c.dim(), Fold.NORM, LayerTensor.FFN_NORM.name(l)));
            g.add(new Group(LayerTensor.FFN_DOWN.name(l), List.of(LayerTensor.FFN_DOWN.name(l)), c.hiddenDim(),
                    Fold.UP_ROWS, LayerTensor.FFN_UP.name(l)));
        }
        if (!w.tiedClassifier()) {
            g.add(new Group(LlamaWeights.OUTPUT, List.of(LlamaWeights.OUTPUT), c.dim(), Fold.NORM,
                    LlamaWeights.OUTPUT_NORM));
        }
        return g;
    }

    /** Entries of {@code s} a group takes: kv_dim for {@link Fold#V_ROWS}, else the input width. */
    public static int factorWidth(Group g, LlamaConfig c) {
        return g.fold() == Fold.V_ROWS ? c.kvDim() : g.width();
    }

    /** The v channel that attention-output channel {@code a} comes from. */
    static int vChannel(LlamaConfig c, int a) {
        int hs = c.headSize();
        int group = c.heads() / c.kvHeads();
        return (a / hs / group) * hs + a % hs;
    }

    /** Per-channel values of the input reduced to the group's factor width (max over att channels sharing v). */
    static double[] reduce(Group g, LlamaConfig c, double[] perInput) {
        if (g.fold() != Fold.V_ROWS) {
            return perInput;
        }
        double[] out = new double[c.kvDim()];
        for (int a = 0; a < perInput.length; a++) {
            int ch = vChannel(c, a);
            out[ch] = Math.max(out[ch], perInput[a]);
        }
        return out;
    }

    /** The factors expanded to the input width (each att channel takes its v channel's). */
    static double[] expand(Group g, LlamaConfig c, double[] s) {
        if (g.fold() != Fold.V_ROWS) {
            return s;
        }
        double[] out = new double[g.width()];
        for (int a = 0; a < out.length; a++) {
            out[a] = s[vChannel(c, a)];
        }
        return out;
    }

    /** {@code s = xmax^α / wmax^(1−α)}, or 1 when either maximum is 0. */
    public static double factor(double xmax, double wmax, double alpha) {
        if (xmax <= 0 || wmax <= 0) {
            return 1;
        }
        return Math.pow(xmax, alpha) / Math.pow(wmax, 1 - alpha);
    }

    /**
     * SmoothQuant: the equalised weights (every tensor float32 afterwards), from the per-channel input absmax of
     * every linear weight ({@link ActivationStats#channelAbsmax()}, keyed by tensor name).
     */
    public static LlamaWeights apply(LlamaWeights weights, Map<String, double[]> inputAbsmax, double alpha) {
        Objects.requireNonNull(inputAbsmax, "inputAbsmax");
        if (!(alpha >= 0 && alpha <= 1)) {
            throw new IllegalArgumentException("migration strength (" + alpha + ") must be in [0, 1]");
        }
        LlamaConfig c = weights.config();
        Map<String, double[]> factors = new LinkedHashMap<>();
        for (Group g : groups(weights)) {
            double[] x = reduce(g, c, channels(inputAbsmax, g));
            double[] w = reduce(g, c, columnMax(weights, g));
            double[] s = new double[x.length];
            for (int j = 0; j < s.length; j++) {
                s[j] = factor(x[j], w[j], alpha);
            }
            factors.put(g.input(), s);
        }
        return fold(weights, factors);
    }

    static double[] channels(Map<String, double[]> m, Group g) {
        double[] a = m.get(g.input());
        if (a == null) {
            throw new IllegalArgumentException("no activation statistics for '" + g.input() + "'");
        }
        if (a.length != g.width()) {
            throw new IllegalArgumentException("activation statistics of '" + g.input() + "' have " + a.length
                    + " channels, the weight takes " + g.width());
        }
        return a;
    }

    /** max |W[r][j]| over the rows of every weight of the group, per input channel j. */
    static double[] columnMax(LlamaWeights weights, Group g) {
        int in = g.width();
        double[] m = new double[in];
        for (String n : g.weights()) {
            float[] w = weights.tensor(n).toFloatArray();
            for (int i = 0; i < w.length; i++) {
                int j = i % in;
                m[j] = Math.max(m[j], Math.abs(w[i]));
            }
        }
        return m;
    }

    /**
     * Divides each group's input by its factors ({@link #factorWidth} entries, keyed by {@link Group#input()};
     * a group without factors is left alone) and multiplies the weights' columns by them. Every tensor is float32
     * afterwards.
     */
    public static LlamaWeights fold(LlamaWeights weights, Map<String, double[]> factors) {
        LlamaConfig c = weights.config();
        Map<String, float[]> v = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : weights.tensors().entrySet()) {
            v.put(e.getKey(), e.getValue().toFloatArray());
        }
        for (Group g : groups(weights)) {
            double[] s = factors.get(g.input());
            if (s == null) {
                continue;
            }
            if (s.length != factorWidth(g, c)) {
                throw new IllegalArgumentException("equalisation of '" + g.input() + "' needs " + factorWidth(g, c)
                        + " factors, got " + s.length);
            }
            double[] cols = expand(g, c, s);
            for (String n : g.weights()) {
                float[] w = v.get(n);
                for (int i = 0; i < w.length; i++) {
                    w[i] = (float) (w[i] * cols[i % g.width()]);
                }
            }
            float[] t = v.get(g.target());
            int rowLength = g.fold() == Fold.NORM ? 1 : c.dim(); // v and up are [rows][dim]
            for (int i = 0; i < t.length; i++) {
                t[i] = (float) (t[i] / s[i / rowLength]);
            }
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : weights.tensors().entrySet()) {
            out.put(e.getKey(), FloatTensor.wrap(e.getValue().shape(), v.get(e.getKey())));
        }
        return LlamaWeights.of(c, out);
    }
}
