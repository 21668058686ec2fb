package io.quantkit.quant.ggml;

import io.quantkit.format.Fp16;
import java.nio.ByteBuffer;

/**
 * Decoders of ggml's K-quant super-blocks (256 values), as ggml's {@code dequantize_row_q*_K} compute them,
 * so llama.cpp files can be read. Quantizing to them is not implemented.
 *
 * <pre>
 * Q2_K (84):  scales[16] (low nibble scale, high nibble min) | qs[64] 2-bit | d fp16 | dmin fp16
 *             x = (d*sc) * q - (dmin*m)
 * Q3_K (110): hmask[32] | qs[64] 2-bit | scales[12] (16 packed 6-bit, offset 32) | d fp16
 *             x = (d*(sc-32)) * (q - (hbit ? 0 : 4))
 * Q4_K (144): d | dmin | scales[12] (8 packed 6-bit scales and mins) | qs[128] 4-bit;  x = (d*sc)*q - (dmin*m)
 * Q5_K (176): d | dmin | scales[12] | qh[32] | qs[128];  x = (d*sc)*(q + 16*hbit) - (dmin*m)
 * Q6_K (210): ql[128] | qh[64] | scales[16] int8 | d fp16;  x = (d*sc) * (q - 32)
 * Q8_K (292): d f32 | qs[256] int8 | bsums[16] int16;  x = d * q
 * </pre>
 * Value index j = 128n + 32k + 16s + l (n = half, k = shift step, s = sub-block of 16, l = lane) for Q2_K/Q3_K.
 */
final class KQuantFormats {
    private KQuantFormats() {
    }

    static final class Q2K extends DecodeOnlyFormat {
        Q2K() {
            super(GgmlType.Q2_K);
        }

        @Override
        public float decode(ByteBuffer buf, int p, int j) {
            float d = Fp16.toFloat(buf.getShort(p + 80));
            float min = Fp16.toFloat(buf.getShort(p + 82));
            int n = j / 128;
            int k = (j % 128) / 32;
            int s = (j % 32) / 16;
            int l = j % 16;
            int sc = buf.get(p + n * 8 + k * 2 + s) & 0xff;
            float dl = d * (sc & 0x0f);
            float ml = min * (sc >>> 4);
            int q = ((buf.get(p + 16 + n * 32 + s * 16 + l) & 0xff) >>> (2 * k)) & 3;
            return dl * q - ml;
        }
    }

    static final class Q3K extends DecodeOnlyFormat {
        Q3K() {
            super(GgmlType.Q3_K);
        }

        @Override
        public float decode(ByteBuffer buf, int p, int j) {
            float dAll = Fp16.toFloat(buf.getShort(p + 108));
            int n = j / 128;
            int k = (j % 128) / 32;
            int s = (j % 32) / 16;
            int l = j % 16;
            int is = n * 8 + k * 2 + s;
            int sp = p + 96;
            int low = is < 8 ? buf.get(sp + is) & 0x0f : (buf.get(sp + is - 8) & 0xff) >>> 4;
            int high = ((buf.get(sp + 8 + is % 4) & 0xff) >>> (2 * (is / 4))) & 3;
            int scale = (low | high << 4) - 32;
            float dl = dAll * scale;
            int q = ((buf.get(p + 32 + n * 32 + s * 16 + l) & 0xff) >>> (2 * k)) & 3;
            int hbit = buf.get(p + s * 16 + l) & (1 << (n * 4 + k));
            return dl * (q - (hbit != 0 ? 0 : 4));
        }
    }

    static final class Q4K extends DecodeOnlyFormat {
        Q4K() {
            super(GgmlType.Q4_K);
        }

        @Override
        public float decode(ByteBuffer buf, int p, int j) {
            float d = Fp16.toFloat(buf.getShort(p));
            float min = Fp16.toFloat(buf.getShort(p + 2));
            int n = j / 64;
            int half = (j % 64) / 32;
            int l = j % 32;
            int is = 2 * n + half;
            float dl = d * scaleK4(buf, p + 4, is);
            float ml = min * minK4(buf, p + 4, is);
            int q = buf.get(p + 16 + n * 32 + l) & 0xff;
            int v = half == 0 ? q & 0x0f : q >>> 4;
            return dl * v - ml;
        }
    }

    static final class Q5K extends DecodeOnlyFormat {
        Q5K() {
            super(GgmlType.Q5_K);
        }

        @Override
        public float decode(ByteBuffer buf, int p, int j) {
            float d = Fp16.toFloat(buf.getShort(p));
            float min = Fp16.toFloat(buf.getShort(p + 2));
            int n = j / 64;
            int half = (j % 64) / 32;
            int l = j % 32;
            int is = 2 * n + half;
            float dl = d * scaleK4(buf, p + 4, is);
            float ml = min * minK4(buf, p + 4, is);
            int ql = buf.get(p + 48 + n * 32 + l) & 0xff;
            int qh = buf.get(p + 16 + l) & 0xff;
            int v = (half == 0 ? ql & 0x0f : ql >>> 4) + ((qh & (1 << (2 * n + half))) != 0 ? 16 : 0);
            return dl * v - ml;
        }
    }

    static final class Q6K extends DecodeOnlyFormat {
        Q6K() {
            super(GgmlType.Q6_K);
        }

        @Override
        public float decode(ByteBuffer buf, int p, int j) {
            float d = Fp16.toFloat(buf.getShort(p + 208));
            int n = j / 128;
            int quarter = (j % 128) / 32;
            int l = j % 32;
            int is = l / 16;
            int ql = buf.get(p + n * 64 + l + (quarter & 1) * 32) & 0xff;
            int qh = buf.get(p + 128 + n * 32 + l) & 0xff;
            int low = quarter < 2 ? ql & 0x0f : ql >>> 4;
            int q = (low | ((qh >>> (2 * quarter)) & 3) << 4) - 32;
            int sc = buf.get(p + 192 + n * 8 + is + 2 * quarter);
            return d * sc * q;
        }
    }

    static final class Q8K extends DecodeOnlyFormat {
        Q8K() {
            super(GgmlType.Q8_K);
        }

        @Override
        public float decode(ByteBuffer buf, int p, int j) {
            return buf.getFloat(p) * buf.get(p + 4 + j);
        }
    }

    /** Plain elements ggml stores without blocks: f64 and integers, read as float (rounded to nearest). */
    static final class Plain extends DecodeOnlyFormat {
        Plain(GgmlType type) {
            super(type);
        }

        @Override
        public float decode(ByteBuffer buf, int p, int j) {
            return switch (type()) {
                case F64 -> (float) buf.getDouble(p);
                case I8 -> buf.get(p);
                case I16 -> buf.getShort(p);
                case I32 -> buf.getInt(p);
                case I64 -> buf.getLong(p);
                default -> throw new IllegalStateException("not a plain type: " + type());
            };
        }
    }
}
