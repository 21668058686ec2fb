package io.quantkit.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quantkit.quant.Codecs;
import io.quantkit.quant.Scheme;
import io.quantkit.tensor.FloatTensor;
import io.quantkit.tensor.Shape;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Learned step sizes (LSQ): gradients against finite differences of their surrogate, and exact storage. */
class LearnedScalesTest {
    static final Architecture ARCH = Architecture.llama(16, 24, 1, 2, 1, 10, 4, true);
    static final Scheme INT4 = Scheme.parse("int4:group=8");

    static FakeQuant plan() {
        return FakeQuant.ofPlan(INT4, Map.of("blk.0.attn_q.weight", INT4, "blk.0.ffn_down.weight",
                Scheme.parse("int:bits=3,group=0"), "token_embd.weight", Scheme.parse("bf16")), FakeQuant.Ste.PLAIN);
    }

    /**
     * {@code L = Σ r_i·ŵ_i}. The surrogate {@code ŵ_i(s) = s·clamp(w_i/s + c_i, −qmax, qmax)} with {@code c_i} frozen at
     * the stored scale has derivative {@code c_i} (inside) or {@code ±qmax} (clamped) in {@code s}, and 1 or 0 in
     * {@code w_i}; forward differences of it (step 1e-3 of the scale; it is linear in s on each side of a clamp, so
     * only float rounding remains) must match {@link LearnedScales#gradient} times LSQ's
     * {@code √(n·qmax)} and the mask to 1e-4 relative.
     */
    @Test
    void scaleAndWeightGradientsMatchFiniteDifferencesOfTheSurrogate() {
        ParamLayout lay = new ParamLayout(ARCH);
        SplittableRandom rnd = new SplittableRandom(GradientCheckTest.SEED + 41);
        float[] w = GradientCheckTest.random(rnd, lay.size(), 1.0);
        LearnedScales ls = LearnedScales.of(plan(), lay, w);
        assertEquals(16 * 2 + 16, ls.size(), "wq: 16 rows x 2 groups of 8; w2: 16 rows x 1 group");
        for (int k = 0; k < ls.size(); k++) {
            ls.scale[k] *= (float) (0.6 + 0.4 * rnd.nextDouble()); // below the PTQ scale: some weights clamp
        }
        float[] eff = new float[w.length];
        float[] mask = new float[w.length];
        plan().apply(lay, w, eff, mask);
        ls.apply(w, eff, mask);
        double[] r = GradientCheckTest.randomD(rnd, w.length);
        float[] gEff = GradientCheckTest.toFloat(r);
        float[] gs = new float[ls.size()];
        ls.gradient(w, gEff, gs);
        int clamped = 0;
        for (ParamLayout.Entry e : java.util.List.of(lay.entry("layers.0.attention.wq.weight"),
                lay.entry("layers.0.feed_forward.w2.weight"))) {
            int qmax = e.name().contains("wq") ? 7 : 3;
            int group = e.name().contains("wq") ? 8 : e.cols();
            int perRow = e.cols() / group;
            int first = e.name().contains("wq") ? 0 : 32;
            for (int row = 0; row < e.rows(); row++) {
                for (int gi = 0; gi < perRow; gi++) {
                    int k = first + row * perRow + gi;
                    int base = e.offset() + row * e.cols() + gi * group;
                    double s0 = LearnedScales.up16(ls.scale[k]);
                    double[] c = new double[group];
                    for (int i = 0; i < group; i++) {
                        c[i] = Math.rint(w[base + i] / (float) s0) - w[base + i] / s0;
                    }
                    double h = 1e-3 * s0;
                    // forward difference: weights whose code is exactly ±qmax sit on the clamp's kink, and growing s
                    // moves them inside, which is the side the gradient takes (|r| <= qmax counts as inside)
                    double numeric = (surrogate(w, r, base, group, qmax, c, s0 + h)
                            - surrogate(w, r, base, group, qmax, c, s0)) / h;
                    double analytic = gs[k] * Math.sqrt((double) group * qmax);
                    assertEquals(numeric, analytic, 1e-4 * (1 + Math.abs(numeric)), e.name() + " scale " + k);
                    for (int i = 0; i < group; i++) {
                        double x = w[base + i] / s0 + c[i];
                        double want = Math.abs(x) > qmax ? 0 : 1; // d/dw of s·clamp(w/s + c)
                        clamped += want == 0 ? 1 : 0;
                        assertEquals(want, mask[base + i], 0.0, e.name() + " weight mask " + (base + i - e.offset()));
                        assertEquals(Math.max(-qmax, Math.min(qmax, Math.rint(w[base + i] / (float) s0))) * s0,
                                eff[base + i], 1e-6 * s0, "forward value");
                    }
                }
            }
        }
        assertTrue(clamped > 10, "the shrunken scales clamp some weights (" + clamped + ")");
    }

    private static double surrogate(float[] w, double[] r, int base, int n, int qmax, double[] c, double s) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += r[base + i] * s * Math.max(-qmax, Math.min(qmax, w[base + i] / s + c[i]));
        }
        return sum;
    }

    @Test
    void learnedTensorsStoreExactlyInTheSchemesCodec() {
        ParamLayout lay = new ParamLayout(ARCH);
        SplittableRandom rnd = new SplittableRandom(GradientCheckTest.SEED + 42);
        float[] w = GradientCheckTest.random(rnd, lay.size(), 0.3);
        LearnedScales ls = LearnedScales.of(plan(), lay, w);
        for (int k = 0; k < ls.size(); k++) {
            ls.scale[k] *= (float) (0.5 + 0.6 * rnd.nextDouble()); // some above the bound: projected back
        }
        float[] eff = new float[w.length];
        float[] mask = new float[w.length];
        plan().apply(lay, w, eff, mask);
        ls.apply(w, eff, mask);
        for (String name : new String[] {"layers.0.attention.wq.weight", "layers.0.feed_forward.w2.weight"}) {
            ParamLayout.Entry e = lay.entry(name);
            Scheme s = plan().schemeFor(e);
            float[] x = java.util.Arrays.copyOfRange(eff, e.offset(), e.offset() + e.size());
            float[] back = Codecs.forScheme(s).quantize(FloatTensor.wrap(Shape.of(e.rows(), e.cols()), x)).toFloatArray();
            for (int i = 0; i < x.length; i++) {
                assertEquals(Float.floatToIntBits(x[i]), Float.floatToIntBits(back[i]), name + " element " + i);
            }
        }
    }

    @Test
    void trainerLearnsScalesAndExportsWhatItTrained() throws java.io.IOException {
        Architecture a = Architecture.llama(16, 24, 1, 2, 1, 12, 8, true);
        ParamLayout lay = new ParamLayout(a);
        int[] tokens = new int[400];
        SplittableRandom rnd = new SplittableRandom(3);
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = i % 5 == 0 ? 1 : 2 + rnd.nextInt(4) + (i % 3);
        }
        FakeQuant fq = FakeQuant.of(INT4, FakeQuant.Ste.PLAIN);
        TrainOptions opt = TrainOptions.defaults(7, 30, 4, 8).withLr(1e-2f, 1e-3f, 3);
        Trainer t = new Trainer(a, opt, tokens, new int[0], null, fq, ActivationQuant.NONE);
        t.learnScales();
        double[] first = {Double.NaN};
        double[] last = {Double.NaN};
        try (Parallel par = Parallel.of(2)) {
            t.run(par, 30, s -> {
                if (s.step() == 1) {
                    first[0] = s.loss();
                }
                last[0] = s.loss();
            });
        }
        assertTrue(last[0] < first[0], "loss " + first[0] + " -> " + last[0]);
        float[] exported = t.exportWeights();
        float[] forward = t.forwardWeights();
        for (ParamLayout.Entry e : lay.entries()) {
            if (!fq.covers(e)) {
                continue;
            }
            float[] x = java.util.Arrays.copyOfRange(exported, e.offset(), e.offset() + e.size());
            float[] back = Codecs.forScheme(INT4).quantize(FloatTensor.wrap(Shape.of(e.rows(), e.cols()), x)).toFloatArray();
            for (int i = 0; i < x.length; i++) {
                assertEquals(forward[e.offset() + i], back[i], 0f, e.name() + " element " + i);
            }
        }
        // the learned scales are part of a checkpoint (resume: TrainerTest.resumeEqualsUninterruptedWithLearnedScales)
        java.nio.file.Path ck = java.nio.file.Files.createTempFile("lsq", ".safetensors");
        try {
            t.save(ck);
            Checkpoint.State s = Checkpoint.load(ck);
            assertEquals(t.step(), s.step());
            assertTrue(s.scales() != null && s.scales().length > 0, "learned scales saved");
        } finally {
            java.nio.file.Files.deleteIfExists(ck);
        }
    }
}
