package io.quantkit.calib;

/**
 * GPTQ (Frantar et al., 2022) for one weight {@code W [rows, cols]} with input second moment
 * {@code G = E[x xᵀ]} ({@code cols × cols}).
 *
 * <pre>
 * H = 2·G; a channel never active (H_ii = 0) gets H_ii = 1 and its weights set to 0
 * H += damp · mean(diag H) · I                      (retried with damp × 10 if not positive definite)
 * act-order: columns visited by decreasing H_ii (group scales then fixed up front from the original W)
 * U = upper Cholesky factor of H⁻¹ (H⁻¹ = Uᵀ U)
 * for each column i in visiting order:
 *     (groups, in order: at a group's first column its scale is chosen from the current, updated weights)
 *     q_i = clamp(round_half_even(w_i / s)),  e = (w_i − q_i·s) / U_ii,  w_j −= e · U_ij for later j
 * with weighted scales: each row's group scales re-fitted jointly for the final codes ({@link #refitScales})
 * </pre>
 * All arithmetic in double; deterministic.
 */
final class Gptq {
    /** Default relative damping. */
    static final double DAMP = 0.01;

    private Gptq() {
    }

    /**
     * The codes (row-major) and scales (per row and group) GPTQ chooses; offsets (per row and group) for an affine
     * grid (q4_1), else null.
     */
    record Result(int[] q, float[] scales, float[] offsets) {
    }

    /**
     * @param exact null, or per element NaN (a grid element) or a kept weight (an int4-outliers outlier). GPTQ
     *              stores a kept weight as its compensated target when visited, rounded to f16 (bf16 beyond the
     *              f16 range), and writes that value back into {@code exact}; only the rounding residual is
     *              spread, like a rounding error
     */
    static Result run(GridTarget target, float[] w0, int rows, int cols, double[] gram, boolean actOrder,
                      boolean weightedScales, float[] exact) {
        int g = target.group(cols);
        int groups = (cols + g - 1) / g;
        double[] h = new double[cols * cols];
        for (int i = 0; i < cols * cols; i++) {
            h[i] = 2 * gram[i];
        }
        double[] w = new double[rows * cols];
        for (int i = 0; i < w.length; i++) {
            w[i] = w0[i];
        }
        for (int i = 0; i < cols; i++) {
            if (h[i * cols + i] == 0) {
                h[i * cols + i] = 1;
                for (int r = 0; r < rows; r++) {
                    w[r * cols + i] = 0;
                }
            }
        }
        int[] perm = new int[cols];
        for (int i = 0; i < cols; i++) {
            perm[i] = i;
        }
        if (actOrder) {
            Integer[] p = new Integer[cols];
            for (int i = 0; i < cols; i++) {
                p[i] = i;
            }
            double[] hh = h;
            java.util.Arrays.sort(p, (a, b) -> {
                int c = Double.compare(hh[b * cols + b], hh[a * cols + a]);
                return c != 0 ? c : Integer.compare(a, b);
            });
            for (int i = 0; i < cols; i++) {
                perm[i] = p[i];
            }
        }
        // permuted H
        double[] hp = new double[cols * cols];
        for (int i = 0; i < cols; i++) {
            for (int j = 0; j < cols; j++) {
                hp[i * cols + j] = h[perm[i] * cols + perm[j]];
            }
        }
        double[] u = null;
        double damp = DAMP;
        double meanDiag = 0;
        for (int i = 0; i < cols; i++) {
            meanDiag += hp[i * cols + i];
        }
        meanDiag /= cols;
        for (int attempt = 0; attempt < 6 && u == null; attempt++, damp *= 10) {
            double[] a = hp.clone();
            for (int i = 0; i < cols; i++) {
                a[i * cols + i] += damp * meanDiag;
            }
            u = upperCholeskyOfInverse(a, cols);
        }
        if (u == null) {
            throw new IllegalArgumentException("GPTQ: the input covariance is not positive definite even with damping");
        }
        float[] scales = new float[rows * groups];
        float[] offsets = target.affine ? new float[rows * groups] : null;
        boolean[] scaleSet = new boolean[groups];
        if (actOrder) { // static groups: scales from the original weights (the bulk: kept weights count as 0)
            float[] bulk = w0;
            if (exact != null) {
                bulk = w0.clone();
                for (int i = 0; i < bulk.length; i++) {
                    if (!Float.isNaN(exact[i])) {
                        bulk[i] = 0f;
                    }
                }
            }
            for (int r = 0; r < rows; r++) {
                for (int k = 0; k < groups; k++) {
                    int len = Math.min(g, cols - k * g);
                    if (offsets != null) {
                        float[] dm = affineFor(target, bulk, r * cols + k * g, len, gram, cols, k * g, weightedScales);
                        scales[r * groups + k] = dm[0];
                        offsets[r * groups + k] = dm[1];
                        continue;
                    }
                    scales[r * groups + k] = scaleFor(target, bulk, r * cols + k * g, len, gram,
                            cols, k * g, weightedScales);
                }
            }
            java.util.Arrays.fill(scaleSet, true);
        }
        int[] q = new int[rows * cols];
        float[] seg = new float[g];
        double[] err = new double[rows];
        for (int pi = 0; pi < cols; pi++) {
            int col = perm[pi];
            int k = col / g;
            if (!scaleSet[k]) {
                int start = k * g;
                int len = Math.min(g, cols - start);
                for (int r = 0; r < rows; r++) {
                    for (int j = 0; j < len; j++) {
                        int e = r * cols + start + j;
                        seg[j] = exact != null && !Float.isNaN(exact[e]) ? 0f : (float) w[e]; // scale from the bulk
                    }
                    if (offsets != null) {
                        float[] dm = affineFor(target, seg, 0, len, gram, cols, start, weightedScales);
                        scales[r * groups + k] = dm[0];
                        offsets[r * groups + k] = dm[1];
                        continue;
                    }
                    scales[r * groups + k] = scaleFor(target, seg, 0, len, gram, cols, start, weightedScales);
                }
                scaleSet[k] = true;
            }
            double d = u[pi * cols + pi];
            for (int r = 0; r < rows; r++) {
                float s = scales[r * groups + k];
                double wv = w[r * cols + col];
                if (exact != null && !Float.isNaN(exact[r * cols + col])) {
                    float kept = (float) wv;
                    kept = Math.abs(kept) <= 65504f ? io.quantkit.format.Fp16.round(kept)
                            : io.quantkit.format.Bf16.round(kept);
                    exact[r * cols + col] = kept;
                    q[r * cols + col] = 0;
                    err[r] = (wv - kept) / d;
                    continue;
                }
                if (offsets != null) {
                    float m = offsets[r * groups + k];
                    int qq = target.quantizeAffine(wv, s, m);
                    q[r * cols + col] = qq;
                    err[r] = (wv - (double) GridTarget.decodeAffine(qq, s, m)) / d;
                    continue;
                }
                int qq = target.quantize(wv, s);
                q[r * cols + col] = qq;
                err[r] = (wv - (double) qq * s) / d;
            }
            for (int pj = pi + 1; pj < cols; pj++) {
                double uij = u[pi * cols + pj];
                if (uij == 0) {
                    continue;
                }
                int cj = perm[pj];
                for (int r = 0; r < rows; r++) {
                    w[r * cols + cj] -= err[r] * uij;
                }
            }
        }
        if (weightedScales && offsets != null) {
            refitAffine(target, w0, rows, cols, gram, q, scales, offsets);
        } else if (weightedScales) {
            refitScales(target, w0, rows, cols, gram, q, scales, exact);
        }
        return new Result(q, scales, offsets);
    }

    /**
     * Given the codes, re-chooses each row's group scales jointly to minimise the layer-output error proxy
     * (t − x̂)ᵀ G (t − x̂), x̂_i = q_i·s_group(i), t the weights minus the stored outliers (an outlier's code is 0,
     * so its error t_i = w_i − stored_i enters as a fixed offset): the normal
     * equations A s = b with A_kl = q_kᵀ G q_l, b_k = q_kᵀ G t (q_k: the codes of group k, zero elsewhere).
     * The stored (F16) result replaces a row's scales only if its proxy error is lower.
     */
    static void refitScales(GridTarget target, float[] w0, int rows, int cols, double[] gram, int[] q, float[] scales,
                            float[] exact) {
        int g = target.group(cols);
        int groups = (cols + g - 1) / g;
        double[] t = new double[cols];
        double[] ht = new double[cols];
        double[][] v = new double[groups][cols];
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            for (int i = 0; i < cols; i++) {
                boolean ex = exact != null && !Float.isNaN(exact[base + i]);
                t[i] = ex ? (double) w0[base + i] - exact[base + i] : w0[base + i];
            }
            for (int i = 0; i < cols; i++) {
                double a = 0;
                for (int j = 0; j < cols; j++) {
                    a += gram[i * cols + j] * t[j];
                }
                ht[i] = a;
            }
            for (int l = 0; l < groups; l++) {
                java.util.Arrays.fill(v[l], 0);
                int from = l * g;
                int to = Math.min(cols, from + g);
                for (int j = from; j < to; j++) {
                    int qj = q[base + j];
                    if (qj == 0) {
                        continue;
                    }
                    for (int i = 0; i < cols; i++) {
                        v[l][i] += gram[i * cols + j] * qj;
                    }
                }
            }
            double[] a = new double[groups * groups];
            double[] b = new double[groups];
            for (int k = 0; k < groups; k++) {
                int from = k * g;
                int to = Math.min(cols, from + g);
                for (int i = from; i < to; i++) {
                    int qi = q[base + i];
                    if (qi == 0) {
                        continue;
                    }
                    b[k] += qi * ht[i];
                    for (int l = 0; l < groups; l++) {
                        a[k * groups + l] += qi * v[l][i];
                    }
                }
            }
            double[] sol = solve(a, b, groups);
            if (sol == null) {
                continue;
            }
            float[] cand = new float[groups];
            for (int k = 0; k < groups; k++) {
                double x = sol[k];
                boolean empty = a[k * groups + k] == 0;
                cand[k] = empty || !Double.isFinite(x) ? scales[r * groups + k] : target.storeScaleOrNaN(x);
                if (Float.isNaN(cand[k])) {
                    cand[k] = scales[r * groups + k];
                }
            }
            double before = proxy(t, q, base, scales, r * groups, g, cols, gram);
            double after = proxy(t, q, base, cand, 0, g, cols, gram);
            if (after < before) {
                System.arraycopy(cand, 0, scales, r * groups, groups);
            }
        }
    }

    private static double proxy(double[] t, int[] q, int base, float[] scales, int sOff, int g, int cols,
                                double[] gram) {
        double[] e = new double[cols];
        for (int i = 0; i < cols; i++) {
            e[i] = t[i] - (double) q[base + i] * scales[sOff + i / g];
        }
        return quadraticForm(e, gram, cols);
    }

    /** {@code eᵀ·G·e} for the {@code cols × cols} row-major {@code gram}, summed row by row in index order. */
    private static double quadraticForm(double[] e, double[] gram, int cols) {
        double sum = 0;
        for (int i = 0; i < cols; i++) {
            double a = 0;
            for (int j = 0; j < cols; j++) {
                a += gram[i * cols + j] * e[j];
            }
            sum += e[i] * a;
        }
        return sum;
    }

    /** Solves the symmetric system A x = b (n × n) by Cholesky with a tiny ridge; null if not solvable. */
    private static double[] solve(double[] a, double[] b, int n) {
        double[] m = a.clone();
        double tr = 0;
        for (int i = 0; i < n; i++) {
            tr += m[i * n + i];
        }
        for (int i = 0; i < n; i++) {
            m[i * n + i] += 1e-12 * tr / n + (m[i * n + i] == 0 ? 1 : 0);
        }
        double[] l = cholesky(m, n);
        if (l == null) {
            return null;
        }
        double[] y = new double[n];
        for (int i = 0; i < n; i++) {
            double s = b[i];
            for (int k = 0; k < i; k++) {
                s -= l[i * n + k] * y[k];
            }
            y[i] = s / l[i * n + i];
        }
        double[] x = new double[n];
        for (int i = n - 1; i >= 0; i--) {
            double s = y[i];
            for (int k = i + 1; k < n; k++) {
                s -= l[k * n + i] * x[k];
            }
            x[i] = s / l[i * n + i];
        }
        return x;
    }

    private static float[] affineFor(GridTarget t, float[] w, int off, int len, double[] gram, int cols, int col0,
                                     boolean weighted) {
        if (!weighted) {
            return t.plainAffine(w, off, len);
        }
        double[] imp = new double[len];
        for (int j = 0; j < len; j++) {
            imp[j] = gram[(col0 + j) * cols + col0 + j];
        }
        return t.searchAffine(w, off, len, imp, 0);
    }

    /**
     * {@link #refitScales} for an affine grid (q4_1): given the codes, each row's (d_k, m_k) for all groups k are
     * re-chosen jointly to minimise (w − x̂)ᵀ G (w − x̂), x̂_i = q_i·d_k + m_k: the normal equations over the basis
     * {q restricted to group k, 1 on group k}. The stored (F16) result replaces a row's pairs only if its proxy
     * error (with the decoder's float arithmetic) is lower.
     */
    static void refitAffine(GridTarget target, float[] w0, int rows, int cols, double[] gram, int[] q,
                            float[] scales, float[] offsets) {
        int g = target.group(cols);
        int groups = (cols + g - 1) / g;
        int p = 2 * groups; // unknown 2k: d_k, 2k + 1: m_k
        double[] t = new double[cols];
        double[] ht = new double[cols];
        double[][] v = new double[p][cols];
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            for (int i = 0; i < cols; i++) {
                t[i] = w0[base + i];
            }
            for (int i = 0; i < cols; i++) {
                double a = 0;
                for (int j = 0; j < cols; j++) {
                    a += gram[i * cols + j] * t[j];
                }
                ht[i] = a;
            }
            for (int l = 0; l < groups; l++) {
                java.util.Arrays.fill(v[2 * l], 0);
                java.util.Arrays.fill(v[2 * l + 1], 0);
                for (int j = l * g; j < Math.min(cols, l * g + g); j++) {
                    int qj = q[base + j];
                    for (int i = 0; i < cols; i++) {
                        double gij = gram[i * cols + j];
                        v[2 * l][i] += gij * qj;
                        v[2 * l + 1][i] += gij;
                    }
                }
            }
            double[] a = new double[p * p];
            double[] b = new double[p];
            for (int k = 0; k < groups; k++) {
                for (int i = k * g; i < Math.min(cols, k * g + g); i++) {
                    int qi = q[base + i];
                    b[2 * k] += qi * ht[i];
                    b[2 * k + 1] += ht[i];
                    for (int l = 0; l < p; l++) {
                        a[(2 * k) * p + l] += qi * v[l][i];
                        a[(2 * k + 1) * p + l] += v[l][i];
                    }
                }
            }
            double[] sol = solve(a, b, p);
            if (sol == null) {
                continue;
            }
            float[] cd = new float[groups];
            float[] cm = new float[groups];
            for (int k = 0; k < groups; k++) {
                cd[k] = scales[r * groups + k];
                cm[k] = offsets[r * groups + k];
                if (a[(2 * k) * p + 2 * k] == 0 || !Double.isFinite(sol[2 * k]) || !Double.isFinite(sol[2 * k + 1])
                        || !(sol[2 * k] >= 0)) {
                    continue; // keep this group's pair
                }
                float d = target.storeScaleOrNaN(sol[2 * k]);
                float m;
                try {
                    m = target.storeOffset(sol[2 * k + 1]);
                } catch (IllegalArgumentException e) {
                    continue;
                }
                if (!Float.isNaN(d)) {
                    cd[k] = d;
                    cm[k] = m;
                }
            }
            double before = affineProxy(t, q, base, scales, offsets, r * groups, g, cols, gram);
            double after = affineProxy(t, q, base, cd, cm, 0, g, cols, gram);
            if (after < before) {
                System.arraycopy(cd, 0, scales, r * groups, groups);
                System.arraycopy(cm, 0, offsets, r * groups, groups);
            }
        }
    }

    private static double affineProxy(double[] t, int[] q, int base, float[] d, float[] m, int sOff, int g, int cols,
                                      double[] gram) {
        double[] e = new double[cols];
        for (int i = 0; i < cols; i++) {
            e[i] = t[i] - (double) GridTarget.decodeAffine(q[base + i], d[sOff + i / g], m[sOff + i / g]);
        }
        return quadraticForm(e, gram, cols);
    }

    private static float scaleFor(GridTarget t, float[] w, int off, int len, double[] gram, int cols, int col0,
                                  boolean weighted) {
        if (!weighted) {
            return t.plainScale(w, off, len);
        }
        double[] imp = new double[len];
        for (int j = 0; j < len; j++) {
            imp[j] = gram[(col0 + j) * cols + col0 + j];
        }
        return t.searchScale(w, off, len, imp, 0);
    }

    /**
     * Upper triangular U with Uᵀ U = A⁻¹ for symmetric positive definite A (n × n, row-major), or null if A is
     * not positive definite. A = L Lᵀ; A⁻¹ = L⁻ᵀ L⁻¹; then U = chol(A⁻¹)ᵀ.
     */
    static double[] upperCholeskyOfInverse(double[] a, int n) {
        double[] l = cholesky(a, n);
        if (l == null) {
            return null;
        }
        // inverse of L (lower triangular)
        double[] li = new double[n * n];
        for (int i = 0; i < n; i++) {
            li[i * n + i] = 1 / l[i * n + i];
            for (int j = 0; j < i; j++) {
                double s = 0;
                for (int k = j; k < i; k++) {
                    s += l[i * n + k] * li[k * n + j];
                }
                li[i * n + j] = -s / l[i * n + i];
            }
        }
        // A⁻¹ = Liᵀ Li
        double[] inv = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                double s = 0;
                for (int k = i; k < n; k++) {
                    s += li[k * n + i] * li[k * n + j];
                }
                inv[i * n + j] = s;
                inv[j * n + i] = s;
            }
        }
        double[] l2 = cholesky(inv, n);
        if (l2 == null) {
            return null;
        }
        double[] u = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                u[j * n + i] = l2[i * n + j];
            }
        }
        return u;
    }

    /** Lower Cholesky factor of a symmetric positive definite matrix, or null. */
    static double[] cholesky(double[] a, int n) {
        double[] l = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                double s = a[i * n + j];
                for (int k = 0; k < j; k++) {
                    s -= l[i * n + k] * l[j * n + k];
                }
                if (i == j) {
                    if (!(s > 0)) {
                        return null;
                    }
                    l[i * n + i] = Math.sqrt(s);
                } else {
                    l[i * n + j] = s / l[j * n + j];
                }
            }
        }
        return l;
    }
}
