package io.quantkit.calib;

import io.quantkit.format.Bf16;
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
    private final int groupParam;

    private GridTarget(Scheme scheme, int bits, int groupParam, boolean signedScale, boolean ggml) {
        this.scheme = scheme;
        this.bits = bits;
        this.qmin = -(1 << (bits - 1));
        this.qmax = (1 << (bits - 1)) - 1;
        this.groupParam = groupParam;
        this.signedScale = signedScale;
        this.ggml = ggml;
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
                return new GridTarget(scheme, bits, scheme.intParam("group"), true, false);
            }
            case Q4_0 -> {
                return new GridTarget(scheme, 4, 32, true, true);
            }
            default -> throw new IllegalArgumentException("calibrated quantization supports int, int8, int4, "
                    + "int4-outliers and q4_0, not " + scheme);
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
        int cols = (int) shape.rowLength();
        int rows = (int) (shape.numel() / Math.max(1, cols));
        int g = group(cols);
        int groups = (cols + g - 1) / g;
        List<StoredArray> arrays = new ArrayList<>();
        if (ggml) {
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
                int k = outlierIndex.length;
                boolean bf16 = true;
                boolean f16Range = true;
                for (float v : outlierValue) {
                    bf16 &= Bf16.round(v) == v;
                    f16Range &= Math.abs(v) <= 65504f;
                }
                bf16 |= !f16Range;
                ByteBuffer ib = ByteBuffer.allocate(4 * k).order(ByteOrder.LITTLE_ENDIAN);
                ByteBuffer vb = ByteBuffer.allocate(2 * k).order(ByteOrder.LITTLE_ENDIAN);
                for (int j = 0; j < k; j++) {
                    ib.putInt(outlierIndex[j]);
                    vb.putShort(bf16 ? Bf16.fromFloat(outlierValue[j]) : Fp16.fromFloat(outlierValue[j]));
                }
                ib.flip();
                vb.flip();
                arrays.add(StoredArray.of("outlier_index", DType.I32, Shape.of(k), ib));
                arrays.add(StoredArray.of("outlier_value", bf16 ? DType.BF16 : DType.F16, Shape.of(k), vb));
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
