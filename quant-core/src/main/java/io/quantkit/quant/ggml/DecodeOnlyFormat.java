package io.quantkit.quant.ggml;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Base of the formats we read but do not write (K-quants, plain integer and f64 elements). */
abstract class DecodeOnlyFormat implements BlockFormat {
    private final GgmlType type;

    DecodeOnlyFormat(GgmlType type) {
        this.type = type;
    }

    @Override
    public final GgmlType type() {
        return type;
    }

    @Override
    public final boolean canQuantize() {
        return false;
    }

    @Override
    public final void quantizeBlockReference(float[] x, int xo, byte[] y, int yo) {
        throw new UnsupportedOperationException("quantizing to ggml " + type.ggmlName() + " is not implemented");
    }

    @Override
    public final boolean quantize(float[] x, int xo, byte[] y, int yo, int blocks) {
        throw new UnsupportedOperationException("quantizing to ggml " + type.ggmlName() + " is not implemented");
    }

    /** Decodes block by block through {@link #decode}: the readable definition, not a tuned loop. */
    @Override
    public void dequantize(byte[] y, int yo, float[] x, int xo, int blocks) {
        ByteBuffer buf = ByteBuffer.wrap(y).order(ByteOrder.LITTLE_ENDIAN);
        int bs = type.blockSize();
        int bb = type.blockBytes();
        for (int b = 0; b < blocks; b++) {
            int p = yo + b * bb;
            for (int j = 0; j < bs; j++) {
                x[xo + b * bs + j] = decode(buf, p, j);
            }
        }
    }

    /** 6-bit scale {@code is} (0..7) of a Q4_K/Q5_K block whose 12 scale bytes start at {@code s}. */
    static int scaleK4(ByteBuffer buf, int s, int is) {
        if (is < 4) {
            return buf.get(s + is) & 63;
        }
        return (buf.get(s + is + 4) & 0x0f) | ((buf.get(s + is - 4) & 0xff) >>> 6) << 4;
    }

    /** 6-bit minimum {@code is} (0..7) of a Q4_K/Q5_K block whose 12 scale bytes start at {@code s}. */
    static int minK4(ByteBuffer buf, int s, int is) {
        if (is < 4) {
            return buf.get(s + is + 4) & 63;
        }
        return ((buf.get(s + is + 4) & 0xff) >>> 4) | ((buf.get(s + is) & 0xff) >>> 6) << 4;
    }
}
