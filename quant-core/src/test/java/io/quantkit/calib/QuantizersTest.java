package io.quantkit.calib;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quantkit.model.Tokenizer;
import io.quantkit.quant.Codecs;
import io.quantkit.quant.QuantizedTensor;
import io.quantkit.quant.Scheme;
import io.quantkit.tensor.FloatTensor;
import io.quantkit.tensor.Shape;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Scale search, saliency selection, the knapsack and calibration data. */
class QuantizersTest {

    static double weightedError(float[] w, float[] q, double[] imp, int cols) {
        double e = 0;
        for (int i = 0; i < w.length; i++) {
            double d = w[i] - q[i];
            e += imp[i % cols] * d * d;
        }
        return e;
    }

    @Test
    void importanceWeightedSearchNeverLosesToRoundToNearest() {
        for (String scheme : new String[] {"int4:group=32", "int4:group=0", "int:bits=3,group=7", "q4_0"}) {
            for (long seed = 1; seed <= 4; seed++) {
                SplittableRandom rng = new SplittableRandom(seed);
                int rows = 5;
                int cols = 64;
                float[] w = new float[rows * cols];
                double[] imp = new double[cols];
                for (int i = 0; i < w.length; i++) {
                    w[i] = (float) (rng.nextGaussian() * 0.1);
                }
                for (int j = 0; j < cols; j++) {
                    imp[j] = Math.exp(3 * rng.nextGaussian());
                }
                FloatTensor t = FloatTensor.of(Shape.of(rows, cols), w);
                Scheme s = Scheme.parse(scheme);
                QuantizedTensor rtn = Codecs.forScheme(s).quantize(t);
                TensorStats st = new TensorStats(cols, 1, imp, new double[cols], new double[cols], new double[cols],
                        new double[cols * cols], new long[TensorStats.HIST_BINS]);
                QuantizedTensor im = CalibratedQuantizer.quantize(t, s, Method.IMATRIX, st, false);
                assertEquals(rtn.storageBytes(), im.storageBytes(), scheme);
                assertEquals(rtn.format(), im.format(), scheme + ": same stored scheme");
                double eR = weightedError(w, rtn.toFloatArray(), imp, cols);
                double eI = weightedError(w, im.toFloatArray(), imp, cols);
                assertTrue(eI <= eR, scheme + " seed " + seed + ": imatrix " + eI + " vs rtn " + eR);
                // decoding equals code × stored scale: re-quantizing with the codec's own rules changes nothing
                // only where the group's largest weight sits on the grid's end; the round trip here checks that
                // fromArrays accepted the layout and decodes every element finitely
                for (float v : im.toFloatArray()) {
                    assertTrue(Float.isFinite(v));
                }
            }
        }
    }

    @Test
    void q4_0OutputIsGgmlBlocksOfCodeTimesScale() {
        float[] w = new float[32];
        for (int i = 0; i < 32; i++) {
            w[i] = (i - 10) * 0.01f;
        }
        QuantizedTensor q = CalibratedQuantizer.quantize(FloatTensor.of(Shape.of(1, 32), w), Scheme.parse("q4_0"),
                Method.IMATRIX, null, false);
        assertEquals(18, q.storageBytes());
        java.nio.ByteBuffer b = q.arrays().get(0).data().order(java.nio.ByteOrder.LITTLE_ENDIAN);
        float d = io.quantkit.format.Fp16.toFloat(b.getShort(0));
        float[] dec = q.toFloatArray();
        for (int j = 0; j < 32; j++) {
            int nib = j < 16 ? b.get(2 + j) & 0x0f : (b.get(2 + j - 16) >> 4) & 0x0f;
            assertEquals((nib - 8) * d, dec[j], 0, "element " + j);
        }
    }

    @Test
    void saliencyPicksImportanceTimesSquaredWeight() {
        // 2 rows x 3 columns; importance favours column 2
        float[] w = {3f, -1f, 0.5f, -2f, 1f, -1f};
        double[] imp = {1, 1, 100};
        int[] got = SaliencySelector.of(imp).select(w, Shape.of(2, 3), 3);
        // scores: 9, 1, 25, 4, 1, 100 → indexes 5, 2, 0
        assertArrayEquals(new int[] {0, 2, 5}, got);
        // ties go to the lower index: scores 1 (index 1) and 1 (index 4)
        assertArrayEquals(new int[] {0, 1, 2, 3, 5}, SaliencySelector.of(imp).select(w, Shape.of(2, 3), 5));
        assertThrows(IllegalArgumentException.class, () -> SaliencySelector.of(new double[] {1, -1}));
    }

    @Test
    void saliencyOutliersKeepTheChosenWeightsExactly() {
        SplittableRandom rng = new SplittableRandom(11);
        int cols = 64;
        float[] w = new float[4 * cols];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (rng.nextGaussian() * 0.05);
        }
        for (int r = 0; r < 4; r++) {
            w[r * cols + 7] = 0.01f * (r + 1); // small weights on a very active channel: salient, not large
        }
        double[] imp = new double[cols];
        java.util.Arrays.fill(imp, 1);
        imp[7] = 1000;
        TensorStats st = new TensorStats(cols, 1, imp, new double[cols], new double[cols], new double[cols],
                new double[cols * cols], new long[TensorStats.HIST_BINS]);
        Scheme s = Scheme.parse("int4-outliers:group=32,budget=2%,select=saliency");
        QuantizedTensor q = CalibratedQuantizer.quantize(FloatTensor.of(Shape.of(4, cols), w), s, Method.RTN, st, false);
        float[] d = q.toFloatArray();
        for (int r = 0; r < 4; r++) {
            assertEquals(io.quantkit.format.Fp16.round(w[r * cols + 7]), d[r * cols + 7], 0, "row " + r);
        }
        QuantizedTensor g = CalibratedQuantizer.quantize(FloatTensor.of(Shape.of(4, cols), w), s, Method.IMATRIX, st,
                false);
        assertEquals(q.storageBytes(), g.storageBytes());
        float[] dg = g.toFloatArray();
        for (int r = 0; r < 4; r++) {
            assertEquals(io.quantkit.format.Fp16.round(w[r * cols + 7]), dg[r * cols + 7], 0, "row " + r);
        }
        // without statistics, saliency falls back to magnitude (uniform importance)
        assertArrayEquals(Codecs.forScheme(Scheme.parse("int4-outliers:group=32,budget=2%")).quantize(
                FloatTensor.of(Shape.of(4, cols), w)).toFloatArray(), CalibratedQuantizer.quantize(
                FloatTensor.of(Shape.of(4, cols), w), s, Method.RTN, null, false).toFloatArray());
    }

    @Test
    void knapsackPicksTheLeastKldThatFits() {
        Scheme a = Scheme.parse("int4");
        Scheme b = Scheme.parse("int8");
        Map<String, List<MixedPrecision.Option>> o = new LinkedHashMap<>();
        // x: 100 bytes dKLD 0.5, or 200 bytes dKLD 0.1; y: 100 bytes 0.3, or 200 bytes 0.2
        o.put("x", List.of(new MixedPrecision.Option(new MixedPrecision.Candidate(a, Method.RTN), 96, 0.5),
                new MixedPrecision.Option(new MixedPrecision.Candidate(b, Method.RTN), 192, 0.1)));
        o.put("y", List.of(new MixedPrecision.Option(new MixedPrecision.Candidate(a, Method.RTN), 96, 0.3),
                new MixedPrecision.Option(new MixedPrecision.Candidate(b, Method.RTN), 192, 0.2)));
        MixedPrecision.Plan p = MixedPrecision.choose(o, 10, 10 + 96 + 192);
        assertEquals(b, p.choice().get("x").candidate().scheme(), "upgrading x saves 0.4, y only 0.1");
        assertEquals(a, p.choice().get("y").candidate().scheme());
        assertEquals(10 + 96 + 192, p.bytes());
        assertEquals(0.4, p.predictedKld(), 1e-12);
        assertEquals(0.3, MixedPrecision.choose(o, 10, 10 + 192 + 192).predictedKld(), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> MixedPrecision.choose(o, 10, 150));
        assertTrue(p.recipe("test").contains("x                            int8"), p.recipe("test"));
    }

    /** Splits on spaces; ids are word lengths (so they are checkable by eye). */
    static final class WordTokenizer implements Tokenizer {
        @Override
        public int vocabSize() {
            return 100;
        }

        @Override
        public int bos() {
            return 1;
        }

        @Override
        public int eos() {
            return 2;
        }

        @Override
        public int[] encode(String text, boolean addBos) {
            List<Integer> ids = new ArrayList<>();
            if (addBos) {
                ids.add(1);
            }
            for (String s : text.split("\\s+")) {
                if (!s.isEmpty()) {
                    ids.add(10 + s.length());
                }
            }
            return ids.stream().mapToInt(Integer::intValue).toArray();
        }

        @Override
        public String decode(int[] ids) {
            return "";
        }

        @Override
        public String piece(int id) {
            return "";
        }
    }

    @Test
    void jsonlAndTextDataAndSeededSequences() {
        String jsonl = "{\"text\": \"a bb\"}\n\n{\"text\": \"ccc\", \"id\": 3}\n";
        assertEquals("a bb\n\nccc", CalibrationData.parseText(jsonl.getBytes(StandardCharsets.UTF_8), "d.jsonl"));
        assertEquals("plain {text}", CalibrationData.parseText("plain {text}".getBytes(StandardCharsets.UTF_8), "d.txt"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CalibrationData.parseText(
                "{\"txt\": \"x\"}".getBytes(StandardCharsets.UTF_8), "d.jsonl"));
        assertEquals("d.jsonl line 1 has no string field \"text\"", e.getMessage());
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 40; i++) {
            sb.append("x".repeat(1 + i % 7)).append(' ');
        }
        Tokenizer tok = new WordTokenizer();
        List<int[]> s1 = CalibrationData.sequences(tok, sb.toString(), 3, 5, 42);
        List<int[]> s2 = CalibrationData.sequences(tok, sb.toString(), 3, 5, 42);
        assertEquals(3, s1.size());
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(s1.get(i), s2.get(i), "same seed, same sequences");
            assertEquals(5, s1.get(i).length);
            assertEquals(1, s1.get(i)[0], "BOS first");
        }
        // 41 tokens → 8 chunks of 5; all 8 chosen = every chunk in order
        List<int[]> all = CalibrationData.sequences(tok, sb.toString(), 8, 5, 3);
        int[] ids = tok.encode(sb.toString(), true);
        for (int c = 0; c < 8; c++) {
            for (int i = 1; i < 5; i++) {
                assertEquals(ids[c * 5 + i], all.get(c)[i]);
            }
        }
        e = assertThrows(IllegalArgumentException.class, () -> CalibrationData.sequences(tok, sb.toString(), 9, 5, 1));
        assertEquals("samples (9) exceeds the 8 chunks of 5 tokens in the calibration text (41 tokens)", e.getMessage());
    }
}
