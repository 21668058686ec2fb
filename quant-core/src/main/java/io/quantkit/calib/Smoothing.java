package io.quantkit.calib;

import io.quantkit.model.LlamaConfig;
import io.quantkit.model.LlamaWeights;
import io.quantkit.model.LlamaWeights.LayerTensor;
import io.quantkit.tensor.FloatTensor;
import io.quantkit.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Per-channel equalisation in the spirit of SmoothQuant (Xiao et al. 2023): for a linear layer's input channel j,
 * {@code s_j = max|X_j|^α / max|W_j|^(1−α)} (max over calibration tokens and over the weight's column j; s_j = 1
 * where either is 0), the input is divided by s_j and the weight's column j multiplied by it. The product is
 * unchanged in exact arithmetic; activation outliers move into the weights, which quantize per row.
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

    /** {@code s = xmax^α / wmax^(1−α)}, or 1 when either maximum is 0. */
    public static double factor(double xmax, double wmax, double alpha) {
        if (xmax <= 0 || wmax <= 0) {
            return 1;
        }
        return Math.pow(xmax, alpha) / Math.pow(wmax, 1 - alpha);
    }

    /**
     * The equalised weights (every tensor float32 afterwards), from the per-channel input absmax of every linear
     * weight ({@link ActivationStats#channelAbsmax()}, keyed by tensor name).
     */
    public static LlamaWeights apply(LlamaWeights weights, Map<String, double[]> inputAbsmax, double alpha) {
        Objects.requireNonNull(inputAbsmax, "inputAbsmax");
        if (!(alpha >= 0 && alpha <= 1)) {
            throw new IllegalArgumentException("migration strength (" + alpha + ") must be in [0, 1]");
        }
        LlamaConfig c = weights.config();
        Map<String, float[]> v = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : weights.tensors().entrySet()) {
            v.put(e.getKey(), e.getValue().toFloatArray());
        }
        int dim = c.dim();
        int hidden = c.hiddenDim();
        int hs = c.headSize();
        int group = c.heads() / c.kvHeads();
        for (int l = 0; l < c.layers(); l++) {
            String q = LayerTensor.ATTN_Q.name(l);
            String k = LayerTensor.ATTN_K.name(l);
            String vv = LayerTensor.ATTN_V.name(l);
            String o = LayerTensor.ATTN_OUTPUT.name(l);
            String gate = LayerTensor.FFN_GATE.name(l);
            String up = LayerTensor.FFN_UP.name(l);
            String down = LayerTensor.FFN_DOWN.name(l);
            // q, k, v after attn_norm
            double[] s = factors(absmax(inputAbsmax, q, dim), columnMax(v, dim, q, k, vv), alpha);
            divide(v.get(LayerTensor.ATTN_NORM.name(l)), s);
            for (String t : List.of(q, k, vv)) {
                scaleColumns(v.get(t), dim, s);
            }
            // attn_output after softmax·V: one factor per v channel
            double[] xo = absmax(inputAbsmax, o, dim);
            double[] wo = columnMax(v, dim, o);
            double[] xg = new double[c.kvDim()];
            double[] wg = new double[c.kvDim()];
            for (int a = 0; a < dim; a++) {
                int ch = vChannel(a, hs, group);
                xg[ch] = Math.max(xg[ch], xo[a]);
                wg[ch] = Math.max(wg[ch], wo[a]);
            }
            double[] sv = factors(xg, wg, alpha);
            double[] so = new double[dim];
            for (int a = 0; a < dim; a++) {
                so[a] = sv[vChannel(a, hs, group)];
            }
            scaleColumns(v.get(o), dim, so);
            divideRows(v.get(vv), dim, sv);
            // gate, up after ffn_norm
            s = factors(absmax(inputAbsmax, gate, dim), columnMax(v, dim, gate, up), alpha);
            divide(v.get(LayerTensor.FFN_NORM.name(l)), s);
            scaleColumns(v.get(gate), dim, s);
            scaleColumns(v.get(up), dim, s);
            // down after silu(gate)·up: divide up's rows
            s = factors(absmax(inputAbsmax, down, hidden), columnMax(v, hidden, down), alpha);
            scaleColumns(v.get(down), hidden, s);
            divideRows(v.get(up), dim, s);
        }
        if (!weights.tiedClassifier() && inputAbsmax.containsKey(LlamaWeights.OUTPUT)) {
            double[] s = factors(absmax(inputAbsmax, LlamaWeights.OUTPUT, dim),
                    columnMax(v, dim, LlamaWeights.OUTPUT), alpha);
            divide(v.get(LlamaWeights.OUTPUT_NORM), s);
            scaleColumns(v.get(LlamaWeights.OUTPUT), dim, s);
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : weights.tensors().entrySet()) {
            out.put(e.getKey(), FloatTensor.wrap(e.getValue().shape(), v.get(e.getKey())));
        }
        return LlamaWeights.of(c, out);
    }

    private static int vChannel(int attChannel, int hs, int group) {
        int head = attChannel / hs;
        return (head / group) * hs + attChannel % hs;
    }

    private static double[] absmax(Map<String, double[]> m, String name, int width) {
        double[] a = m.get(name);
        if (a == null) {
            throw new IllegalArgumentException("no activation statistics for '" + name + "'");
        }
        if (a.length != width) {
            throw new IllegalArgumentException("activation statistics of '" + name + "' have " + a.length
                    + " channels, the weight takes " + width);
        }
        return a;
    }

    /** max |W[r][j]| over the rows of every named [rows][in] weight, per input channel j. */
    private static double[] columnMax(Map<String, float[]> v, int in, String... names) {
        double[] m = new double[in];
        for (String n : names) {
            float[] w = v.get(n);
            for (int i = 0; i < w.length; i++) {
                int j = i % in;
                m[j] = Math.max(m[j], Math.abs(w[i]));
            }
        }
        return m;
    }

    private static double[] factors(double[] x, double[] w, double alpha) {
        double[] s = new double[x.length];
        for (int j = 0; j < s.length; j++) {
            s[j] = factor(x[j], w[j], alpha);
        }
        return s;
    }

    private static void divide(float[] norm, double[] s) {
        for (int j = 0; j < norm.length; j++) {
            norm[j] = (float) (norm[j] / s[j]);
        }
    }

    private static void scaleColumns(float[] w, int in, double[] s) {
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (w[i] * s[i % in]);
        }
    }

    private static void divideRows(float[] w, int in, double[] s) {
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (w[i] / s[i / in]);
        }
    }
}
