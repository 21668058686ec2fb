package io.quantkit.calib;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quantkit.eval.Progress;
import io.quantkit.model.LlamaModel;
import io.quantkit.model.LlamaWeights;
import io.quantkit.model.Stories260K;
import io.quantkit.model.ThreadPool;
import io.quantkit.testing.SharedData;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Activation statistics and equalisation on stories260K (calibrated on the sample after its first 200,000 bytes). */
@Tag("real-data")
class ActivationRealDataTest {

    @Test
    void equalisationKeepsTheLogits() throws Exception {
        Stories260K s = Stories260K.bin();
        byte[] corpus = Files.readAllBytes(SharedData.path("corpora/tinystories_val_sample.txt"));
        String cal = new String(Arrays.copyOfRange(corpus, 200_000, corpus.length), StandardCharsets.UTF_8);
        List<int[]> seqs = CalibrationData.sequences(s.tokenizer, cal, 8, 128, 1);
        Map<String, ActivationStats> stats = ActivationCalibrator.run(s.model, seqs, ThreadPool.SEQUENTIAL);
        // the per-channel maxima agree with the calibration profile's (TensorStats), gathered separately
        Map<String, CalibrationProfile.Entry> profile = Calibrator.run(s.weights, s.model, seqs, ThreadPool.SEQUENTIAL,
                Progress.NONE);
        for (Map.Entry<String, ActivationStats> e : stats.entrySet()) {
            assertArrayEquals(profile.get(e.getKey()).stats().absmax(), e.getValue().channelAbsmax(), 0.0, e.getKey());
        }
        Map<String, double[]> absmax = new TreeMap<>();
        stats.forEach((k, v) -> absmax.put(k, v.channelAbsmax()));
        int[] eval = s.tokenizer.encode(new String(Arrays.copyOf(corpus, 2_000), StandardCharsets.UTF_8), true);
        int[] tokens = Arrays.copyOf(eval, 128);
        float[] want = s.model.newSession().forward(tokens, 0, tokens.length, 0);
        double scale = 0;
        for (float v : want) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (double alpha : new double[] {0.5, 0.8}) {
            LlamaWeights sw = Smoothing.apply(s.weights, absmax, alpha);
            float[] got = LlamaModel.load(sw).newSession().forward(tokens, 0, tokens.length, 0);
            double worst = 0;
            for (int i = 0; i < want.length; i++) {
                worst = Math.max(worst, Math.abs(got[i] - want[i]));
            }
            assertTrue(worst <= 1e-4 * scale, "alpha " + alpha + ": max |Δlogit| " + worst + " of " + scale);
        }
    }
}
