package io.quantkit.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Every layer's hand-written backward pass against central finite differences of its float32 forward pass.
 *
 * <p>Each check uses a scalar {@code L = Σ r_i · y_i} (random fixed {@code r}, summed in double) so every output
 * element contributes. Tolerance, stated once: with step {@code h = 1e-2} on inputs of order 1 the central
 * difference carries a truncation error of order {@code h²} and a float32 rounding noise near {@code 1e-5}, so an
 * element passes when {@code |analytic − numeric| ≤ 2e-3 + 1e-2·|numeric|}, and the whole gradient when the
 * relative L2 error is below {@code 2e-3}.
 */
class GradientCheckTest {
    static final long SEED = 20261124L;
    static final double H = 1e-2;
    static final Parallel PAR = Parallel.of(2);

    @AfterAll
    static void close() {
        PAR.close();
    }

    static float[] random(SplittableRandom rnd, int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) ((rnd.nextDouble() * 2 - 1) * scale);
        }
        return a;
    }

    static double dot(double[] r, float[] y) {
        double s = 0;
        for (int i = 0; i < r.length; i++) {
            s += r[i] * y[i];
        }
        return s;
    }

    static double[] randomD(SplittableRandom rnd, int n) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = rnd.nextDouble() * 2 - 1;
        }
        return a;
    }

    /** Compares {@code analytic[aOff + i]} with the central difference of {@code loss} in {@code x[off + i]}. */
    static void check(String what, float[] x, int off, int n, float[] analytic, int aOff, DoubleSupplier loss) {
        double num2 = 0;
        double err2 = 0;
        for (int i = 0; i < n; i++) {
            float keep = x[off + i];
            x[off + i] = (float) (keep + H);
            double up = loss.getAsDouble();
            x[off + i] = (float) (keep - H);
            double down = loss.getAsDouble();
            double step = (double) (float) (keep + H) - (double) (float) (keep - H);
            x[off + i] = keep;
            double numeric = (up - down) / step;
            double a = analytic[aOff + i];
            assertTrue(Math.abs(a - numeric) <= 2e-3 + 1e-2 * Math.abs(numeric),
                    () -> what + "[" + "]: analytic " + a + " vs numeric " + numeric + " (seed " + SEED + ")");
            num2 += numeric * numeric;
            err2 += (a - numeric) * (a - numeric);
        }
        double rel = Math.sqrt(err2 / Math.max(num2, 1e-30));
        assertTrue(rel < 2e-3 || Math.sqrt(num2) < 1e-6, what + ": relative L2 error " + rel + " (seed " + SEED + ")");
    }

    @Test
    void linear() {
        SplittableRandom rnd = new SplittableRandom(SEED);
        int rows = 3, in = 5, out = 7;
        float[] x = random(rnd, rows * in, 1);
        float[] w = random(rnd, out * in, 1);
        double[] r = randomD(rnd, rows * out);
        float[] y = new float[rows * out];
        DoubleSupplier loss = () -> {
            Ops.linear(PAR, y, 0, x, 0, w, 0, rows, in, out);
            return dot(r, y);
        };
        float[] dy = new float[rows * out];
        for (int i = 0; i < dy.length; i++) {
            dy[i] = (float) r[i];
        }
        float[] dx = new float[rows * in];
        float[] dw = new float[out * in];
        Ops.linearBackwardInput(PAR, dx, 0, dy, 0, w, 0, rows, in, out);
        Ops.linearBackwardWeight(PAR, dw, 0, dy, 0, x, 0, rows, in, out);
        check("linear dx", x, 0, x.length, dx, 0, loss);
        check("linear dW", w, 0, w.length, dw, 0, loss);
    }

    @Test
    void rmsnorm() {
        SplittableRandom rnd = new SplittableRandom(SEED + 1);
        int rows = 4, d = 11;
        float[] x = random(rnd, rows * d, 1.5);
        float[] w = random(rnd, d, 1);
        double[] r = randomD(rnd, rows * d);
        float[] y = new float[rows * d];
        float[] inv = new float[rows];
        DoubleSupplier loss = () -> {
            Ops.rmsnorm(PAR, y, x, w, 0, inv, rows, d, 1e-5f);
            return dot(r, y);
        };
        loss.getAsDouble();
        float[] dy = toFloat(r);
        float[] dx = new float[rows * d];
        float[] dw = new float[d];
        Ops.rmsnormBackward(PAR, dx, dy, x, w, 0, inv, dw, 0, rows, d);
        check("rmsnorm dx", x, 0, x.length, dx, 0, loss);
        check("rmsnorm dw", w, 0, w.length, dw, 0, loss);
    }

    @Test
    void rope() {
        SplittableRandom rnd = new SplittableRandom(SEED + 2);
        int seq = 5, rows = 10, hs = 6, width = 12;
        float[][] tab = Ops.ropeTables(seq, hs, 10000f);
        float[] x = random(rnd, rows * width, 1);
        double[] r = randomD(rnd, rows * width);
        float[] y = new float[x.length];
        DoubleSupplier loss = () -> {
            System.arraycopy(x, 0, y, 0, x.length);
            Ops.rope(PAR, y, rows, width, hs, seq, tab[0], tab[1], false);
            return dot(r, y);
        };
        float[] dx = toFloat(r);
        Ops.rope(PAR, dx, rows, width, hs, seq, tab[0], tab[1], true);
        check("rope dx", x, 0, x.length, dx, 0, loss);
    }

    @Test
    void ropeMatchesTheLlama2cConvention() {
        // position 3, pair j of head size 8: angle 3 * 10000^(-2j/8); adjacent elements (2j, 2j+1) rotate together
        float[][] tab = Ops.ropeTables(4, 8, 10000f);
        float[] x = new float[4 * 8];
        for (int c = 0; c < 8; c++) {
            x[3 * 8 + c] = c + 1;
        }
        Ops.rope(PAR, x, 4, 8, 8, 4, tab[0], tab[1], false);
        for (int j = 0; j < 4; j++) {
            double ang = 3 * Math.pow(10000, -2.0 * j / 8);
            double v0 = 2 * j + 1;
            double v1 = 2 * j + 2;
            assertEquals(v0 * Math.cos(ang) - v1 * Math.sin(ang), x[24 + 2 * j], 1e-5);
            assertEquals(v0 * Math.sin(ang) + v1 * Math.cos(ang), x[24 + 2 * j + 1], 1e-5);
        }
    }

    @Test
    void attention() {
        SplittableRandom rnd = new SplittableRandom(SEED + 3);
        int batch = 2, seq = 5, nHeads = 4, nKv = 2, hs = 3;
        int rows = batch * seq;
        float[] q = random(rnd, rows * nHeads * hs, 1);
        float[] k = random(rnd, rows * nKv * hs, 1);
        float[] v = random(rnd, rows * nKv * hs, 1);
        double[] r = randomD(rnd, rows * nHeads * hs);
        float[] out = new float[rows * nHeads * hs];
        float[] probs = new float[batch * nHeads * seq * seq];
        DoubleSupplier loss = () -> {
            Ops.attention(PAR, out, probs, q, k, v, batch, seq, nHeads, nKv, hs);
            return dot(r, out);
        };
        loss.getAsDouble();
        float[] dq = new float[q.length];
        float[] dk = new float[k.length];
        float[] dv = new float[v.length];
        Ops.attentionBackward(PAR, dq, dk, dv, toFloat(r), probs, q, k, v, batch, seq, nHeads, nKv, hs);
        check("attention dq", q, 0, q.length, dq, 0, loss);
        check("attention dk", k, 0, k.length, dk, 0, loss);
        check("attention dv", v, 0, v.length, dv, 0, loss);
    }

    @Test
    void attentionIsCausal() {
        SplittableRandom rnd = new SplittableRandom(SEED + 4);
        int seq = 6, hs = 4;
        float[] q = random(rnd, seq * hs, 1);
        float[] k = random(rnd, seq * hs, 1);
        float[] v = random(rnd, seq * hs, 1);
        float[] out = new float[seq * hs];
        float[] probs = new float[seq * seq];
        Ops.attention(PAR, out, probs, q, k, v, 1, seq, 1, 1, hs);
        float[] before = out.clone();
        k[5 * hs] += 1f; // the last position's key and value cannot change earlier outputs
        v[5 * hs + 1] += 1f;
        Ops.attention(PAR, out, probs, q, k, v, 1, seq, 1, 1, hs);
        assertTrue(Arrays.equals(Arrays.copyOf(before, 5 * hs), Arrays.copyOf(out, 5 * hs)));
        assertEquals(1f, probs[0], 0f); // position 0 attends only to itself
    }

    @Test
    void swiglu() {
        SplittableRandom rnd = new SplittableRandom(SEED + 5);
        int n = 13;
        float[] a = random(rnd, n, 3);
        float[] c = random(rnd, n, 2);
        double[] r = randomD(rnd, n);
        float[] h = new float[n];
        float[] sg = new float[n];
        DoubleSupplier loss = () -> {
            Ops.swiglu(PAR, h, a, c, new float[n], n);
            return dot(r, h);
        };
        float[] da = new float[n];
        float[] dc = new float[n];
        Ops.swiglu(PAR, h, a, c, sg, n);
        Ops.swigluBackward(PAR, da, dc, toFloat(r), a, c, sg, n);
        check("swiglu da", a, 0, n, da, 0, loss);
        check("swiglu dc", c, 0, n, dc, 0, loss);
    }

    @Test
    void crossEntropy() {
        SplittableRandom rnd = new SplittableRandom(SEED + 6);
        int rows = 4, vocab = 7;
        float[] logits = random(rnd, rows * vocab, 3);
        int[] targets = {3, 0, 6, -1};
        double[] rowLoss = new double[rows];
        DoubleSupplier loss = () -> {
            Ops.crossEntropy(PAR, logits, targets, 0, rows, vocab, rowLoss, null, 0f);
            return Arrays.stream(rowLoss).sum();
        };
        float[] dl = new float[rows * vocab];
        Ops.crossEntropy(PAR, logits, targets, 0, rows, vocab, rowLoss, dl, 1f);
        check("cross-entropy dlogits", logits, 0, logits.length, dl, 0, loss);
        // the value itself: log Σ e^z − z_target, in double
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < vocab; j++) {
            max = Math.max(max, logits[j]);
        }
        double s = 0;
        for (int j = 0; j < vocab; j++) {
            s += Math.exp(logits[j] - max);
        }
        assertEquals(Math.log(s) + max - logits[3], rowLoss[0], 1e-6); // the kernel subtracts the max in float
        assertEquals(0.0, rowLoss[3], 0.0);
    }

    @Test
    void wholeModelEveryTensorTied() {
        wholeModel(Architecture.llama(8, 12, 2, 4, 2, 11, 6, true), ActivationQuant.NONE, SEED + 7);
    }

    @Test
    void wholeModelEveryTensorUntied() {
        wholeModel(Architecture.llama(6, 10, 1, 3, 1, 9, 5, false), ActivationQuant.NONE, SEED + 8);
    }

    /**
     * BitNet's SubLN: the RMSNorms on the inputs of wo (width dim) and w2 (width hidden), and their gains. (Two stacked
     * norms per branch make the float32 central differences noisier; the tied two-layer SubLN model is checked against
     * PyTorch's float64 autograd in {@code TorchReferenceTest} instead.)
     */
    @Test
    void wholeModelWithSubNormsUntied() {
        wholeModel(Architecture.llama(6, 10, 1, 3, 1, 9, 5, false).withSubNorms(true), ActivationQuant.NONE, SEED + 10);
    }

    /** Loss of the whole model against each of its tensors (embedding, norms, every linear, classifier). */
    static void wholeModel(Architecture arch, ActivationQuant aq, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int batch = 2, seq = arch.seqLen();
        TrainModel m = new TrainModel(arch, batch, seq, aq);
        float[] p = random(rnd, m.layout().size(), 0.6);
        int[] tokens = new int[batch * (seq + 1)];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = rnd.nextInt(arch.vocabSize());
        }
        tokens[seq] = -1; // the last target of the first window is not scored
        m.forward(PAR, p, tokens, 0);
        float[] g = new float[p.length];
        m.backward(PAR, p, g, 1f);
        DoubleSupplier loss = () -> m.forward(PAR, p, tokens, 0);
        for (ParamLayout.Entry e : m.layout().entries()) {
            int n = Math.min(e.size(), 24);
            check(e.name(), p, e.offset(), n, g, e.offset(), loss);
        }
    }

    static float[] toFloat(double[] r) {
        float[] f = new float[r.length];
        for (int i = 0; i < r.length; i++) {
            f[i] = (float) r[i];
        }
        return f;
    }
}
