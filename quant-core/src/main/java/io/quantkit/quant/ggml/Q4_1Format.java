package io.quantkit.quant.ggml;

import io.quantkit.format.Fp16;
import java.nio.ByteBuffer;

/**
 * ggml Q4_1: 32 values, fp16 scale and fp16 minimum, 4-bit unsigned codes (5 bits per weight).
 *
 * <pre>
 * block (20 bytes): [0..2) d fp16 | [2..4) m fp16 | [4..20) qs[16]: low nibble = value j, high = value j+16
 * quantize: min, max over the block (first of equal values wins, so -0 and +0 are kept as met)
 *           d = (max - min) / 15; id = d != 0 ? 1/d : 0
 *           q = min(15, (int8) ((x - min)*id + 0.5f))              (truncation)
 *           stored d = fp16(d), m = fp16(min), round to nearest even
 * decode:   x = q * d + m                                            (two roundings, no fused multiply-add)
 * </pre>
 */
final class Q4_1Format implements BlockFormat {
    static final int QK = 32;
    static final int BYTES = 20;

    @Override
    public GgmlType type() {
        return GgmlType.Q4_1;
    }

    @Override
    public boolean canQuantize() {
        return true;
    }

    @Override
    public void quantizeBlockReference(float[] x, int xo, byte[] y, int yo) {
        float min = Float.MAX_VALUE;
        float max = -Float.MAX_VALUE;
        for (int j = 0; j < QK; j++) {
            float v = x[xo + j];
            if (v < min) {
                min = v;
            }
            if (v > max) {
                max = v;
            }
        }
        float d = (max - min) / ((1 << 4) - 1);
        float id = d != 0 ? 1.0f / d : 0.0f;
        CMath.putShortLE(y, yo, Fp16.fromFloat(d));
        CMath.putShortLE(y, yo + 2, Fp16.fromFloat(min));
        for (int j = 0; j < QK / 2; j++) {
            float x0 = (x[xo + j] - min) * id;
            float x1 = (x[xo + QK / 2 + j] - min) * id;
            int xi0 = Math.min(15, CMath.toInt8(x0 + 0.5f)) & 0xff;
            int xi1 = Math.min(15, CMath.toInt8(x1 + 0.5f)) & 0xff;
            y[yo + 4 + j] = (byte) (xi0 | (xi1 << 4));
        }
    }

    @Override
    public boolean quantize(float[] x, int xo, byte[] y, int yo, int blocks) {
        BlockSimd simd = GgmlQuants.SIMD;
        return simd != null ? quantizeSimd(simd, x, xo, y, yo, blocks) : quantizeScalar(x, xo, y, yo, blocks);
    }

    /** {@link #quantize} through the vector kernel; the blocks it leaves to the scalar loop go through that. */
    boolean quantizeSimd(BlockSimd simd, float[] x, int xo, byte[] y, int yo, int blocks) {
        return GgmlQuants.quantizeWith(simd::quantizeQ4_1, this::quantizeScalar, QK, BYTES, x, xo, y, yo, blocks);
    }

    /** {@link #quantize} with the scalar loop only (the path without quant-simd). */
    boolean quantizeScalar(float[] x, int xo, byte[] y, int yo, int blocks) {
        for (int b = 0; b < blocks; b++, xo += QK, yo += BYTES) {
            int lo = Integer.MAX_VALUE;
            int hi = Integer.MIN_VALUE;
            for (int j = 0; j < QK; j++) {
                int bits = Float.floatToRawIntBits(x[xo + j]);
                int key = bits ^ ((bits >> 31) & 0x7fffffff); // integer order = float order (-0 below +0)
                lo = Math.min(lo, key);
                hi = Math.max(hi, key);
            }
            // keys of finite floats lie in [key(-MAX_VALUE), key(MAX_VALUE)]; beyond are infinities and NaNs
            if (hi > CMath.MAX_FINITE_BITS || lo < (0xff7fffff ^ 0x7fffffff)) {
                return false;
            }
            float min = CMath.firstEqual(x, xo, QK, Float.intBitsToFloat(lo ^ ((lo >> 31) & 0x7fffffff)));
            float max = CMath.firstEqual(x, xo, QK, Float.intBitsToFloat(hi ^ ((hi >> 31) & 0x7fffffff)));
            float d = (max - min) / 15f;
            float id = d != 0 ? 1.0f / d : 0.0f;
            if (id > Float.MAX_VALUE || d > Float.MAX_VALUE) { // degenerate: inf/NaN conversions, keep C's bytes
                quantizeBlockReference(x, xo, y, yo);
                continue;
            }
            short hd = Fp16.fromFloat(d);
            short hm = Fp16.fromFloat(min);
            y[yo] = (byte) hd;
            y[yo + 1] = (byte) (hd >> 8);
            y[yo + 2] = (byte) hm;
            y[yo + 3] = (byte) (hm >> 8);
            // (x - min)*id + 0.5 lies in [0.5, 15.5] up to rounding; c - (c >> 4) is min(15, c) for 0 <= c <= 16
            for (int j = 0; j < QK / 2; j++) {
                int c0 = (int) ((x[xo + j] - min) * id + 0.5f);
                int c1 = (int) ((x[xo + QK / 2 + j] - min) * id + 0.5f);
                c0 -= c0 >> 4;
                c1 -= c1 >> 4;
                y[yo + 4 + j] = (byte) (c0 | (c1 << 4));
            }
        }
        return true;
    }

    @Override
    public float decode(ByteBuffer buf, int p, int j) {
        float d = Fp16.toFloat(buf.getShort(p));
        float m = Fp16.toFloat(buf.getShort(p + 2));
        int q = buf.get(p + 4 + (j & 15)) & 0xff;
        int code = j < QK / 2 ? q & 0x0f : q >>> 4;
        return code * d + m;
    }

    @Override
    public void dequantize(byte[] y, int yo, float[] x, int xo, int blocks) {
        BlockSimd simd = GgmlQuants.SIMD;
        if (simd != null) {
            simd.dequantizeQ4_1(y, yo, x, xo, blocks);
        } else {
            dequantizeScalar(y, yo, x, xo, blocks);
        }
    }

    /** {@link #dequantize} with the scalar loop only (the path without quant-simd, and the kernels' specification). */
    void dequantizeScalar(byte[] y, int yo, float[] x, int xo, int blocks) {
        for (int b = 0; b < blocks; b++, xo += QK, yo += BYTES) {
            float d = Fp16.toFloat(CMath.getShortLE(y, yo));
            float m = Fp16.toFloat(CMath.getShortLE(y, yo + 2));
            for (int j = 0; j < QK / 2; j++) {
                int q = y[yo + 4 + j];
                x[xo + j] = (q & 0x0f) * d + m;
                x[xo + QK / 2 + j] = ((q >> 4) & 0x0f) * d + m;
            }
        }
    }
}
