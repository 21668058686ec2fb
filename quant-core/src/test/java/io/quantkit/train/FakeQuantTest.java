package io.quantkit.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantkit.format.Bf16;
import io.quantkit.quant.Scheme;
import java.io.IOException;
import java.io.InputStream;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;

/** Fake quantization of weights and activations, and the straight-through gradients. */
class FakeQuantTest {

    static float[] floats(JsonNode a) {
        float[] f = new float[a.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) a.get(i).asDouble();
        }
        return f;
    }

    /**
     * The warmup blend {@code w + λ·(q − w)}, mask {@code (1 − λ) + λ·m}, on values chosen by hand: exact in binary at
     * λ = 0.25, the float rounding of the double result at λ = 0.1, untouched elements where {@code q = w} or the mask
     * is 1, nothing changed at λ = 1, and λ outside [0, 1] refused.
     */
    @Test
    void warmupBlendMovesFromTheMasterWeightsToTheQuantizedOnes() {
        float[] w = {1f, -2f, 0.5f, 3f};
        float[] q = {2f, -2f, 0f, 1f};
        float[] m = {1f, 1f, 0f, 0f};
        float[] eff = q.clone();
        float[] mask = m.clone();
        FakeQuant.blend(w, eff, mask, 0.25);
        assertArrayEquals(new float[] {1.25f, -2f, 0.375f, 2.5f}, eff);
        assertArrayEquals(new float[] {1f, 1f, 0.75f, 0.75f}, mask);
        eff = q.clone();
        mask = m.clone();
        FakeQuant.blend(w, eff, mask, 0.1);
        assertArrayEquals(new float[] {(float) 1.1, -2f, (float) 0.45, (float) 2.8}, eff);
        assertArrayEquals(new float[] {1f, 1f, (float) 0.9, (float) 0.9}, mask);
        eff = q.clone();
        mask = m.clone();
        FakeQuant.blend(w, eff, mask, 0.0);
        assertArrayEquals(w, eff, "λ = 0 is the master weights");
        assertArrayEquals(new float[] {1f, 1f, 1f, 1f}, mask, "and the plain gradient");
        eff = q.clone();
        mask = m.clone();
        FakeQuant.blend(w, eff, mask, 1.0);
        assertArrayEquals(q, eff);
        assertArrayEquals(m, mask);
        for (double bad : new double[] {-0.1, 1.5, Double.NaN}) {
            float[] e = q.clone();
            assertThrows(IllegalArgumentException.class, () -> FakeQuant.blend(w, e, m.clone(), bad));
        }
    }

    @Test
    void builtInGridsMatchTheNumpyReference() throws IOException {
        JsonNode root;
        try (InputStream in = getClass().getResourceAsStream("/reference/train/fake_quant_reference.json")) {
            root = new ObjectMapper().readTree(in);
        }
        int rows = root.get("rows").asInt();
        int cols = root.get("cols").asInt();
        float[] w = floats(root.get("weights"));
        int n = 0;
        for (JsonNode c : root.get("cases")) {
            Scheme s = Scheme.parse(c.get("scheme").asText());
            float[] want = floats(c.get("values"));
            float[] wantMask = floats(c.get("clipped_mask"));
            float[] out = new float[w.length];
            float[] mask = new float[w.length];
            FakeQuant.of(s, FakeQuant.Ste.CLIPPED).quantizeTensor(w, 0, rows, cols, out, mask, false);
            for (int i = 0; i < w.length; i++) {
                assertEquals(want[i], out[i], 1e-6f * Math.abs(want[i]), s + " value " + i);
            }
            assertArrayEquals(wantMask, mask, s + " mask");
            FakeQuant.of(s, FakeQuant.Ste.PLAIN).quantizeTensor(w, 0, rows, cols, out, mask, false);
            for (float m : mask) {
                assertEquals(1f, m, "plain STE passes every gradient");
            }
            n++;
        }
        assertEquals(6, n);
    }

    @Test
    void ternaryOutlierIsClippedAndZerosStayZero() {
        float[] w = {0.1f, -0.2f, 0.3f, 4f, 0f, 0f, 0f, 0f};
        float[] out = new float[8];
        float[] mask = new float[8];
        FakeQuant.of(Scheme.parse("ternary"), FakeQuant.Ste.CLIPPED).quantizeTensor(w, 0, 1, 8, out, mask, false);
        float s = 4.6f / 8; // mean |w|
        assertArrayEquals(new float[] {0f, -0f, s, s, 0f, 0f, 0f, 0f}, out, 1e-7f);
        assertArrayEquals(new float[] {1, 1, 1, 0, 1, 1, 1, 1}, mask);
        float[] zeros = new float[16];
        FakeQuant.of(Scheme.parse("int4:group=8"), FakeQuant.Ste.CLIPPED).quantizeTensor(zeros, 0, 2, 8, out = new float[16],
                mask = new float[16], false);
        assertArrayEquals(new float[16], out);
    }

    @Test
    void codecPathUsesTheSchemesCodec() {
        // bf16 has a codec today (DenseCodec): fake quantization must equal rounding each weight to bf16
        SplittableRandom r = new SplittableRandom(11);
        float[] w = new float[6 * 10];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) r.nextGaussian();
        }
        float[] out = new float[w.length];
        float[] mask = new float[w.length];
        FakeQuant.of(Scheme.parse("bf16"), FakeQuant.Ste.PLAIN).quantizeTensor(w, 0, 6, 10, out, mask);
        for (int i = 0; i < w.length; i++) {
            assertEquals(Bf16.round(w[i]), out[i], 0f);
        }
        assertThrows(IllegalArgumentException.class, () ->
                FakeQuant.of(Scheme.parse("bf16"), FakeQuant.Ste.CLIPPED).quantizeTensor(w, 0, 6, 10, out, mask));
        float[] bad = {Float.NaN, 1};
        assertThrows(IllegalArgumentException.class, () ->
                FakeQuant.of(Scheme.parse("int8"), FakeQuant.Ste.PLAIN).quantizeTensor(bad, 0, 1, 2, new float[2], new float[2]));
    }

    @Test
    void applyQuantizesOnlyTheLinearLayers() {
        Architecture arch = Architecture.llama(8, 16, 1, 2, 1, 10, 4, false);
        ParamLayout lay = new ParamLayout(arch);
        float[] p = Trainer.initialParams(lay, 5);
        float[] eff = new float[p.length];
        float[] mask = new float[p.length];
        FakeQuant.of(Scheme.parse("int:bits=2,group=8"), FakeQuant.Ste.PLAIN).apply(lay, p, eff, mask);
        for (ParamLayout.Entry e : lay.entries()) {
            float[] a = java.util.Arrays.copyOfRange(p, e.offset(), e.offset() + e.size());
            float[] b = java.util.Arrays.copyOfRange(eff, e.offset(), e.offset() + e.size());
            if (e.role() == ParamLayout.Role.LINEAR) {
                assertNotEquals(java.util.Arrays.toString(a), java.util.Arrays.toString(b), e.name());
            } else {
                assertArrayEquals(a, b, e.name());
            }
        }
        FakeQuant.of(Scheme.parse("int:bits=2,group=8"), FakeQuant.Ste.PLAIN, FakeQuant.Target.LINEAR_AND_CLASSIFIER)
                .apply(lay, p, eff, mask);
        ParamLayout.Entry cls = lay.entry("output.weight");
        assertNotEquals(p[cls.offset()] + "," + p[cls.offset() + 1], eff[cls.offset()] + "," + eff[cls.offset() + 1]);
    }

    @Test
    void int8ActivationsHandComputed() {
        float[] x = {0.5f, -1.27f, 0.01f, 0.0049f};
        float[] y = new float[4];
        ActivationQuant.INT8_ABSMAX.applyRow(x, y, 0, 4);
        float s = 127f / 1.27f; // = 100
        assertArrayEquals(new float[] {50 / s, -127 / s, 1 / s, 0 / s}, y, 0f);
        float[] z = new float[3];
        ActivationQuant.INT8_ABSMAX.applyRow(new float[3], z, 0, 3);
        assertArrayEquals(new float[3], z);
        ActivationQuant.BF16.applyRow(new float[] {1.00390625f}, y, 0, 1); // halfway between bf16 1 and 1.0078125
        assertEquals(1f, y[0], 0f);
    }

    /**
     * With activation fake quantization, the tensors whose perturbation cannot change a quantized activation (the last
     * block's w2, the final norm, the untied classifier) still obey finite differences: the backward pass used the
     * quantized inputs for their gradients.
     */
    @Test
    void gradientsAfterQuantizedActivationsMatchFiniteDifferences() {
        for (ActivationQuant aq : new ActivationQuant[] {ActivationQuant.INT8_ABSMAX, ActivationQuant.BF16}) {
            Architecture arch = Architecture.llama(8, 12, 2, 2, 1, 9, 5, false);
            TrainModel m = new TrainModel(arch, 2, 5, aq);
            SplittableRandom r = new SplittableRandom(31);
            float[] p = GradientCheckTest.random(r, m.layout().size(), 0.6);
            int[] tokens = new int[12];
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = r.nextInt(9);
            }
            try (Parallel par = Parallel.of(2)) {
                m.forward(par, p, tokens, 0);
                float[] g = new float[p.length];
                m.backward(par, p, g, 1f);
                DoubleSupplier loss = () -> m.forward(par, p, tokens, 0);
                for (String name : new String[] {"layers.1.feed_forward.w2.weight", "norm.weight", "output.weight"}) {
                    ParamLayout.Entry e = m.layout().entry(name);
                    GradientCheckTest.check(aq + " " + name, p, e.offset(), Math.min(e.size(), 30), g, e.offset(), loss);
                }
                float[] g0 = new float[p.length];
                TrainModel plain = new TrainModel(arch, 2, 5, ActivationQuant.NONE);
                plain.forward(par, p, tokens, 0);
                plain.backward(par, p, g0, 1f);
                assertTrue(!java.util.Arrays.equals(g, g0), aq + " changes the gradients");
            }
        }
    }

    @Test
    void steHandsTheGradientOfTheQuantizedWeightsToTheMasterWeights() throws IOException {
        // one step of QAT with zero momentum history: master weights move against grad(Q(W)) · mask
        Architecture arch = TrainerTest.TINY;
        int[] data = TrainerTest.patternTokens(800, 9);
        FakeQuant fq = FakeQuant.of(Scheme.parse("ternary"), FakeQuant.Ste.CLIPPED);
        TrainOptions o = new TrainOptions(3, 1, 4, 12, 1, 1e-3f, 1e-3f, 0, 0f, 0.9f, 0.95f, 1e-30f, 0f, 0, 0);
        Trainer tr = new Trainer(arch, o, data, new int[0], null, fq, ActivationQuant.NONE);
        ParamLayout lay = tr.layout();
        float[] master = tr.params();
        float[] eff = new float[master.length];
        float[] mask = new float[master.length];
        fq.apply(lay, master, eff, mask);
        assertArrayEquals(eff, tr.forwardWeights());
        try (Parallel par = Parallel.of(2)) {
            tr.run(par, 1, null);
        }
        float[] after = tr.params();
        int clipped = 0;
        for (int i = 0; i < master.length; i++) {
            if (mask[i] == 0f) {
                assertEquals(master[i], after[i], 0f, "a clipped weight does not move");
                clipped++;
            }
        }
        assertTrue(clipped > 0, "ternary clips some initial weights");
    }
}
