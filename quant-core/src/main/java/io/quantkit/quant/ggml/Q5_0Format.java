package io.quantkit.quant.ggml;

import io.quantkit.format.Fp16;
import java.nio.ByteBuffer;

/**
 * ggml Q5_0: 32 values, one fp16 scale, 5-bit codes with an implicit offset of 16 (5.5 bits per weight).
 *
 * <pre>
 * block (22 bytes): [0..2) d fp16 | [2..6) qh u32 LE: bit j = 5th bit of value j | [6..22) qs[16] low nibbles
 *                   (low nibble of byte j = value j, high nibble = value j+16)
 * quantize: max = the value of largest |x| (first wins); d = max / -16; id = d != 0 ? 1/d : 0
 *           q = min(31, (int8) (x*id + 16.5f))                      (truncation)
 * decode:   x = (q - 16) * fp16→f32(d)
 * </pre>
 */
final class Q5_0Format implements BlockFormat {
    static final int QK = 32;
    static final int BYTES = 22;

    @Override
    public GgmlType type() {
        return GgmlType.Q5_0;
    }

    @Override
    public boolean canQuantize() {
        return true;
    }

    @Override
    public void quantizeBlockReference(float[] x, int xo, byte[] y, int yo) {
        float amax = 0.0f;
        float max = 0.0f;
        for (int j = 0; j < QK; j++) {
            float v = x[xo + j];
            if (amax < Math.abs(v)) {
                amax = Math.abs(v);
                max = v;
            }
        }
        float d = max / -16;
        float id = d != 0 ? 1.0f / d : 0.0f;
        CMath.putShortLE(y, yo, Fp16.fromFloat(d));
        int qh = 0;
        for (int j = 0; j < QK / 2; j++) {
            float x0 = x[xo + j] * id;
            float x1 = x[xo + QK / 2 + j] * id;
            int xi0 = Math.min(31, CMath.toInt8(x0 + 16.5f)) & 0xff;
            int xi1 = Math.min(31, CMath.toInt8(x1 + 16.5f)) & 0xff;
            y[yo + 6 + j] = (byte) ((xi0 & 0x0f) | ((xi1 & 0x0f) << 4));
            qh |= ((xi0 & 0x10) >>> 4) << j;
            qh |= ((xi1 & 0x10) >>> 4) << (j + QK / 2);
        }
        putIntLE(y, yo + 2, qh);
    }

    static void putIntLE(byte[] y, int p, int v) {
        y[p] = (byte) v;
        y[p + 1] = (byte) (v >>> 8);
        y[p + 2] = (byte) (v >>> 16);
        y[p + 3] = (byte) (v >>> 24);
    }

    static int getIntLE(byte[] y, int p) {
        return (y[p] & 0xff) | (y[p + 1] & 0xff) << 8 | (y[p + 2] & 0xff) << 16 | (y[p + 3] & 0xff) << 24;
    }

    @Override
    public float decode(ByteBuffer buf, int p, int j) {
        float d = Fp16.toFloat(buf.getShort(p));
        int qh = buf.getInt(p + 2);
        int q = buf.get(p + 6 + (j & 15)) & 0xff;
        int low = j < QK / 2 ? q & 0x0f : q >>> 4;
        int code = low | ((qh >>> j) & 1) << 4;
        return (code - 16) * d;
    }

    @Override
    public void dequantize(byte[] y, int yo, float[] x, int xo, int blocks) {
        for (int b = 0; b < blocks; b++, xo += QK, yo += BYTES) {
            float d = Fp16.toFloat(CMath.getShortLE(y, yo));
            int qh = getIntLE(y, yo + 2);
            for (int j = 0; j < QK / 2; j++) {
                int q = y[yo + 6 + j];
                int c0 = (q & 0x0f) | ((qh >>> j) & 1) << 4;
                int c1 = ((q >> 4) & 0x0f) | ((qh >>> (j + 16)) & 1) << 4;
                x[xo + j] = (c0 - 16) * d;
                x[xo + QK / 2 + j] = (c1 - 16) * d;
            }
        }
    }
}
