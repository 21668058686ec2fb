package io.quantkit.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quantkit.model.DetMath;
import io.quantkit.simd.Simd;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The vector training kernels ({@link TrainSimd}, in use here: this module's tests run with the Vector API) give the
 * bits of the scalar loops of {@link Ops} ({@code gemmScalar}, {@code attentionScalar}, {@code
 * attentionBackwardScalar}, {@link DetMath#exp(double)}) on sizes around every vector and tile width (1, tails, one
 * past), with zeros of both signs, subnormals, infinities and NaN among the inputs. Runs at 512-, 256- and 128-bit
 * vectors (the module's surefire executions).
 */
class VectorTrainTest {
    static final long SEED = 20261201L;
    static final Parallel ONE = Parallel.of(1);
    static final Parallel THREE = Parallel.of(3);

    @AfterAll
    static void close() {
        ONE.close();
        THREE.close();
    }

    /** Uniform in [-1, 1), with about one value in {@code every} replaced by a special one (0 for none). */
    static float[] random(SplittableRandom rnd, int n, int every) {
        float[] specials = {0f, -0f, Float.MIN_VALUE, -1e-40f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
            Float.NaN, 3e38f, -2.5e-38f};
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = every > 0 && rnd.nextInt(every) == 0 ? specials[rnd.nextInt(specials.length)]
                    : (float) (rnd.nextDouble() * 2 - 1);
        }
        return a;
    }

    /**
     * Same bits, except that any NaN equals any NaN ({@link Float#floatToIntBits}): Java leaves the sign and payload of
     * a NaN an operation produces to the processor (x86 returns one operand's NaN or its default NaN depending on the
     * order the JIT puts the operands in), so the scalar loop itself does not fix them.
     */
    static void assertSameBits(float[] expect, float[] got, String what) {
        assertEquals(expect.length, got.length, what);
        for (int i = 0; i < expect.length; i++) {
            if (Float.floatToIntBits(expect[i]) != Float.floatToIntBits(got[i])) {
                assertEquals(Float.floatToIntBits(expect[i]), Float.floatToIntBits(got[i]),
                        what + " at " + i + ": " + expect[i] + " vs " + got[i]);
            }
        }
    }

    @Test
    void theVectorKernelsAreInUse() {
        assertTrue(Ops.vectorKernels(), Simd.describe());
    }

    @Test
    void gemmGivesTheScalarBitsInEveryLayout() {
        SplittableRandom rnd = new SplittableRandom(SEED);
        int[] ms = {1, 3, 4, 5, 17};
        int[] ks = {0, 1, 2, 7, 64};
        int[] ns = {1, 5, 8, 15, 16, 17, 31, 32, 33, 48, 63, 64, 65, 100, 172};
        int cases = 0;
        for (int m : ms) {
            for (int k : ks) {
                for (int n : ns) {
                    int every = (m + k + n) % 3 == 0 ? 11 : 0; // a third of the shapes with special values
                    float[] a = random(rnd, 3 + m * k, every);
                    float[] b = random(rnd, 2 + k * n, every);
                    for (int layout = 0; layout < 4; layout++) {
                        // 0: all rows contiguous; 1: A read transposed; 2: B read transposed; 3: C written transposed
                        int ars = layout == 1 ? 1 : k;
                        int acs = layout == 1 ? m : 1;
                        int brs = layout == 2 ? 1 : n;
                        int bcs = layout == 2 ? k : 1;
                        int csr = layout == 3 ? 1 : n;
                        int csc = layout == 3 ? m : 1;
                        for (boolean acc : new boolean[] {false, true}) {
                            float[] c0 = random(rnd, 1 + m * n, every);
                            float[] expect = c0.clone();
                            Ops.gemmScalar(ONE, a, 3, ars, acs, b, 2, brs, bcs, expect, 1, csr, csc, m, k, n, acc);
                            for (Parallel par : new Parallel[] {ONE, THREE}) {
                                float[] got = c0.clone();
                                Ops.gemm(par, a, 3, ars, acs, b, 2, brs, bcs, got, 1, csr, csc, m, k, n, acc);
                                assertSameBits(expect, got, "gemm " + m + "x" + k + "x" + n + " layout " + layout
                                        + " acc " + acc + " threads " + par.threads() + " seed " + SEED);
                            }
                            cases++;
                        }
                    }
                }
            }
        }
        assertEquals(ms.length * ks.length * ns.length * 8, cases);
    }

    @Test
    void linearLayersOfTheTrainingShapesGiveTheScalarBits() {
        SplittableRandom rnd = new SplittableRandom(SEED + 1);
        int rows = 2 * 128;
        for (int[] io : new int[][] {{64, 64}, {64, 32}, {64, 172}, {172, 64}, {64, 512}}) {
            int in = io[0];
            int out = io[1];
            float[] x = random(rnd, rows * in, 0);
            float[] w = random(rnd, out * in, 0);
            float[] dy = random(rnd, rows * out, 0);
            float[] y = new float[rows * out];
            float[] yR = new float[rows * out];
            Ops.linear(ONE, y, 0, x, 0, w, 0, rows, in, out);
            Ops.gemmScalar(ONE, x, 0, in, 1, w, 0, 1, in, yR, 0, out, 1, rows, in, out, false);
            assertSameBits(yR, y, "linear " + in + " -> " + out);
            float[] dx0 = random(rnd, rows * in, 0);
            float[] dx = dx0.clone();
            float[] dxR = dx0.clone();
            Ops.linearBackwardInput(THREE, dx, 0, dy, 0, w, 0, rows, in, out);
            Ops.gemmScalar(ONE, dy, 0, out, 1, w, 0, in, 1, dxR, 0, in, 1, rows, out, in, true);
            assertSameBits(dxR, dx, "input gradient " + in + " -> " + out);
            float[] dw0 = random(rnd, out * in, 0);
            float[] dw = dw0.clone();
            float[] dwR = dw0.clone();
            Ops.linearBackwardWeight(THREE, dw, 0, dy, 0, x, 0, rows, in, out);
            Ops.gemmScalar(ONE, dy, 0, 1, out, x, 0, in, 1, dwR, 0, in, 1, out, rows, in, true);
            assertSameBits(dwR, dw, "weight gradient " + in + " -> " + out);
        }
    }

    @Test
    void expGivesTheScalarBits() {
        TrainSimd simd = Simd.provider(TrainSimd.class);
        SplittableRandom rnd = new SplittableRandom(SEED + 2);
        int n = 100_003;
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            switch (i % 4) {
                case 0 -> x[i] = Double.longBitsToDouble(rnd.nextLong()); // any bit pattern, NaNs included
                case 1 -> x[i] = rnd.nextDouble() * 1600 - 800; // both ends of the range
                case 2 -> x[i] = -rnd.nextDouble() * 30; // softmax arguments
                default -> x[i] = (rnd.nextDouble() - 0.5) * 4;
            }
        }
        // where k = floor(x·log2(e) + 0.5) leaves the table (|k| > 511) and where the result under- or overflows
        double[] edges = {0, -0.0, 1, -1, 354.5 * Math.log(2), -354.5 * Math.log(2), 511.5 * Math.log(2),
            -511.5 * Math.log(2), 709.78, 709.79, -745, -745.1, -708.4, Double.NaN, Double.POSITIVE_INFINITY,
            Double.NEGATIVE_INFINITY, Double.MIN_VALUE, Double.MAX_VALUE, -Double.MAX_VALUE};
        int at = 0;
        for (double e : edges) {
            double y = e;
            for (int u = 0; u < 200 && at < n; u++, at += 5) {
                x[at] = y;
                y = Math.nextUp(y);
            }
        }
        double[] got = new double[n];
        simd.exp(x, got, n);
        for (int i = 0; i < n; i++) {
            assertEquals(Double.doubleToLongBits(DetMath.exp(x[i])), Double.doubleToLongBits(got[i]),
                    "exp(" + x[i] + ")");
        }
        for (int len = 0; len <= 40; len++) { // every tail length
            double[] part = new double[len + 1];
            part[len] = 12345; // past the end: untouched
            simd.exp(x, part, len);
            for (int i = 0; i < len; i++) {
                assertEquals(Double.doubleToLongBits(DetMath.exp(x[i])), Double.doubleToLongBits(part[i]));
            }
            assertEquals(12345, part[len]);
        }
    }

    @Test
    void attentionGivesTheScalarBits() {
        SplittableRandom rnd = new SplittableRandom(SEED + 3);
        // batch, seqLen, heads, kv heads, head size; 6 is not a multiple of 4: the scalar loop runs
        int[][] shapes = {{2, 128, 8, 4, 8}, {1, 1, 2, 1, 4}, {2, 17, 4, 2, 12}, {1, 33, 2, 2, 16}, {1, 16, 4, 1, 8},
            {1, 47, 2, 1, 8}, {1, 5, 2, 1, 6}};
        for (int[] sh : shapes) {
            int batch = sh[0];
            int T = sh[1];
            int heads = sh[2];
            int kv = sh[3];
            int hs = sh[4];
            for (int every : new int[] {0, 97}) {
                int rows = batch * T;
                float[] q = random(rnd, rows * heads * hs, every);
                float[] k = random(rnd, rows * kv * hs, every);
                float[] v = random(rnd, rows * kv * hs, every);
                float[] dout = random(rnd, rows * heads * hs, every);
                float[] outR = new float[rows * heads * hs];
                float[] probsR = new float[batch * heads * T * T];
                Ops.attentionScalar(outR, probsR, q, k, v, T, heads, kv, hs, 0, batch * heads);
                float[] dq0 = random(rnd, q.length, 0);
                float[] dk0 = random(rnd, k.length, 0);
                float[] dv0 = random(rnd, v.length, 0);
                float[] dqR = dq0.clone();
                float[] dkR = dk0.clone();
                float[] dvR = dv0.clone();
                Ops.attentionBackwardScalar(dqR, dkR, dvR, dout, probsR, q, k, v, T, heads, kv, hs, 0, batch * kv);
                for (Parallel par : new Parallel[] {ONE, THREE}) {
                    String what = "attention " + java.util.Arrays.toString(sh) + " specials " + every + " threads "
                            + par.threads() + " seed " + SEED;
                    float[] out = new float[outR.length];
                    float[] probs = new float[probsR.length];
                    Ops.attention(par, out, probs, q, k, v, batch, T, heads, kv, hs);
                    assertSameBits(outR, out, what + ": output");
                    assertSameBits(probsR, probs, what + ": probabilities");
                    float[] dq = dq0.clone();
                    float[] dk = dk0.clone();
                    float[] dv = dv0.clone();
                    Ops.attentionBackward(par, dq, dk, dv, dout, probs, q, k, v, batch, T, heads, kv, hs);
                    assertSameBits(dqR, dq, what + ": dq");
                    assertSameBits(dkR, dk, what + ": dk");
                    assertSameBits(dvR, dv, what + ": dv");
                }
            }
        }
    }

    @Test
    void crossEntropyAndSwigluGiveTheScalarBits() {
        SplittableRandom rnd = new SplittableRandom(SEED + 4);
        int rows = 13;
        int vocab = 37;
        float[] logits = random(rnd, rows * vocab, 0);
        for (int i = 0; i < logits.length; i++) {
            logits[i] *= 40;
        }
        int[] targets = new int[rows];
        for (int t = 0; t < rows; t++) {
            targets[t] = t == 4 ? -1 : rnd.nextInt(vocab);
        }
        double[] lossR = new double[rows];
        float[] dR = new float[rows * vocab];
        OpsReference.crossEntropy(ONE, logits, targets, 0, rows, vocab, lossR, dR, 0.25f);
        double[] loss = new double[rows];
        float[] d = new float[rows * vocab];
        Ops.crossEntropy(THREE, logits, targets, 0, rows, vocab, loss, d, 0.25f);
        assertArrayEquals(lossR, loss);
        assertSameBits(dR, d, "cross-entropy gradient");
        int n = 1_111;
        float[] a = random(rnd, n, 0);
        for (int i = 0; i < n; i++) {
            a[i] *= i % 10 == 0 ? 900 : 8; // some beyond the table of 2^k: the scalar fallback
        }
        float[] c = random(rnd, n, 0);
        float[] hR = new float[n];
        float[] sgR = new float[n];
        OpsReference.swiglu(hR, a, c, sgR, n);
        float[] h = new float[n];
        float[] sg = new float[n];
        Ops.swiglu(THREE, h, a, c, sg, n);
        assertSameBits(sgR, sg, "sigmoid");
        assertSameBits(hR, h, "swiglu");
    }
}
