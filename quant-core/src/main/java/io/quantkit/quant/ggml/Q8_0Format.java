package io.quantkit.quant.ggml;

import io.quantkit.format.Fp16;
import java.nio.ByteBuffer;

/**
 * ggml Q8_0: 32 values, one fp16 scale, 8-bit signed codes (8.5 bits per weight).
 *
 * <pre>
 * block (34 bytes): [0..2) d fp16 LE | [2..34) qs[32] int8
 * quantize: amax = max|x|; d = amax / 127; id = d != 0 ? 1/d : 0   (float32, in this order)
 *           qs[j] = roundf(x[j] * id)                               (half away from zero)
 *           stored d = fp16(d), round to nearest even
 * decode:   x[j] = qs[j] * fp16→f32(d)
 * </pre>
 */
final class Q8_0Format implements BlockFormat {
    static final int QK = 32;
    static final int BYTES = 34;

    @Override
    public GgmlType type() {
        return GgmlType.Q8_0;
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
            amax = amax > a ? amax : a; // MAX(amax, fabsf(v))
        }
        float d = amax / ((1 << 7) - 1);
        float id = d != 0 ? 1.0f / d : 0.0f;
        CMath.putShortLE(y, yo, Fp16.fromFloat(d));
        for (int j = 0; j < QK; j++) {
            float x0 = x[xo + j] * id;
            y[yo + 2 + j] = (byte) CMath.toInt8(CMath.roundf(x0));
        }
    }

    @Override
    public boolean quantize(float[] x, int xo, byte[] y, int yo, int blocks) {
        BlockSimd simd = GgmlQuants.SIMD;
        return simd != null ? quantizeSimd(simd, x, xo, y, yo, blocks) : quantizeScalar(x, xo, y, yo, blocks);
    }

    /** {@link #quantize} through the vector kernel; the blocks it leaves to the scalar loop go through that. */
    boolean quantizeSimd(BlockSimd simd, float[] x, int xo, byte[] y, int yo, int blocks) {
        return GgmlQuants.quantizeWith(simd::quantizeQ8_0, this::quantizeScalar, QK, BYTES, x, xo, y, yo, blocks);
    }

    /** {@link #quantize} with the scalar loop only (the path without quant-simd). */
    boolean quantizeScalar(float[] x, int xo, byte[] y, int yo, int blocks) {
        for (int b = 0; b < blocks; b++, xo += QK, yo += BYTES) {
            int m = CMath.absMaxBits(x, xo, QK);
            if (m > CMath.MAX_FINITE_BITS) {
                return false;
            }
            float d = Float.intBitsToFloat(m) / 127f;
            float id = d != 0 ? 1.0f / d : 0.0f;
            if (id > Float.MAX_VALUE) { // 1/d overflowed: ggml converts inf/NaN to int8 (x86: 0)
                quantizeBlockReference(x, xo, y, yo);
                continue;
            }
            short h = Fp16.fromFloat(d);
            y[yo] = (byte) h;
            y[yo + 1] = (byte) (h >> 8);
            for (int j = 0; j < QK; j++) {
                // |v| <= 127 + rounding, where truncating v + copySign(0.5 - 2^-25, v) is exactly roundf(v)
                float v = x[xo + j] * id;
                y[yo + 2 + j] = (byte) (int) (v + Math.copySign(CMath.JUST_BELOW_HALF, v));
            }
        }
        return true;
    }

    /**
     * The fused bf16 loop: the scale from the 16-bit magnitudes, codes straight from the bit patterns. Since
     * id &gt;= 0, x * id = ±(|x| * id) exactly and roundf is odd, so each code is roundf(|x| * id) with x's sign.
     */
    @Override
    public boolean quantizeBf16(short[] s, int so, float[] scratch, byte[] y, int yo, int blocks) {
        for (int b = 0; b < blocks; b++, so += QK, yo += BYTES) {
            int m = CMath.absMaxBf16(s, so, QK);
            if (m > CMath.BF16_MAX_FINITE_BITS) {
                return false;
            }
            float d = Float.intBitsToFloat(m << 16) / 127f;
            float id = d != 0 ? 1.0f / d : 0.0f;
            if (id > Float.MAX_VALUE) {
                BlockFormat.bf16ToFloat(s, so, scratch, 0, QK);
                quantizeBlockReference(scratch, 0, y, yo);
                continue;
            }
            short h = Fp16.fromFloat(d);
            y[yo] = (byte) h;
            y[yo + 1] = (byte) (h >> 8);
            for (int j = 0; j < QK; j++) {
                int v = s[so + j];
                int a = (int) (Float.intBitsToFloat((v & 0x7fff) << 16) * id + CMath.JUST_BELOW_HALF);
                int neg = v >> 15; // -1 when the sign bit is set (v is sign-extended), else 0
                y[yo + 2 + j] = (byte) ((a ^ neg) - neg);
            }
        }
        return true;
    }

    @Override
    public float decode(ByteBuffer buf, int p, int j) {
        float d = Fp16.toFloat(buf.getShort(p));
        return buf.get(p + 2 + j) * d;
    }

    @Override
    public void dequantize(byte[] y, int yo, float[] x, int xo, int blocks) {
        BlockSimd simd = GgmlQuants.SIMD;
        if (simd != null) {
            simd.dequantizeQ8_0(y, yo, x, xo, blocks);
        } else {
            dequantizeScalar(y, yo, x, xo, blocks);
        }
    }

    /** {@link #dequantize} with the scalar loop only (the path without quant-simd, and the kernels' specification). */
    void dequantizeScalar(byte[] y, int yo, float[] x, int xo, int blocks) {
        for (int b = 0; b < blocks; b++, xo += QK, yo += BYTES) {
            float d = Fp16.toFloat(CMath.getShortLE(y, yo));
            for (int j = 0; j < QK; j++) {
                x[xo + j] = y[yo + 2 + j] * d;
            }
        }
    }
}
