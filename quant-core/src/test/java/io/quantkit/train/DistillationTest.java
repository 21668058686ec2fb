package io.quantkit.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.quantkit.quant.Scheme;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;

/** Distillation targets (teacher probabilities mixed with the label) and fake quantization that follows a stored plan. */
class DistillationTest {

    /**
     * The gradient of the mixed target cross-entropy, against central differences of that loss computed here from the
     * logits in double: {@code mean over scored rows of −Σ_j t_j·log softmax(z)_j}, {@code t = (1 − α)·onehot + α·p}.
     */
    @Test
    void mixedTargetGradientMatchesFiniteDifferences() {
        Architecture arch = Architecture.llama(8, 12, 2, 4, 2, 11, 6, true);
        SplittableRandom rnd = new SplittableRandom(GradientCheckTest.SEED + 31);
        int batch = 2;
        int seq = arch.seqLen();
        int v = arch.vocabSize();
        TrainModel m = new TrainModel(arch, batch, seq, ActivationQuant.NONE);
        float[] params = GradientCheckTest.random(rnd, m.layout().size(), 0.6);
        int[] tokens = new int[batch * (seq + 1)];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = rnd.nextInt(v);
        }
        tokens[seq] = -1; // one unscored position
        int rows = batch * seq;
        float[] probs = new float[rows * v];
        for (int r = 0; r < rows; r++) {
            double sum = 0;
            for (int j = 0; j < v; j++) {
                probs[r * v + j] = (float) (rnd.nextDouble() + 0.01);
                sum += probs[r * v + j];
            }
            for (int j = 0; j < v; j++) {
                probs[r * v + j] /= (float) sum;
            }
        }
        float alpha = 0.7f;
        m.distill(probs, alpha);
        m.forward(GradientCheckTest.PAR, params, tokens, 0);
        float[] g = new float[params.length];
        m.backward(GradientCheckTest.PAR, params, g, 1f);
        DoubleSupplier loss = () -> {
            m.forward(GradientCheckTest.PAR, params, tokens, 0);
            float[] z = m.logits();
            double total = 0;
            int scored = 0;
            for (int b = 0; b < batch; b++) {
                for (int s = 0; s < seq; s++) {
                    int target = tokens[b * (seq + 1) + s + 1];
                    if (target < 0) {
                        continue;
                    }
                    int r = (b * seq + s) * v;
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < v; j++) {
                        max = Math.max(max, z[r + j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < v; j++) {
                        sum += Math.exp(z[r + j] - max);
                    }
                    double lse = Math.log(sum) + max;
                    for (int j = 0; j < v; j++) {
                        double t = alpha * probs[r + j] + (j == target ? 1 - alpha : 0);
                        total -= t * (z[r + j] - lse);
                    }
                    scored++;
                }
            }
            return total / scored;
        };
        for (ParamLayout.Entry e : m.layout().entries()) {
            richardson("distill " + e.name(), params, e.offset(), Math.min(e.size(), 24), g, loss);
        }
    }

    /**
     * At temperature {@code T = 2.5} the gradient is that of {@code (1 − α)·CE(label, softmax(z)) + α·T²·CE(p,
     * softmax(z/T))}, against central differences of that loss written out here in double; and the teacher side,
     * {@code probabilities(.., T)}, is {@code softmax(z/T)} of the logits to float precision.
     */
    @Test
    void temperatureGradientMatchesFiniteDifferences() {
        Architecture arch = Architecture.llama(8, 12, 2, 4, 2, 11, 6, true);
        SplittableRandom rnd = new SplittableRandom(GradientCheckTest.SEED + 33);
        int batch = 2;
        int seq = arch.seqLen();
        int v = arch.vocabSize();
        TrainModel m = new TrainModel(arch, batch, seq, ActivationQuant.NONE);
        float[] params = GradientCheckTest.random(rnd, m.layout().size(), 0.6);
        int[] tokens = new int[batch * (seq + 1)];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = rnd.nextInt(v);
        }
        tokens[2 * seq + 1] = -1; // the last position unscored
        int rows = batch * seq;
        double temp = 2.5;
        float alpha = 0.6f;
        // the teacher: the same model with other weights, its probabilities at temperature T
        TrainModel teacher = new TrainModel(arch, batch, seq, ActivationQuant.NONE);
        float[] tw = GradientCheckTest.random(rnd, m.layout().size(), 0.6);
        teacher.forward(GradientCheckTest.PAR, tw, tokens, 0);
        float[] probs = new float[rows * v];
        teacher.probabilities(GradientCheckTest.PAR, probs, (float) temp);
        float[] tz = teacher.logits();
        for (int r = 0; r < rows; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < v; j++) {
                max = Math.max(max, tz[r * v + j]);
            }
            double sum = 0;
            for (int j = 0; j < v; j++) {
                sum += Math.exp((tz[r * v + j] - max) / temp);
            }
            double total = 0;
            for (int j = 0; j < v; j++) {
                double want = Math.exp((tz[r * v + j] - max) / temp) / sum;
                assertEquals(want, probs[r * v + j], 1e-6 * want + 1e-9, "softmax(z/T) row " + r + " column " + j);
                total += probs[r * v + j];
            }
            assertEquals(1.0, total, 1e-5);
        }
        m.distill(probs, alpha, (float) temp);
        m.forward(GradientCheckTest.PAR, params, tokens, 0);
        float[] g = new float[params.length];
        m.backward(GradientCheckTest.PAR, params, g, 1f);
        DoubleSupplier loss = () -> {
            m.forward(GradientCheckTest.PAR, params, tokens, 0);
            float[] z = m.logits();
            double total = 0;
            int scored = 0;
            for (int b = 0; b < batch; b++) {
                for (int s = 0; s < seq; s++) {
                    int target = tokens[b * (seq + 1) + s + 1];
                    if (target < 0) {
                        continue;
                    }
                    int r = (b * seq + s) * v;
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < v; j++) {
                        max = Math.max(max, z[r + j]);
                    }
                    double sum = 0;
                    double sumT = 0;
                    for (int j = 0; j < v; j++) {
                        sum += Math.exp(z[r + j] - max);
                        sumT += Math.exp((z[r + j] - max) / temp);
                    }
                    double lse = Math.log(sum) + max;
                    double lseT = Math.log(sumT) + max / temp;
                    total -= (1 - alpha) * (z[r + target] - lse);
                    for (int j = 0; j < v; j++) {
                        total -= alpha * temp * temp * probs[r + j] * (z[r + j] / temp - lseT);
                    }
                    scored++;
                }
            }
            return total / scored;
        };
        for (ParamLayout.Entry e : m.layout().entries()) {
            richardson("distill T=2.5 " + e.name(), params, e.offset(), Math.min(e.size(), 24), g, loss);
        }
    }

    /** Temperature 1 is the plain distillation to the bit; temperatures outside (0, 100] are refused. */
    @Test
    void temperatureOneIsPlainDistillation() {
        Architecture arch = Architecture.llama(8, 12, 1, 4, 2, 11, 6, true);
        SplittableRandom rnd = new SplittableRandom(GradientCheckTest.SEED + 34);
        TrainModel m = new TrainModel(arch, 1, 6, ActivationQuant.NONE);
        float[] params = GradientCheckTest.random(rnd, m.layout().size(), 0.6);
        int[] tokens = {1, 4, 2, 9, 3, 3, 7};
        m.forward(GradientCheckTest.PAR, params, tokens, 0);
        float[] p1 = new float[6 * 11];
        float[] pT = new float[6 * 11];
        m.probabilities(GradientCheckTest.PAR, p1);
        m.probabilities(GradientCheckTest.PAR, pT, 1f);
        org.junit.jupiter.api.Assertions.assertArrayEquals(p1, pT);
        float[] hot = new float[6 * 11];
        m.probabilities(GradientCheckTest.PAR, hot, 4f);
        double entropy1 = 0;
        double entropyT = 0;
        for (int j = 0; j < 11; j++) {
            entropy1 -= p1[j] * Math.log(p1[j]);
            entropyT -= hot[j] * Math.log(hot[j]);
        }
        org.junit.jupiter.api.Assertions.assertTrue(entropyT > entropy1, "a higher temperature flattens the distribution");
        float[] teacher = GradientCheckTest.random(rnd, 6 * 11, 0.1);
        for (int i = 0; i < teacher.length; i++) {
            teacher[i] = Math.abs(teacher[i]);
        }
        m.distill(teacher, 0.5f);
        m.forward(GradientCheckTest.PAR, params, tokens, 0);
        float[] plain = new float[params.length];
        m.backward(GradientCheckTest.PAR, params, plain, 1f);
        m.distill(teacher, 0.5f, 1f);
        m.forward(GradientCheckTest.PAR, params, tokens, 0);
        float[] one = new float[params.length];
        m.backward(GradientCheckTest.PAR, params, one, 1f);
        org.junit.jupiter.api.Assertions.assertArrayEquals(plain, one);
        for (float bad : new float[] {0f, -1f, Float.NaN, 101f}) {
            assertThrows(IllegalArgumentException.class, () -> m.distill(teacher, 0.5f, bad), "T = " + bad);
            assertThrows(IllegalArgumentException.class, () -> m.probabilities(GradientCheckTest.PAR, hot, bad));
        }
    }

    /**
     * Hidden-state distillation: the gradient of the mixed-target cross-entropy plus {@code β·(1/L)·Σ_l
     * ‖x_l − x̂_l‖² / ‖x̂_l‖²} (each block's output against a teacher's, written out here in double from the residual
     * streams of the forward pass) against central differences of that loss, for every tensor, in an untied model
     * with SubLN; β = 0 gives the plain distillation gradient to the bit.
     */
    @Test
    void hiddenStateTermGradientMatchesFiniteDifferences() {
        Architecture arch = Architecture.llama(8, 12, 2, 4, 2, 11, 6, false).withSubNorms(true);
        SplittableRandom rnd = new SplittableRandom(GradientCheckTest.SEED + 35);
        int batch = 2;
        int seq = arch.seqLen();
        int v = arch.vocabSize();
        int d = arch.dim();
        int layers = arch.nLayers();
        TrainModel m = new TrainModel(arch, batch, seq, ActivationQuant.NONE);
        float[] params = GradientCheckTest.random(rnd, m.layout().size(), 0.6);
        int[] tokens = new int[batch * (seq + 1)];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = rnd.nextInt(v);
        }
        tokens[seq] = -1;
        int rows = batch * seq;
        TrainModel teacher = new TrainModel(arch, batch, seq, ActivationQuant.NONE);
        float[] tw = GradientCheckTest.random(rnd, m.layout().size(), 0.6);
        teacher.forward(GradientCheckTest.PAR, tw, tokens, 0);
        float[] probs = new float[rows * v];
        teacher.probabilities(GradientCheckTest.PAR, probs);
        float[][] targets = teacher.hiddenStates();
        float alpha = 0.8f;
        double beta = 3.0;
        m.distill(probs, alpha);
        m.distillHidden(targets, 0f);
        m.forward(GradientCheckTest.PAR, params, tokens, 0);
        float[] plain = new float[params.length];
        m.backward(GradientCheckTest.PAR, params, plain, 0.5f);
        m.distillHidden(targets, (float) beta);
        m.forward(GradientCheckTest.PAR, params, tokens, 0);
        float[] g = new float[params.length];
        m.backward(GradientCheckTest.PAR, params, g, 1f);
        DoubleSupplier loss = () -> {
            m.forward(GradientCheckTest.PAR, params, tokens, 0);
            float[] z = m.logits();
            double total = 0;
            int scored = 0;
            for (int r = 0; r < rows; r++) {
                int target = tokens[(r / seq) * (seq + 1) + r % seq + 1];
                if (target < 0) {
                    continue;
                }
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < v; j++) {
                    max = Math.max(max, z[r * v + j]);
                }
                double sum = 0;
                for (int j = 0; j < v; j++) {
                    sum += Math.exp(z[r * v + j] - max);
                }
                double lse = Math.log(sum) + max;
                for (int j = 0; j < v; j++) {
                    double t = alpha * probs[r * v + j] + (j == target ? 1 - alpha : 0);
                    total -= t * (z[r * v + j] - lse);
                }
                scored++;
            }
            double hidden = 0;
            float[][] xs = m.hiddenStates();
            for (int l = 1; l <= layers; l++) {
                double err = 0;
                double energy = 0;
                for (int i = 0; i < rows * d; i++) {
                    double e = (double) xs[l][i] - targets[l][i];
                    err += e * e;
                    energy += (double) targets[l][i] * targets[l][i];
                }
                hidden += err / energy;
            }
            return total / scored + beta * hidden / layers;
        };
        double diff = 0;
        for (int i = 0; i < g.length; i++) {
            diff += Math.abs(g[i] - 2 * plain[i]);
        }
        org.junit.jupiter.api.Assertions.assertTrue(diff > 1e-2, "the hidden term changes the gradient (" + diff + ")");
        for (ParamLayout.Entry e : m.layout().entries()) {
            richardson("distill hidden " + e.name(), params, e.offset(), Math.min(e.size(), 24), g, loss);
        }
        m.distill(probs, alpha);
        m.distillHidden(null, 0f);
        m.forward(GradientCheckTest.PAR, params, tokens, 0);
        float[] none = new float[params.length];
        m.backward(GradientCheckTest.PAR, params, none, 0.5f);
        org.junit.jupiter.api.Assertions.assertArrayEquals(none, plain, "β = 0 is the plain distillation gradient");
        assertThrows(IllegalArgumentException.class, () -> m.distillHidden(targets, -1f));
        assertThrows(IllegalArgumentException.class, () -> m.distillHidden(targets, Float.NaN));
        assertThrows(IllegalArgumentException.class, () -> m.distillHidden(new float[layers][rows * d], 1f));
        assertThrows(IllegalArgumentException.class, () -> m.distillHidden(new float[layers + 1][rows], 1f));
    }

    /**
     * As {@link GradientCheckTest#check}, with Richardson's extrapolation {@code (4·D(h/2) − D(h)) / 3} of central
     * differences at {@code h = 2e-2} and {@code 1e-2}, which cancels their {@code h²} truncation term (the norm gains'
     * curvature made the plain {@code h = 1e-2} difference miss by 2.5e-3 relative); same tolerances.
     */
    static void richardson(String what, float[] x, int off, int n, float[] analytic, DoubleSupplier loss) {
        double num2 = 0;
        double err2 = 0;
        for (int i = 0; i < n; i++) {
            double d1 = central(x, off + i, 2e-2, loss);
            double d2 = central(x, off + i, 1e-2, loss);
            double numeric = (4 * d2 - d1) / 3;
            double a = analytic[off + i];
            int at = i;
            org.junit.jupiter.api.Assertions.assertTrue(Math.abs(a - numeric) <= 2e-3 + 1e-2 * Math.abs(numeric),
                    () -> what + "[" + at + "]: analytic " + a + " vs numeric " + numeric);
            num2 += numeric * numeric;
            err2 += (a - numeric) * (a - numeric);
        }
        double rel = Math.sqrt(err2 / Math.max(num2, 1e-30));
        org.junit.jupiter.api.Assertions.assertTrue(rel < 2e-3 || Math.sqrt(num2) < 1e-6,
                what + ": relative L2 error " + rel);
    }

    private static double central(float[] x, int i, double h, DoubleSupplier loss) {
        float keep = x[i];
        x[i] = (float) (keep + h);
        double up = loss.getAsDouble();
        x[i] = (float) (keep - h);
        double down = loss.getAsDouble();
        double step = (double) (float) (keep + h) - (double) (float) (keep - h);
        x[i] = keep;
        return (up - down) / step;
    }

    @Test
    void alphaZeroIsThePlainLabelGradient() {
        Architecture arch = Architecture.llama(8, 12, 1, 4, 2, 11, 6, true);
        SplittableRandom rnd = new SplittableRandom(GradientCheckTest.SEED + 32);
        TrainModel m = new TrainModel(arch, 1, 6, ActivationQuant.NONE);
        float[] params = GradientCheckTest.random(rnd, m.layout().size(), 0.6);
        int[] tokens = {1, 4, 2, 9, 3, 3, 7};
        m.forward(GradientCheckTest.PAR, params, tokens, 0);
        float[] plain = new float[params.length];
        m.backward(GradientCheckTest.PAR, params, plain, 1f);
        m.distill(new float[6 * 11], 0f);
        m.forward(GradientCheckTest.PAR, params, tokens, 0);
        float[] mixed = new float[params.length];
        m.backward(GradientCheckTest.PAR, params, mixed, 1f);
        org.junit.jupiter.api.Assertions.assertArrayEquals(plain, mixed);
        assertThrows(IllegalArgumentException.class, () -> m.distill(new float[5], 0.5f));
        assertThrows(IllegalArgumentException.class, () -> m.distill(new float[6 * 11], 1.5f));
    }

    @Test
    void planFakeQuantizesEachTensorWithItsStoredScheme() {
        Architecture arch = Architecture.llama(8, 16, 1, 2, 1, 12, 4, true);
        ParamLayout lay = new ParamLayout(arch);
        float[] w = GradientCheckTest.random(new SplittableRandom(5), lay.size(), 1.0);
        Scheme int4 = Scheme.parse("int4:group=8");
        Scheme int8 = Scheme.parse("int8");
        FakeQuant fq = FakeQuant.ofPlan(int4, Map.of("blk.0.attn_q.weight", int4, "blk.0.ffn_down.weight", int8,
                "token_embd.weight", int4, "output.weight", int4, "blk.0.attn_k.weight", Scheme.parse("f32"),
                "blk.0.attn_norm.weight", Scheme.parse("f32")), FakeQuant.Ste.PLAIN);
        assertEquals(int4, fq.schemeFor(lay.entry("layers.0.attention.wq.weight")));
        assertEquals(int8, fq.schemeFor(lay.entry("layers.0.feed_forward.w2.weight")));
        assertNull(fq.schemeFor(lay.entry("layers.0.attention.wk.weight")), "f32 stays float");
        assertNull(fq.schemeFor(lay.entry("layers.0.attention.wv.weight")), "not in the plan: float");
        assertNull(fq.schemeFor(lay.entry("layers.0.attention_norm.weight")));
        float[] eff = new float[w.length];
        float[] mask = new float[w.length];
        fq.apply(lay, w, eff, mask);
        for (ParamLayout.Entry e : lay.entries()) {
            Scheme s = fq.schemeFor(e);
            float[] want = new float[w.length];
            if (s == null) {
                System.arraycopy(w, e.offset(), want, e.offset(), e.size());
            } else {
                float[] src = java.util.Arrays.copyOfRange(w, e.offset(), e.offset() + e.size());
                io.quantkit.quant.Codecs.forScheme(s).quantize(io.quantkit.tensor.FloatTensor.wrap(
                        io.quantkit.tensor.Shape.of(e.rows(), e.cols()), src)).dequantize(0, want, e.offset(), e.size());
            }
            for (int i = e.offset(); i < e.offset() + e.size(); i++) {
                assertEquals(want[i], eff[i], 0f, e.name() + " element " + (i - e.offset()));
            }
        }
        FakeQuant bad = FakeQuant.ofPlan(int4, Map.of("token_embd.weight", int4, "output.weight", int8),
                FakeQuant.Ste.PLAIN);
        assertThrows(IllegalArgumentException.class, () -> bad.apply(lay, w, eff, mask));
    }
}
