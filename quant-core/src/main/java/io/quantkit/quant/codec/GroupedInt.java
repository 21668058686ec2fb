package io.quantkit.quant.codec;

import io.quantkit.format.IntGrid;
import io.quantkit.tensor.DType;
import io.quantkit.tensor.Shape;
import io.quantkit.tensor.StoredArray;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The integer-grid engine behind {@link IntCodec} and {@link OutlierCodec}: groups of {@code g} consecutive
 * elements of a row share one scale (and, asymmetric, one zero point). See {@link IntCodec} for the rules.
 */
final class GroupedInt {
    final int bits;
    final boolean asym;
    final long rows;
    final int cols;
    final int group;        // effective group length (≤ cols; 0 only when cols == 0)
    final int groupsPerRow;

    GroupedInt(Shape shape, int bits, int groupParam, boolean asym) {
        if (shape.rowLength() > CodecSupport.MAX_ELEMENTS) {
            throw new IllegalArgumentException("row length (" + shape.rowLength() + ") exceeds the maximum ("
                    + CodecSupport.MAX_ELEMENTS + ")");
        }
        this.bits = bits;
        this.asym = asym;
        this.rows = shape.rows();
        this.cols = (int) shape.rowLength();
        this.group = groupParam == 0 || groupParam > cols ? cols : groupParam;
        this.groupsPerRow = cols == 0 ? 0 : (int) CodecSupport.ceilDiv(cols, group);
    }

    int scaleCount() {
        return Math.toIntExact(rows * groupsPerRow);
    }

    /** Stored arrays in order: codes, scales, then zeros if asymmetric. */
    List<StoredArray> encode(float[] w, Shape shape) {
        IntGrid grid = asym ? IntGrid.unsigned(bits) : IntGrid.symmetric(bits);
        int nScales = scaleCount();
        float[] scales = new float[nScales];
        float[] mins = asym ? new float[nScales] : null;
        // pass 1: raw scales
        for (int k = 0; k < nScales; k++) {
            int start = start(k);
            int end = end(k, start);
            if (asym) {
                float mn = 0;
                float mx = 0;
                for (int i = start; i < end; i++) {
                    float v = w[i];
                    mn = Math.min(mn, v);
                    mx = Math.max(mx, v);
                }
                mins[k] = mn;
                scales[k] = grid.asymmetricScale(mn, mx);
            } else {
                float amax = 0;
                for (int i = start; i < end; i++) {
                    amax = Math.max(amax, Math.abs(w[i]));
                }
                scales[k] = grid.symmetricScale(amax);
            }
        }
        DType scaleType = Scales16.choose(scales);
        Scales16.roundUp(scales, scaleType);
        // pass 2: codes, with the stored (rounded-up) scale
        byte[] codes = new byte[w.length];
        byte[] zeros = asym ? new byte[nScales] : null;
        int mask = (1 << bits) - 1;
        for (int k = 0; k < nScales; k++) {
            int start = start(k);
            int end = end(k, start);
            float s = scales[k];
            if (s == 0) {
                continue; // all-zero group: codes 0 (sym: q = 0; asym: q = z = 0)
            }
            // IntGrid's rule (round half even, then clamp), written branch-free for speed: inputs are finite
            // and s > 0, so the quotient is never NaN
            if (asym) {
                int z = grid.zeroPoint(mins[k], s);
                zeros[k] = (byte) z;
                for (int i = start; i < end; i++) {
                    int q = (int) Math.rint(w[i] / s) + z;
                    codes[i] = (byte) Math.min(Math.max(q, 0), mask);
                }
            } else {
                int qmin = grid.qmin();
                int qmax = grid.qmax();
                for (int i = start; i < end; i++) {
                    int q = (int) Math.rint(w[i] / s);
                    codes[i] = (byte) (Math.min(Math.max(q, qmin), qmax) & mask);
                }
            }
        }
        List<StoredArray> out = new ArrayList<>(3);
        byte[] packed = BitPacking.pack(codes, w.length, bits);
        out.add(StoredArray.of("codes", DType.U8, Shape.of(packed.length), CodecSupport.le(packed)));
        Shape perRow = CodecSupport.perRowShape(shape, groupsPerRow);
        out.add(Scales16.store("scales", scales, scaleType, perRow));
        if (asym) {
            out.add(StoredArray.of("zeros", DType.U8, perRow, CodecSupport.le(zeros)));
        }
        return out;
    }

    /** Validates codes/scales/zeros at positions 0..2 of {@code arrays}; returns how many it consumed. */
    int validate(io.quantkit.quant.Scheme scheme, Shape shape, List<StoredArray> arrays) {
        int codeBytes = BitPacking.packedBytes(shape.numel(), bits);
        CodecSupport.expect(scheme, arrays, 0, "codes", Shape.of(codeBytes), DType.U8);
        Shape perRow = CodecSupport.perRowShape(shape, groupsPerRow);
        CodecSupport.expect(scheme, arrays, 1, "scales", perRow, DType.F16, DType.BF16);
        if (asym) {
            ByteBuffer z = CodecSupport.expect(scheme, arrays, 2, "zeros", perRow, DType.U8).data();
            int levels = (1 << bits) - 1;
            for (int i = 0; i < z.limit(); i++) {
                if ((z.get(i) & 0xff) > levels) {
                    throw new IllegalArgumentException(scheme + " zero point " + (z.get(i) & 0xff) + " of group " + i
                            + " exceeds the maximum (" + levels + ")");
                }
            }
            return 3;
        }
        return 2;
    }

    private int start(int k) {
        return (k / groupsPerRow) * cols + (k % groupsPerRow) * group;
    }

    private int end(int k, int start) {
        int rowEnd = (k / groupsPerRow + 1) * cols;
        return Math.min(start + group, rowEnd);
    }

    /** Decoding view over stored arrays (codes as a buffer, scales and zeros decoded once). */
    final class Decoder {
        private final ByteBuffer codes;
        private final float[] scales;
        private final byte[] zeros;
        private final int shift = 32 - bits;

        Decoder(List<StoredArray> arrays) {
            this.codes = arrays.get(0).data();
            this.scales = Scales16.load(arrays.get(1));
            if (asym) {
                ByteBuffer z = arrays.get(2).data();
                this.zeros = new byte[z.remaining()];
                z.get(this.zeros);
            } else {
                this.zeros = null;
            }
        }

        float get(long index) {
            long row = index / cols;
            int col = (int) (index - row * cols);
            int k = (int) (row * groupsPerRow + col / group);
            int code = BitPacking.read(codes, index, bits);
            if (asym) {
                return (code - (zeros[k] & 0xff)) * scales[k];
            }
            return ((code << shift) >> shift) * scales[k];
        }

        void decode(long from, float[] dst, int off, int len) {
            int[] tmp = new int[Math.min(len, Math.max(group, 1))];
            long i = from;
            int done = 0;
            while (done < len) {
                long row = i / cols;
                int col = (int) (i - row * cols);
                int gi = col / group;
                int segLen = Math.min(Math.min((gi + 1) * group, cols) - col, len - done);
                int k = (int) (row * groupsPerRow + gi);
                float s = scales[k];
                BitPacking.unpack(codes, i, segLen, bits, tmp);
                int o = off + done;
                if (asym) {
                    int z = zeros[k] & 0xff;
                    for (int j = 0; j < segLen; j++) {
                        dst[o + j] = (tmp[j] - z) * s;
                    }
                } else {
                    for (int j = 0; j < segLen; j++) {
                        dst[o + j] = ((tmp[j] << shift) >> shift) * s;
                    }
                }
                done += segLen;
                i += segLen;
            }
        }
    }
}
