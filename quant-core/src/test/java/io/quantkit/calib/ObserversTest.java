package io.quantkit.calib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Observers, histogram and activation fake quantization against reference/calib/observers_reference.py: PyTorch's
 * MinMaxObserver, MovingAverageMinMaxObserver, PerChannelMinMaxObserver and fake_quantize_per_tensor_affine, and
 * numpy implementations of our percentile, MSE and KL (entropy) searches.
 */
class ObserversTest {
    private static JsonNode root;
    private static float[][] batches;
    private static int rows;
    private static int width;
    private static ActivationStats stats;

    @BeforeAll
    static void load() throws Exception {
        try (InputStream in = ObserversTest.class.getResourceAsStream("/reference/calib/observers.json")) {
            root = new ObjectMapper().readTree(in);
        }
        rows = root.get("rows").asInt();
        width = root.get("width").asInt();
        JsonNode b = root.get("batches");
        batches = new float[b.size()][];
        for (int i = 0; i < b.size(); i++) {
            batches[i] = floats(b.get(i));
        }
        ActivationStats.Accumulator acc = new ActivationStats.Accumulator(width);
        for (float[] x : batches) {
            acc.add(x, rows, width);
        }
        acc.beginHistogram();
        for (float[] x : batches) {
            acc.add(x, rows, width);
        }
        stats = acc.finish();
    }

    static float[] floats(JsonNode a) {
        float[] out = new float[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) a.get(i).asDouble();
        }
        return out;
    }

    private static JsonNode torch(String k) {
        return root.get("torch").get(k);
    }

    private static double numpy(String k) {
        return root.get("numpy").get(k).asDouble();
    }

    @Test
    void minMaxMatchesTorch() {
        assertEquals(torch("minmax").get("min").asDouble(), stats.min(), 0.0);
        assertEquals(torch("minmax").get("max").asDouble(), stats.max(), 0.0);
        double t = stats.threshold(Observer.MINMAX, 0, ActivationScheme.Format.INT8);
        // PyTorch's symmetric scale with quant range -127..127 is max(-min, max) / 127, computed in float32
        assertEquals((float) torch("minmax").get("scale").asDouble(), (float) (t / 127), 0f);
    }

    @Test
    void movingAverageMatchesTorch() {
        double[] r = stats.emaRange(0.01);
        JsonNode e = torch("ema_0.01");
        // PyTorch averages in float32, we in double
        assertEquals(e.get("min").asDouble(), r[0], 1e-6 * Math.abs(r[0]));
        assertEquals(e.get("max").asDouble(), r[1], 1e-6 * Math.abs(r[1]));
        double t = stats.threshold(Observer.EMA, 0.01, ActivationScheme.Format.INT8);
        assertEquals(e.get("scale").asDouble(), t / 127, 1e-6 * t / 127);
        assertTrue(t < stats.absmax(), "the average of batch ranges lies inside the overall range");
    }

    @Test
    void channelAbsmaxMatchesTorchPerChannel() {
        double[] a = stats.channelAbsmax();
        JsonNode pc = torch("per_channel");
        for (int j = 0; j < width; j++) {
            double want = Math.max(-pc.get("min").get(j).asDouble(), pc.get("max").get(j).asDouble());
            assertEquals(want, a[j], 0.0, "channel " + j);
        }
    }

    @Test
    void channelMeanAbsMatchesNumpy() {
        double[] m = stats.channelMeanAbs();
        JsonNode want = root.get("numpy").get("channel_mean_abs");
        for (int j = 0; j < width; j++) {
            assertEquals(want.get(j).asDouble(), m[j], 1e-12 * m[j], "channel " + j);
        }
    }

    @Test
    void profileMinMaxMatchesTorchPerChannel() {
        // the calibration profile's per-channel statistics (TensorStats) against the same PyTorch observer
        TensorStats.Accumulator acc = new TensorStats.Accumulator(width);
        for (float[] x : batches) {
            acc.add(x, rows, width);
        }
        TensorStats s = acc.finish();
        JsonNode pc = torch("per_channel");
        for (int j = 0; j < width; j++) {
            assertEquals(pc.get("min").get(j).asDouble(), s.min()[j], 0.0, "min " + j);
            assertEquals(pc.get("max").get(j).asDouble(), s.max()[j], 0.0, "max " + j);
        }
    }

    @Test
    void histogramMatchesNumpy() {
        long[] h = stats.histogram();
        JsonNode want = root.get("numpy").get("hist");
        long total = 0;
        for (int b = 0; b < ActivationStats.BINS; b++) {
            assertEquals(want.get(b).asLong(), h[b], "bin " + b);
            total += h[b];
        }
        assertEquals((long) batches.length * rows * width, total);
    }

    @Test
    void percentileMatchesNumpyAndExactQuantile() {
        for (String p : new String[] {"99", "99.9", "99.99"}) {
            double t = stats.threshold(Observer.PERCENTILE, Double.parseDouble(p), ActivationScheme.Format.INT8);
            assertEquals(numpy("percentile_" + p), t, 1e-12 * t, "p" + p);
        }
        // the threshold lies within one bin above the ⌈pN/100⌉-th smallest |x| (the first value that makes the
        // cumulative count reach p/100 of N); numpy's interpolated quantile is just below that order statistic
        double[] a = new double[batches.length * rows * width];
        int n = 0;
        for (float[] x : batches) {
            for (float v : x) {
                a[n++] = Math.abs(v);
            }
        }
        java.util.Arrays.sort(a);
        double w = stats.binWidth();
        for (double p : new double[] {99, 99.9, 99.99}) {
            double order = a[(int) Math.ceil(p / 100 * n) - 1];
            double t = stats.percentileThreshold(p);
            assertTrue(t >= order && t <= order + w, "p" + p + ": " + t + " vs order statistic " + order);
        }
        assertTrue(numpy("exact_quantile_99.9") <= stats.percentileThreshold(99.9));
    }

    @Test
    void mseMatchesNumpy() {
        double t8 = stats.threshold(Observer.MSE, 0, ActivationScheme.Format.INT8);
        assertEquals(numpy("mse_int8"), t8, 1e-12 * t8);
        double tf = stats.threshold(Observer.MSE, 0, ActivationScheme.Format.FP8_E4M3);
        assertEquals(numpy("mse_fp8"), tf, 1e-12 * tf);
        // on the raw values, our threshold's squared error beats PyTorch's HistogramObserver (a greedy search
        // that stops at the first increase) and plain min-max
        assertTrue(numpy("raw_mse_at_mse_int8") < numpy("raw_mse_at_torch_histogram"));
        assertTrue(numpy("raw_mse_at_mse_int8") < numpy("raw_mse_at_minmax"));
        // and the histogram objective is minimal at it among all candidates
        double best = stats.histogramError(t8, ActivationScheme.Format.INT8);
        for (int k = 1; k <= ActivationStats.BINS; k++) {
            assertTrue(stats.histogramError(k * stats.binWidth(), ActivationScheme.Format.INT8) >= best);
        }
    }

    @Test
    void klMatchesNumpy() {
        double t = stats.threshold(Observer.KL, 0, ActivationScheme.Format.INT8);
        assertEquals(numpy("kl"), t, 1e-12 * t);
        assertTrue(t < stats.absmax() && t >= ActivationStats.KL_LEVELS * stats.binWidth());
    }

    @Test
    void staticInt8FakeQuantMatchesTorch() {
        float scale = (float) torch("minmax").get("scale").asDouble();
        float[] want = floats(torch("fake_quant_minmax_batch0"));
        float[] out = new float[want.length];
        ActivationQuantizer.perTensor(ActivationScheme.Format.INT8, Map.of("t", scale))
                .quantize("t", batches[0], out, rows, width);
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], out[i], 0f, "element " + i);
        }
    }

    @Test
    void staticFp8AndDynamicMatchNumpy() {
        float[] out = new float[rows * width];
        float s = (float) (stats.absmax() / 448.0);
        ActivationQuantizer.perTensor(ActivationScheme.Format.FP8_E4M3, Map.of("t", s))
                .quantize("t", batches[0], out, rows, width);
        assertArrayEqualsExactly(floats(root.get("numpy").get("static_fp8_minmax_batch0")), out);
        ActivationQuantizer.dynamic(ActivationScheme.Format.INT8).quantize("t", batches[0], out, rows, width);
        assertArrayEqualsExactly(floats(root.get("numpy").get("dynamic_int8_batch0")), out);
        ActivationQuantizer.dynamic(ActivationScheme.Format.FP8_E4M3).quantize("t", batches[0], out, rows, width);
        assertArrayEqualsExactly(floats(root.get("numpy").get("dynamic_fp8_batch0")), out);
    }

    private static void assertArrayEqualsExactly(float[] want, float[] got) {
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 0f, "element " + i);
        }
    }

    @Test
    void staticQuantizerRefusesAnUnknownTensor() {
        ActivationQuantizer q = ActivationQuantizer.perTensor(ActivationScheme.Format.INT8, Map.of("a", 1f));
        assertThrows(IllegalArgumentException.class, () -> q.quantize("b", new float[1], new float[1], 1, 1));
    }

    @Test
    void zeroInputGivesZeroThresholdsAndOutputs() {
        ActivationStats.Accumulator acc = new ActivationStats.Accumulator(3);
        float[] z = new float[6];
        acc.add(z, 2, 3);
        acc.beginHistogram();
        acc.add(z, 2, 3);
        ActivationStats s = acc.finish();
        for (Observer o : Observer.values()) {
            assertEquals(0.0, s.threshold(o, o == Observer.EMA ? 0.01 : 99.9, ActivationScheme.Format.INT8), o.name());
        }
        assertEquals(0f, ActivationQuantizer.fakeQuant(5f, 0f, ActivationScheme.Format.INT8));
    }

    @Test
    void schemeSpellingsAreCanonicalAndBadOnesRefused() {
        assertEquals("int8:dynamic", ActivationScheme.parse("int8").toString());
        assertEquals("int8:observer=percentile", ActivationScheme.parse("INT8:observer=percentile,p=99.99").toString());
        assertEquals("int8:observer=percentile,p=99.9,smooth=0.5",
                ActivationScheme.parse("int8:smooth=0.50,observer=percentile,p=99.9").toString());
        assertEquals("fp8-e4m3:observer=ema,c=0.1", ActivationScheme.parse("fp8-e4m3:observer=ema,c=0.1").toString());
        assertEquals("int8:dynamic,smooth=0.8", ActivationScheme.parse("int8:dynamic,smooth=0.8").toString());
        assertEquals(ActivationScheme.NONE, ActivationScheme.parse("none"));
        assertTrue(ActivationScheme.parse("int8:observer=kl").needsCalibration());
        assertTrue(!ActivationScheme.parse("int8:dynamic").needsCalibration());
        for (String bad : new String[] {"int4", "int8:observer=foo", "int8:dynamic,observer=kl", "int8:p=99",
            "int8:observer=percentile,p=0", "int8:observer=ema,c=2", "int8:smooth=1.5", "none:dynamic",
            "int8:observer=kl,observer=mse", "int8:", "int8:smooth=x"}) {
            assertThrows(IllegalArgumentException.class, () -> ActivationScheme.parse(bad), bad);
        }
    }
}
