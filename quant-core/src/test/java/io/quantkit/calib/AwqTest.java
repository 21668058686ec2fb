package io.quantkit.calib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quantkit.eval.Progress;
import io.quantkit.model.LlamaModel;
import io.quantkit.model.LlamaWeights;
import io.quantkit.model.ThreadPool;
import io.quantkit.quant.Codecs;
import io.quantkit.quant.Scheme;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** AWQ-style equalisation: its error formula against real activations, its choice, and the unchanged function. */
class AwqTest {
    static final Scheme INT4 = Scheme.parse("int4:group=8");

    static Map<String, TensorStats> gram(LlamaWeights w) {
        Map<String, TensorStats> g = new TreeMap<>();
        Calibrator.run(w, LlamaModel.load(w), SmoothingTest.SEQS, ThreadPool.SEQUENTIAL, Progress.NONE)
                .forEach((k, v) -> g.put(k, v.stats()));
        return g;
    }

    static Map<String, double[]> meanAbs(LlamaWeights w) {
        Map<String, double[]> m = new TreeMap<>();
        ActivationCalibrator.run(LlamaModel.load(w), SmoothingTest.SEQS, ThreadPool.SEQUENTIAL)
                .forEach((k, v) -> m.put(k, v.channelMeanAbs()));
        return m;
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void errorIsTheMeanSquaredOutputErrorOnTheCalibrationInputs(boolean gqa) throws Exception {
        LlamaWeights w = SmoothingTest.model(gqa);
        // the inputs themselves, captured from the model
        Map<String, List<float[]>> inputs = new TreeMap<>();
        Map<String, Integer> widths = new TreeMap<>();
        LlamaModel.Session session = LlamaModel.load(w).newSession(32, ThreadPool.SEQUENTIAL, (t, x, rows, width) -> {
            List<float[]> l = inputs.computeIfAbsent(t, k -> new ArrayList<>());
            for (int r = 0; r < rows; r++) {
                l.add(java.util.Arrays.copyOfRange(x, r * width, (r + 1) * width));
            }
            widths.put(t, width);
        });
        for (int[] s : SmoothingTest.SEQS) {
            session.reset();
            session.forward(s, 0, s.length, 0);
        }
        Map<String, TensorStats> g = gram(w);
        Map<String, double[]> x = meanAbs(w);
        for (Smoothing.Group grp : Smoothing.groups(w)) {
            double[] s = Smoothing.expand(grp, w.config(),
                    Awq.candidate(Smoothing.reduce(grp, w.config(), x.get(grp.input())), 0.5));
            double e = Awq.error(w, grp, s, g.get(grp.input()).gram(), n -> INT4);
            // direct: mean over tokens of ||x (W − Ŵ)ᵀ||², Ŵ = Q(W diag s) diag(1/s)
            double direct = 0;
            int in = grp.width();
            for (String n : grp.weights()) {
                float[] wf = w.tensor(n).toFloatArray();
                float[] ws = new float[wf.length];
                for (int i = 0; i < wf.length; i++) {
                    ws[i] = (float) (wf[i] * s[i % in]);
                }
                float[] q = Codecs.forScheme(INT4).quantize(io.quantkit.tensor.FloatTensor.wrap(w.tensor(n).shape(),
                        ws)).toFloatArray();
                int rows = wf.length / in;
                for (float[] xr : inputs.get(grp.input())) {
                    for (int r = 0; r < rows; r++) {
                        double y = 0;
                        for (int j = 0; j < in; j++) {
                            y += xr[j] * (wf[r * in + j] - q[r * in + j] / s[j]);
                        }
                        direct += y * y;
                    }
                }
            }
            direct /= inputs.get(grp.input()).size();
            assertEquals(direct, e, 1e-9 * direct, grp.input());
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void chosenFactorsNeverLoseToRoundToNearestAndKeepTheFunction(boolean gqa) throws Exception {
        LlamaWeights w = SmoothingTest.model(gqa);
        Map<String, TensorStats> g = gram(w);
        Map<String, double[]> x = meanAbs(w);
        LlamaWeights a = Awq.apply(w, x, g, n -> INT4);
        int better = 0;
        for (Smoothing.Group grp : Smoothing.groups(w)) {
            double[] one = new double[grp.width()];
            java.util.Arrays.fill(one, 1);
            double rtn = Awq.error(w, grp, one, g.get(grp.input()).gram(), n -> INT4);
            // the grid holds α = 0 (s = 1, round to nearest), so its minimum never loses to it
            double best = Double.POSITIVE_INFINITY;
            for (int i = 0; i < Awq.GRID; i++) {
                double[] s = Smoothing.expand(grp, w.config(),
                        Awq.candidate(Smoothing.reduce(grp, w.config(), x.get(grp.input())), i / (double) Awq.GRID));
                best = Math.min(best, Awq.error(w, grp, s, g.get(grp.input()).gram(), n -> INT4));
            }
            assertTrue(best <= rtn, grp.input());
            if (best < rtn * 0.999) {
                better++;
            }
        }
        assertTrue(better > 0, "AWQ improved no group");
        // without quantization the equalised model computes the same logits
        int[] tokens = {1, 7, 3, 3, 12, 19, 2, 5, 26};
        float[] want = LlamaModel.load(w).newSession().forward(tokens, 0, tokens.length, 0);
        float[] got = LlamaModel.load(a).newSession().forward(tokens, 0, tokens.length, 0);
        double scale = 0;
        double worst = 0;
        for (int i = 0; i < want.length; i++) {
            scale = Math.max(scale, Math.abs(want[i]));
            worst = Math.max(worst, Math.abs(got[i] - want[i]));
        }
        assertTrue(worst <= 2e-5 * scale, "max |Δlogit| " + worst);
    }
}
