package io.quantkit.train;

/**
 * The kernels of the training model: forward and hand-written backward of each layer type, on row-major float
 * arrays with offsets. A matrix of {@code rows x cols} at offset {@code off} holds element (r, c) at
 * {@code off + r * cols + c}; a linear weight is {@code [out, in]} as in llama2.c.
 *
 * <p>Every output element is accumulated by one thread in a fixed order (see {@link Parallel}), so results do
 * not depend on the thread count. Backward kernels add into their gradient outputs ({@code +=}) unless stated.
 */
final class Ops {
    private Ops() {
    }

    // ---------------------------------------------------------------- linear

    /** {@code wt[in, out] = w[out, in]ᵀ}. */
    static void transpose(float[] w, int wOff, int out, int in, float[] wt) {
        for (int o = 0; o < out; o++) {
            int row = wOff + o * in;
            for (int i = 0; i < in; i++) {
                wt[i * out + o] = w[row + i];
            }
        }
    }

    /**
     * {@code C[m, n] (+)= Σ_k A[m, k] · B[k, n]} for row-major {@code A [M, K]} (row stride {@code lda}),
     * {@code B [K, N]} and {@code C [M, N]}. Each element is summed from zero over {@code k} in increasing order and
     * then stored ({@code accumulate == false}) or added to {@code C}, whatever the tiling, so the bits do not depend
     * on how rows are split among threads. Rows of {@code C} are split among threads.
     */
    static void gemm(Parallel par, float[] a, int aOff, int lda, float[] b, int bOff, float[] c, int cOff,
                     int m, int k, int n, boolean accumulate) {
        par.forRange((m + 3) / 4, 4L * k * n, (from, to) -> {
            for (int mb = from; mb < to; mb++) {
                int m0 = mb * 4;
                if (m0 + 4 <= m) {
                    gemmRows4(a, aOff + m0 * lda, lda, b, bOff, c, cOff + m0 * n, k, n, accumulate);
                } else {
                    for (int r = m0; r < m; r++) {
                        gemmRow(a, aOff + r * lda, b, bOff, c, cOff + r * n, k, n, accumulate);
                    }
                }
            }
        });
    }

    private static void gemmRows4(float[] a, int a0, int lda, float[] b, int bOff, float[] c, int c0, int k, int n,
                                  boolean acc) {
        int a1 = a0 + lda;
        int a2 = a1 + lda;
        int a3 = a2 + lda;
        int j = 0;
        for (; j + 4 <= n; j += 4) {
            float s00 = 0f, s01 = 0f, s02 = 0f, s03 = 0f;
            float s10 = 0f, s11 = 0f, s12 = 0f, s13 = 0f;
            float s20 = 0f, s21 = 0f, s22 = 0f, s23 = 0f;
            float s30 = 0f, s31 = 0f, s32 = 0f, s33 = 0f;
            int br = bOff + j;
            for (int p = 0; p < k; p++, br += n) {
                float b0 = b[br];
                float b1 = b[br + 1];
                float b2 = b[br + 2];
                float b3 = b[br + 3];
                float v0 = a[a0 + p];
                float v1 = a[a1 + p];
                float v2 = a[a2 + p];
                float v3 = a[a3 + p];
                s00 += v0 * b0;
                s01 += v0 * b1;
                s02 += v0 * b2;
                s03 += v0 * b3;
                s10 += v1 * b0;
                s11 += v1 * b1;
                s12 += v1 * b2;
                s13 += v1 * b3;
                s20 += v2 * b0;
                s21 += v2 * b1;
                s22 += v2 * b2;
                s23 += v2 * b3;
                s30 += v3 * b0;
                s31 += v3 * b1;
                s32 += v3 * b2;
                s33 += v3 * b3;
            }
            store4(c, c0 + j, s00, s01, s02, s03, acc);
            store4(c, c0 + n + j, s10, s11, s12, s13, acc);
            store4(c, c0 + 2 * n + j, s20, s21, s22, s23, acc);
            store4(c, c0 + 3 * n + j, s30, s31, s32, s33, acc);
        }
        for (; j < n; j++) {
            float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
            int br = bOff + j;
            for (int p = 0; p < k; p++, br += n) {
                float bv = b[br];
                s0 += a[a0 + p] * bv;
                s1 += a[a1 + p] * bv;
                s2 += a[a2 + p] * bv;
                s3 += a[a3 + p] * bv;
            }
            c[c0 + j] = acc ? c[c0 + j] + s0 : s0;
            c[c0 + n + j] = acc ? c[c0 + n + j] + s1 : s1;
            c[c0 + 2 * n + j] = acc ? c[c0 + 2 * n + j] + s2 : s2;
            c[c0 + 3 * n + j] = acc ? c[c0 + 3 * n + j] + s3 : s3;
        }
    }

    private static void store4(float[] c, int at, float s0, float s1, float s2, float s3, boolean acc) {
        if (acc) {
            c[at] += s0;
            c[at + 1] += s1;
            c[at + 2] += s2;
            c[at + 3] += s3;
        } else {
            c[at] = s0;
            c[at + 1] = s1;
            c[at + 2] = s2;
            c[at + 3] = s3;
        }
    }

    private static void gemmRow(float[] a, int a0, float[] b, int bOff, float[] c, int c0, int k, int n, boolean acc) {
        for (int j = 0; j < n; j++) {
            float s = 0f;
            int br = bOff + j;
            for (int p = 0; p < k; p++, br += n) {
                s += a[a0 + p] * b[br];
            }
            c[c0 + j] = acc ? c[c0 + j] + s : s;
        }
    }

    /**
     * {@code y[t, o] = Σ_i x[t, i] · W[o, i]} for {@code rows} rows, given {@code wt = Wᵀ} ({@code [in, out]}).
     * Sums run over {@code i} in increasing order. Overwrites {@code y}.
     */
    static void linear(Parallel par, float[] y, int yOff, float[] x, int xOff, float[] wt, int rows, int in, int out) {
        gemm(par, x, xOff, in, wt, 0, y, yOff, rows, in, out, false);
    }

    /** {@code dx[t, i] += Σ_o dy[t, o] · W[o, i]} (sums over {@code o} in increasing order). */
    static void linearBackwardInput(Parallel par, float[] dx, int dxOff, float[] dy, int dyOff, float[] w, int wOff,
                                    int rows, int in, int out) {
        gemm(par, dy, dyOff, out, w, wOff, dx, dxOff, rows, out, in, true);
    }

    /**
     * {@code dW[o, i] += Σ_t dy[t, o] · x[t, i]} (sums over {@code t} in increasing order). {@code dyT} is
     * scratch of at least {@code out * rows} floats.
     */
    static void linearBackwardWeight(Parallel par, float[] dw, int dwOff, float[] dy, int dyOff, float[] x, int xOff,
                                     int rows, int in, int out, float[] dyT) {
        for (int t = 0; t < rows; t++) {
            int dyr = dyOff + t * out;
            for (int o = 0; o < out; o++) {
                dyT[o * rows + t] = dy[dyr + o];
            }
        }
        gemm(par, dyT, 0, rows, x, xOff, dw, dwOff, out, rows, in, true);
    }

    // ---------------------------------------------------------------- RMSNorm

    /**
     * {@code y[t] = x[t] · w / sqrt(mean(x[t]²) + eps)}; stores the reciprocal root of each row in {@code inv}.
     * The mean of squares is summed in double.
     */
    static void rmsnorm(Parallel par, float[] y, float[] x, float[] w, int wOff, float[] inv, int rows, int d, float eps) {
        par.forRange(rows, d, (from, to) -> {
            for (int t = from; t < to; t++) {
                int r = t * d;
                double ss = 0;
                for (int j = 0; j < d; j++) {
                    ss += (double) x[r + j] * x[r + j];
                }
                float s = (float) (1.0 / Math.sqrt(ss / d + eps));
                inv[t] = s;
                for (int j = 0; j < d; j++) {
                    y[r + j] = x[r + j] * s * w[wOff + j];
                }
            }
        });
    }

    /**
     * Backward of {@link #rmsnorm}: {@code dx += inv·w·dy − x·inv³/d · Σ_k dy_k w_k x_k} and
     * {@code dw += Σ_t dy·x·inv} (rows summed in order on the calling thread).
     */
    static void rmsnormBackward(Parallel par, float[] dx, float[] dy, float[] x, float[] w, int wOff, float[] inv,
                                float[] dw, int dwOff, int rows, int d) {
        par.forRange(rows, d, (from, to) -> {
            for (int t = from; t < to; t++) {
                int r = t * d;
                float s = inv[t];
                double dot = 0;
                for (int j = 0; j < d; j++) {
                    dot += (double) dy[r + j] * w[wOff + j] * x[r + j];
                }
                float c = (float) (dot * s * s * s / d);
                for (int j = 0; j < d; j++) {
                    dx[r + j] += s * w[wOff + j] * dy[r + j] - x[r + j] * c;
                }
            }
        });
        for (int t = 0; t < rows; t++) {
            int r = t * d;
            float s = inv[t];
            for (int j = 0; j < d; j++) {
                dw[dwOff + j] += dy[r + j] * x[r + j] * s;
            }
        }
    }

    // ---------------------------------------------------------------- RoPE

    /**
     * Cos and sin tables {@code [seqLen, headSize/2]} of llama2.c's rotary embedding: pair {@code j} of a head
     * at position {@code p} turns by {@code p · theta^(-2j/headSize)}. Computed with {@link StrictMath}.
     */
    static float[][] ropeTables(int seqLen, int headSize, float theta) {
        int half = headSize / 2;
        float[] cos = new float[seqLen * half];
        float[] sin = new float[seqLen * half];
        for (int p = 0; p < seqLen; p++) {
            for (int j = 0; j < half; j++) {
                // as llama2.c: freq computed in float, angle = pos * freq in float
                float freq = (float) (1.0 / StrictMath.pow(theta, (float) (2 * j) / headSize));
                float angle = p * freq;
                cos[p * half + j] = (float) StrictMath.cos(angle);
                sin[p * half + j] = (float) StrictMath.sin(angle);
            }
        }
        return new float[][] {cos, sin};
    }

    /**
     * Rotates adjacent pairs {@code (2j, 2j+1)} of every head in place; row {@code t} sits at position
     * {@code t % seqLen}. With {@code inverse} it applies the transposed rotation (the backward pass).
     */
    static void rope(Parallel par, float[] x, int rows, int width, int headSize, int seqLen, float[] cos, float[] sin,
                     boolean inverse) {
        int half = headSize / 2;
        par.forRange(rows, width, (from, to) -> {
            for (int t = from; t < to; t++) {
                int pos = t % seqLen;
                int r = t * width;
                for (int c = 0; c < width; c += 2) {
                    int j = (c % headSize) / 2;
                    float co = cos[pos * half + j];
                    float si = inverse ? -sin[pos * half + j] : sin[pos * half + j];
                    float v0 = x[r + c];
                    float v1 = x[r + c + 1];
                    x[r + c] = v0 * co - v1 * si;
                    x[r + c + 1] = v0 * si + v1 * co;
                }
            }
        });
    }

    // ---------------------------------------------------------------- attention

    /**
     * Causal grouped-query attention over {@code batch} sequences of {@code seqLen} rows. {@code q} is
     * {@code [rows, nHeads*hs]}, {@code k}, {@code v} are {@code [rows, nKv*hs]}; query head {@code h} reads
     * key/value head {@code h / (nHeads/nKv)}. Stores the probabilities in {@code probs}
     * ({@code [batch, nHeads, seqLen, seqLen]}, lower triangle) and writes {@code out} ({@code [rows, nHeads*hs]}).
     */
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
                            if (ds == 0f) {
                                continue;
                            }
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

    // ---------------------------------------------------------------- SwiGLU

    /** {@code h = silu(a) · c} elementwise, {@code silu(a) = a · σ(a)}. */
    static void swiglu(Parallel par, float[] h, float[] a, float[] c, int n) {
        par.forRange(n, 8, (from, to) -> {
            for (int i = from; i < to; i++) {
                float x = a[i];
                h[i] = x * DetMath.sigmoid(x) * c[i];
            }
        });
    }

    /** Backward of {@link #swiglu}; overwrites {@code da} and {@code dc}. */
    static void swigluBackward(Parallel par, float[] da, float[] dc, float[] dh, float[] a, float[] c, int n) {
        par.forRange(n, 8, (from, to) -> {
            for (int i = from; i < to; i++) {
                float x = a[i];
                float sg = DetMath.sigmoid(x);
                float silu = x * sg;
                dc[i] = dh[i] * silu;
                da[i] = dh[i] * c[i] * (sg * (1f + x * (1f - sg)));
            }
        });
    }

    // ---------------------------------------------------------------- loss

    /**
     * Softmax cross-entropy of each row of {@code logits} ({@code [rows, vocab]}) against {@code targets};
     * writes each row's loss (natural log) to {@code rowLoss} and, when {@code dlogits} is not null,
     * {@code dlogits = (softmax − onehot) · gradScale}. Targets below 0 are ignored (loss 0, no gradient).
     */
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
}
