package io.quantkit.calib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quantkit.model.LlamaModel;
import io.quantkit.model.LlamaModelTestAccess;
import io.quantkit.model.LlamaWeights;
import io.quantkit.model.ThreadPool;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** SmoothQuant-style equalisation: no change to the function, outliers moved into the weights as the formula says. */
class SmoothingTest {
    static final List<int[]> SEQS = List.of(new int[] {1, 5, 9, 2, 17, 3, 8, 8, 11, 20},
            new int[] {1, 4, 4, 27, 6, 13, 0, 2});

    static LlamaWeights model(boolean gqa) throws Exception {
        return gqa ? LlamaModelTestAccess.tinyWeights() : LlamaModelTestAccess.otherTinyWeights();
    }

    static Map<String, double[]> absmax(Map<String, ActivationStats> stats) {
        Map<String, double[]> m = new TreeMap<>();
        stats.forEach((k, v) -> m.put(k, v.channelAbsmax()));
        return m;
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void equalisationWithoutQuantizationLeavesLogitsUnchanged(boolean gqa) throws Exception {
        LlamaWeights w = model(gqa);
        Map<String, ActivationStats> stats = ActivationCalibrator.run(LlamaModel.load(w), SEQS, ThreadPool.SEQUENTIAL);
        int[] tokens = {1, 7, 3, 3, 12, 19, 2, 5, 26};
        float[] want = LlamaModel.load(w).newSession().forward(tokens, 0, tokens.length, 0);
        double scale = 0;
        for (float v : want) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (double alpha : new double[] {0, 0.5, 0.8, 1}) {
            LlamaWeights s = Smoothing.apply(w, absmax(stats), alpha);
            float[] got = LlamaModel.load(s).newSession().forward(tokens, 0, tokens.length, 0);
            double worst = 0;
            for (int i = 0; i < want.length; i++) {
                worst = Math.max(worst, Math.abs(got[i] - want[i]));
            }
            assertTrue(worst <= 2e-5 * scale, "alpha " + alpha + ": max |Δlogit| " + worst + " of " + scale);
            assertEquals(w.tiedClassifier(), s.tiedClassifier());
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void inputsShrinkAndWeightsGrowByTheFormula(boolean gqa) throws Exception {
        // s_j = max|X_j|^α / max|W_j|^(1−α), W the weights sharing the input: after equalisation the recalibrated
        // input maxima are max|X_j| / s_j, and a weight that is not also folded along its rows (q, gate, down,
        // attn_output, output) has column maxima max|W_j| · s_j
        LlamaWeights w = model(gqa);
        Map<String, ActivationStats> before = ActivationCalibrator.run(LlamaModel.load(w), SEQS, ThreadPool.SEQUENTIAL);
        double alpha = 0.6;
        LlamaWeights s = Smoothing.apply(w, absmax(before), alpha);
        Map<String, ActivationStats> after = ActivationCalibrator.run(LlamaModel.load(s), SEQS, ThreadPool.SEQUENTIAL);
        int dim = w.config().dim();
        int hidden = w.config().hiddenDim();
        for (int l = 0; l < w.config().layers(); l++) {
            String p = "blk." + l + ".";
            check(before, after, w, s, alpha, dim, p + "attn_q.weight", p + "attn_q.weight", p + "attn_k.weight",
                    p + "attn_v.weight");
            check(before, after, w, s, alpha, dim, p + "ffn_gate.weight", p + "ffn_gate.weight", p + "ffn_up.weight");
            check(before, after, w, s, alpha, hidden, p + "ffn_down.weight", p + "ffn_down.weight");
            if (!gqa) { // multi-head: every att channel has its own v channel
                check(before, after, w, s, alpha, dim, p + "attn_output.weight", p + "attn_output.weight");
            }
        }
        if (!w.tiedClassifier()) {
            check(before, after, w, s, alpha, dim, LlamaWeights.OUTPUT, LlamaWeights.OUTPUT);
        }
    }

    private static double[] columnMax(LlamaWeights w, int in, String... names) {
        double[] m = new double[in];
        for (String n : names) {
            float[] v = w.tensor(n).toFloatArray();
            for (int i = 0; i < v.length; i++) {
                m[i % in] = Math.max(m[i % in], Math.abs(v[i]));
            }
        }
        return m;
    }

    /** {@code weights[0]} is the one checked for growth; all of {@code weights} share the input. */
    private static void check(Map<String, ActivationStats> before, Map<String, ActivationStats> after,
                              LlamaWeights w, LlamaWeights s, double alpha, int in, String input, String... weights) {
        double[] x0 = before.get(input).channelAbsmax();
        double[] x1 = after.get(input).channelAbsmax();
        double[] w0 = columnMax(w, in, weights);
        double[] first0 = columnMax(w, in, weights[0]);
        double[] first1 = columnMax(s, in, weights[0]);
        int moved = 0;
        for (int j = 0; j < in; j++) {
            double sj = Math.pow(x0[j], alpha) / Math.pow(w0[j], 1 - alpha);
            assertEquals(x0[j] / sj, x1[j], 1e-5 * x0[j] / sj, input + " input channel " + j);
            assertEquals(first0[j] * sj, first1[j], 1e-5 * first0[j] * sj, weights[0] + " column " + j);
            if (Math.abs(sj - 1) > 0.01) {
                moved++;
            }
        }
        assertTrue(moved > 0, input + ": no channel was rescaled");
    }
}
