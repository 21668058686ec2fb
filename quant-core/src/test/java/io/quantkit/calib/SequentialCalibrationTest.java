package io.quantkit.calib;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quantkit.eval.Progress;
import io.quantkit.model.LlamaModel;
import io.quantkit.model.LlamaWeights;
import io.quantkit.model.ThreadPool;
import io.quantkit.quant.Codecs;
import io.quantkit.quant.Scheme;
import io.quantkit.tensor.Tensor;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Sequential calibration's stages, order and statistics on the tiny reference models of io.quantkit.model's tests. */
class SequentialCalibrationTest {
    /** The scheme of these tests: 3-bit integers, one scale per row, coarse enough that earlier errors show. */
    static final Scheme INT3 = Scheme.parse("int:bits=3,group=0");

    /** The paired statistics of weight {@code name} with {@code done} already quantized. */
    static SequentialCalibration.Paired paired(LlamaWeights w, Map<String, Tensor> done, String name,
            List<int[]> seqs) throws Exception {
        return SequentialCalibration.paired(w, done, Set.of(name), seqs, ThreadPool.SEQUENTIAL).get(name);
    }

    @Test
    void stagesGroupTheWeightsThatReadOneInput() {
        assertEquals("blk.3.attn_in", SequentialCalibration.stage("blk.3.attn_q.weight"));
        assertEquals("blk.3.attn_in", SequentialCalibration.stage("blk.3.attn_k.weight"));
        assertEquals("blk.3.attn_in", SequentialCalibration.stage("blk.3.attn_v.weight"));
        assertEquals("blk.3.attn_output", SequentialCalibration.stage("blk.3.attn_output.weight"));
        assertEquals("blk.12.ffn_in", SequentialCalibration.stage("blk.12.ffn_gate.weight"));
        assertEquals("blk.12.ffn_in", SequentialCalibration.stage("blk.12.ffn_up.weight"));
        assertEquals("blk.12.ffn_down", SequentialCalibration.stage("blk.12.ffn_down.weight"));
        assertEquals("output", SequentialCalibration.stage("output.weight"));
        assertNull(SequentialCalibration.stage("token_embd.weight"));
        assertNull(SequentialCalibration.stage("blk.0.attn_norm.weight"));
        assertNull(SequentialCalibration.stage("output_norm.weight"));
        assertNull(SequentialCalibration.stage("blk.weight"));
    }

    @Test
    void theOrderIsTheForwardPass() throws Exception {
        LlamaWeights w = io.quantkit.model.LlamaModelTestAccess.otherTinyWeights(); // 3 layers, separate classifier
        List<String> order = SequentialCalibration.order(w);
        assertEquals(new HashSet<>(w.tensors().keySet()), new HashSet<>(order));
        assertEquals(w.tensors().size(), order.size());
        assertEquals("token_embd.weight", order.get(0));
        assertEquals("output.weight", order.get(order.size() - 1));
        for (int l = 0; l < 3; l++) {
            int q = order.indexOf("blk." + l + ".attn_q.weight");
            int o = order.indexOf("blk." + l + ".attn_output.weight");
            int gate = order.indexOf("blk." + l + ".ffn_gate.weight");
            int up = order.indexOf("blk." + l + ".ffn_up.weight");
            int down = order.indexOf("blk." + l + ".ffn_down.weight");
            assertTrue(q < o && o < gate && gate < down && up < down, order.toString());
            if (l > 0) {
                assertTrue(order.indexOf("blk." + (l - 1) + ".ffn_down.weight") < q, order.toString());
            }
        }
        assertEquals(List.of("blk.1.ffn_gate.weight", "blk.1.ffn_up.weight"),
                SequentialCalibration.members(w, "blk.1.ffn_in"));
    }

    @Test
    void withNothingQuantizedTheStatisticsAreTheFloatModels() throws Exception {
        LlamaWeights w = io.quantkit.model.LlamaModelTestAccess.otherTinyWeights();
        List<int[]> seqs = CalibrationTest.seqs(w.config().vocabSize());
        Map<String, CalibrationProfile.Entry> all = Calibrator.run(w, LlamaModel.load(w), seqs, ThreadPool.SEQUENTIAL,
                Progress.NONE);
        Map<String, TensorStats> s = SequentialCalibration.stats(w, Map.of(),
                Set.of("blk.2.ffn_down.weight", "output.weight"), seqs, ThreadPool.SEQUENTIAL);
        assertEquals(Set.of("blk.2.ffn_down.weight", "output.weight"), s.keySet(), "only the names asked for");
        for (String n : s.keySet()) {
            assertArrayEquals(all.get(n).stats().gram(), s.get(n).gram(), n);
            assertArrayEquals(all.get(n).stats().importance(), s.get(n).importance(), n);
        }
    }

    /** The inputs of {@code tensor} in the model {@code w}, observed row by row (for an independent sum). */
    private static List<float[]> inputs(LlamaWeights w, String tensor, List<int[]> seqs) {
        List<float[]> rows = new ArrayList<>();
        LlamaModel m = LlamaModel.load(w);
        for (int[] s : seqs) {
            m.newSession(32, ThreadPool.SEQUENTIAL, (t, x, n, width) -> {
                if (t.equals(tensor)) {
                    for (int r = 0; r < n; r++) {
                        rows.add(java.util.Arrays.copyOfRange(x, r * width, (r + 1) * width));
                    }
                }
            }).forward(s, 0, s.length, 0);
        }
        return rows;
    }

    @Test
    void laterStatisticsComeFromThePartlyQuantizedModel() throws Exception {
        LlamaWeights w = io.quantkit.model.LlamaModelTestAccess.otherTinyWeights();
        List<int[]> seqs = CalibrationTest.seqs(w.config().vocabSize());
        Map<String, Tensor> done = new LinkedHashMap<>();
        for (String n : List.of("token_embd.weight", "blk.0.attn_q.weight", "blk.0.attn_k.weight",
                "blk.0.attn_v.weight")) {
            done.put(n, Codecs.forScheme(INT3).quantize(w.tensor(n)));
        }
        String target = "blk.0.attn_output.weight";
        TensorStats s = SequentialCalibration.stats(w, done, Set.of(target), seqs, ThreadPool.create(2)).get(target);
        Map<String, Tensor> merged = new LinkedHashMap<>(w.tensors());
        merged.putAll(done);
        List<float[]> rows = inputs(LlamaWeights.of(w.config(), merged), target, seqs);
        int width = s.width();
        assertEquals(rows.size(), s.rows());
        double[] gram = s.gram();
        double maxDiffFromFloat = 0;
        TensorStats floatStats = SequentialCalibration.stats(w, Map.of(), Set.of(target), seqs, ThreadPool.SEQUENTIAL)
                .get(target);
        for (int i = 0; i < width; i++) {
            for (int j = 0; j < width; j++) {
                double sum = 0;
                for (float[] r : rows) {
                    sum += (double) r[i] * r[j];
                }
                double want = sum / rows.size();
                assertEquals(want, gram[i * width + j], 1e-12 * Math.max(1, Math.abs(want)), i + "," + j);
                maxDiffFromFloat = Math.max(maxDiffFromFloat, Math.abs(want - floatStats.gram()[i * width + j]));
            }
        }
        assertTrue(maxDiffFromFloat > 1e-4, "the quantized q/k/v change attn_output's input: " + maxDiffFromFloat);
    }

    @Test
    void gptqOnTheSequentialStatisticsHasTheLowerErrorOnTheInputsItWillGet() throws Exception {
        LlamaWeights w = io.quantkit.model.LlamaModelTestAccess.otherTinyWeights();
        List<int[]> seqs = CalibrationTest.seqs(w.config().vocabSize());
        // every weight before blk.2's FFN quantized (3 bits per row, round to nearest)
        Map<String, Tensor> done = quantizedBefore(w, "blk.2.ffn_gate.weight", INT3);
        String target = "blk.2.ffn_up.weight";
        TensorStats seq = SequentialCalibration.stats(w, done, Set.of(target), seqs, ThreadPool.SEQUENTIAL).get(target);
        TensorStats flt = SequentialCalibration.stats(w, Map.of(), Set.of(target), seqs, ThreadPool.SEQUENTIAL)
                .get(target);
        Tensor t = w.tensor(target);
        Tensor bySeq = CalibratedQuantizer.quantize(t, INT3, Method.GPTQ, seq, false);
        Tensor byFloat = CalibratedQuantizer.quantize(t, INT3, Method.GPTQ, flt, false);
        double eSeq = OutputError.of(t, bySeq, seq);
        double eFloat = OutputError.of(t, byFloat, seq);
        assertTrue(eSeq < eFloat, "on the quantized model's inputs: sequential " + eSeq + " vs float statistics " + eFloat);
    }

    @Test
    void pairedStatisticsHoldTheCrossMomentOfFloatAndQuantizedInputs() throws Exception {
        LlamaWeights w = io.quantkit.model.LlamaModelTestAccess.otherTinyWeights();
        List<int[]> seqs = CalibrationTest.seqs(w.config().vocabSize());
        Map<String, Tensor> done = new LinkedHashMap<>();
        for (String n : List.of("token_embd.weight", "blk.0.attn_q.weight", "blk.0.attn_k.weight",
                "blk.0.attn_v.weight", "blk.0.attn_output.weight")) {
            done.put(n, Codecs.forScheme(INT3).quantize(w.tensor(n)));
        }
        String target = "blk.0.ffn_up.weight";
        SequentialCalibration.Paired p = SequentialCalibration.paired(w, done, Set.of(target, "blk.0.ffn_gate.weight"),
                seqs, ThreadPool.create(2)).get(target);
        Map<String, Tensor> merged = new LinkedHashMap<>(w.tensors());
        merged.putAll(done);
        List<float[]> xq = inputs(LlamaWeights.of(w.config(), merged), target, seqs);
        List<float[]> xf = inputs(w, target, seqs);
        assertEquals(xq.size(), xf.size());
        int n = p.quantized().width();
        double[] c = p.cross();
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int r = 0; r < xq.size(); r++) {
                    sum += (double) xf.get(r)[i] * xq.get(r)[j];
                }
                double want = sum / xq.size();
                assertEquals(want, c[i * n + j], 1e-12 * Math.max(1, Math.abs(want)), i + "," + j);
            }
        }
        assertArrayEquals(SequentialCalibration.stats(w, done, Set.of(target), seqs, ThreadPool.SEQUENTIAL).get(target)
                .gram(), p.quantized().gram(), "the same statistics as the reference's pass");
    }

    @Test
    void theFloatTargetSolvesTheDampedNormalEquations() throws Exception {
        LlamaWeights w = io.quantkit.model.LlamaModelTestAccess.otherTinyWeights();
        List<int[]> seqs = CalibrationTest.seqs(w.config().vocabSize());
        Map<String, Tensor> done = quantizedBefore(w, "blk.1.attn_q.weight", INT3);
        String name = "blk.1.attn_q.weight";
        SequentialCalibration.Paired p = paired(w, done, name, seqs);
        Tensor t = w.tensor(name);
        float[] wt = t.toFloatArray();
        float[] target = p.target(t).toFloatArray();
        int n = p.quantized().width();
        double[] h = p.quantized().gram();
        double[] c = p.cross();
        double mean = 0;
        for (int i = 0; i < n; i++) {
            mean += h[i * n + i];
        }
        double lambda = Gptq.DAMP * mean / n;
        // W'(H + λI) = W(C + λI), row by row, to float32 rounding of W'
        double worst = 0;
        double moved = 0;
        for (int r = 0; r < wt.length / n; r++) {
            for (int j = 0; j < n; j++) {
                double lhs = lambda * target[r * n + j];
                double rhs = lambda * wt[r * n + j];
                double scale = 0;
                for (int k = 0; k < n; k++) {
                    lhs += target[r * n + k] * h[k * n + j];
                    rhs += wt[r * n + k] * c[k * n + j];
                    scale += Math.abs(wt[r * n + k] * c[k * n + j]);
                }
                worst = Math.max(worst, Math.abs(lhs - rhs) / Math.max(scale, 1e-30));
                moved = Math.max(moved, Math.abs(target[r * n + j] - wt[r * n + j]));
            }
        }
        assertTrue(worst < 1e-5, "normal equations hold to float rounding: " + worst);
        assertTrue(moved > 1e-4, "the earlier weights' error moves the target: " + moved);
        // with nothing quantized the inputs agree and the target is the weight itself
        SequentialCalibration.Paired same = paired(w, Map.of(), name, seqs);
        assertArrayEquals(wt, same.target(t).toFloatArray());
    }

    @Test
    void floatTargetsLowerTheErrorAgainstTheFloatModelsOutput() throws Exception {
        LlamaWeights w = io.quantkit.model.LlamaModelTestAccess.otherTinyWeights();
        List<int[]> seqs = CalibrationTest.seqs(w.config().vocabSize());
        Map<String, Tensor> done = quantizedBefore(w, "blk.2.ffn_gate.weight", INT3);
        String name = "blk.2.ffn_up.weight";
        SequentialCalibration.Paired p = paired(w, done, name, seqs);
        Tensor t = w.tensor(name);
        Tensor byTarget = CalibratedQuantizer.quantize(p.target(t), INT3, Method.GPTQ, p.quantized(), false);
        Tensor byWeight = CalibratedQuantizer.quantize(t, INT3, Method.GPTQ, p.quantized(), false);
        Map<String, Tensor> merged = new LinkedHashMap<>(w.tensors());
        merged.putAll(done);
        List<float[]> xq = inputs(LlamaWeights.of(w.config(), merged), name, seqs);
        List<float[]> xf = inputs(w, name, seqs);
        double eTarget = outputError(t, xf, byTarget, xq);
        double eWeight = outputError(t, xf, byWeight, xq);
        assertTrue(eTarget < eWeight, "E||W x - Q x^||^2: float target " + eTarget + " vs weight " + eWeight);
    }

    /** Σ over tokens of ‖W x − Q x̂‖², summed directly from the observed inputs. */
    private static double outputError(Tensor w, List<float[]> xf, Tensor q, List<float[]> xq) {
        float[] a = w.toFloatArray();
        float[] b = q.toFloatArray();
        int cols = xf.get(0).length;
        int rows = a.length / cols;
        double sum = 0;
        for (int t = 0; t < xf.size(); t++) {
            for (int r = 0; r < rows; r++) {
                double d = 0;
                for (int i = 0; i < cols; i++) {
                    d += (double) a[r * cols + i] * xf.get(t)[i] - (double) b[r * cols + i] * xq.get(t)[i];
                }
                sum += d * d;
            }
        }
        return sum;
    }

    /** The 2-D weights before {@code stop} in forward order, quantized to {@code scheme}: what a stage sees done. */
    private static Map<String, Tensor> quantizedBefore(LlamaWeights w, String stop, Scheme scheme) {
        Map<String, Tensor> done = new LinkedHashMap<>();
        for (String n : SequentialCalibration.order(w)) {
            if (n.equals(stop)) {
                break;
            }
            if (w.tensor(n).shape().rank() == 2) {
                done.put(n, Codecs.forScheme(scheme).quantize(w.tensor(n)));
            }
        }
        return done;
    }
}
