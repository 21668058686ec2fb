package io.quantkit.quant.codec;

import io.quantkit.format.Fp8Format;
import io.quantkit.format.Overflow;
import io.quantkit.quant.Codec;
import io.quantkit.quant.QuantizedTensor;
import io.quantkit.quant.Scheme;
import io.quantkit.tensor.DType;
import io.quantkit.tensor.Shape;
import io.quantkit.tensor.StoredArray;
import io.quantkit.tensor.Tensor;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * {@code fp8-e4m3} and {@code fp8-e5m2}: one FP8 byte per element times a float32 scale.
 *
 * <pre>
 * unit of one scale: scale=tensor (everything) | channel (one row) | block (a block×block tile of the
 *   2-D view [rows, row length], outer dimensions flattened into rows; edge tiles may be smaller;
 *   block=128 gives DeepSeek-V3's 128×128 weight tiles)
 * s = amax / F  (float32 division; F = 448 for E4M3, 57344 for E5M2; s = 0 for an all-zero unit)
 * code = encode(w / s) (float32 division, then {@link Fp8Format} round to nearest even with subnormals)
 * w' = decode(code) · s
 * layout:
 *   "codes"  F8_E4M3 | F8_E5M2 [shape]   one byte per element, row-major
 *   "scales" F32 [1] (tensor) | [outer…, 1] (channel) | [⌈rows/block⌉, ⌈row length/block⌉] (block)
 * error: |w − w'| ≤ max(2^−(m+1)·|w|, s·(smallest subnormal)/2), m = 3 (E4M3) or 2 (E5M2)
 * overflow=saturate|nan (E4M3) or saturate|inf (E5M2) is the encoder's overflow mode. With amax
 * scaling no finite weight overflows (|w / s| ≤ F up to one float32 rounding, which rounds back to F), so
 * the mode never changes a result; it is kept for scripts that state it. NaN/Inf weights are rejected
 * (a unit containing ±Inf has no finite scale).
 * </pre>
 * bits per weight: 8 + 32 per unit.
 */
public final class Fp8Codec implements Codec {
    private final Scheme scheme;
    private final Fp8Format format;
    private final Overflow overflow;
    private final String scaleMode;
    private final int block;

    public Fp8Codec(Scheme scheme) {
        this.scheme = scheme;
        this.format = switch (scheme.kind()) {
            case FP8_E4M3 -> Fp8Format.E4M3;
            case FP8_E5M2 -> Fp8Format.E5M2;
            default -> throw new IllegalArgumentException("Fp8Codec does not handle " + scheme);
        };
        this.overflow = scheme.param("overflow").equals("saturate") ? Overflow.SATURATE : Overflow.NON_SATURATING;
        this.scaleMode = scheme.param("scale");
        this.block = scheme.intParam("block");
    }

    @Override
    public Scheme scheme() {
        return scheme;
    }

    private DType codeType() {
        return format == Fp8Format.E4M3 ? DType.F8_E4M3 : DType.F8_E5M2;
    }

    /** Where each scale applies. */
    private final class Layout {
        final long rows;
        final int cols;
        final int blockCols;
        final Shape scaleShape;

        Layout(Shape shape) {
            if (shape.rowLength() > CodecSupport.MAX_ELEMENTS) {
                throw new IllegalArgumentException("row length (" + shape.rowLength() + ") exceeds the maximum ("
                        + CodecSupport.MAX_ELEMENTS + ")");
            }
            rows = shape.rows();
            cols = (int) shape.rowLength();
            blockCols = cols == 0 ? 0 : (int) CodecSupport.ceilDiv(cols, block);
            scaleShape = switch (scaleMode) {
                case "tensor" -> Shape.of(1);
                case "channel" -> CodecSupport.perRowShape(shape, 1);
                default -> Shape.of(CodecSupport.ceilDiv(rows, block), blockCols);
            };
        }

        int unitOf(long index) {
            return switch (scaleMode) {
                case "tensor" -> 0;
                case "channel" -> (int) (index / cols);
                default -> {
                    long row = index / cols;
                    int col = (int) (index - row * cols);
                    yield (int) ((row / block) * blockCols + col / block);
                }
            };
        }
    }

    @Override
    public QuantizedTensor quantize(Tensor source) {
        Shape shape = source.shape();
        float[] w = CodecSupport.readFinite(source, scheme);
        Layout lay = new Layout(shape);
        int units = (int) lay.scaleShape.numel();
        float[] amax = new float[units];
        // every unit is a union of row segments: (row, column range) → unit; walk rows, then segments
        int seg = segmentLength(lay);
        for (long r = 0; r < lay.rows; r++) {
            int base = (int) (r * lay.cols);
            for (int c0 = 0; c0 < lay.cols; c0 += seg) {
                int u = lay.unitOf(base + c0);
                int end = base + Math.min(c0 + seg, lay.cols);
                float m = amax[u];
                for (int i = base + c0; i < end; i++) {
                    m = Math.max(m, Math.abs(w[i]));
                }
                amax[u] = m;
            }
        }
        float max = format.maxFinite();
        float[] scales = new float[units];
        for (int u = 0; u < units; u++) {
            scales[u] = amax[u] / max;
        }
        byte[] codes = new byte[w.length];
        float[] x = new float[Math.max(seg, 1)];
        for (long r = 0; r < lay.rows; r++) {
            int base = (int) (r * lay.cols);
            for (int c0 = 0; c0 < lay.cols; c0 += seg) {
                float s = scales[lay.unitOf(base + c0)];
                int len = Math.min(seg, lay.cols - c0);
                if (s == 0) {
                    continue; // codes already 0 (+0.0)
                }
                for (int j = 0; j < len; j++) {
                    x[j] = w[base + c0 + j] / s;
                }
                format.encode(x, 0, codes, base + c0, len, overflow);
            }
        }
        ByteBuffer sb = CodecSupport.allocate(4L * units);
        for (float s : scales) {
            sb.putFloat(s);
        }
        sb.flip();
        return new Fp8Tensor(scheme, shape, lay, List.of(
                StoredArray.of("codes", codeType(), shape, CodecSupport.le(codes)),
                StoredArray.of("scales", DType.F32, lay.scaleShape, sb)));
    }

    /** Length of the row segments that share one scale: the block width, or the whole row. */
    private int segmentLength(Layout lay) {
        return scaleMode.equals("block") ? Math.min(block, Math.max(lay.cols, 1)) : Math.max(lay.cols, 1);
    }

    @Override
    public QuantizedTensor fromArrays(Shape shape, List<StoredArray> arrays) {
        Layout lay = new Layout(shape);
        CodecSupport.expectCount(scheme, arrays, 2);
        CodecSupport.expect(scheme, arrays, 0, "codes", shape, codeType());
        CodecSupport.expect(scheme, arrays, 1, "scales", lay.scaleShape, DType.F32);
        return new Fp8Tensor(scheme, shape, lay, arrays);
    }

    private final class Fp8Tensor extends PackedTensor {
        private final Layout lay;
        private final ByteBuffer codes;
        private final float[] scales;

        Fp8Tensor(Scheme scheme, Shape shape, Layout lay, List<StoredArray> arrays) {
            super(scheme, shape, arrays);
            this.lay = lay;
            this.codes = arrays.get(0).data();
            this.scales = CodecSupport.readF32(arrays.get(1));
        }

        @Override
        public float getFloat(long index) {
            checkIndex(index);
            return format.decode(codes.get((int) index)) * scales[lay.unitOf(index)];
        }

        @Override
        public void dequantize(long from, float[] dst, int off, int len) {
            checkRange(from, dst, off, len);
            int seg = segmentLength(lay);
            long i = from;
            int done = 0;
            while (done < len) {
                long row = i / lay.cols;
                int col = (int) (i - row * lay.cols);
                int segEnd = Math.min((col / seg + 1) * seg, lay.cols);
                int n = Math.min(segEnd - col, len - done);
                float s = scales[lay.unitOf(i)];
                int o = off + done;
                int b = (int) i;
                for (int j = 0; j < n; j++) {
                    dst[o + j] = format.decode(codes.get(b + j)) * s;
                }
                done += n;
                i += n;
            }
        }
    }
}
