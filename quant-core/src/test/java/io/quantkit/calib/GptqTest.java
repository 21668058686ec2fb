package io.quantkit.calib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantkit.quant.Codecs;
import io.quantkit.quant.QuantizedTensor;
import io.quantkit.quant.Scheme;
import io.quantkit.tensor.FloatTensor;
import io.quantkit.tensor.Shape;
import java.io.InputStream;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** GPTQ against reference/calib/gptq_reference.py (an independent numpy implementation), and its objective. */
class GptqTest {

    @Test
    void codesAndScalesMatchNumpyReference() throws Exception {
        JsonNode root;
        try (InputStream in = GptqTest.class.getResourceAsStream("/reference/calib/gptq.json")) {
            root = new ObjectMapper().readTree(in);
        }
        for (JsonNode c : root.get("cases")) {
            int rows = c.get("rows").asInt();
            int cols = c.get("cols").asInt();
            int bits = c.get("bits").asInt();
            int group = c.get("group").asInt();
            float[] w = new float[rows * cols];
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) c.get("w").get(i).asDouble();
            }
            double[] gram = new double[cols * cols];
            for (int i = 0; i < gram.length; i++) {
                gram[i] = c.get("gram").get(i).asDouble();
            }
            GridTarget t = GridTarget.of(Scheme.parse("int:bits=" + bits + ",group=" + group));
            Gptq.Result r = Gptq.run(t, w, rows, cols, gram, false, false, null);
            String seed = "case seed " + c.get("seed").asInt();
            for (int i = 0; i < r.scales().length; i++) {
                assertEquals(c.get("scales").get(i).asDouble(), r.scales()[i], 0.0, seed + " scale " + i);
            }
            for (int i = 0; i < r.q().length; i++) {
                assertEquals(c.get("q").get(i).asInt(), r.q()[i], seed + " code " + i);
            }
        }
    }

    /** tr((W − Q) H (W − Q)ᵀ): the output error GPTQ minimises greedily. */
    static double outputError(float[] w, float[] q, double[] gram, int rows, int cols) {
        double e = 0;
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < cols; i++) {
                double di = w[r * cols + i] - q[r * cols + i];
                for (int j = 0; j < cols; j++) {
                    e += di * gram[i * cols + j] * (w[r * cols + j] - q[r * cols + j]);
                }
            }
        }
        return e;
    }

    @Test
    void gptqBeatsRoundToNearestOnCorrelatedInputs() {
        for (long seed = 1; seed <= 5; seed++) {
            SplittableRandom rng = new SplittableRandom(seed);
            int rows = 16;
            int cols = 37; // prime, groups of 32 leave a short last group
            float[] w = new float[rows * cols];
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) (rng.nextGaussian() * 0.05);
            }
            int n = 200;
            double[] gram = new double[cols * cols];
            double[] x = new double[cols];
            for (int s = 0; s < n; s++) {
                double common = rng.nextGaussian();
                for (int j = 0; j < cols; j++) {
                    x[j] = 0.7 * common + rng.nextGaussian() * (1 + j % 5);
                }
                for (int i = 0; i < cols; i++) {
                    for (int j = 0; j < cols; j++) {
                        gram[i * cols + j] += x[i] * x[j] / n;
                    }
                }
            }
            Scheme scheme = Scheme.parse("int4:group=32");
            FloatTensor t = FloatTensor.of(Shape.of(rows, cols), w);
            QuantizedTensor rtn = Codecs.forScheme(scheme).quantize(t);
            TensorStats stats = new TensorStats(cols, n, diag(gram, cols), new double[cols], new double[cols],
                    new double[cols], gram, new long[TensorStats.HIST_BINS]);
            QuantizedTensor g = CalibratedQuantizer.quantize(t, scheme, Method.GPTQ, stats, false);
            QuantizedTensor ga = CalibratedQuantizer.quantize(t, scheme, Method.GPTQ, stats, true);
            double eR = outputError(w, rtn.toFloatArray(), gram, rows, cols);
            double eG = outputError(w, g.toFloatArray(), gram, rows, cols);
            double eA = outputError(w, ga.toFloatArray(), gram, rows, cols);
            assertTrue(eG < 0.9 * eR, "seed " + seed + ": gptq " + eG + " vs rtn " + eR);
            assertTrue(eA < eR, "seed " + seed + ": gptq act-order " + eA + " vs rtn " + eR);
            assertEquals(rtn.storageBytes(), g.storageBytes(), "same layout, same size");
        }
    }

    static double[] diag(double[] g, int n) {
        double[] d = new double[n];
        for (int i = 0; i < n; i++) {
            d[i] = g[i * n + i];
        }
        return d;
    }

    @Test
    void choleskyOfInverseOnAKnownMatrix() {
        // A = [[4, 2], [2, 3]]: A⁻¹ = [[3, -2], [-2, 4]] / 8; U upper with UᵀU = A⁻¹:
        // U00 = sqrt(3/8), U01 = (-2/8)/U00, U11 = sqrt(4/8 - U01²)
        double[] u = Gptq.upperCholeskyOfInverse(new double[] {4, 2, 2, 3}, 2);
        double u00 = Math.sqrt(3.0 / 8);
        double u01 = -0.25 / u00;
        assertEquals(u00, u[0], 1e-12);
        assertEquals(u01, u[1], 1e-12);
        assertEquals(0, u[2], 0);
        assertEquals(Math.sqrt(0.5 - u01 * u01), u[3], 1e-12);
        assertEquals(null, Gptq.upperCholeskyOfInverse(new double[] {1, 2, 2, 1}, 2), "indefinite");
    }

    /**
     * A kept weight (int4-outliers) is stored as GPTQ's compensated target. With three columns, the last one kept,
     * G as below, H = 2·G and damping λ = 0.01 · mean diag H = 0.02 (H̃ = H + λI), the best value of w2 once
     * columns 0 and 1 are fixed with errors δ_i = w_i − q_i·s is w2 + (H̃20·δ0 + H̃21·δ1) / H̃22 (the closed form
     * GPTQ's sequential updates reach), rounded to f16.
     */
    @Test
    void keptWeightIsStoredAsItsCompensatedTarget() {
        float[] w = {0.3f, 0.17f, 0.5f};
        double[] gram = {1, 0.5, 0.3, 0.5, 1, 0.4, 0.3, 0.4, 1};
        float[] exact = {Float.NaN, Float.NaN, 0.5f};
        GridTarget t = GridTarget.of(Scheme.parse("int4-outliers:group=32"));
        Gptq.Result r = Gptq.run(t, w, 1, 3, gram, false, false, exact);
        assertEquals(0, r.q()[2], "a kept weight has code 0");
        double s = r.scales()[0];
        double d0 = 0.3f - r.q()[0] * s;
        double d1 = 0.17f - r.q()[1] * s;
        float want = io.quantkit.format.Fp16.round((float) (0.5 + (0.6 * d0 + 0.8 * d1) / 2.02));
        assertEquals(want, exact[2], 1e-6f, "δ0 = " + d0 + ", δ1 = " + d1);
        assertTrue(want != 0.5f, "the case compensates by more than half an f16 step: " + want);
        assertTrue(Float.isNaN(exact[0]) && Float.isNaN(exact[1]));
    }

    /**
     * With act-order the group scales are fixed up front; a kept weight must not set them (it is stored apart).
     * On H = I (no compensation between columns) act-order and natural order see the same weights, so they must
     * give the same codes and scales; the group's scale comes from the bulk (|w| ≤ 0.05), not from the kept 1.0.
     */
    @Test
    void actOrderScalesComeFromTheBulk() {
        SplittableRandom rng = new SplittableRandom(4);
        int rows = 3;
        int cols = 40;
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (rng.nextDouble(-0.05, 0.05));
        }
        double[] gram = new double[cols * cols];
        for (int i = 0; i < cols; i++) {
            gram[i * cols + i] = 1;
        }
        GridTarget t = GridTarget.of(Scheme.parse("int4-outliers:group=32"));
        float[] exactA = new float[w.length];
        java.util.Arrays.fill(exactA, Float.NaN);
        w[5] = 1.0f;
        w[cols + 33] = -2.0f;
        exactA[5] = 1.0f;
        exactA[cols + 33] = -2.0f;
        float[] exactN = exactA.clone();
        Gptq.Result a = Gptq.run(t, w, rows, cols, gram, true, false, exactA);
        Gptq.Result n = Gptq.run(t, w, rows, cols, gram, false, false, exactN);
        org.junit.jupiter.api.Assertions.assertArrayEquals(n.scales(), a.scales());
        org.junit.jupiter.api.Assertions.assertArrayEquals(n.q(), a.q());
        for (float sc : a.scales()) {
            assertTrue(Math.abs(sc) <= 0.05 / 7 * 1.01, "scale " + sc + " is set by the bulk");
        }
        assertEquals(1.0f, exactA[5], 0, "H = I: nothing to compensate, the kept value is the weight");
        assertEquals(-2.0f, exactA[cols + 33], 0);
    }
}
