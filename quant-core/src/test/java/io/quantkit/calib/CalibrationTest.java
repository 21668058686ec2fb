package io.quantkit.calib;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quantkit.eval.Progress;
import io.quantkit.model.LlamaModel;
import io.quantkit.model.LlamaWeights;
import io.quantkit.model.ThreadPool;
import io.quantkit.tensor.FloatTensor;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The calibration pass and the profile file on the tiny reference models of io.quantkit.model's tests. */
class CalibrationTest {
    @TempDir
    Path dir;

    static List<int[]> seqs(int vocab) {
        List<int[]> s = new ArrayList<>();
        for (int k = 0; k < 3; k++) {
            int[] t = new int[11]; // prime length
            t[0] = 1;
            for (int i = 1; i < t.length; i++) {
                t[i] = (7 * i + 13 * k + 3) % vocab;
            }
            s.add(t);
        }
        return s;
    }

    static CalibrationProfile profile(LlamaWeights w, ThreadPool pool) {
        List<int[]> seqs = seqs(w.config().vocabSize());
        Map<String, CalibrationProfile.Entry> stats = Calibrator.run(w, LlamaModel.load(w), seqs, pool, Progress.NONE);
        return CalibrationProfile.of(new CalibrationProfile.Provenance("tiny.bin", "00", CalibrationProfile.fingerprint(w),
                "text.txt", "11", seqs.size(), 11, 7, 33), stats);
    }

    static byte[] bytes(CalibrationProfile p) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        p.write(out);
        return out.toByteArray();
    }

    @Test
    void statisticsMatchTheObservedInputs() throws Exception {
        LlamaWeights w = io.quantkit.model.LlamaModelTestAccess.tinyWeights();
        CalibrationProfile p = profile(w, ThreadPool.SEQUENTIAL);
        assertEquals(2 * 7 + 1, p.tensors().size(), "7 linear weights per layer, 2 layers, tied classifier");
        // independent recomputation of blk.0.ffn_down's input statistics from the observed rows
        List<float[]> rows = new ArrayList<>();
        LlamaModel m = LlamaModel.load(w);
        for (int[] s : seqs(w.config().vocabSize())) {
            m.newSession(32, ThreadPool.SEQUENTIAL, (t, x, n, width) -> {
                if (t.equals("blk.0.ffn_down.weight")) {
                    for (int r = 0; r < n; r++) {
                        rows.add(java.util.Arrays.copyOfRange(x, r * width, (r + 1) * width));
                    }
                }
            }).forward(s, 0, s.length, 0);
        }
        TensorStats st = p.stats("blk.0.ffn_down.weight");
        assertEquals(33, st.rows());
        assertEquals(40, st.width());
        double[] imp = st.importance();
        double[] gram = st.gram();
        for (int j = 0; j < 40; j++) {
            double ss = 0;
            double mn = Double.POSITIVE_INFINITY;
            double mx = Double.NEGATIVE_INFINITY;
            double cross = 0;
            for (float[] r : rows) {
                ss += (double) r[j] * r[j];
                mn = Math.min(mn, r[j]);
                mx = Math.max(mx, r[j]);
                cross += (double) r[j] * r[(j + 1) % 40];
            }
            assertEquals(ss / 33, imp[j], 1e-12 * Math.max(1, ss));
            assertEquals(mn, st.min()[j], 0);
            assertEquals(mx, st.max()[j], 0);
            assertEquals(Math.max(-mn, mx), st.absmax()[j], 0);
            assertEquals(cross / 33, gram[j * 40 + (j + 1) % 40], 1e-12 * Math.max(1, Math.abs(cross)));
            assertEquals(gram[j * 40 + (j + 1) % 40], gram[((j + 1) % 40) * 40 + j], 0, "symmetric");
        }
        long total = 0;
        for (long c : st.histogram()) {
            total += c;
        }
        assertEquals(33L * 40, total, "every value lands in one histogram bin");
    }

    @Test
    void profileIsByteIdenticalForAnyThreadCountAndRoundTrips() throws Exception {
        LlamaWeights w = io.quantkit.model.LlamaModelTestAccess.tinyWeights();
        byte[] one = bytes(profile(w, ThreadPool.SEQUENTIAL));
        byte[] two;
        try (ThreadPool pool = ThreadPool.create(3)) {
            two = bytes(profile(w, pool));
        }
        assertArrayEquals(one, two, "profile bytes must not depend on the thread count");
        Path f = dir.resolve("p.json");
        Files.write(f, one);
        CalibrationProfile back = CalibrationProfile.read(f);
        assertArrayEquals(one, bytes(back), "write → read → write reproduces the bytes");
        String text = new String(one, java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(text.startsWith("{\"format\":\"quantkit-calibration\",\"provenance\":{\"ctx\":11,"), text.substring(0, 80));
        back.checkFits(w);
    }

    @Test
    void aProfileOfOtherWeightsIsRefused() throws Exception {
        LlamaWeights w = io.quantkit.model.LlamaModelTestAccess.tinyWeights();
        CalibrationProfile p = profile(w, ThreadPool.SEQUENTIAL);
        LlamaWeights changed = w.map((n, t) -> {
            if (!n.equals("blk.1.attn_v.weight")) {
                return t;
            }
            float[] v = t.toFloatArray();
            v[3] += 1e-3f;
            return FloatTensor.of(t.shape(), v);
        });
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.checkFits(changed));
        assertTrue(e.getMessage().contains("made from other weights"), e.getMessage());
        LlamaWeights other = io.quantkit.model.LlamaModelTestAccess.otherTinyWeights();
        e = assertThrows(IllegalArgumentException.class, () -> p.checkFits(other));
        assertTrue(e.getMessage().contains("another model"), e.getMessage());
    }

    @Test
    void badProfilesAreRefusedWithOneSentence() throws Exception {
        Path f = dir.resolve("bad.json");
        Files.writeString(f, "{\"format\":\"something-else\",\"version\":1}");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CalibrationProfile.read(f)).getMessage()
                .contains("is not a quantkit calibration profile"));
        Files.writeString(f, "{\"format\":\"quantkit-calibration\",\"version\":99}");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CalibrationProfile.read(f)).getMessage()
                .contains("version 99"));
        Files.writeString(f, "{not json");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CalibrationProfile.read(f)).getMessage()
                .contains("is not JSON"));
    }

    @Test
    void histogramBinsAndPercentile() {
        assertEquals(0, TensorStats.bin(0f));
        assertEquals(0, TensorStats.bin(-0f));
        int one = TensorStats.bin(1f);
        assertEquals(1 + (0 - TensorStats.HIST_MIN_EXP) * TensorStats.HIST_PER_OCTAVE, one);
        assertEquals(one, TensorStats.bin(-1f), "by magnitude");
        assertEquals(one + TensorStats.HIST_PER_OCTAVE, TensorStats.bin(2f));
        assertEquals(one + 4, TensorStats.bin((float) Math.sqrt(2) * 1.0001f), "2^(4/8) starts sub-bin 4");
        assertEquals(one + 3, TensorStats.bin(1.41f));
        assertEquals(1, TensorStats.bin(Float.MIN_VALUE), "clamped low");
        assertEquals(TensorStats.HIST_BINS - 1, TensorStats.bin(Float.MAX_VALUE), "clamped high");
        TensorStats.Accumulator a = new TensorStats.Accumulator(1);
        float[] x = new float[1000];
        for (int i = 0; i < x.length; i++) {
            x[i] = i < 999 ? 1f : 100f;
        }
        a.add(x, 1000, 1);
        TensorStats s = a.finish();
        assertEquals(Math.pow(2, 1 / 8.0), s.percentile(0.99), 1e-12, "upper edge of the bin holding 1.0");
        assertEquals(100, s.percentile(1.0), 1e-12, "capped at absmax");
    }
}
