package io.quantkit.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The fast kernels of {@link Ops} give the same bits as the scalar loops of {@link OpsReference}, on sizes that are
 * not multiples of the 4-row tiles or of any SIMD width (1, 3, 7, 13, 29, 37), on one and on three threads.
 */
class OpsFastPathTest {
    static final long SEED = 20261201L;
    static final Parallel ONE = Parallel.of(1);
    static final Parallel THREE = Parallel.of(3);

    @AfterAll
    static void close() {
        ONE.close();
        THREE.close();
    }

    static float[] random(SplittableRandom rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        return a;
    }

    @Test
    void gemmEqualsTheTripleLoop() {
        SplittableRandom rnd = new SplittableRandom(SEED);
        int[][] sizes = {{1, 1, 1}, {3, 7, 13}, {4, 29, 37}, {7, 13, 1}, {13, 37, 29}, {37, 64, 172}, {9, 300, 8},
            {6, 5, 1100}}; // three column tiles of B, the last one partial
        for (int[] sz : sizes) {
            int m = sz[0];
            int k = sz[1];
            int n = sz[2];
            float[] a = random(rnd, 3 + m * k);
            float[] at = random(rnd, 5 + m * k);
            float[] b = random(rnd, 2 + k * n);
            for (boolean acc : new boolean[] {false, true}) {
                float[] c0 = random(rnd, 1 + m * n);
                float[] expect = c0.clone();
                OpsReference.gemm(a, 3, k, 1, b, 2, expect, 1, m, k, n, acc);
                for (Parallel par : new Parallel[] {ONE, THREE}) {
                    float[] got = c0.clone();
                    Ops.gemm(par, a, 3, k, b, 2, got, 1, m, k, n, acc);
                    assertArrayEquals(expect, got, "gemm " + m + "x" + k + "x" + n + " acc " + acc + " seed " + SEED);
                }
                // A read transposed: A[i, p] = at[5 + p * m + i]
                float[] expectT = c0.clone();
                OpsReference.gemm(at, 5, 1, m, b, 2, expectT, 1, m, k, n, acc);
                float[] gotT = c0.clone();
                Ops.gemm(THREE, at, 5, 1, m, b, 2, n, 1, gotT, 1, n, 1, m, k, n, acc);
                assertArrayEquals(expectT, gotT, "transposed gemm " + m + "x" + k + "x" + n + " seed " + SEED);
            }
        }
    }

    @Test
    void linearLayersEqualTheTripleLoop() {
        SplittableRandom rnd = new SplittableRandom(SEED + 3);
        int[][] sizes = {{1, 1, 1}, {13, 7, 29}, {300, 37, 13}, {517, 64, 172}, {600, 172, 64}, {70, 64, 512}};
        for (int[] sz : sizes) {
            int rows = sz[0];
            int in = sz[1];
            int out = sz[2];
            float[] x = random(rnd, rows * in);
            float[] w = random(rnd, 3 + out * in);
            float[] dy = random(rnd, rows * out);
            String what = rows + " rows, " + in + " -> " + out + ", seed " + SEED;
            // y[t, o] = sum_i x[t, i] W[o, i]: A = x, B[i, o] = W[o, i]
            float[] yR = new float[rows * out];
            OpsReference.gemm(x, 0, in, 1, transpose(w, 3, out, in), 0, yR, 0, rows, in, out, false);
            float[] y = new float[rows * out];
            Ops.linear(THREE, y, 0, x, 0, w, 3, rows, in, out);
            assertArrayEquals(yR, y, "linear " + what);
            // dx[t, i] += sum_o dy[t, o] W[o, i]
            float[] dx0 = random(rnd, rows * in);
            float[] dxR = dx0.clone();
            OpsReference.gemm(dy, 0, out, 1, java.util.Arrays.copyOfRange(w, 3, w.length), 0, dxR, 0, rows, out, in, true);
            float[] dx = dx0.clone();
            Ops.linearBackwardInput(THREE, dx, 0, dy, 0, w, 3, rows, in, out);
            assertArrayEquals(dxR, dx, "linear dx " + what);
            // dW[o, i] += sum_t dy[t, o] x[t, i]
            float[] dw0 = random(rnd, out * in);
            float[] dwR = dw0.clone();
            OpsReference.gemm(dy, 0, 1, out, x, 0, dwR, 0, out, rows, in, true);
            float[] dw = dw0.clone();
            Ops.linearBackwardWeight(THREE, dw, 0, dy, 0, x, 0, rows, in, out);
            assertArrayEquals(dwR, dw, "linear dW " + what);
        }
    }

    static float[] transpose(float[] w, int off, int out, int in) {
        float[] t = new float[in * out];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                t[i * out + o] = w[off + o * in + i];
            }
        }
        return t;
    }

    @Test
    void attentionForwardAndBackwardEqualTheScalarLoops() {
        SplittableRandom rnd = new SplittableRandom(SEED + 1);
        // T = 131: the forward pass's exponentials take several array calls per head
        int[][] shapes = {{1, 1, 1, 1, 2}, {2, 13, 4, 2, 6}, {3, 7, 3, 1, 4}, {1, 37, 8, 4, 8}, {2, 131, 2, 1, 4}};
        for (int[] sh : shapes) {
            int batch = sh[0];
            int T = sh[1];
            int heads = sh[2];
            int kv = sh[3];
            int hs = sh[4];
            int rows = batch * T;
            float[] q = random(rnd, rows * heads * hs);
            float[] k = random(rnd, rows * kv * hs);
            float[] v = random(rnd, rows * kv * hs);
            float[] dout = random(rnd, rows * heads * hs);
            float[] outR = new float[rows * heads * hs];
            float[] probsR = new float[batch * heads * T * T];
            OpsReference.attention(ONE, outR, probsR, q, k, v, batch, T, heads, kv, hs);
            float[] dqR = random(rnd, q.length);
            float[] dkR = random(rnd, k.length);
            float[] dvR = random(rnd, v.length);
            float[] dq0 = dqR.clone();
            float[] dk0 = dkR.clone();
            float[] dv0 = dvR.clone();
            OpsReference.attentionBackward(ONE, dqR, dkR, dvR, dout, probsR, q, k, v, batch, T, heads, kv, hs);
            for (Parallel par : new Parallel[] {ONE, THREE}) {
                String what = "attention b" + batch + " T" + T + " heads " + heads + "/" + kv + " hs " + hs + " on "
                        + par.threads() + " threads, seed " + SEED;
                float[] out = new float[outR.length];
                float[] probs = new float[probsR.length];
                Ops.attention(par, out, probs, q, k, v, batch, T, heads, kv, hs);
                assertArrayEquals(outR, out, what);
                assertArrayEquals(probsR, probs, what);
                float[] dq = dq0.clone();
                float[] dk = dk0.clone();
                float[] dv = dv0.clone();
                Ops.attentionBackward(par, dq, dk, dv, dout, probs, q, k, v, batch, T, heads, kv, hs);
                assertArrayEquals(dqR, dq, "dq of " + what);
                assertArrayEquals(dkR, dk, "dk of " + what);
                assertArrayEquals(dvR, dv, "dv of " + what);
            }
        }
    }

    @Test
    void crossEntropyEqualsTheTwoPassLoop() {
        SplittableRandom rnd = new SplittableRandom(SEED + 2);
        int rows = 13;
        int vocab = 37;
        float[] logits = random(rnd, rows * vocab);
        int[] targets = new int[rows];
        for (int t = 0; t < rows; t++) {
            targets[t] = t == 5 ? -1 : rnd.nextInt(vocab);
        }
        double[] lossR = new double[rows];
        float[] dR = new float[rows * vocab];
        OpsReference.crossEntropy(ONE, logits, targets, 0, rows, vocab, lossR, dR, 0.25f);
        double[] loss = new double[rows];
        float[] d = new float[rows * vocab];
        Ops.crossEntropy(THREE, logits, targets, 0, rows, vocab, loss, d, 0.25f);
        assertArrayEquals(lossR, loss);
        assertArrayEquals(dR, d);
        double[] lossOnly = new double[rows];
        Ops.crossEntropy(THREE, logits, targets, 0, rows, vocab, lossOnly, null, 0f);
        assertArrayEquals(lossR, lossOnly);
    }

    @Test
    void swigluEqualsTheScalarLoop() {
        SplittableRandom rnd = new SplittableRandom(SEED + 3);
        for (int n : new int[] {1, 7, 513, 1037, 4099}) {
            float[] a = random(rnd, n);
            float[] c = random(rnd, n);
            for (int i = 0; i < n; i++) {
                a[i] *= i % 11 == 0 ? 900 : 12; // some beyond the exponential's table range, some saturating
            }
            float[] hR = new float[n];
            float[] sgR = new float[n];
            OpsReference.swiglu(hR, a, c, sgR, n);
            for (Parallel par : new Parallel[] {ONE, THREE}) {
                float[] h = new float[n];
                float[] sg = new float[n];
                Ops.swiglu(par, h, a, c, sg, n);
                assertArrayEquals(sgR, sg);
                assertArrayEquals(hR, h);
            }
        }
    }
}
