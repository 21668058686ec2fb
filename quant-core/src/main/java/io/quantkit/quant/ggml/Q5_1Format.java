package io.quantkit.quant.ggml;

import io.quantkit.format.Fp16;
import java.nio.ByteBuffer;

/**
 * ggml Q5_1: 32 values, fp16 scale and minimum, 5-bit unsigned codes (6 bits per weight).
 *
 * <pre>
 * block (24 bytes): [0..2) d fp16 | [2..4) m fp16 | [4..8) qh u32 LE (5th bits) | [8..24) qs[16] low nibbles
 * quantize: min, max; d = (max - min) / 31; id = d != 0 ? 1/d : 0
 *           q = (uint8) ((x - min)*id + 0.5f)                       (truncation, no clamp: ggml has none)
 * decode:   x = q * d + m
 * </pre>
 */
final class Q5_1Format implements BlockFormat {
    static final int QK = 32;
    static final int BYTES = 24;

    @Override
    public GgmlType type() {
        return GgmlType.Q5_1;
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
        float d = (max - min) / ((1 << 5) - 1);
        float id = d != 0 ? 1.0f / d : 0.0f;
        CMath.putShortLE(y, yo, Fp16.fromFloat(d));
        CMath.putShortLE(y, yo + 2, Fp16.fromFloat(min));
        int qh = 0;
        for (int j = 0; j < QK / 2; j++) {
            float x0 = (x[xo + j] - min) * id;
            float x1 = (x[xo + QK / 2 + j] - min) * id;
            int xi0 = CMath.toUint8(x0 + 0.5f);
            int xi1 = CMath.toUint8(x1 + 0.5f);
            y[yo + 8 + j] = (byte) ((xi0 & 0x0f) | ((xi1 & 0x0f) << 4));
            qh |= ((xi0 & 0x10) >>> 4) << j;
            qh |= ((xi1 & 0x10) >>> 4) << (j + QK / 2);
        }
        Q5_0Format.putIntLE(y, yo + 4, qh);
    }

    @Override
    public float decode(ByteBuffer buf, int p, int j) {
        float d = Fp16.toFloat(buf.getShort(p));
        float m = Fp16.toFloat(buf.getShort(p + 2));
        int qh = buf.getInt(p + 4);
        int q = buf.get(p + 8 + (j & 15)) & 0xff;
        int low = j < QK / 2 ? q & 0x0f : q >>> 4;
        int code = low | ((qh >>> j) & 1) << 4;
        return code * d + m;
    }

    @Override
    public void dequantize(byte[] y, int yo, float[] x, int xo, int blocks) {
        for (int b = 0; b < blocks; b++, xo += QK, yo += BYTES) {
            float d = Fp16.toFloat(CMath.getShortLE(y, yo));
            float m = Fp16.toFloat(CMath.getShortLE(y, yo + 2));
            int qh = Q5_0Format.getIntLE(y, yo + 4);
            for (int j = 0; j < QK / 2; j++) {
                int q = y[yo + 8 + j];
                int c0 = (q & 0x0f) | ((qh >>> j) & 1) << 4;
                int c1 = ((q >> 4) & 0x0f) | ((qh >>> (j + 16)) & 1) << 4;
                x[xo + j] = c0 * d + m;
                x[xo + QK / 2 + j] = c1 * d + m;
            }
        }
    }
}
