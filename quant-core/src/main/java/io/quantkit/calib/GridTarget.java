package io.quantkit.calib;

import io.quantkit.format.Fp16;
import io.quantkit.format.Rounding;
import io.quantkit.quant.Codecs;
import io.quantkit.quant.QuantizedTensor;
import io.quantkit.quant.Scheme;
import io.quantkit.tensor.DType;
import io.quantkit.tensor.Shape;
import io.quantkit.tensor.StoredArray;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * A symmetric scaled integer grid whose codes and scales a calibrated method chooses itself, written in the
 * stored layout of an existing scheme so the result decodes with that scheme's ordinary codec:
 *
 * <pre>
 * int / int8 / int4 (mode=sym), int4-outliers (its grid part):
 *     value = q · s, q ∈ [−2^(b−1), 2^(b−1)−1], s one F16 per group of the row (IntCodec's layout:
 *     "codes" b-bit two's complement LSB-first, "scales" F16 [rows, groups]). The decoder computes q · s for
 *     a scale of either sign, so the searched scale may be negative: like q4_0's d, it then gives the code
 *     −2^(b−1) to the group's largest |w|, one more level than amax / qmax uses (the codec's own
 *     round-to-nearest scale stays amax / qmax ≥ 0; {@link #plainScale} too)
 * q4_0: value = q · d, q ∈ [−8, 7] stored as q + 8, d an F16 of either sign per block of 32
 *     (ggml's block: d fp16 LE, then 16 bytes, low nibble = value j, high nibble = value j + 16)
 * q4_1 (affine): value = q · d + m, q ∈ [0, 15], d ≥ 0 and m F16 per block of 32
 *     (ggml's block_q4_1: d fp16 LE, m fp16 LE, then 16 bytes of nibbles as q4_0)
 * </pre>
 * The choice of q (round half to even of w/s, clamped) and s is free; the decoder does not care how they
 * were found.
 */
final class GridTarget {
    final Scheme scheme;
    final int bits;
    final int qmin;
    final int qmax;
    final boolean signedScale; // the searched scale may be negative (uses qmin on the side of the largest |w|)
    final boolean ggml;
    /** value = q · d + m with unsigned codes and a per-group offset m (q4_1) instead of q · s. */
    final boolean affine;
    private final int groupParam;

    private GridTarget(Scheme scheme, int bits, int groupParam, boolean signedScale, boolean ggml, boolean affine) {
        this.scheme = scheme;
        this.bits = bits;
        this.qmin = affine ? 0 : -(1 << (bits - 1));
        this.qmax = affine ? (1 << bits) - 1 : (1 << (bits - 1)) - 1;
        this.groupParam = groupParam;
        this.signedScale = signedScale;
        this.ggml = ggml;
        this.affine = affine;
    }

    /** The grid of {@code scheme}; throws for schemes a calibrated method cannot write. */
    static GridTarget of(Scheme scheme) {
        switch (scheme.kind()) {
            case INT, INT8, INT4, INT4_OUTLIERS -> {
                if (scheme.param("mode").equals("asym")) {
                    throw new IllegalArgumentException("calibrated quantization of " + scheme
                            + " is not supported: use mode=sym");
                }
                int bits = switch (scheme.kind()) {
                    case INT -> scheme.intParam("bits");
                    case INT8 -> 8;
                    default -> 4;
                };
                return new GridTarget(scheme, bits, scheme.intParam("group"), true, false, false);
            }
            case Q4_0 -> {
                return new GridTarget(scheme, 4, 32, true, true, false);
            }
            case Q4_1 -> {
                return new GridTarget(scheme, 4, 32, false, true, true);
            }
            default -> throw new IllegalArgumentException("calibrated quantization supports int, int8, int4, "
                    + "int4-outliers, q4_0 and q4_1, not " + scheme);
        }
    }

    /** Group length for rows of {@code cols}. */
    int group(int cols) {
        if (ggml && cols % 32 != 0) {
            throw new IllegalArgumentException(scheme + " needs rows whose length is a multiple of 32; rows have "
                    + cols);
        }
        return groupParam == 0 || groupParam > cols ? cols : groupParam;
    }

    /** A scale as stored: F16 (round to nearest even), never rounded to zero from a non-zero value. */
    float storeScale(double s) {
        if (s == 0) {
            return 0f;
        }
        float f = Fp16.toFloat(Fp16.fromFloat((float) s));
        if (f == 0) {
            f = Math.copySign(Fp16.toFloat((short) 1), (float) s);
        }
        if (!Float.isFinite(f)) {
            throw new IllegalArgumentException(scheme + ": a group scale (" + s + ") exceeds the F16 range");
        }
        return f;
    }

    /** As {@link #storeScale}, but NaN instead of an exception when out of the F16 range. */
    float storeScaleOrNaN(double s) {
        try {
            return storeScale(s);
        } catch (IllegalArgumentException e) {
            return Float.NaN;
        }
    }

    int quantize(double w, float s) {
        if (s == 0) {
            return 0;
        }
        int q = Rounding.roundHalfEvenToInt(w / s);
        return Math.max(qmin, Math.min(qmax, q));
    }

    /**
     * The stored scale minimising Σ imp_j·(w_j − q_j·s)² over the group {@code w[off..off+len)} (imp indexed
     * from {@code impOff}; null = all ones). Candidates: ref / (d + t/10) for t = −10..10 with (ref, d) =
     * (amax, qmax) and, when the scale may be negative, (the largest-|w| value, qmin); each candidate is also
     * refitted by weighted least squares for its codes. The lowest error wins (first one on ties).
     */
    float searchScale(float[] w, int off, int len, double[] imp, int impOff) {
        double amax = 0;
        double m = 0;
        for (int j = 0; j < len; j++) {
            double a = Math.abs(w[off + j]);
            if (a > amax) {
                amax = a;
                m = w[off + j];
            }
        }
        if (amax == 0) {
            return 0f;
        }
        float best = storeScale(amax / qmax);
        double bestErr = error(w, off, len, imp, impOff, best);
        int passes = signedScale ? 2 : 1;
        for (int p = 0; p < passes; p++) {
            double ref = p == 0 ? amax : m;
            double d = p == 0 ? qmax : qmin;
            for (int t = -10; t <= 10; t++) {
                float s = storeScale(ref / (d + t / 10.0));
                if (!signedScale && s < 0) {
                    continue;
                }
                double e = error(w, off, len, imp, impOff, s);
                if (e < bestErr) {
                    bestErr = e;
                    best = s;
                }
                // weighted least-squares refit for these codes
                double num = 0;
                double den = 0;
                for (int j = 0; j < len; j++) {
                    int q = quantize(w[off + j], s);
                    double wt = imp == null ? 1 : imp[impOff + j];
                    num += wt * q * w[off + j];
                    den += wt * (double) q * q;
                }
                if (den > 0) {
                    float s2 = storeScale(num / den);
                    if (s2 != 0 && (signedScale || s2 > 0)) {
                        double e2 = error(w, off, len, imp, impOff, s2);
                        if (e2 < bestErr) {
                            bestErr = e2;
                            best = s2;
                        }
                    }
                }
            }
        }
        return best;
    }

    /** An offset m as stored: F16, round to nearest even. */
    float storeOffset(double m) {
        float f = Fp16.toFloat(Fp16.fromFloat((float) m));
        if (!Float.isFinite(f)) {
            throw new IllegalArgumentException(scheme + ": a block minimum (" + m + ") exceeds the F16 range");
        }
        return f;
    }

    /** The value the ggml decoder gives for code q: {@code q * d + m} in float (two roundings, no FMA). */
    static float decodeAffine(int q, float d, float m) {
        return q * d + m;
    }

    /**
     * The code in [0, qmax] whose decoded value {@code q·d + m} (as the decoder computes it) is nearest to w; the
     * rounded quotient's neighbours are checked too, so the choice is exact for the stored d and m. d = 0: 0.
     */
    int quantizeAffine(double w, float d, float m) {
        if (d == 0) {
            return 0;
        }
        double t = (w - m) / d;
        int q = t <= 0 ? 0 : t >= qmax ? qmax : Rounding.roundHalfEvenToInt(t);
        int best = q;
        double bestErr = Math.abs(w - decodeAffine(q, d, m));
        for (int c = Math.max(0, q - 1); c <= Math.min(qmax, q + 1); c++) {
            double e = Math.abs(w - decodeAffine(c, d, m));
            if (e < bestErr) {
                bestErr = e;
                best = c;
            }
        }
        return best;
    }

    /** Σ imp_j·(w_j − (q_j·d + m))² with each q_j the nearest code ({@link #quantizeAffine}); imp null = ones. */
    double errorAffine(float[] w, int off, int len, double[] imp, int impOff, float d, float m) {
        double e = 0;
        for (int j = 0; j < len; j++) {
            double r = w[off + j] - (double) decodeAffine(quantizeAffine(w[off + j], d, m), d, m);
            e += (imp == null ? 1 : imp[impOff + j]) * r * r;
        }
        return e;
    }

    /**
     * Round-to-nearest (d, m) of an affine group, as ggml's q4_1 chooses them: d = (max − min) / qmax, m = min,
     * both stored as F16. Returns {d, m}.
     */
    float[] plainAffine(float[] w, int off, int len) {
        float lo = Float.POSITIVE_INFINITY;
        float hi = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < len; j++) {
            lo = Math.min(lo, w[off + j]);
            hi = Math.max(hi, w[off + j]);
        }
        if (len == 0) {
            return new float[] {0f, 0f};
        }
        float d = (hi - lo) / qmax; // float arithmetic, as ggml's quantize_row_q4_1_ref
        return new float[] {storeScaleOrZero(d), storeOffset(lo)};
    }

    private float storeScaleOrZero(double d) {
        return d <= 0 ? 0f : storeScale(d);
    }

    /**
     * The stored (d, m) minimising Σ imp_j·(w_j − (q_j·d + m))² over the affine group {@code w[off..off+len)}
     * (imp indexed from {@code impOff}; null = all ones), q_j the nearest code. Candidates, in this order (the
     * first of equal errors wins):
     * <ol>
     * <li>round to nearest: ({@code (max − min)/qmax}, min) as ggml's q4_1;</li>
     * <li>for each range [lo, hi] — the whole group's, and that of the elements with imp_j &gt; 0 when it differs —
     *     and n = qmax + t/10, t = −10..10: d = (hi − lo)/n with the grid anchored at lo (m = lo) and centred on
     *     the range (m = (lo + hi)/2 − d·qmax/2);</li>
     * <li>each candidate is followed by two rounds of: codes for the stored (d, m), then (d, m) refitted to those
     *     codes by weighted least squares (the 2 × 2 normal equations), stored as F16.</li>
     * </ol>
     * Only d &gt; 0 is searched (a constant group keeps d = 0, m = its value). A group whose importance is all
     * zero gets the unweighted search (every choice would have weighted error 0). Returns {d, m}.
     */
    float[] searchAffine(float[] w, int off, int len, double[] imp, int impOff) {
        if (imp != null) {
            double sum = 0;
            for (int j = 0; j < len; j++) {
                sum += imp[impOff + j];
            }
            if (!(sum > 0)) {
                imp = null; // no element matters more than another: the unweighted search
            }
        }
        float[] best = plainAffine(w, off, len);
        double bestErr = errorAffine(w, off, len, imp, impOff, best[0], best[1]);
        if (bestErr == 0 || len == 0) {
            return best;
        }
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        double wlo = Double.POSITIVE_INFINITY;
        double whi = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < len; j++) {
            double v = w[off + j];
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
            if (imp == null || imp[impOff + j] > 0) {
                wlo = Math.min(wlo, v);
                whi = Math.max(whi, v);
            }
        }
        double[][] ranges = wlo <= whi && (wlo != lo || whi != hi)
                ? new double[][] {{lo, hi}, {wlo, whi}} : new double[][] {{lo, hi}};
        for (double[] range : ranges) {
            double span = range[1] - range[0];
            for (int t = -10; t <= 10; t++) {
                double n = qmax + t / 10.0;
                for (int anchor = 0; anchor < 2; anchor++) {
                    double d = span / n;
                    double m = anchor == 0 ? range[0] : (range[0] + range[1]) / 2 - d * qmax / 2;
                    if (!(d > 0)) {
                        // a range of one value: only the offset matters
                        d = 0;
                        m = range[0];
                    }
                    float sd = storeScaleOrZero(d);
                    float sm = storeOffset(m);
                    for (int round = 0; ; round++) {
                        double e = errorAffine(w, off, len, imp, impOff, sd, sm);
                        if (e < bestErr) {
                            bestErr = e;
                            best = new float[] {sd, sm};
                        }
                        if (round == 2) {
                            break;
                        }
                        float[] fit = refitAffine(w, off, len, imp, impOff, sd, sm);
                        if (fit == null) {
                            break;
                        }
                        sd = fit[0];
                        sm = fit[1];
                    }
                }
            }
        }
        return best;
    }

    /**
     * (d, m) minimising Σ imp_j·(w_j − (q_j·d + m))² for the codes the stored (d, m) give, stored as F16; null
     * when the normal equations are singular (all codes equal where imp &gt; 0) or give d ≤ 0.
     */
    private float[] refitAffine(float[] w, int off, int len, double[] imp, int impOff, float d, float m) {
        double s1 = 0;
        double sq = 0;
        double sqq = 0;
        double sx = 0;
        double sqx = 0;
        for (int j = 0; j < len; j++) {
            double wt = imp == null ? 1 : imp[impOff + j];
            double x = w[off + j];
            int q = quantizeAffine(x, d, m);
            s1 += wt;
            sq += wt * q;
            sqq += wt * (double) q * q;
            sx += wt * x;
            sqx += wt * q * x;
        }
        double det = sqq * s1 - sq * sq;
        if (!(det > 1e-12 * sqq * s1)) {
            return null;
        }
        double nd = (s1 * sqx - sq * sx) / det;
        double nm = (sqq * sx - sq * sqx) / det;
        if (!(nd > 0) || !Double.isFinite(nm)) {
            return null;
        }
        float fd = storeScaleOrNaN(nd);
        float fm;
        try {
            fm = storeOffset(nm);
        } catch (IllegalArgumentException e) {
            return null;
        }
        return Float.isNaN(fd) ? null : new float[] {fd, fm};
    }

    /** Round-to-nearest scale: amax / qmax (q4_0: the largest-|w| value / −8, as ggml), stored. */
    float plainScale(float[] w, int off, int len) {
        double amax = 0;
        double m = 0;
        for (int j = 0; j < len; j++) {
            double a = Math.abs(w[off + j]);
            if (a > amax) {
                amax = a;
                m = w[off + j];
            }
        }
        return ggml ? storeScale(m / qmin) : storeScale(amax / qmax);
    }

    double error(float[] w, int off, int len, double[] imp, int impOff, float s) {
        double e = 0;
        for (int j = 0; j < len; j++) {
            double d = w[off + j] - (double) quantize(w[off + j], s) * s;
            e += (imp == null ? 1 : imp[impOff + j]) * d * d;
        }
        return e;
    }

    /**
     * The tensor for codes {@code q} (one per element, row-major) and {@code scales} (one per group, row-major),
     * decoded by the scheme's codec. For int4-outliers, {@code outlierIndex}/{@code outlierValue} are appended.
     */
    QuantizedTensor build(Shape shape, int[] q, float[] scales, int[] outlierIndex, float[] outlierValue) {
        return build(shape, q, scales, null, outlierIndex, outlierValue);
    }

    /** As above; {@code offsets} (one m per group, affine grids only, else null) follow the scales. */
    QuantizedTensor build(Shape shape, int[] q, float[] scales, float[] offsets, int[] outlierIndex,
                          float[] outlierValue) {
        int cols = (int) shape.rowLength();
        int rows = (int) (shape.numel() / Math.max(1, cols));
        int g = group(cols);
        int groups = (cols + g - 1) / g;
        List<StoredArray> arrays = new ArrayList<>();
        if (affine) {
            // block_q4_1: d fp16 | m fp16 | qs[16] (low nibble = value j, high nibble = value j + 16)
            int blocks = cols / 32;
            byte[] out = new byte[rows * blocks * 20];
            for (int r = 0; r < rows; r++) {
                for (int b = 0; b < blocks; b++) {
                    int p = (r * blocks + b) * 20;
                    short hd = Fp16.fromFloat(scales[r * groups + b]);
                    short hm = Fp16.fromFloat(offsets[r * groups + b]);
                    out[p] = (byte) hd;
                    out[p + 1] = (byte) (hd >> 8);
                    out[p + 2] = (byte) hm;
                    out[p + 3] = (byte) (hm >> 8);
                    int base = r * cols + b * 32;
                    for (int j = 0; j < 16; j++) {
                        out[p + 4 + j] = (byte) (q[base + j] | (q[base + 16 + j] << 4));
                    }
                }
            }
            arrays.add(StoredArray.of("blocks", DType.U8, Shape.of(rows, blocks * 20L), le(out)));
        } else if (ggml) {
            int blocks = cols / 32;
            byte[] out = new byte[rows * blocks * 18];
            for (int r = 0; r < rows; r++) {
                for (int b = 0; b < blocks; b++) {
                    int p = (r * blocks + b) * 18;
                    short h = Fp16.fromFloat(scales[r * groups + b]);
                    out[p] = (byte) h;
                    out[p + 1] = (byte) (h >> 8);
                    int base = r * cols + b * 32;
                    for (int j = 0; j < 16; j++) {
                        int lo = q[base + j] + 8;
                        int hi = q[base + 16 + j] + 8;
                        out[p + 2 + j] = (byte) (lo | (hi << 4));
                    }
                }
            }
            arrays.add(StoredArray.of("blocks", DType.U8, Shape.of(rows, blocks * 18L), le(out)));
        } else {
            long n = shape.numel();
            byte[] packed = new byte[(int) ((n * bits + 7) / 8)];
            int mask = (1 << bits) - 1;
            long bit = 0;
            for (int i = 0; i < n; i++, bit += bits) {
                int v = (q[i] & mask) << (int) (bit & 7);
                int at = (int) (bit >>> 3);
                packed[at] |= (byte) v;
                if ((v >>> 8) != 0) {
                    packed[at + 1] |= (byte) (v >>> 8);
                }
            }
            arrays.add(StoredArray.of("codes", DType.U8, Shape.of(packed.length), le(packed)));
            ByteBuffer sb = ByteBuffer.allocate(2 * scales.length).order(ByteOrder.LITTLE_ENDIAN);
            for (float s : scales) {
                sb.putShort(Fp16.fromFloat(s));
            }
            sb.flip();
            long[] dims = shape.dims();
            dims[dims.length - 1] = groups;
            arrays.add(StoredArray.of("scales", DType.F16, Shape.of(dims), sb));
            if (outlierIndex != null) {
                arrays.addAll(io.quantkit.quant.codec.OutlierCodec.outlierArrays(n, outlierIndex, outlierValue));
            }
        }
        if (scheme.kind() == io.quantkit.quant.SchemeKind.INT4_OUTLIERS) {
            // decoding does not depend on how outliers were selected
            return new io.quantkit.quant.codec.OutlierCodec(scheme, io.quantkit.quant.OutlierSelector.byMagnitude())
                    .fromArrays(shape, arrays);
        }
        return Codecs.forScheme(scheme).fromArrays(shape, arrays);
    }

    private static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }
}
