package io.quantkit.quant.ggml;

import io.quantkit.format.Fp16;
import java.nio.ByteBuffer;

/**
 * ggml Q4_0: 32 values, one fp16 scale, 4-bit codes with an implicit offset of 8 (4.5 bits per weight).
 *
 * <pre>
 * block (18 bytes): [0..2) d fp16 LE | [2..18) qs[16]: low nibble = value j, high nibble = value j+16
 * quantize: max = the value of largest |x| (first one wins; +0 if all are zero)
 *           d = max / -8; id = d != 0 ? 1/d : 0                    (float32, in this order)
 *           q = min(15, (int8) (x*id + 8.5f))                       (truncation, not rounding)
 *           stored d = fp16(d), round to nearest even (an all-zero block stores -0: 0x8000)
 * decode:   x = (q - 8) * fp16→f32(d)
 * </pre>
 */
final class Q4_0Format implements BlockFormat {
    static final int QK = 32;
    static final int BYTES = 18;

    @Override
    public GgmlType type() {
        return GgmlType.Q4_0;
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
        float d = max / -8;
        float id = d != 0 ? 1.0f / d : 0.0f;
        CMath.putShortLE(y, yo, Fp16.fromFloat(d));
        for (int j = 0; j < QK / 2; j++) {
            float x0 = x[xo + j] * id;
            float x1 = x[xo + QK / 2 + j] * id;
            int xi0 = Math.min(15, CMath.toInt8(x0 + 8.5f)) & 0xff;
            int xi1 = Math.min(15, CMath.toInt8(x1 + 8.5f)) & 0xff;
            y[yo + 2 + j] = (byte) (xi0 | (xi1 << 4));
        }
    }

    @Override
    public boolean quantize(float[] x, int xo, byte[] y, int yo, int blocks) {
        BlockSimd simd = GgmlQuants.SIMD;
        return simd != null ? quantizeSimd(simd, x, xo, y, yo, blocks) : quantizeScalar(x, xo, y, yo, blocks);
    }

    /** {@link #quantize} through the vector kernel; the blocks it leaves to the scalar loop go through that. */
    boolean quantizeSimd(BlockSimd simd, float[] x, int xo, byte[] y, int yo, int blocks) {
        return GgmlQuants.quantizeWith(simd::quantizeQ4_0, this::quantizeScalar, QK, BYTES, x, xo, y, yo, blocks);
    }

    /** {@link #quantize} with the scalar loop only (the path without quant-simd). */
    boolean quantizeScalar(float[] x, int xo, byte[] y, int yo, int blocks) {
        for (int b = 0; b < blocks; b++, xo += QK, yo += BYTES) {
            float max = CMath.signedAbsMax(x, xo, QK);
            if (max != max) { // NaN: the block holds a NaN or an infinity
                return false;
            }
            float d = max / -8f;
            float id = d != 0 ? 1.0f / d : 0.0f;
            if (id > Float.MAX_VALUE || id < -Float.MAX_VALUE) {
                quantizeBlockReference(x, xo, y, yo);
                continue;
            }
            short h = Fp16.fromFloat(d);
            y[yo] = (byte) h;
            y[yo + 1] = (byte) (h >> 8);
            // x*id + 8.5 lies in [0.5, 16.5] up to rounding, so (int) truncates exactly as (int8_t) does, and
            // c - (c >> 4) is min(15, c) for 0 <= c <= 16
            for (int j = 0; j < QK / 2; j++) {
                int lo = (int) (x[xo + j] * id + 8.5f);
                int hi = (int) (x[xo + QK / 2 + j] * id + 8.5f);
                lo -= lo >> 4;
                hi -= hi >> 4;
                y[yo + 2 + j] = (byte) (lo | (hi << 4));
            }
        }
        return true;
    }

    /** The fused bf16 loop: {@link #quantize}'s arithmetic on floats made from the bit patterns as they are read. */
    @Override
    public boolean quantizeBf16(short[] s, int so, float[] scratch, byte[] y, int yo, int blocks) {
        for (int b = 0; b < blocks; b++, so += QK, yo += BYTES) {
            float max = CMath.signedAbsMaxBf16(s, so, QK);
            if (max != max) {
                return false;
            }
            float d = max / -8f;
            float id = d != 0 ? 1.0f / d : 0.0f;
            if (id > Float.MAX_VALUE || id < -Float.MAX_VALUE) {
                BlockFormat.bf16ToFloat(s, so, scratch, 0, QK);
                quantizeBlockReference(scratch, 0, y, yo);
                continue;
            }
            short h = Fp16.fromFloat(d);
            y[yo] = (byte) h;
            y[yo + 1] = (byte) (h >> 8);
            for (int j = 0; j < QK / 2; j++) {
                int lo = (int) (Float.intBitsToFloat(s[so + j] << 16) * id + 8.5f);
                int hi = (int) (Float.intBitsToFloat(s[so + QK / 2 + j] << 16) * id + 8.5f);
                lo -= lo >> 4;
                hi -= hi >> 4;
                y[yo + 2 + j] = (byte) (lo | (hi << 4));
            }
        }
        return true;
    }

    @Override
    public float decode(ByteBuffer buf, int p, int j) {
        float d = Fp16.toFloat(buf.getShort(p));
        int q = buf.get(p + 2 + (j & 15)) & 0xff;
        int code = j < QK / 2 ? q & 0x0f : q >>> 4;
        return (code - 8) * d;
    }

    @Override
    public void dequantize(byte[] y, int yo, float[] x, int xo, int blocks) {
        BlockSimd simd = GgmlQuants.SIMD;
        if (simd != null) {
            simd.dequantizeQ4_0(y, yo, x, xo, blocks);
        } else {
            dequantizeScalar(y, yo, x, xo, blocks);
        }
    }

    /** {@link #dequantize} with the scalar loop only (the path without quant-simd, and the kernels' specification). */
    void dequantizeScalar(byte[] y, int yo, float[] x, int xo, int blocks) {
        for (int b = 0; b < blocks; b++, xo += QK, yo += BYTES) {
            float d = Fp16.toFloat(CMath.getShortLE(y, yo));
            for (int j = 0; j < QK / 2; j++) {
                int q = y[yo + 2 + j];
                x[xo + j] = ((q & 0x0f) - 8) * d;
                x[xo + QK / 2 + j] = (((q >> 4) & 0x0f) - 8) * d;
            }
        }
    }
}
