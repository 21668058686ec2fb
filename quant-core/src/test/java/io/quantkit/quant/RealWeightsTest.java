package io.quantkit.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.quantkit.io.Checkpoint;
import io.quantkit.io.Checkpoints;
import io.quantkit.io.TensorInfo;
import io.quantkit.tensor.FloatTensor;
import io.quantkit.tensor.Shape;
import io.quantkit.testing.SharedData;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Every scheme on the real 2-D weights of stories260K (rows of 64 and 172): each element within its format's
 * bound (the same {@link Bounds} as the scheme table), and the schemes ordered by SQNR as their bit budgets
 * say, over the whole model.
 */
@Tag("real-data")
class RealWeightsTest {

    @Test
    void everySchemeOnStories260K() throws Exception {
        Map<String, double[]> sums = new LinkedHashMap<>(); // scheme → {Σx², Σe²}
        int tensors = 0;
        try (Checkpoint ck = Checkpoints.open(SharedData.path("stories260K/stories260K-f32.gguf"))) {
            for (TensorInfo info : ck.tensors()) {
                float[] w = ck.tensor(info).toFloatArray();
                Shape shape = info.shape();
                if (shape.rank() != 2) {
                    continue;
                }
                tensors++;
                for (SchemeKind kind : SchemeKind.values()) {
                    int block = SchemeTableTest.ggmlBlock(kind);
                    if (block > 0 && shape.rowLength() % block != 0) {
                        continue; // ggml block types need whole blocks per row (172 is not)
                    }
                    Scheme scheme = Scheme.of(kind);
                    QuantizedTensor q = Codecs.forScheme(scheme).quantize(FloatTensor.of(shape, w));
                    float[] d = q.toFloatArray();
                    double[] bound = Bounds.of(scheme, w, shape);
                    double[] s = sums.computeIfAbsent(scheme.toString(), k -> new double[2]);
                    for (int i = 0; i < w.length; i++) {
                        double e = (double) w[i] - d[i];
                        if (!(Math.abs(e) <= bound[i])) {
                            fail(scheme + " " + info.name() + " element " + i + ": error " + e + " exceeds " + bound[i]);
                        }
                        s[0] += (double) w[i] * w[i];
                        s[1] += e * e;
                    }
                }
            }
        }
        assertTrue(tensors >= 36, "2-D weights read: " + tensors);
        Map<String, Double> sqnr = new LinkedHashMap<>();
        sums.forEach((k, v) -> sqnr.put(k, v[1] == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(v[0] / v[1])));
        StringBuilder line = new StringBuilder("stories260K 2-D weights, SQNR dB:");
        sqnr.forEach((k, v) -> line.append(String.format(java.util.Locale.ROOT, " %s %.2f;", k, v)));
        System.out.println(line);
        assertEquals(Double.POSITIVE_INFINITY, sqnr.get("f32"));
        String[] ladder = {"bf16", "int8", "fp8-e4m3", "int4-outliers", "int4", "ternary"};
        for (int i = 1; i < ladder.length; i++) {
            assertTrue(sqnr.get(ladder[i - 1]) > sqnr.get(ladder[i]), ladder[i - 1] + " vs " + ladder[i] + ": " + sqnr);
        }
    }
}
