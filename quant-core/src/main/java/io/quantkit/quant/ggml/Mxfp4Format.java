package io.quantkit.quant.ggml;

import java.nio.ByteBuffer;

/**
 * ggml MXFP4 (OCP Microscaling FP4): 32 E2M1 values sharing one E8M0 power-of-two scale (4.25 bits per weight).
 *
 * <pre>
 * block (17 bytes): [0] e (E8M0) | [1..17) qs[16]: low nibble = value j, high nibble = value j+16
 * code → value: KV = {0,1,2,3,4,6,8,12, 0,-1,-2,-3,-4,-6,-8,-12} (E2M1 doubled), scale 2^(e-128)
 * quantize: amax = max|x|; e = amax > 0 ? (uint8) (floorf(log2f(amax)) - 2 + 127) : 0
 *           code = the first index i minimising |KV[i]*2^(e-128) - x| (float32): ties go to the smaller
 *           magnitude, so this is not the OCP round-half-even (0.75 → 0.5, not 1.0)
 * decode:   x = KV[code] * 2^(e-128)
 * </pre>
 * E8M0 255 decodes to 2^127 as in ggml (the OCP NaN code is not special-cased).
 */
final class Mxfp4Format implements BlockFormat {
    static final int QK = 32;
    static final int BYTES = 17;
    static final int[] KV = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

    @Override
    public GgmlType type() {
        return GgmlType.MXFP4;
    }

    @Override
    public boolean canQuantize() {
        return true;
    }

    static int scaleExponent(float amax) {
        if (!(amax > 0.0f)) {
            return 0;
        }
        return CMath.toUint8(CMath.floorLog2f(amax) - 2 + 127);
    }

    static int bestIndex(float x, float e) {
        int best = 0;
        float bestErr = Math.abs(KV[0] * e - x);
        for (int i = 1; i < 16; i++) {
            float err = Math.abs(KV[i] * e - x);
            if (err < bestErr) {
                best = i;
                bestErr = err;
            }
        }
        return best;
    }

    @Override
    public void quantizeBlockReference(float[] x, int xo, byte[] y, int yo) {
        float amax = 0.0f;
        for (int j = 0; j < QK; j++) {
            float a = Math.abs(x[xo + j]);
            if (amax < a) {
                amax = a;
            }
        }
        int e = scaleExponent(amax);
        float d = CMath.e8m0Half(e);
        y[yo] = (byte) e;
        for (int j = 0; j < QK / 2; j++) {
            int x0 = bestIndex(x[xo + j], d);
            int x1 = bestIndex(x[xo + QK / 2 + j], d);
            y[yo + 1 + j] = (byte) (x0 | (x1 << 4));
        }
    }

    /** The E2M1 magnitudes, doubled (positive half of {@link #KV}). */
    private static final float[] LEVELS = {0, 1, 2, 3, 4, 6, 8, 12};
    /** The level above each level; +Inf above the top so it never wins. */
    private static final float[] UPPER = {1, 2, 3, 4, 6, 8, 12, Float.POSITIVE_INFINITY};
    /** Index of the largest level not above s, by (int) s for 0 &lt;= s &lt; 16. */
    private static final int[] LOWER = {0, 1, 2, 3, 4, 4, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7};

    /**
     * Fast path. With d = 2^(e-128) a normal float, scaling by 1/d is exact, so the errors can be compared in
     * units of d; only the two levels around |x| can win (rounding is monotonic and the level spacing is far
     * above the rounding of an error), and on a tie the lower index (the smaller magnitude) wins as in the scan.
     */
    @Override
    public boolean quantize(float[] x, int xo, byte[] y, int yo, int blocks) {
        byte[] codes = new byte[QK];
        for (int b = 0; b < blocks; b++, xo += QK, yo += BYTES) {
            int m = CMath.absMaxBits(x, xo, QK);
            if (m > CMath.MAX_FINITE_BITS) {
                return false;
            }
            int e = scaleExponent(Float.intBitsToFloat(m));
            if (e < 2 || e > 250) { // subnormal or near-overflow scales: the literal scan
                quantizeBlockReference(x, xo, y, yo);
                continue;
            }
            float inv = CMath.e8m0Half(256 - e); // 2^(128-e) = 1/d, exact
            y[yo] = (byte) e;
            for (int j = 0; j < QK; j++) {
                float v = x[xo + j];
                float s = Math.abs(v) * inv; // < 16: amax < 16 d
                int k = LOWER[(int) s];
                k += UPPER[k] - s < s - LEVELS[k] ? 1 : 0;
                int neg = Float.floatToRawIntBits(v) >>> 31;
                codes[j] = (byte) (k + ((neg & ((k + 7) >>> 3)) << 3)); // negative and nonzero: index k + 8
            }
            for (int j = 0; j < QK / 2; j++) {
                y[yo + 1 + j] = (byte) (codes[j] | (codes[j + QK / 2] << 4));
            }
        }
        return true;
    }

    @Override
    public float decode(ByteBuffer buf, int p, int j) {
        float d = CMath.e8m0Half(buf.get(p) & 0xff);
        int q = buf.get(p + 1 + (j & 15)) & 0xff;
        int code = j < QK / 2 ? q & 0x0f : q >>> 4;
        return KV[code] * d;
    }

    @Override
    public void dequantize(byte[] y, int yo, float[] x, int xo, int blocks) {
        for (int b = 0; b < blocks; b++, xo += QK, yo += BYTES) {
            float d = CMath.e8m0Half(y[yo] & 0xff);
            for (int j = 0; j < QK / 2; j++) {
                int q = y[yo + 1 + j];
                x[xo + j] = KV[q & 0x0f] * d;
                x[xo + QK / 2 + j] = KV[(q >> 4) & 0x0f] * d;
            }
        }
    }
}
