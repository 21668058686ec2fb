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
 * </pre>
 * All arithmetic in double; deterministic.
 */
final class Gptq {
    /** Default relative damping. */
    static final double DAMP = 0.01;

    private Gptq() {
    }

    /** The codes (row-major) and scales (per row and group) GPTQ chooses. */
    record Result(int[] q, float[] scales) {
    }

    /**
     * @param exact null, or per element the value stored exactly (an int4-outliers outlier), NaN elsewhere;
     *              an exact element's residual (its compensated target minus the stored value) is spread like
     *              a rounding error
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
        boolean[] scaleSet = new boolean[groups];
        if (actOrder) { // static groups: scales from the original weights
            for (int r = 0; r < rows; r++) {
                for (int k = 0; k < groups; k++) {
                    scales[r * groups + k] = scaleFor(target, w0, r * cols + k * g, Math.min(g, cols - k * g), gram,
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
                    scales[r * groups + k] = scaleFor(target, seg, 0, len, gram, cols, start, weightedScales);
                }
                scaleSet[k] = true;
            }
            double d = u[pi * cols + pi];
            for (int r = 0; r < rows; r++) {
                float s = scales[r * groups + k];
                double wv = w[r * cols + col];
                if (exact != null && !Float.isNaN(exact[r * cols + col])) {
                    q[r * cols + col] = 0;
                    err[r] = (wv - exact[r * cols + col]) / d;
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
        return new Result(q, scales);
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
