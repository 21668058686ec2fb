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
