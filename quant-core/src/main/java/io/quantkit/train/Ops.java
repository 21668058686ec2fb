package io.quantkit.train;

import io.quantkit.model.Axpy;
import io.quantkit.model.DetMath;

/**
 * The kernels of the training model: forward and hand-written backward of each layer type, on row-major float
 * arrays with offsets. A matrix of {@code rows x cols} at offset {@code off} holds element (r, c) at
 * {@code off + r * cols + c}; a linear weight is {@code [out, in]} as in llama2.c.
 *
 * <p>Every output element is accumulated by one thread in a fixed order (see {@link Parallel}), so results do
 * not depend on the thread count. Backward kernels add into their gradient outputs ({@code +=}) unless stated.
 *
 * <p>With the module quant-simd and the Vector API present, the matrix products, the attention passes and the
 * exponentials run its kernels ({@link TrainSimd}), which give the bits of the scalar loops here (tested in that
 * module against {@code gemmScalar}, {@code attentionScalar}, {@code attentionBackwardScalar}).
 */
final class Ops {
    private Ops() {
    }

    /** The vector kernels, or null: the scalar loops below then run (they are also the specification). */
    private static final TrainSimd SIMD = io.quantkit.simd.Simd.provider(TrainSimd.class);

    /** Whether the vector kernels are in use (for benchmarks and tests). */
    static boolean vectorKernels() {
        return SIMD != null;
    }

    // ---------------------------------------------------------------- linear

    /** Columns of {@code C} one task updates at a time (keeps its four accumulator rows in L1). */
    private static final int TILE = 512;
    /** Extra floats in each accumulator row (1 KiB), see {@link #gemm}. */
    private static final int ROW_PAD = 256;
    /** Exponentials an attention task computes in one array call (several query rows' scores). */
    private static final int EXP_BATCH = 4096;
    /**
     * Linear layers with at least this many outputs (inputs, for the input gradient) run the kernel along them;
     * narrower ones along the rows of the batch.
     */
    private static final int LONG_ROWS = 160;

    /**
     * {@code C[m, n] (+)= Σ_k A[m, k] · B[k, n]} for row-major {@code A [M, K]} (row stride {@code lda}),
     * {@code B [K, N]} and {@code C [M, N]}. Each element is summed from zero over {@code k} in increasing order and
     * then stored ({@code accumulate == false}) or added to {@code C}, whatever the tiling, so the bits do not depend
     * on how rows are split among threads.
     */
    static void gemm(Parallel par, float[] a, int aOff, int lda, float[] b, int bOff, float[] c, int cOff,
                     int m, int k, int n, boolean accumulate) {
        gemm(par, a, aOff, lda, 1, b, bOff, n, 1, c, cOff, n, 1, m, k, n, accumulate);
    }

    /**
     * The general form: {@code A[i, p]} at {@code a[aOff + i·ars + p·acs]}, {@code B[p, j]} at
     * {@code b[bOff + p·brs + j·bcs]}, {@code C[i, j]} at {@code c[cOff + i·csr + j·csc]}, so transposed operands need
     * no copy by the caller. Each {@code C[i, j]} is {@code Σ_p A[i,p]·B[p,j]} summed from zero in increasing
     * {@code p}, then stored or added.
     *
     * <p>B is first copied, per tile of up to {@link #TILE} columns, into one array per row (so every loop indexes
     * its arrays from 0, and a tile's rows lie close together). A task then updates four rows of {@code C} over one
     * tile with whole rows of the packed B ({@code s[j] += A[i,p]·B[p,j]} for consecutive {@code j}, the form
     * the JIT vectorizes; each pass adds two products as {@code (s + a·b) + a'·b'}, which is the same
     * sequence of roundings). Every element still adds its {@code k} products one after another in increasing
     * {@code p}, so the result is bit-identical to the scalar triple loop on any thread count. Tasks are
     * (four rows, tile) pairs, tile-major. A strided {@code C} takes the four rows in one pass.
     */
    static void gemm(Parallel par, float[] a, int aOff, int ars, int acs, float[] b, int bOff, int brs, int bcs,
                     float[] c, int cOff, int csr, int csc, int m, int k, int n, boolean accumulate) {
        if (SIMD != null && (csc == 1 || csr == 1)) {
            gemmVector(SIMD, par, a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, csr, csc, m, k, n, accumulate);
        } else {
            gemmScalar(par, a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, csr, csc, m, k, n, accumulate);
        }
    }

    /** Rows of C one vector task computes. */
    private static final int VECTOR_ROWS = 16;

    /**
     * {@link #gemm} through {@link TrainSimd#gemmRows}, which wants the rows of B and of C contiguous. A C whose
     * columns are strided (and rows contiguous) is computed as {@code Cᵀ = Bᵀ·Aᵀ}, the same products summed in the
     * same order ({@code a·b = b·a} exactly); a B whose columns are strided is first copied into rows. Tasks are
     * blocks of {@link #VECTOR_ROWS} rows of C.
     */
    static void gemmVector(TrainSimd simd, Parallel par, float[] a, int aOff, int ars, int acs, float[] b, int bOff,
                           int brs, int bcs, float[] c, int cOff, int csr, int csc, int m, int k, int n,
                           boolean accumulate) {
        if (m <= 0 || n <= 0) {
            return;
        }
        if (csc != 1) { // C rows strided the other way: swap the operands
            gemmVector(simd, par, b, bOff, bcs, brs, a, aOff, acs, ars, c, cOff, csc, csr, n, k, m, accumulate);
            return;
        }
        float[] bRows = b;
        int bRowsOff = bOff;
        int ldb = brs;
        if (bcs != 1) {
            bRows = new float[k * n];
            bRowsOff = 0;
            ldb = n;
            for (int j = 0; j < n; j++) {
                int src = bOff + j * bcs;
                for (int p = 0; p < k; p++) {
                    bRows[p * n + j] = b[src + p * brs];
                }
            }
        }
        float[] bb = bRows;
        int bo = bRowsOff;
        int lb = ldb;
        int blocks = (m + VECTOR_ROWS - 1) / VECTOR_ROWS;
        par.forRange(blocks, (long) VECTOR_ROWS * k * n, (from, to) -> simd.gemmRows(a, aOff, ars, acs, bb, bo, lb,
                c, cOff, csr, from * VECTOR_ROWS, Math.min(m, to * VECTOR_ROWS), k, n, accumulate));
    }

    /** The scalar {@link #gemm}: the specification of {@link TrainSimd#gemmRows}, and the path without vectors. */
    static void gemmScalar(Parallel par, float[] a, int aOff, int ars, int acs, float[] b, int bOff, int brs, int bcs,
                           float[] c, int cOff, int csr, int csc, int m, int k, int n, boolean accumulate) {
        if (m <= 0 || n <= 0) {
            return;
        }
        int tiles = (n + TILE - 1) / TILE;
        // B packed per tile: bTiles[t][p] holds B[p, t·TILE ..] (up to TILE floats), so every loop indexes from 0
        float[][][] bTiles = new float[tiles][k][];
        for (int t = 0; t < tiles; t++) {
            int j0 = t * TILE;
            int w = Math.min(TILE, n - j0);
            float[][] rows = bTiles[t];
            if (bcs == 1) {
                for (int p = 0; p < k; p++) {
                    int r = bOff + p * brs + j0;
                    rows[p] = java.util.Arrays.copyOfRange(b, r, r + w);
                }
            } else {
                for (int p = 0; p < k; p++) {
                    rows[p] = new float[w];
                }
                int jj = 0;
                for (; jj + 4 <= w; jj += 4) { // four source rows at a time, each packed row written four at a time
                    int r0 = bOff + (j0 + jj) * bcs;
                    int r1 = r0 + bcs;
                    int r2 = r1 + bcs;
                    int r3 = r2 + bcs;
                    for (int p = 0; p < k; p++) {
                        float[] row = rows[p];
                        int q = p * brs;
                        row[jj] = b[r0 + q];
                        row[jj + 1] = b[r1 + q];
                        row[jj + 2] = b[r2 + q];
                        row[jj + 3] = b[r3 + q];
                    }
                }
                for (; jj < w; jj++) {
                    int r = bOff + (j0 + jj) * bcs;
                    for (int p = 0; p < k; p++) {
                        rows[p][jj] = b[r + p * brs];
                    }
                }
            }
        }
        int blocks = (m + 3) / 4;
        par.forRange(blocks * tiles, 4L * k * Math.min(n, TILE), (from, to) -> {
            // padded so that the four rows do not lie a multiple of 4 KiB apart (allocated one after the other, rows
            // of 1,024 floats would: each load of s1 would then wait on the store to s0 with the same low address
            // bits, "4K aliasing", which halves the kernel's speed)
            int len = Math.min(n, TILE) + ROW_PAD;
            float[] s0 = new float[len];
            float[] s1 = new float[len];
            float[] s2 = new float[len];
            float[] s3 = new float[len];
            for (int task = from; task < to; task++) {
                int m0 = (task % blocks) * 4; // tile-major: consecutive tasks reuse a tile of B from cache
                int t = task / blocks;
                float[][] bRows = bTiles[t];
                int j0 = t * TILE;
                int w = Math.min(TILE, n - j0);
                int cAt = cOff + j0 * csc;
                int rowsHere = Math.min(4, m - m0);
                int a0 = aOff + m0 * ars;
                if (rowsHere == 4) {
                    java.util.Arrays.fill(s0, 0, w, 0f);
                    java.util.Arrays.fill(s1, 0, w, 0f);
                    java.util.Arrays.fill(s2, 0, w, 0f);
                    java.util.Arrays.fill(s3, 0, w, 0f);
                    int a1 = a0 + ars;
                    int a2 = a1 + ars;
                    int a3 = a2 + ars;
                    int p = 0;
                    for (; p + 2 <= k; p += 2) {
                        int ap = p * acs;
                        int aq = ap + acs;
                        Axpy.axpy4x2(s0, s1, s2, s3, a[a0 + ap], a[a1 + ap], a[a2 + ap], a[a3 + ap], bRows[p],
                                a[a0 + aq], a[a1 + aq], a[a2 + aq], a[a3 + aq], bRows[p + 1], 0, w);
                    }
                    for (; p < k; p++) {
                        int ap = p * acs;
                        Axpy.axpy4(s0, s1, s2, s3, a[a0 + ap], a[a1 + ap], a[a2 + ap], a[a3 + ap], bRows[p], 0, w);
                    }
                    if (csc == 1) {
                        store(c, cAt + m0 * csr, csc, s0, 0, w, accumulate);
                        store(c, cAt + (m0 + 1) * csr, csc, s1, 0, w, accumulate);
                        store(c, cAt + (m0 + 2) * csr, csc, s2, 0, w, accumulate);
                        store(c, cAt + (m0 + 3) * csr, csc, s3, 0, w, accumulate);
                    } else {
                        store4(c, cAt + m0 * csr, csr, csc, s0, s1, s2, s3, 0, w, accumulate);
                    }
                } else {
                    for (int r = m0; r < m; r++) {
                        int ar = aOff + r * ars;
                        java.util.Arrays.fill(s0, 0, w, 0f);
                        for (int p = 0; p < k; p++) {
                            Axpy.axpy(s0, a[ar + p * acs], bRows[p], 0, w);
                        }
                        store(c, cAt + r * csr, csc, s0, 0, w, accumulate);
                    }
                }
            }
        });
    }

    /** {@link #store} of four rows {@code rs} apart along a strided column, one pass (the four often share a line). */
    private static void store4(float[] c, int at, int rs, int stride, float[] s0, float[] s1, float[] s2, float[] s3,
                               int from, int to, boolean acc) {
        for (int j = from; j < to; j++) {
            int i0 = at + j * stride;
            int i1 = i0 + rs;
            int i2 = i1 + rs;
            int i3 = i2 + rs;
            if (acc) {
                c[i0] += s0[j];
                c[i1] += s1[j];
                c[i2] += s2[j];
                c[i3] += s3[j];
            } else {
                c[i0] = s0[j];
                c[i1] = s1[j];
                c[i2] = s2[j];
                c[i3] = s3[j];
            }
        }
    }

    private static void store(float[] c, int at, int stride, float[] s, int from, int to, boolean acc) {
        if (stride == 1 && !acc) {
            System.arraycopy(s, from, c, at + from, to - from);
            return;
        }
        for (int j = from; j < to; j++) {
            int i = at + j * stride;
            c[i] = acc ? c[i] + s[j] : s[j];
        }
    }

    /**
     * {@code y[t, o] = Σ_i x[t, i] · W[o, i]} for {@code rows} rows, {@code W [out, in]} at {@code wOff}. Sums run
     * over {@code i} in increasing order. Overwrites {@code y}. The kernel runs along the outputs when there are
     * enough of them ({@link #LONG_ROWS}), otherwise along the rows (as {@code yᵀ = W·xᵀ}).
     */
    static void linear(Parallel par, float[] y, int yOff, float[] x, int xOff, float[] w, int wOff, int rows, int in,
                       int out) {
        if (out >= LONG_ROWS) { // y = x·Wᵀ along the outputs
            gemm(par, x, xOff, in, 1, w, wOff, 1, in, y, yOff, out, 1, rows, in, out, false);
        } else {
            gemm(par, w, wOff, in, 1, x, xOff, 1, in, y, yOff, 1, out, out, in, rows, false);
        }
    }

    /**
     * {@code dx[t, i] += Σ_o dy[t, o] · W[o, i]} (sums over {@code o} in increasing order), along the inputs or, for
     * narrow layers, along the rows (as {@code dxᵀ += Wᵀ·dyᵀ}).
     */
    static void linearBackwardInput(Parallel par, float[] dx, int dxOff, float[] dy, int dyOff, float[] w, int wOff,
                                    int rows, int in, int out) {
        if (in >= LONG_ROWS) { // dx = dy·W along the inputs
            gemm(par, dy, dyOff, out, 1, w, wOff, in, 1, dx, dxOff, in, 1, rows, out, in, true);
        } else {
            gemm(par, w, wOff, 1, in, dy, dyOff, 1, out, dx, dxOff, 1, in, in, out, rows, true);
        }
    }

    /**
     * {@code dW[o, i] += Σ_t dy[t, o] · x[t, i]} (sums over {@code t} in increasing order), along the longer of
     * {@code in} and {@code out}.
     */
    static void linearBackwardWeight(Parallel par, float[] dw, int dwOff, float[] dy, int dyOff, float[] x, int xOff,
                                     int rows, int in, int out) {
        if (in >= out) {
            gemm(par, dy, dyOff, 1, out, x, xOff, in, 1, dw, dwOff, in, 1, out, rows, in, true);
        } else {
            gemm(par, x, xOff, 1, in, dy, dyOff, out, 1, dw, dwOff, 1, in, in, rows, out, true);
        }
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
     * at position {@code p} turns by {@code p · theta^(-2j/headSize)}, by {@link io.quantkit.model.Rope#tables} (the
     * inference model's angles too).
     */
    static float[][] ropeTables(int seqLen, int headSize, float theta) {
        int half = headSize / 2;
        float[] cos = new float[seqLen * half];
        float[] sin = new float[seqLen * half];
        io.quantkit.model.Rope.tables(0, seqLen, headSize, theta, cos, sin);
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
     *
     * <p>Per query {@code t} and key {@code s ≤ t}: {@code score = (Σ_i q_ti·k_si, i increasing) · 1/√hs},
     * {@code p = e^(score − max) / Σ e^(…)} (the sum in double, {@code s} increasing), {@code out_ti = Σ_s p_ts·v_si}
     * ({@code s} increasing). The loops run over whole rows of keys or queries of a transposed copy (so the JIT
     * vectorizes them) but keep that order of every sum, so the bits are those of the plain loops.
     */
    static void attention(Parallel par, float[] out, float[] probs, float[] q, float[] k, float[] v, int batch,
                          int seqLen, int nHeads, int nKv, int hs) {
        par.forRange(batch * nHeads, (long) seqLen * seqLen * hs, (from, to) -> {
            if (SIMD == null || !SIMD.attention(out, probs, q, k, v, seqLen, nHeads, nKv, hs, from, to)) {
                attentionScalar(out, probs, q, k, v, seqLen, nHeads, nKv, hs, from, to);
            }
        });
    }

    /**
     * {@link #attention} for the (sequence, head) pairs {@code from <= b·nHeads + h < to} on the calling thread, with
     * scalar loops only: the specification of {@link TrainSimd#attention}.
     */
    static void attentionScalar(float[] out, float[] probs, float[] q, float[] k, float[] v, int seqLen, int nHeads,
                                int nKv, int hs, int from, int to) {
        int dim = nHeads * hs;
        int kvDim = nKv * hs;
        int group = nHeads / nKv;
        int T = seqLen;
        float scale = (float) (1.0 / Math.sqrt(hs));
        {
            float[][] kT = new float[hs][T];
            float[][] pT = new float[T][T];
            float[][] oT = new float[hs][T];
            float[] sc = new float[T];
            // the exponentials of several query rows go through one array call (long loops vectorize)
            int cap = Math.max(T, Math.min(EXP_BATCH, T * (T + 1) / 2));
            double[] xs = new double[cap];
            double[] es = new double[cap];
            double[] ks = new double[cap];
            for (int bh = from; bh < to; bh++) {
                int b = bh / nHeads;
                int h = bh % nHeads;
                int kvh = h / group;
                int pBase = bh * T * T;
                transposeHead(k, (b * T) * kvDim + kvh * hs, kvDim, T, hs, kT);
                for (int t0 = 0, t1; t0 < T; t0 = t1) {
                    int used = 0;
                    for (t1 = t0; t1 < T && used + t1 + 1 <= cap; t1++) {
                        int t = t1;
                        int qr = (b * T + t) * dim + h * hs;
                        java.util.Arrays.fill(sc, 0, t + 1, 0f);
                        for (int i = 0; i < hs; i++) {
                            Axpy.axpy(sc, q[qr + i], kT[i], 0, t + 1);
                        }
                        for (int s = 0; s <= t; s++) {
                            sc[s] *= scale;
                        }
                        float max = Float.NEGATIVE_INFINITY;
                        for (int s = 0; s <= t; s++) {
                            max = Math.max(max, sc[s]);
                        }
                        for (int s = 0; s <= t; s++) {
                            xs[used + s] = sc[s] - max;
                        }
                        used += t + 1;
                    }
                    DetMath.exp(xs, es, ks, used);
                    int off = 0;
                    for (int t = t0; t < t1; t++) {
                        double sum = 0;
                        for (int s = 0; s <= t; s++) {
                            sum += (float) es[off + s];
                        }
                        float invSum = (float) (1.0 / sum);
                        int pr = pBase + t * T;
                        for (int s = 0; s <= t; s++) {
                            float p = (float) es[off + s] * invSum;
                            probs[pr + s] = p;
                            pT[s][t] = p;
                        }
                        off += t + 1;
                    }
                }
                for (int i = 0; i < hs; i++) {
                    java.util.Arrays.fill(oT[i], 0f);
                }
                for (int s = 0; s < T; s++) {
                    int vr = (b * T + s) * kvDim + kvh * hs;
                    for (int i = 0; i < hs; i++) {
                        Axpy.axpy(oT[i], v[vr + i], pT[s], s, T);
                    }
                }
                untransposeHead(oT, T, hs, out, (b * T) * dim + h * hs, dim);
            }
        }
    }

    /** {@code dst[i][s] = src[off + s·stride + i]} for {@code s < T}, {@code i < hs}. */
    private static void transposeHead(float[] src, int off, int stride, int T, int hs, float[][] dst) {
        for (int s = 0; s < T; s++) {
            int r = off + s * stride;
            for (int i = 0; i < hs; i++) {
                dst[i][s] = src[r + i];
            }
        }
    }

    /** {@code dst[off + s·stride + i] = src[i][s]}. */
    private static void untransposeHead(float[][] src, int T, int hs, float[] dst, int off, int stride) {
        for (int s = 0; s < T; s++) {
            int r = off + s * stride;
            for (int i = 0; i < hs; i++) {
                dst[r + i] = src[i][s];
            }
        }
    }

    /**
     * Backward of {@link #attention}: adds into {@code dq}, {@code dk}, {@code dv} from {@code dout}. One task per
     * (sequence, key/value head) handles the query heads of its group in order, so each gradient element has a single
     * writer. With {@code dp_ts = Σ_i dout_ti·v_si} and {@code ds_ts = p_ts·(dp_ts − Σ_s' p_ts'·dp_ts')/√hs}:
     * {@code dv_si += p_ts·dout_ti} and {@code dk_si += ds_ts·q_ti} (heads, then {@code t}, increasing),
     * {@code dq_ti += ds_ts·k_si} ({@code s} increasing).
     */
    static void attentionBackward(Parallel par, float[] dq, float[] dk, float[] dv, float[] dout, float[] probs,
                                  float[] q, float[] k, float[] v, int batch, int seqLen, int nHeads, int nKv, int hs) {
        par.forRange(batch * nKv, (long) seqLen * seqLen * hs * (nHeads / nKv), (from, to) -> {
            if (SIMD == null || !SIMD.attentionBackward(dq, dk, dv, dout, probs, q, k, v, seqLen, nHeads, nKv, hs,
                    from, to)) {
                attentionBackwardScalar(dq, dk, dv, dout, probs, q, k, v, seqLen, nHeads, nKv, hs, from, to);
            }
        });
    }

    /**
     * {@link #attentionBackward} for the (sequence, key/value head) pairs {@code from <= b·nKv + kvh < to} on the
     * calling thread, with scalar loops only: the specification of {@link TrainSimd#attentionBackward}.
     */
    static void attentionBackwardScalar(float[] dq, float[] dk, float[] dv, float[] dout, float[] probs, float[] q,
                                        float[] k, float[] v, int seqLen, int nHeads, int nKv, int hs, int from,
                                        int to) {
        int dim = nHeads * hs;
        int kvDim = nKv * hs;
        int group = nHeads / nKv;
        int T = seqLen;
        float scale = (float) (1.0 / Math.sqrt(hs));
        {
            float[] dp = new float[T];
            float[] prow = new float[T];
            float[][] kT = new float[hs][T];
            float[][] vT = new float[hs][T];
            float[][] dkT = new float[hs][T];
            float[][] dvT = new float[hs][T];
            float[][] dqT = new float[hs][T];
            float[][] dsT = new float[T][T];
            for (int bk = from; bk < to; bk++) {
                int b = bk / nKv;
                int kvh = bk % nKv;
                int kvOff = (b * T) * kvDim + kvh * hs;
                transposeHead(k, kvOff, kvDim, T, hs, kT);
                transposeHead(v, kvOff, kvDim, T, hs, vT);
                transposeHead(dk, kvOff, kvDim, T, hs, dkT);
                transposeHead(dv, kvOff, kvDim, T, hs, dvT);
                for (int h = kvh * group; h < (kvh + 1) * group; h++) {
                    int pBase = (b * nHeads + h) * T * T;
                    for (int t = 0; t < T; t++) {
                        int dor = (b * T + t) * dim + h * hs;
                        System.arraycopy(probs, pBase + t * T, prow, 0, t + 1);
                        java.util.Arrays.fill(dp, 0, t + 1, 0f);
                        for (int i = 0; i < hs; i++) {
                            float di = dout[dor + i];
                            Axpy.axpy(dp, di, vT[i], 0, t + 1);
                            Axpy.axpy(dvT[i], di, prow, 0, t + 1);
                        }
                        double pdp = 0;
                        for (int s = 0; s <= t; s++) {
                            pdp += (double) prow[s] * dp[s];
                        }
                        float c = (float) pdp;
                        for (int s = 0; s <= t; s++) {
                            float ds = prow[s] * (dp[s] - c) * scale;
                            dp[s] = ds;
                            dsT[s][t] = ds;
                        }
                        for (int i = 0; i < hs; i++) {
                            Axpy.axpy(dkT[i], q[dor + i], dp, 0, t + 1);
                        }
                    }
                    int qOff = (b * T) * dim + h * hs;
                    transposeHead(dq, qOff, dim, T, hs, dqT);
                    for (int s = 0; s < T; s++) {
                        for (int i = 0; i < hs; i++) {
                            Axpy.axpy(dqT[i], kT[i][s], dsT[s], s, T);
                        }
                    }
                    untransposeHead(dqT, T, hs, dq, qOff, dim);
                }
                untransposeHead(dkT, T, hs, dk, kvOff, kvDim);
                untransposeHead(dvT, T, hs, dv, kvOff, kvDim);
            }
        }
    }

    // ---------------------------------------------------------------- SwiGLU

    /** Elements an elementwise task handles at a time (its scratch stays in L1). */
    private static final int CHUNK = 512;

    /** {@code h = silu(a) · c} elementwise, {@code silu(a) = a · σ(a)}; keeps {@code σ(a)} in {@code sg} for the backward pass. */
    static void swiglu(Parallel par, float[] h, float[] a, float[] c, float[] sg, int n) {
        par.forRange((n + CHUNK - 1) / CHUNK, 8L * CHUNK, (from, to) -> {
            double[] x = new double[CHUNK];
            double[] e = new double[CHUNK];
            double[] k = new double[CHUNK];
            for (int ch = from; ch < to; ch++) {
                int i0 = ch * CHUNK;
                int len = Math.min(CHUNK, n - i0);
                for (int i = 0; i < len; i++) { // DetMath.sigmoid with the vector exponential
                    x[i] = -a[i0 + i];
                }
                exp(x, e, k, len);
                for (int i = 0; i < len; i++) {
                    sg[i0 + i] = (float) (1.0 / (1.0 + e[i]));
                }
                for (int i = i0; i < i0 + len; i++) {
                    h[i] = a[i] * sg[i] * c[i];
                }
            }
        });
    }

    /** Backward of {@link #swiglu} given the {@code sg} it kept; overwrites {@code da} and {@code dc}. */
    static void swigluBackward(Parallel par, float[] da, float[] dc, float[] dh, float[] a, float[] c, float[] sg, int n) {
        par.forRange(n, 8, (from, to) -> {
            for (int i = from; i < to; i++) {
                float x = a[i];
                float g = sg[i];
                float silu = x * g;
                dc[i] = dh[i] * silu;
                da[i] = dh[i] * c[i] * (g * (1f + x * (1f - g)));
            }
        });
    }

    // ---------------------------------------------------------------- loss

    /** {@link DetMath#exp(double[], double[], double[], int)}, through the vector kernel when there is one. */
    private static void exp(double[] x, double[] out, double[] k, int n) {
        if (SIMD != null) {
            SIMD.exp(x, out, n);
        } else {
            DetMath.exp(x, out, k, n);
        }
    }

    /**
     * Softmax cross-entropy of each row of {@code logits} ({@code [rows, vocab]}) against {@code targets};
     * writes each row's loss (natural log) to {@code rowLoss} and, when {@code dlogits} is not null,
     * {@code dlogits = (softmax − onehot) · gradScale}. Targets below 0 are ignored (loss 0, no gradient).
     */
    static void crossEntropy(Parallel par, float[] logits, int[] targets, int tOff, int rows, int vocab,
                             double[] rowLoss, float[] dlogits, float gradScale) {
        par.forRange(rows, vocab * 2L, (from, to) -> {
            double[] xs = new double[vocab];
            double[] ex = new double[vocab];
            double[] ks = new double[vocab];
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
                for (int j = 0; j < vocab; j++) {
                    xs[j] = logits[r + j] - max;
                }
                exp(xs, ex, ks, vocab);
                double sum = 0;
                for (int j = 0; j < vocab; j++) {
                    sum += ex[j];
                }
                rowLoss[t] = StrictMath.log(sum) + max - logits[r + target];
                if (dlogits != null) {
                    double inv = 1.0 / sum;
                    for (int j = 0; j < vocab; j++) {
                        dlogits[r + j] = (float) (ex[j] * inv) * gradScale;
                    }
                    dlogits[r + target] -= gradScale;
                }
            }
        });
    }
}
