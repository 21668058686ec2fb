package io.quantkit.quant.codec;

import io.quantkit.quant.Codec;
import io.quantkit.quant.QuantizedTensor;
import io.quantkit.quant.Scheme;
import io.quantkit.quant.SchemeKind;
import io.quantkit.tensor.DType;
import io.quantkit.tensor.Shape;
import io.quantkit.tensor.StoredArray;
import io.quantkit.tensor.Tensor;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * {@code ternary}: BitNet b1.58 absmean quantization to {-1, 0, +1} times a float32 scale.
 *
 * <pre>
 * s = mean |w| over the scale's unit (scale=tensor: all elements; channel: one row; group: {@code group}
 *     consecutive elements of a row, shorter last group), summed in double, stored as float32
 * q = clip(round_half_even(w / s), −1, 1)   (w / s a float32 division; s = 0 → q = 0)     w' = q·s
 * layout:
 *   "codes"  U8  pack=2bit:  t = q + 1 ∈ {0,1,2} as 2-bit codes, four per byte, element 4j in bits 0-1
 *                            (code 3 is invalid); ⌈n/4⌉ bytes
 *                pack=base3: five trits per byte, byte j = Σ_{i&lt;5} t_{5j+i}·3^i (≤ 242; missing trits of
 *                            the last byte are 0); ⌈n/5⌉ bytes
 *   "scales" F32 [1] (tensor) | [outer…, 1] (channel) | [outer…, G] (group)
 * error: |w − w'| ≤ s/2 where |w| ≤ 1.5·s, else |w| − s (clipped).  NaN/Inf: rejected.
 * </pre>
 * bits per weight: 2 (2bit) or 1.6 (base3), plus 32 per scale unit.
 */
public final class TernaryCodec implements Codec {
    private static final byte[] POW3 = {1, 3, 9, 27, 81};

    private final Scheme scheme;
    private final String scaleMode;
    private final int groupParam;
    private final boolean base3;

    public TernaryCodec(Scheme scheme) {
        if (scheme.kind() != SchemeKind.TERNARY) {
            throw new IllegalArgumentException("TernaryCodec does not handle " + scheme);
        }
        this.scheme = scheme;
        this.scaleMode = scheme.param("scale");
        this.groupParam = scheme.intParam("group");
        this.base3 = scheme.param("pack").equals("base3");
    }

    @Override
    public Scheme scheme() {
        return scheme;
    }

    /** Units of one scale: row-aligned groups (for tensor scale: one unit over everything). */
    private final class Layout {
        final long rows;
        final int cols;
        final int group;
        final int perRow;
        final boolean whole;
        final Shape scaleShape;

        Layout(Shape shape) {
            if (shape.rowLength() > CodecSupport.MAX_ELEMENTS) {
                throw new IllegalArgumentException("row length (" + shape.rowLength() + ") exceeds the maximum ("
                        + CodecSupport.MAX_ELEMENTS + ")");
            }
            rows = shape.rows();
            cols = (int) shape.rowLength();
            whole = scaleMode.equals("tensor");
            group = scaleMode.equals("group") ? Math.min(groupParam, Math.max(cols, 1)) : Math.max(cols, 1);
            perRow = cols == 0 ? 0 : (int) CodecSupport.ceilDiv(cols, group);
            scaleShape = whole ? Shape.of(1) : CodecSupport.perRowShape(shape, perRow);
        }

        int unitOf(long index) {
            if (whole) {
                return 0;
            }
            long row = index / cols;
            return (int) (row * perRow + (index - row * cols) / group);
        }

        int codeBytes(long n) {
            return Math.toIntExact(base3 ? CodecSupport.ceilDiv(n, 5) : CodecSupport.ceilDiv(n, 4));
        }
    }

    @Override
    public QuantizedTensor quantize(Tensor source) {
        Shape shape = source.shape();
        float[] w = CodecSupport.readFinite(source, scheme);
        Layout lay = new Layout(shape);
        int units = (int) lay.scaleShape.numel();
        float[] scales = new float[units];
        if (lay.whole) {
            scales[0] = absMean(w, 0, w.length);
        } else {
            for (int k = 0; k < units; k++) {
                int start = (k / lay.perRow) * lay.cols + (k % lay.perRow) * lay.group;
                int end = Math.min(start + lay.group, (k / lay.perRow + 1) * lay.cols);
                scales[k] = absMean(w, start, end);
            }
        }
        byte[] trits = new byte[w.length];
        if (lay.whole) {
            quantizeRun(w, 0, w.length, scales[0], trits);
        } else {
            for (int k = 0; k < units; k++) {
                int start = (k / lay.perRow) * lay.cols + (k % lay.perRow) * lay.group;
                int end = Math.min(start + lay.group, (k / lay.perRow + 1) * lay.cols);
                quantizeRun(w, start, end, scales[k], trits);
            }
        }
        byte[] packed = base3 ? packBase3(trits) : BitPacking.pack(trits, trits.length, 2);
        ByteBuffer sb = CodecSupport.allocate(4L * units);
        for (float s : scales) {
            sb.putFloat(s);
        }
        sb.flip();
        List<StoredArray> arrays = List.of(
                StoredArray.of("codes", DType.U8, Shape.of(packed.length), CodecSupport.le(packed)),
                StoredArray.of("scales", DType.F32, lay.scaleShape, sb));
        return new TernaryTensor(scheme, shape, lay, arrays);
    }

    /**
     * mean |w[start..end)| rounded to float; 0 for an empty range. Blocks of 256 are summed in double with four
     * independent accumulators (exact to about 2^-45 relative: each term has 24 significant bits), and the block
     * sums are added with Neumaier compensation.
     */
    private static float absMean(float[] w, int start, int end) {
        if (end <= start) {
            return 0;
        }
        double sum = 0;
        double c = 0;
        for (int b = start; b < end; b += 256) {
            int e = Math.min(b + 256, end);
            double s0 = 0;
            double s1 = 0;
            double s2 = 0;
            double s3 = 0;
            int i = b;
            for (; i + 3 < e; i += 4) {
                s0 += Math.abs(w[i]);
                s1 += Math.abs(w[i + 1]);
                s2 += Math.abs(w[i + 2]);
                s3 += Math.abs(w[i + 3]);
            }
            for (; i < e; i++) {
                s0 += Math.abs(w[i]);
            }
            double v = (s0 + s1) + (s2 + s3);
            double t = sum + v;
            c += Math.abs(sum) >= Math.abs(v) ? (sum - t) + v : (v - t) + sum;
            sum = t;
        }
        return (float) ((sum + c) / (end - start));
    }

    private static void quantizeRun(float[] w, int start, int end, float s, byte[] trits) {
        if (s == 0) {
            for (int i = start; i < end; i++) {
                trits[i] = 1;
            }
            return;
        }
        // IntGrid.ternary()'s rule (round half even, clamp to ±1), branch-free; w finite and s > 0
        for (int i = start; i < end; i++) {
            int q = (int) Math.rint(w[i] / s);
            trits[i] = (byte) (Math.min(Math.max(q, -1), 1) + 1);
        }
    }

    private static byte[] packBase3(byte[] trits) {
        int n = trits.length;
        byte[] out = new byte[(int) CodecSupport.ceilDiv(n, 5)];
        int full = n / 5;
        for (int j = 0; j < full; j++) {
            int b = 5 * j;
            out[j] = (byte) (trits[b] + 3 * trits[b + 1] + 9 * trits[b + 2] + 27 * trits[b + 3] + 81 * trits[b + 4]);
        }
        int v = 0;
        for (int i = 5 * full; i < n; i++) {
            v += trits[i] * POW3[i - 5 * full];
        }
        if (5 * full < n) {
            out[full] = (byte) v;
        }
        return out;
    }

    @Override
    public QuantizedTensor fromArrays(Shape shape, List<StoredArray> arrays) {
        Layout lay = new Layout(shape);
        CodecSupport.expectCount(scheme, arrays, 2);
        StoredArray codes = CodecSupport.expect(scheme, arrays, 0, "codes", Shape.of(lay.codeBytes(shape.numel())),
                DType.U8);
        CodecSupport.expect(scheme, arrays, 1, "scales", lay.scaleShape, DType.F32);
        ByteBuffer b = codes.data();
        long n = shape.numel();
        for (int j = 0; j < b.limit(); j++) {
            int v = b.get(j) & 0xff;
            if (base3 ? v > 242 : hasCode3(v, n - 4L * j)) {
                throw new IllegalArgumentException(scheme + " codes byte " + j + " (" + v + ") is not a valid "
                        + (base3 ? "base-3 group of five trits (max 242)" : "group of 2-bit trits (code 3 is unused)"));
            }
        }
        return new TernaryTensor(scheme, shape, lay, arrays);
    }

    private static boolean hasCode3(int v, long remaining) {
        int m = (int) Math.min(4, remaining);
        for (int i = 0; i < m; i++) {
            if (((v >>> (2 * i)) & 3) == 3) {
                return true;
            }
        }
        return false;
    }

    private final class TernaryTensor extends PackedTensor {
        private final Layout lay;
        private final ByteBuffer codes;
        private final float[] scales;

        TernaryTensor(Scheme scheme, Shape shape, Layout lay, List<StoredArray> arrays) {
            super(scheme, shape, arrays);
            this.lay = lay;
            this.codes = arrays.get(0).data();
            this.scales = CodecSupport.readF32(arrays.get(1));
        }

        private int trit(long i) {
            if (base3) {
                int v = codes.get((int) (i / 5)) & 0xff;
                switch ((int) (i % 5)) {
                    case 0: return v % 3;
                    case 1: return v / 3 % 3;
                    case 2: return v / 9 % 3;
                    case 3: return v / 27 % 3;
                    default: return v / 81;
                }
            }
            return (codes.get((int) (i >>> 2)) >>> (((int) i & 3) << 1)) & 3;
        }

        @Override
        public float getFloat(long index) {
            checkIndex(index);
            return (trit(index) - 1) * scales[lay.unitOf(index)];
        }

        @Override
        public void dequantize(long from, float[] dst, int off, int len) {
            checkRange(from, dst, off, len);
            long i = from;
            int done = 0;
            while (done < len) {
                int segLen;
                float s;
                if (lay.whole) {
                    segLen = len;
                    s = scales[0];
                } else {
                    long row = i / lay.cols;
                    int col = (int) (i - row * lay.cols);
                    int gi = col / lay.group;
                    segLen = Math.min(Math.min((gi + 1) * lay.group, lay.cols) - col, len - done);
                    s = scales[(int) (row * lay.perRow + gi)];
                }
                int o = off + done;
                if (base3) {
                    decodeBase3(i, segLen, s, dst, o);
                } else {
                    for (int j = 0; j < segLen; j++) {
                        long e = i + j;
                        dst[o + j] = (((codes.get((int) (e >>> 2)) >>> (((int) e & 3) << 1)) & 3) - 1) * s;
                    }
                }
                done += segLen;
                i += segLen;
            }
        }

        private void decodeBase3(long from, int len, float s, float[] dst, int o) {
            int j = 0;
            long e = from;
            while (j < len) {
                int byteIdx = (int) (e / 5);
                int pos = (int) (e - 5L * byteIdx);
                int v = codes.get(byteIdx) & 0xff;
                for (int p = 0; p < pos; p++) {
                    v /= 3;
                }
                for (; pos < 5 && j < len; pos++, j++, e++) {
                    dst[o + j] = (v % 3 - 1) * s;
                    v /= 3;
                }
            }
        }
    }
}
