package io.quantkit.quant.ggml;

import io.quantkit.format.Fp16;
import java.nio.ByteBuffer;

/**
 * ggml TQ1_0: ternary {-1, 0, +1} times an fp16 scale, 256 values, base-3 packing of 5 trits per byte
 * (1.6875 bits per weight).
 *
 * <pre>
 * block (54 bytes): [0..48) qs | [48..52) qh | [52..54) d fp16
 *   qs[m],    m &lt; 32: values m + 32n,        n = 0..4 (n = 0 the most significant trit)
 *   qs[32+m], m &lt; 16: values 160 + m + 16n,  n = 0..4
 *   qh[m],    m &lt; 4:  values 240 + m + 4n,   n = 0..3, then a zero trit
 *   byte = ceil(t * 256 / 243), t = the trits (value+1) read as a base-3 number
 * quantize: amax = max|x|; d = amax; id = d != 0 ? 1/d : 0; trit = lroundf(x*id) + 1 (half away from zero)
 * decode:   trit n of byte q = ((q * 3^n mod 256) * 3) >> 8;  x = (trit - 1) * fp16→f32(d)
 * </pre>
 */
final class Tq1_0Format implements BlockFormat {
    static final int QK = 256;
    static final int BYTES = 54;
    private static final int[] POW3 = {1, 3, 9, 27, 81, 243};

    @Override
    public GgmlType type() {
        return GgmlType.TQ1_0;
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
        CMath.putShortLE(y, yo + 52, Fp16.fromFloat(d));
        int p = xo;
        for (int m = 0; m < 32; m++) {
            int q = 0;
            for (int n = 0; n < 5; n++) {
                q = (q * 3 + CMath.lroundfInt(x[p + m + n * 32] * id) + 1) & 0xff;
            }
            y[yo + m] = (byte) ceilDiv243(q);
        }
        p += 5 * 32;
        for (int m = 0; m < 16; m++) {
            int q = 0;
            for (int n = 0; n < 5; n++) {
                q = (q * 3 + CMath.lroundfInt(x[p + m + n * 16] * id) + 1) & 0xff;
            }
            y[yo + 32 + m] = (byte) ceilDiv243(q);
        }
        p += 5 * 16;
        for (int j = 0; j < 4; j++) {
            int q = 0;
            for (int m = 0; m < 4; m++) {
                q = (q * 3 + CMath.lroundfInt(x[p + j + m * 4] * id) + 1) & 0xff;
            }
            q = (q * 3) & 0xff;
            y[yo + 48 + j] = (byte) ceilDiv243(q);
        }
    }

    /** {@code (uint8_t) ((q * 256 + 242) / 243)}. */
    private static int ceilDiv243(int q) {
        return ((q * 256 + (243 - 1)) / 243) & 0xff;
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
            y[yo + 52] = (byte) h;
            y[yo + 53] = (byte) (h >> 8);
            CMath.trits(x, xo, id, t, QK);
            for (int m = 0; m < 32; m++) {
                int q = (((t[m] * 3 + t[m + 32]) * 3 + t[m + 64]) * 3 + t[m + 96]) * 3 + t[m + 128];
                y[yo + m] = (byte) ((q * 256 + 242) / 243);
            }
            for (int m = 0; m < 16; m++) {
                int p = 160 + m;
                int q = (((t[p] * 3 + t[p + 16]) * 3 + t[p + 32]) * 3 + t[p + 48]) * 3 + t[p + 64];
                y[yo + 32 + m] = (byte) ((q * 256 + 242) / 243);
            }
            for (int j = 0; j < 4; j++) {
                int p = 240 + j;
                int q = (((t[p] * 3 + t[p + 4]) * 3 + t[p + 8]) * 3 + t[p + 12]) * 3;
                y[yo + 48 + j] = (byte) ((q * 256 + 242) / 243);
            }
        }
        return true;
    }

    @Override
    public float decode(ByteBuffer buf, int p, int j) {
        float d = Fp16.toFloat(buf.getShort(p + 52));
        int q;
        int n;
        if (j < 160) {
            q = buf.get(p + j % 32) & 0xff;
            n = j / 32;
        } else if (j < 240) {
            q = buf.get(p + 32 + (j - 160) % 16) & 0xff;
            n = (j - 160) / 16;
        } else {
            q = buf.get(p + 48 + (j - 240) % 4) & 0xff;
            n = (j - 240) / 4;
        }
        int t = (((q * POW3[n]) & 0xff) * 3) >>> 8;
        return (float) (t - 1) * d;
    }

    @Override
    public void dequantize(byte[] y, int yo, float[] x, int xo, int blocks) {
        for (int b = 0; b < blocks; b++, xo += QK, yo += BYTES) {
            float d = Fp16.toFloat(CMath.getShortLE(y, yo + 52));
            int o = xo;
            for (int n = 0; n < 5; n++) {
                int pw = POW3[n];
                for (int m = 0; m < 32; m++) {
                    int q = ((y[yo + m] & 0xff) * pw) & 0xff;
                    x[o++] = (((q * 3) >>> 8) - 1) * d;
                }
            }
            for (int n = 0; n < 5; n++) {
                int pw = POW3[n];
                for (int m = 0; m < 16; m++) {
                    int q = ((y[yo + 32 + m] & 0xff) * pw) & 0xff;
                    x[o++] = (((q * 3) >>> 8) - 1) * d;
                }
            }
            for (int n = 0; n < 4; n++) {
                int pw = POW3[n];
                for (int m = 0; m < 4; m++) {
                    int q = ((y[yo + 48 + m] & 0xff) * pw) & 0xff;
                    x[o++] = (((q * 3) >>> 8) - 1) * d;
                }
            }
        }
    }
}
