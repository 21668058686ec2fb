package io.quantkit.simd.vector;

import io.quantkit.model.DetMath;
import io.quantkit.train.TrainSimd;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The training kernels ({@link TrainSimd}) with the Vector API: a register-tiled matrix product, the array
 * exponential and the attention forward pass. Every element gets the scalar loop's operations in its order: products
 * and sums as separate roundings (no fused multiply-add), sums over {@code k} or over keys one after another from zero,
 * so the bits are those of {@code Ops} on any vector width. One float species (the preferred one) throughout: mixing
 * species in one JVM made C2 give up intrinsifying some of the calls (measured: the attention's kernels 5-10 times
 * slower next to a 256-bit one).
 */
public final class VectorTrain implements TrainSimd {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final double LOG2E = 1.4426950408889634;
    private static final double LN2_HI = 0.6931471803691238;
    private static final double LN2_LO = 1.9082149292705877e-10;
    /** 1.5 · 2^52: adding and subtracting it rounds a double below 2^51 in magnitude to an integer (ties to even). */
    private static final double MAGIC = 0x1.8p52;
    private static final long MAGIC_BITS = Double.doubleToRawLongBits(MAGIC);
    private static final DoubleVector ZERO = DoubleVector.zero(D);
    /** Lane indexes 0, 1, 2, ... as floats. */
    private static final FloatVector IOTA;

    static {
        float[] f = new float[L];
        for (int i = 0; i < L; i++) {
            f[i] = i;
        }
        IOTA = FloatVector.fromArray(S, f, 0);
    }

    @Override
    public void gemmRows(float[] a, int aOff, int ars, int acs, float[] b, int bOff, int ldb,
                                float[] c, int cOff, int ldc, int i0, int i1, int k, int n, boolean acc) {
        // columns in blocks of four, two, one vectors; each block runs down all rows (its panel of B stays in cache)
        int nv = n / L * L;
        int j = 0;
        for (; j + 4 * L <= nv; j += 4 * L) {
            int i = i0;
            for (; i + 4 <= i1; i += 4) {
                k4x4(a, aOff + i * ars, ars, acs, b, bOff + j, ldb, c, cOff + i * ldc + j, ldc, k, acc);
            }
            for (; i < i1; i++) {
                for (int jj = j; jj < j + 4 * L; jj += L) {
                    k1x1(a, aOff + i * ars, acs, b, bOff + jj, ldb, c, cOff + i * ldc + jj, k, acc, L);
                }
            }
        }
        for (; j + 2 * L <= nv; j += 2 * L) {
            int i = i0;
            for (; i + 4 <= i1; i += 4) {
                k4x2(a, aOff + i * ars, ars, acs, b, bOff + j, ldb, c, cOff + i * ldc + j, ldc, k, acc);
            }
            for (; i < i1; i++) {
                for (int jj = j; jj < j + 2 * L; jj += L) {
                    k1x1(a, aOff + i * ars, acs, b, bOff + jj, ldb, c, cOff + i * ldc + jj, k, acc, L);
                }
            }
        }
        for (; j < nv; j += L) {
            int i = i0;
            for (; i + 4 <= i1; i += 4) {
                k4x1(a, aOff + i * ars, ars, acs, b, bOff + j, ldb, c, cOff + i * ldc + j, ldc, k, acc, L);
            }
            for (; i < i1; i++) {
                k1x1(a, aOff + i * ars, acs, b, bOff + j, ldb, c, cOff + i * ldc + j, k, acc, L);
            }
        }
        if (j < n) { // tail columns: copied into a zero-padded panel of one vector's width
            int w = n - j;
            float[] panel = new float[k * L];
            for (int p = 0; p < k; p++) {
                System.arraycopy(b, bOff + p * ldb + j, panel, p * L, w);
            }
            int i = i0;
            for (; i + 4 <= i1; i += 4) {
                k4x1(a, aOff + i * ars, ars, acs, panel, 0, L, c, cOff + i * ldc + j, ldc, k, acc, w);
            }
            for (; i < i1; i++) {
                k1x1(a, aOff + i * ars, acs, panel, 0, L, c, cOff + i * ldc + j, k, acc, w);
            }
        }
    }

    private static void k4x4(float[] a, int a0, int ars, int acs, float[] b, int b0, int ldb, float[] c, int c0,
                             int ldc, int k, boolean acc) {
        FloatVector z = FloatVector.zero(S);
        FloatVector s00 = z, s01 = z, s02 = z, s03 = z;
        FloatVector s10 = z, s11 = z, s12 = z, s13 = z;
        FloatVector s20 = z, s21 = z, s22 = z, s23 = z;
        FloatVector s30 = z, s31 = z, s32 = z, s33 = z;
        for (int p = 0; p < k; p++) {
            int bp = b0 + p * ldb;
            FloatVector b0v = FloatVector.fromArray(S, b, bp);
            FloatVector b1v = FloatVector.fromArray(S, b, bp + L);
            FloatVector b2v = FloatVector.fromArray(S, b, bp + 2 * L);
            FloatVector b3v = FloatVector.fromArray(S, b, bp + 3 * L);
            int ap = a0 + p * acs;
            FloatVector x = FloatVector.broadcast(S, a[ap]);
            s00 = s00.add(x.mul(b0v)); s01 = s01.add(x.mul(b1v)); s02 = s02.add(x.mul(b2v)); s03 = s03.add(x.mul(b3v));
            x = FloatVector.broadcast(S, a[ap + ars]);
            s10 = s10.add(x.mul(b0v)); s11 = s11.add(x.mul(b1v)); s12 = s12.add(x.mul(b2v)); s13 = s13.add(x.mul(b3v));
            x = FloatVector.broadcast(S, a[ap + 2 * ars]);
            s20 = s20.add(x.mul(b0v)); s21 = s21.add(x.mul(b1v)); s22 = s22.add(x.mul(b2v)); s23 = s23.add(x.mul(b3v));
            x = FloatVector.broadcast(S, a[ap + 3 * ars]);
            s30 = s30.add(x.mul(b0v)); s31 = s31.add(x.mul(b1v)); s32 = s32.add(x.mul(b2v)); s33 = s33.add(x.mul(b3v));
        }
        int c1 = c0 + ldc;
        int c2 = c1 + ldc;
        int c3 = c2 + ldc;
        if (acc) { // written out: a helper taking the vector is not inlined once C2's node budget is spent
            FloatVector.fromArray(S, c, c0).add(s00).intoArray(c, c0);
            FloatVector.fromArray(S, c, c0 + L).add(s01).intoArray(c, c0 + L);
            FloatVector.fromArray(S, c, c0 + 2 * L).add(s02).intoArray(c, c0 + 2 * L);
            FloatVector.fromArray(S, c, c0 + 3 * L).add(s03).intoArray(c, c0 + 3 * L);
            FloatVector.fromArray(S, c, c1).add(s10).intoArray(c, c1);
            FloatVector.fromArray(S, c, c1 + L).add(s11).intoArray(c, c1 + L);
            FloatVector.fromArray(S, c, c1 + 2 * L).add(s12).intoArray(c, c1 + 2 * L);
            FloatVector.fromArray(S, c, c1 + 3 * L).add(s13).intoArray(c, c1 + 3 * L);
            FloatVector.fromArray(S, c, c2).add(s20).intoArray(c, c2);
            FloatVector.fromArray(S, c, c2 + L).add(s21).intoArray(c, c2 + L);
            FloatVector.fromArray(S, c, c2 + 2 * L).add(s22).intoArray(c, c2 + 2 * L);
            FloatVector.fromArray(S, c, c2 + 3 * L).add(s23).intoArray(c, c2 + 3 * L);
            FloatVector.fromArray(S, c, c3).add(s30).intoArray(c, c3);
            FloatVector.fromArray(S, c, c3 + L).add(s31).intoArray(c, c3 + L);
            FloatVector.fromArray(S, c, c3 + 2 * L).add(s32).intoArray(c, c3 + 2 * L);
            FloatVector.fromArray(S, c, c3 + 3 * L).add(s33).intoArray(c, c3 + 3 * L);
        } else {
            s00.intoArray(c, c0);
            s01.intoArray(c, c0 + L);
            s02.intoArray(c, c0 + 2 * L);
            s03.intoArray(c, c0 + 3 * L);
            s10.intoArray(c, c1);
            s11.intoArray(c, c1 + L);
            s12.intoArray(c, c1 + 2 * L);
            s13.intoArray(c, c1 + 3 * L);
            s20.intoArray(c, c2);
            s21.intoArray(c, c2 + L);
            s22.intoArray(c, c2 + 2 * L);
            s23.intoArray(c, c2 + 3 * L);
            s30.intoArray(c, c3);
            s31.intoArray(c, c3 + L);
            s32.intoArray(c, c3 + 2 * L);
            s33.intoArray(c, c3 + 3 * L);
        }
    }

    private static void k4x2(float[] a, int a0, int ars, int acs, float[] b, int b0, int ldb, float[] c, int c0,
                             int ldc, int k, boolean acc) {
        FloatVector z = FloatVector.zero(S);
        FloatVector s00 = z, s01 = z, s10 = z, s11 = z, s20 = z, s21 = z, s30 = z, s31 = z;
        for (int p = 0; p < k; p++) {
            int bp = b0 + p * ldb;
            FloatVector b0v = FloatVector.fromArray(S, b, bp);
            FloatVector b1v = FloatVector.fromArray(S, b, bp + L);
            int ap = a0 + p * acs;
            FloatVector x = FloatVector.broadcast(S, a[ap]);
            s00 = s00.add(x.mul(b0v)); s01 = s01.add(x.mul(b1v));
            x = FloatVector.broadcast(S, a[ap + ars]);
            s10 = s10.add(x.mul(b0v)); s11 = s11.add(x.mul(b1v));
            x = FloatVector.broadcast(S, a[ap + 2 * ars]);
            s20 = s20.add(x.mul(b0v)); s21 = s21.add(x.mul(b1v));
            x = FloatVector.broadcast(S, a[ap + 3 * ars]);
            s30 = s30.add(x.mul(b0v)); s31 = s31.add(x.mul(b1v));
        }
        int c1 = c0 + ldc;
        int c2 = c1 + ldc;
        int c3 = c2 + ldc;
        if (acc) { // written out: a helper taking the vector is not inlined once C2's node budget is spent
            FloatVector.fromArray(S, c, c0).add(s00).intoArray(c, c0);
            FloatVector.fromArray(S, c, c0 + L).add(s01).intoArray(c, c0 + L);
            FloatVector.fromArray(S, c, c1).add(s10).intoArray(c, c1);
            FloatVector.fromArray(S, c, c1 + L).add(s11).intoArray(c, c1 + L);
            FloatVector.fromArray(S, c, c2).add(s20).intoArray(c, c2);
            FloatVector.fromArray(S, c, c2 + L).add(s21).intoArray(c, c2 + L);
            FloatVector.fromArray(S, c, c3).add(s30).intoArray(c, c3);
            FloatVector.fromArray(S, c, c3 + L).add(s31).intoArray(c, c3 + L);
        } else {
            s00.intoArray(c, c0);
            s01.intoArray(c, c0 + L);
            s10.intoArray(c, c1);
            s11.intoArray(c, c1 + L);
            s20.intoArray(c, c2);
            s21.intoArray(c, c2 + L);
            s30.intoArray(c, c3);
            s31.intoArray(c, c3 + L);
        }
    }

    /** Four rows by one vector, of which the first {@code w} lanes are stored. */
    private static void k4x1(float[] a, int a0, int ars, int acs, float[] b, int b0, int ldb, float[] c, int c0,
                             int ldc, int k, boolean acc, int w) {
        FloatVector z = FloatVector.zero(S);
        FloatVector s0 = z, s1 = z, s2 = z, s3 = z;
        for (int p = 0; p < k; p++) {
            FloatVector bv = FloatVector.fromArray(S, b, b0 + p * ldb);
            int ap = a0 + p * acs;
            s0 = s0.add(FloatVector.broadcast(S, a[ap]).mul(bv));
            s1 = s1.add(FloatVector.broadcast(S, a[ap + ars]).mul(bv));
            s2 = s2.add(FloatVector.broadcast(S, a[ap + 2 * ars]).mul(bv));
            s3 = s3.add(FloatVector.broadcast(S, a[ap + 3 * ars]).mul(bv));
        }
        int c1 = c0 + ldc;
        int c2 = c1 + ldc;
        int c3 = c2 + ldc;
        if (w < L) {
            partial(c, c0, acc, s0.toArray(), w);
            partial(c, c1, acc, s1.toArray(), w);
            partial(c, c2, acc, s2.toArray(), w);
            partial(c, c3, acc, s3.toArray(), w);
        } else if (acc) {
            FloatVector.fromArray(S, c, c0).add(s0).intoArray(c, c0);
            FloatVector.fromArray(S, c, c1).add(s1).intoArray(c, c1);
            FloatVector.fromArray(S, c, c2).add(s2).intoArray(c, c2);
            FloatVector.fromArray(S, c, c3).add(s3).intoArray(c, c3);
        } else {
            s0.intoArray(c, c0);
            s1.intoArray(c, c1);
            s2.intoArray(c, c2);
            s3.intoArray(c, c3);
        }
    }

    private static void k1x1(float[] a, int a0, int acs, float[] b, int b0, int ldb, float[] c, int c0, int k,
                             boolean acc, int w) {
        FloatVector s = FloatVector.zero(S);
        for (int p = 0; p < k; p++) {
            s = s.add(FloatVector.broadcast(S, a[a0 + p * acs]).mul(FloatVector.fromArray(S, b, b0 + p * ldb)));
        }
        if (w < L) {
            partial(c, c0, acc, s.toArray(), w);
        } else if (acc) {
            FloatVector.fromArray(S, c, c0).add(s).intoArray(c, c0);
        } else {
            s.intoArray(c, c0);
        }
    }

    /** The first {@code w} lanes {@code t} of a vector into {@code c[at..]}, added to it if {@code acc}. */
    private static void partial(float[] c, int at, boolean acc, float[] t, int w) {
        for (int j = 0; j < w; j++) {
            c[at + j] = acc ? c[at + j] + t[j] : t[j];
        }
    }

    /**
     * The lanes of {@code x[i..i+lanes)} whose {@code k} (the vector loop's, recomputed with the same roundings) lies
     * outside [-511, 511], where 2^k is not built from its bits, through {@link DetMath#exp}.
     */
    private static void outOfRange(double[] x, double[] out, int i, int lanes) {
        for (int j = i; j < i + lanes; j++) {
            double z = x[j] * LOG2E + 0.5;
            double rn = (z + MAGIC) - MAGIC;
            double k = rn > z ? rn - 1.0 : rn;
            if (!(k >= -511.0 && k <= 511.0)) {
                out[j] = DetMath.exp(x[j]);
            }
        }
    }

    @Override
    public void exp(double[] x, double[] out, int n) {
        int i = 0;
        int lanes = D.length();
        for (; i + lanes <= n; i += lanes) {
            DoubleVector xv = DoubleVector.fromArray(D, x, i);
            DoubleVector z = xv.mul(LOG2E).add(0.5);
            DoubleVector rn = z.add(MAGIC).sub(MAGIC);
            DoubleVector k = rn.sub(ZERO.blend(1.0, rn.compare(VectorOperators.GT, z)));
            DoubleVector r = xv.sub(k.mul(LN2_HI)).sub(k.mul(LN2_LO));
            DoubleVector p = DoubleVector.broadcast(D, 1.0 / 479001600.0);
            p = p.mul(r).add(1.0 / 39916800.0);
            p = p.mul(r).add(1.0 / 3628800.0);
            p = p.mul(r).add(1.0 / 362880.0);
            p = p.mul(r).add(1.0 / 40320.0);
            p = p.mul(r).add(1.0 / 5040.0);
            p = p.mul(r).add(1.0 / 720.0);
            p = p.mul(r).add(1.0 / 120.0);
            p = p.mul(r).add(1.0 / 24.0);
            p = p.mul(r).add(1.0 / 6.0);
            p = p.mul(r).add(0.5);
            p = p.mul(r).add(1.0);
            p = p.mul(r).add(1.0);
            LongVector kb = k.add(MAGIC).reinterpretAsLongs().sub(MAGIC_BITS);
            DoubleVector pow2 = kb.add(1023L).lanewise(VectorOperators.LSHL, 52).reinterpretAsDoubles();
            p.mul(pow2).intoArray(out, i);
            if (!k.compare(VectorOperators.GE, -511.0).and(k.compare(VectorOperators.LE, 511.0)).allTrue()) {
                outOfRange(x, out, i, lanes); // no lane test on the mask: C2 then boxes it in every iteration
            }
        }
        for (; i < n; i++) {
            out[i] = DetMath.exp(x[i]);
        }
    }

    @Override
    public boolean attention(float[] out, float[] probs, float[] q, float[] k, float[] v, int seqLen, int nHeads,
                             int nKv, int hs, int from, int to) {
        if (hs % 4 != 0) {
            return false;
        }
        int dim = nHeads * hs;
        int kvDim = nKv * hs;
        int group = nHeads / nKv;
        int T = seqLen;
        int tPad = (T + L - 1) / L * L;
        float scale = (float) (1.0 / Math.sqrt(hs));
        float[] kT = new float[hs * tPad];
        float[] sc = new float[4 * tPad];
        double[] xs = new double[4 * tPad];
        double[] es = new double[4 * tPad];
        float[] mx = new float[4];
        float[] pT = new float[T * tPad];
        float[] oT = new float[hs * tPad];
        double[] sum = new double[4];
        for (int bh = from; bh < to; bh++) {
            int b = bh / nHeads;
            int h = bh % nHeads;
            int kvh = h / group;
            int pBase = bh * T * T;
            int kvOff = (b * T) * kvDim + kvh * hs;
            for (int s = 0; s < T; s++) {
                for (int i = 0; i < hs; i++) {
                    kT[i * tPad + s] = k[kvOff + s * kvDim + i];
                }
            }
            for (int t0 = 0; t0 < T; t0 += 4) {
                int nr = Math.min(4, T - t0);
                int last = t0 + nr - 1; // last query row of the block
                int nv = (last + L) / L; // vectors covering keys 0..last
                int q0 = (b * T + t0) * dim + h * hs;
                // scores of four rows (rows past T compute garbage from row t0, never used)
                int q1 = nr > 1 ? q0 + dim : q0;
                int q2 = nr > 2 ? q1 + dim : q0;
                int q3 = nr > 3 ? q2 + dim : q0;
                scores4(q, q0, q1, q2, q3, kT, tPad, nv, hs, scale, sc, true);
                // max over s <= t of each row
                for (int r = 0; r < nr; r++) {
                    mx[r] = rowMax(sc, r * tPad, t0 + r + 1);
                }
                int used = 0;
                for (int r = 0; r < nr; r++) {
                    int n = t0 + r + 1;
                    int base = r * tPad;
                    float m = mx[r];
                    for (int s = 0; s < n; s++) {
                        xs[used + s] = sc[base + s] - m;
                    }
                    used += n;
                }
                exp(xs, es, used);
                // sums in double, s increasing, the rows interleaved
                int n0 = t0 + 1;
                int o1 = n0, o2 = o1 + n0 + 1, o3 = o2 + n0 + 2;
                double u0 = 0, u1 = 0, u2 = 0, u3 = 0;
                if (nr == 4) {
                    for (int s = 0; s < n0; s++) {
                        u0 += (float) es[s];
                        u1 += (float) es[o1 + s];
                        u2 += (float) es[o2 + s];
                        u3 += (float) es[o3 + s];
                    }
                    u1 += (float) es[o1 + n0];
                    u2 += (float) es[o2 + n0];
                    u2 += (float) es[o2 + n0 + 1];
                    u3 += (float) es[o3 + n0];
                    u3 += (float) es[o3 + n0 + 1];
                    u3 += (float) es[o3 + n0 + 2];
                    sum[0] = u0; sum[1] = u1; sum[2] = u2; sum[3] = u3;
                } else {
                    int off = 0;
                    for (int r = 0; r < nr; r++) {
                        double u = 0;
                        for (int s = 0; s <= t0 + r; s++) {
                            u += (float) es[off + s];
                        }
                        sum[r] = u;
                        off += t0 + r + 1;
                    }
                }
                int off = 0;
                for (int r = 0; r < nr; r++) {
                    int t = t0 + r;
                    float invSum = (float) (1.0 / sum[r]);
                    int pr = pBase + t * T;
                    for (int s = 0; s <= t; s++) {
                        float pv = (float) es[off + s] * invSum;
                        probs[pr + s] = pv;
                        pT[s * tPad + t] = pv;
                    }
                    off += t + 1;
                }
            }
            pvT(oT, tPad, pT, v, kvOff, kvDim, T, hs);
            int o0 = (b * T) * dim + h * hs;
            for (int t = 0; t < T; t++) {
                for (int i = 0; i < hs; i++) {
                    out[o0 + t * dim + i] = oT[i * tPad + t];
                }
            }
        }
        return true;
    }


    @Override
    public boolean attentionBackward(float[] dq, float[] dk, float[] dv, float[] dout, float[] probs, float[] q,
                                     float[] k, float[] v, int seqLen, int nHeads, int nKv, int hs, int from, int to) {
        if (hs % 4 != 0) {
            return false;
        }
        int dim = nHeads * hs;
        int kvDim = nKv * hs;
        int group = nHeads / nKv;
        int T = seqLen;
        int tPad = (T + L - 1) / L * L;
        float scale = (float) (1.0 / Math.sqrt(hs));
        float[] kT = new float[hs * tPad];
        float[] vT = new float[hs * tPad];
        float[] dkT = new float[hs * tPad];
        float[] dvT = new float[hs * tPad];
        float[] dqT = new float[hs * tPad];
        float[] dp = new float[4 * tPad];
        float[] pM = new float[T * tPad];
        float[] dsM = new float[T * tPad];
        float[] dsT = new float[T * tPad];
        for (int bk = from; bk < to; bk++) {
            int b = bk / nKv;
            int kvh = bk % nKv;
            int kvOff = (b * T) * kvDim + kvh * hs;
            transpose(k, kvOff, kvDim, T, hs, kT, tPad);
            transpose(v, kvOff, kvDim, T, hs, vT, tPad);
            transpose(dk, kvOff, kvDim, T, hs, dkT, tPad);
            transpose(dv, kvOff, kvDim, T, hs, dvT, tPad);
            for (int h = kvh * group; h < (kvh + 1) * group; h++) {
                int pBase = (b * nHeads + h) * T * T;
                int dBase = (b * T) * dim + h * hs;
                for (int t = 0; t < T; t++) {
                    System.arraycopy(probs, pBase + t * T, pM, t * tPad, t + 1);
                }
                for (int t0 = 0; t0 < T; t0 += 4) {
                    int nr = Math.min(4, T - t0);
                    int nv = (t0 + nr - 1 + L) / L;
                    int d0 = dBase + t0 * dim;
                    int d1 = nr > 1 ? d0 + dim : d0;
                    int d2 = nr > 2 ? d1 + dim : d0;
                    int d3 = nr > 3 ? d2 + dim : d0;
                    // dp_ts = Σ_i dout_ti·v_si, i increasing from zero
                    scores4(dout, d0, d1, d2, d3, vT, tPad, nv, hs, 1f, dp, false);
                    for (int r = 0; r < nr; r++) {
                        int t = t0 + r;
                        int pr = t * tPad;
                        int dr = r * tPad;
                        double pdp = 0;
                        for (int s = 0; s <= t; s++) {
                            pdp += (double) pM[pr + s] * dp[dr + s];
                        }
                        float c = (float) pdp;
                        for (int s = 0; s <= t; s++) {
                            float ds = pM[pr + s] * (dp[dr + s] - c) * scale;
                            dsM[pr + s] = ds;
                            dsT[s * tPad + t] = ds;
                        }
                    }
                }
                // dv_si += p_ts·dout_ti and dk_si += ds_ts·q_ti, t increasing
                for (int i0 = 0; i0 < hs; i0 += 4) {
                    alongRows(dvT, i0, tPad, pM, dout, dBase + i0, dim, T);
                    alongRows(dkT, i0, tPad, dsM, q, dBase + i0, dim, T);
                }
                // dq_ti += ds_ts·k_si, s increasing
                transpose(dq, dBase, dim, T, hs, dqT, tPad);
                for (int i0 = 0; i0 < hs; i0 += 4) {
                    alongColumns(dqT, i0, tPad, dsT, kT, T);
                }
                untranspose(dqT, tPad, T, hs, dq, dBase, dim);
            }
            untranspose(dkT, tPad, T, hs, dk, kvOff, kvDim);
            untranspose(dvT, tPad, T, hs, dv, kvOff, kvDim);
        }
        return true;
    }

    /** {@code dst[i·tPad + s] = src[off + s·stride + i]}. */
    private static void transpose(float[] src, int off, int stride, int T, int hs, float[] dst, int tPad) {
        for (int s = 0; s < T; s++) {
            int r = off + s * stride;
            for (int i = 0; i < hs; i++) {
                dst[i * tPad + s] = src[r + i];
            }
        }
    }

    /** {@code dst[off + s·stride + i] = src[i·tPad + s]}. */
    private static void untranspose(float[] src, int tPad, int T, int hs, float[] dst, int off, int stride) {
        for (int s = 0; s < T; s++) {
            int r = off + s * stride;
            for (int i = 0; i < hs; i++) {
                dst[r + i] = src[i * tPad + s];
            }
        }
    }

    /**
     * {@code accT[i][s] += x[t, i]·m[t][s]} for the four {@code i} from {@code i0}, every {@code s <= t}, {@code t}
     * increasing ({@code m} rows {@code tPad} apart, {@code x[t, i]} at {@code x[x0 + t·xs + i - i0]}).
     */
    private static void alongRows(float[] accT, int i0, int tPad, float[] m, float[] x, int x0, int xs, int T) {
        for (int j = 0; j < T; j += L) {
            int r0 = i0 * tPad + j;
            FloatVector a0 = FloatVector.fromArray(S, accT, r0);
            FloatVector a1 = FloatVector.fromArray(S, accT, r0 + tPad);
            FloatVector a2 = FloatVector.fromArray(S, accT, r0 + 2 * tPad);
            FloatVector a3 = FloatVector.fromArray(S, accT, r0 + 3 * tPad);
            int t = j;
            int diag = Math.min(j + L - 1, T);
            for (; t < diag; t++) { // keys s > t of this block take no term
                VectorMask<Float> on = IOTA.compare(VectorOperators.LE, (float) (t - j));
                FloatVector mv = FloatVector.fromArray(S, m, t * tPad + j);
                int xr = x0 + t * xs;
                a0 = a0.blend(a0.add(FloatVector.broadcast(S, x[xr]).mul(mv)), on);
                a1 = a1.blend(a1.add(FloatVector.broadcast(S, x[xr + 1]).mul(mv)), on);
                a2 = a2.blend(a2.add(FloatVector.broadcast(S, x[xr + 2]).mul(mv)), on);
                a3 = a3.blend(a3.add(FloatVector.broadcast(S, x[xr + 3]).mul(mv)), on);
            }
            for (; t < T; t++) {
                FloatVector mv = FloatVector.fromArray(S, m, t * tPad + j);
                int xr = x0 + t * xs;
                a0 = a0.add(FloatVector.broadcast(S, x[xr]).mul(mv));
                a1 = a1.add(FloatVector.broadcast(S, x[xr + 1]).mul(mv));
                a2 = a2.add(FloatVector.broadcast(S, x[xr + 2]).mul(mv));
                a3 = a3.add(FloatVector.broadcast(S, x[xr + 3]).mul(mv));
            }
            a0.intoArray(accT, r0);
            a1.intoArray(accT, r0 + tPad);
            a2.intoArray(accT, r0 + 2 * tPad);
            a3.intoArray(accT, r0 + 3 * tPad);
        }
    }

    /**
     * {@code accT[i][t] += bT[i][s]·mT[s][t]} for the four {@code i} from {@code i0}, every {@code s <= t}, {@code s}
     * increasing ({@code bT}, {@code mT} rows {@code tPad} apart).
     */
    private static void alongColumns(float[] accT, int i0, int tPad, float[] mT, float[] bT, int T) {
        for (int j = 0; j < T; j += L) {
            int r0 = i0 * tPad;
            FloatVector a0 = FloatVector.fromArray(S, accT, r0 + j);
            FloatVector a1 = FloatVector.fromArray(S, accT, r0 + tPad + j);
            FloatVector a2 = FloatVector.fromArray(S, accT, r0 + 2 * tPad + j);
            FloatVector a3 = FloatVector.fromArray(S, accT, r0 + 3 * tPad + j);
            int s = 0;
            for (; s < j; s++) {
                FloatVector mv = FloatVector.fromArray(S, mT, s * tPad + j);
                a0 = a0.add(FloatVector.broadcast(S, bT[r0 + s]).mul(mv));
                a1 = a1.add(FloatVector.broadcast(S, bT[r0 + tPad + s]).mul(mv));
                a2 = a2.add(FloatVector.broadcast(S, bT[r0 + 2 * tPad + s]).mul(mv));
                a3 = a3.add(FloatVector.broadcast(S, bT[r0 + 3 * tPad + s]).mul(mv));
            }
            int end = Math.min(j + L, T);
            for (; s < end; s++) { // queries t < s of this block take no term
                VectorMask<Float> on = IOTA.compare(VectorOperators.GE, (float) (s - j));
                FloatVector mv = FloatVector.fromArray(S, mT, s * tPad + j);
                a0 = a0.blend(a0.add(FloatVector.broadcast(S, bT[r0 + s]).mul(mv)), on);
                a1 = a1.blend(a1.add(FloatVector.broadcast(S, bT[r0 + tPad + s]).mul(mv)), on);
                a2 = a2.blend(a2.add(FloatVector.broadcast(S, bT[r0 + 2 * tPad + s]).mul(mv)), on);
                a3 = a3.blend(a3.add(FloatVector.broadcast(S, bT[r0 + 3 * tPad + s]).mul(mv)), on);
            }
            a0.intoArray(accT, r0 + j);
            a1.intoArray(accT, r0 + tPad + j);
            a2.intoArray(accT, r0 + 2 * tPad + j);
            a3.intoArray(accT, r0 + 3 * tPad + j);
        }
    }

    /** oT[i][t] = Σ_{s ≤ t} v[s][i]·pT[s][t], s increasing from zero. */
    static void pvT(float[] oT, int tPad, float[] pT, float[] v, int v0, int kvDim, int T, int hs) {
        for (int j = 0; j < T; j += L) {
            int sEnd = Math.min(j + L, T);
            for (int i0 = 0; i0 < hs; i0 += 4) {
                FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
                int vr = v0 + i0;
                int s = 0;
                for (; s < j; s++, vr += kvDim) {
                    FloatVector pv = FloatVector.fromArray(S, pT, s * tPad + j);
                    a0 = a0.add(FloatVector.broadcast(S, v[vr]).mul(pv));
                    a1 = a1.add(FloatVector.broadcast(S, v[vr + 1]).mul(pv));
                    a2 = a2.add(FloatVector.broadcast(S, v[vr + 2]).mul(pv));
                    a3 = a3.add(FloatVector.broadcast(S, v[vr + 3]).mul(pv));
                }
                for (; s < sEnd; s++, vr += kvDim) {
                    VectorMask<Float> m = IOTA.compare(VectorOperators.GE, (float) (s - j));
                    FloatVector pv = FloatVector.fromArray(S, pT, s * tPad + j);
                    a0 = a0.blend(a0.add(FloatVector.broadcast(S, v[vr]).mul(pv)), m);
                    a1 = a1.blend(a1.add(FloatVector.broadcast(S, v[vr + 1]).mul(pv)), m);
                    a2 = a2.blend(a2.add(FloatVector.broadcast(S, v[vr + 2]).mul(pv)), m);
                    a3 = a3.blend(a3.add(FloatVector.broadcast(S, v[vr + 3]).mul(pv)), m);
                }
                a0.intoArray(oT, i0 * tPad + j);
                a1.intoArray(oT, (i0 + 1) * tPad + j);
                a2.intoArray(oT, (i0 + 2) * tPad + j);
                a3.intoArray(oT, (i0 + 3) * tPad + j);
            }
        }
    }

    /**
     * Rows {@code r < 4} of {@code sc} (rows {@code tPad} apart), vectors {@code j < nv·L}:
     * {@code Σ_i x[x_r + i]·mT[i][j]} from zero, {@code i} increasing, then times {@code scale} if {@code scaled}.
     */
    private static void scores4(float[] x, int x0, int x1, int x2, int x3, float[] mT, int tPad, int nv, int hs,
                                float scale, float[] sc, boolean scaled) {
        for (int j = 0; j < nv * L; j += L) {
            FloatVector s0 = FloatVector.zero(S);
            FloatVector s1 = s0;
            FloatVector s2 = s0;
            FloatVector s3 = s0;
            for (int i = 0; i < hs; i++) {
                FloatVector kv = FloatVector.fromArray(S, mT, i * tPad + j);
                s0 = s0.add(FloatVector.broadcast(S, x[x0 + i]).mul(kv));
                s1 = s1.add(FloatVector.broadcast(S, x[x1 + i]).mul(kv));
                s2 = s2.add(FloatVector.broadcast(S, x[x2 + i]).mul(kv));
                s3 = s3.add(FloatVector.broadcast(S, x[x3 + i]).mul(kv));
            }
            if (scaled) {
                s0 = s0.mul(scale);
                s1 = s1.mul(scale);
                s2 = s2.mul(scale);
                s3 = s3.mul(scale);
            }
            s0.intoArray(sc, j);
            s1.intoArray(sc, tPad + j);
            s2.intoArray(sc, 2 * tPad + j);
            s3.intoArray(sc, 3 * tPad + j);
        }
    }

    private static float rowMax(float[] sc, int base, int n) {
        FloatVector m = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        int j = 0;
        for (; j + L <= n; j += L) {
            m = m.max(FloatVector.fromArray(S, sc, base + j));
        }
        float r = m.reduceLanes(VectorOperators.MAX);
        for (; j < n; j++) {
            r = Math.max(r, sc[base + j]);
        }
        return r;
    }

}
