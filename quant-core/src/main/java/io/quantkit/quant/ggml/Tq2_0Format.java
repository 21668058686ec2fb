package io.quantkit.quant.ggml;

import io.quantkit.format.Fp16;
import java.nio.ByteBuffer;

/**
 * ggml TQ2_0: ternary {-1, 0, +1} times an fp16 scale, 256 values, 2 bits per value (2.0625 bits per weight).
 *
 * <pre>
 * block (66 bytes): [0..64) qs | [64..66) d fp16
 *   qs[32g + m] bits 2n..2n+1 hold value 128g + 32n + m (g = 0..1, n = 0..3, m = 0..31) as trit = value + 1
 * quantize: amax = max|x|; d = amax; id = d != 0 ? 1/d : 0; trit = lroundf(x*id) + 1 (half away from zero)
 * decode:   x = (trit - 1) * fp16→f32(d)   (the unused code 3 decodes to +2d, as in ggml)
 * </pre>
 */
final class Tq2_0Format implements BlockFormat {
    static final int QK = 256;
    static final int BYTES = 66;

    @Override
    public GgmlType type() {
        return GgmlType.TQ2_0;
    }

    @Override
    public boolean canQuantize() {
        return true;
    }

    @Override
    public void quantizeBlockReference(float[] x, int xo, byte[] y, int yo) {
        float amax = 0.0f;
        for (int j = 0; j < QK; j++) {
            float a = Math.abs(x[xo + j]);
            amax = amax > a ? amax : a;
        }
        float d = amax;
        float id = d != 0 ? 1.0f / d : 0.0f;
        CMath.putShortLE(y, yo + 64, Fp16.fromFloat(d));
        for (int g = 0; g < 2; g++) {
            for (int m = 0; m < 32; m++) {
                int q = 0;
                for (int n = 0; n < 4; n++) {
                    int xi = CMath.lroundfInt(x[xo + 128 * g + m + n * 32] * id) + 1;
                    q += (xi & 3) << (2 * n);
                }
                y[yo + 32 * g + m] = (byte) q;
            }
        }
    }

    @Override
    public boolean quantize(float[] x, int xo, byte[] y, int yo, int blocks) {
        byte[] t = new byte[QK];
        for (int b = 0; b < blocks; b++, xo += QK, yo += BYTES) {
            int amaxBits = CMath.absMaxBits(x, xo, QK);
            if (amaxBits > CMath.MAX_FINITE_BITS) {
                return false;
            }
            float amax = Float.intBitsToFloat(amaxBits);
            float id = amax != 0 ? 1.0f / amax : 0.0f;
            if (id > Float.MAX_VALUE) {
                quantizeBlockReference(x, xo, y, yo);
                continue;
            }
            short h = Fp16.fromFloat(amax);
            y[yo + 64] = (byte) h;
            y[yo + 65] = (byte) (h >> 8);
            CMath.trits(x, xo, id, t, QK);
            for (int g = 0; g < 2; g++) {
                for (int m = 0; m < 32; m++) {
                    int p = 128 * g + m;
                    y[yo + 32 * g + m] = (byte) (t[p] | t[p + 32] << 2 | t[p + 64] << 4 | t[p + 96] << 6);
                }
            }
        }
        return true;
    }

    @Override
    public float decode(ByteBuffer buf, int p, int j) {
        float d = Fp16.toFloat(buf.getShort(p + 64));
        int g = j / 128;
        int r = j % 128;
        int q = ((buf.get(p + 32 * g + r % 32) & 0xff) >>> (2 * (r / 32))) & 3;
        return (float) (q - 1) * d;
    }

    @Override
    public void dequantize(byte[] y, int yo, float[] x, int xo, int blocks) {
        for (int b = 0; b < blocks; b++, xo += QK, yo += BYTES) {
            float d = Fp16.toFloat(CMath.getShortLE(y, yo + 64));
            int o = xo;
            for (int g = 0; g < 2; g++) {
                for (int n = 0; n < 4; n++) {
                    for (int m = 0; m < 32; m++) {
                        int q = (y[yo + 32 * g + m] >> (2 * n)) & 3;
                        x[o++] = (q - 1) * d;
                    }
                }
            }
        }
    }
}
