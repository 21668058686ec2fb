package io.quantkit.train;

import io.quantkit.model.DetMath;

/**
 * The plain scalar loops that {@link Ops}'s kernels were first written as, kept as their specification:
 * {@code OpsFastPathTest} checks that the fast kernels give the same bits (every sum in the same order).
 */
final class OpsReference {
    private OpsReference() {
    }

    /** {@code C (+)= A·B}, each element summed from zero over {@code p} in increasing order. */
    static void gemm(float[] a, int aOff, int ars, int acs, float[] b, int bOff, float[] c, int cOff, int m, int k, int n,
                     boolean accumulate) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float s = 0f;
                for (int p = 0; p < k; p++) {
                    s += a[aOff + i * ars + p * acs] * b[bOff + p * n + j];
                }
                c[cOff + i * n + j] = accumulate ? c[cOff + i * n + j] + s : s;
            }
        }
    }

    static void attention(Parallel par, float[] out, float[] probs, float[] q, float[] k, float[] v, int batch,
                          int seqLen, int nHeads, int nKv, int hs) {
        int dim = nHeads * hs;
        int kvDim = nKv * hs;
        int group = nHeads / nKv;
        float scale = (float) (1.0 / Math.sqrt(hs));
        par.forRange(batch * nHeads, (long) seqLen * seqLen * hs, (from, to) -> {
            for (int bh = from; bh < to; bh++) {
                int b = bh / nHeads;
                int h = bh % nHeads;
                int kvh = h / group;
                int pBase = bh * seqLen * seqLen;
                for (int t = 0; t < seqLen; t++) {
                    int qr = (b * seqLen + t) * dim + h * hs;
                    int pr = pBase + t * seqLen;
                    float max = Float.NEGATIVE_INFINITY;
                    for (int s = 0; s <= t; s++) {
                        int kr = (b * seqLen + s) * kvDim + kvh * hs;
                        float dot = 0f;
                        for (int i = 0; i < hs; i++) {
                            dot += q[qr + i] * k[kr + i];
                        }
                        dot *= scale;
                        probs[pr + s] = dot;
                        if (dot > max) {
                            max = dot;
                        }
                    }
                    double sum = 0;
                    for (int s = 0; s <= t; s++) {
                        float e = (float) DetMath.exp(probs[pr + s] - max);
                        probs[pr + s] = e;
                        sum += e;
                    }
                    float invSum = (float) (1.0 / sum);
                    int or = (b * seqLen + t) * dim + h * hs;
                    for (int i = 0; i < hs; i++) {
                        out[or + i] = 0f;
                    }
                    for (int s = 0; s <= t; s++) {
                        float p = probs[pr + s] * invSum;
                        probs[pr + s] = p;
                        int vr = (b * seqLen + s) * kvDim + kvh * hs;
                        for (int i = 0; i < hs; i++) {
                            out[or + i] += p * v[vr + i];
                        }
                    }
                }
            }
        });
    }

    /**
     * Backward of {@link #attention}: adds into {@code dq}, {@code dk}, {@code dv} from {@code dout}.
     * {@code scratch} needs {@code seqLen} floats per thread; one task per (sequence, key/value head) handles the
     * query heads of its group in order, so each gradient element has a single writer.
     */
    static void attentionBackward(Parallel par, float[] dq, float[] dk, float[] dv, float[] dout, float[] probs,
                                  float[] q, float[] k, float[] v, int batch, int seqLen, int nHeads, int nKv, int hs) {
        int dim = nHeads * hs;
        int kvDim = nKv * hs;
        int group = nHeads / nKv;
        float scale = (float) (1.0 / Math.sqrt(hs));
        par.forRange(batch * nKv, (long) seqLen * seqLen * hs * group, (from, to) -> {
            float[] dp = new float[seqLen];
            for (int bk = from; bk < to; bk++) {
                int b = bk / nKv;
                int kvh = bk % nKv;
                for (int h = kvh * group; h < (kvh + 1) * group; h++) {
                    int pBase = (b * nHeads + h) * seqLen * seqLen;
                    for (int t = 0; t < seqLen; t++) {
                        int pr = pBase + t * seqLen;
                        int dor = (b * seqLen + t) * dim + h * hs;
                        int qr = dor;
                        double pdp = 0;
                        for (int s = 0; s <= t; s++) {
                            int vr = (b * seqLen + s) * kvDim + kvh * hs;
                            float dot = 0f;
                            for (int i = 0; i < hs; i++) {
                                dot += dout[dor + i] * v[vr + i];
                            }
                            dp[s] = dot;
                            float p = probs[pr + s];
                            pdp += (double) p * dot;
                            for (int i = 0; i < hs; i++) {
                                dv[vr + i] += p * dout[dor + i];
                            }
                        }
                        float c = (float) pdp;
                        for (int s = 0; s <= t; s++) {
                            float ds = probs[pr + s] * (dp[s] - c) * scale;
                            int kr = (b * seqLen + s) * kvDim + kvh * hs;
                            for (int i = 0; i < hs; i++) {
                                dq[qr + i] += ds * k[kr + i];
                                dk[kr + i] += ds * q[qr + i];
                            }
                        }
                    }
                }
            }
        });
    }

    static void crossEntropy(Parallel par, float[] logits, int[] targets, int tOff, int rows, int vocab,
                             double[] rowLoss, float[] dlogits, float gradScale) {
        par.forRange(rows, vocab * 2L, (from, to) -> {
            for (int t = from; t < to; t++) {
                int r = t * vocab;
                int target = targets[tOff + t];
                if (target < 0) {
                    rowLoss[t] = 0;
                    if (dlogits != null) {
                        java.util.Arrays.fill(dlogits, r, r + vocab, 0f);
                    }
                    continue;
                }
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < vocab; j++) {
                    max = Math.max(max, logits[r + j]);
                }
                double sum = 0;
                for (int j = 0; j < vocab; j++) {
                    sum += DetMath.exp(logits[r + j] - max);
                }
                rowLoss[t] = StrictMath.log(sum) + max - logits[r + target];
                if (dlogits != null) {
                    double inv = 1.0 / sum;
                    for (int j = 0; j < vocab; j++) {
                        dlogits[r + j] = (float) (DetMath.exp(logits[r + j] - max) * inv) * gradScale;
                    }
                    dlogits[r + target] -= gradScale;
                }
            }
        });
    }

    /** {@code h = a·σ(a)·c} elementwise with the scalar sigmoid, keeping {@code σ(a)} in {@code sg}. */
    static void swiglu(float[] h, float[] a, float[] c, float[] sg, int n) {
        for (int i = 0; i < n; i++) {
            float x = a[i];
            float g = DetMath.sigmoid(x);
            sg[i] = g;
            h[i] = x * g * c[i];
        }
    }
}
