package io.quantkit.quant.codec;

import io.quantkit.quant.Codec;
import io.quantkit.quant.QuantizedTensor;
import io.quantkit.quant.Scheme;
import io.quantkit.tensor.Shape;
import io.quantkit.tensor.StoredArray;
import io.quantkit.tensor.Tensor;
import java.util.List;

/**
 * {@code int} (2..8 bits), {@code int8} (per output channel) and {@code int4} (groups of 128): integer
 * grids with one 16-bit scale per group of {@code group} consecutive elements of a row (group=0: the whole
 * row; a shorter last group is allowed, so any row length works).
 *
 * <pre>
 * layout (n elements, R rows of C columns, G = ⌈C / group⌉ groups per row):
 *   "codes"  U8 [⌈n·b/8⌉]   b-bit codes, flat row-major, LSB-first bit stream (two 4-bit codes per byte,
 *                            low nibble first; see BitPacking); sym: q in two's complement; asym: q unsigned
 *   "scales" F16 [outer…, G] (BF16 for the whole tensor if any scale exceeds 65504)
 *   "zeros"  U8  [outer…, G] asym only: the integer zero point z
 * symmetric (mode=sym):  qmax = 2^(b-1) − 1, s = up16(amax / qmax),
 *                        q = clamp(round_half_even(w / s), −2^(b-1), qmax),   w' = q·s
 * asymmetric (mode=asym): lo = min(0, min w), hi = max(0, max w), s = up16((hi − lo) / (2^b − 1)),
 *                        z = clamp(round_half_even(−lo / s), 0, 2^b − 1)  (−lo / s in double),
 *                        q = clamp(round_half_even(w / s) + z, 0, 2^b − 1),  w' = (q − z)·s
 * up16(x): the smallest F16 (or BF16) value ≥ x, so the stored scale never clips the group's extreme.
 * w / s is a float32 division; an all-zero group has s = 0 and decodes to 0. Grid arithmetic is
 * {@link io.quantkit.format.IntGrid}'s.
 * error bound: sym |w − w'| ≤ s/2; asym ≤ s (zero-point rounding adds up to s/2 at the clipped end).
 * NaN/Inf: rejected with IllegalArgumentException.
 * </pre>
 * bits per weight: b + 16·G/C (+ 8·G/C asym). Re-quantizing a symmetric result reproduces it exactly
 * when every non-zero scale is a normal F16 (≥ 2^-14): a subnormal F16 scale (group amax below about
 * 2^-14·qmax, e.g. 0.0078 for int8) is coarse, so rounding it up can leave the extreme one step short of
 * qmax and a second pass then picks a smaller scale. The error bound holds either way.
 */
public final class IntCodec implements Codec {
    private final Scheme scheme;
    private final int bits;
    private final int group;
    private final boolean asym;

    public IntCodec(Scheme scheme) {
        this.scheme = scheme;
        this.bits = switch (scheme.kind()) {
            case INT -> scheme.intParam("bits");
            case INT8 -> 8;
            case INT4 -> 4;
            default -> throw new IllegalArgumentException("IntCodec does not handle " + scheme);
        };
        this.group = scheme.intParam("group");
        this.asym = scheme.param("mode").equals("asym");
    }

    /** Bits per code (2..8). */
    public int bits() {
        return bits;
    }

    @Override
    public Scheme scheme() {
        return scheme;
    }

    @Override
    public QuantizedTensor quantize(Tensor source) {
        Shape shape = source.shape();
        float[] w = CodecSupport.readFinite(source, scheme);
        GroupedInt grid = new GroupedInt(shape, bits, group, asym);
        return new IntTensor(scheme, shape, grid, grid.encode(w, shape));
    }

    @Override
    public QuantizedTensor fromArrays(Shape shape, List<StoredArray> arrays) {
        GroupedInt grid = new GroupedInt(shape, bits, group, asym);
        int used = grid.validate(scheme, shape, arrays);
        CodecSupport.expectCount(scheme, arrays, used);
        return new IntTensor(scheme, shape, grid, arrays);
    }

    private static final class IntTensor extends PackedTensor {
        private final GroupedInt.Decoder dec;

        IntTensor(Scheme scheme, Shape shape, GroupedInt grid, List<StoredArray> arrays) {
            super(scheme, shape, arrays);
            this.dec = grid.new Decoder(arrays);
        }

        @Override
        public float getFloat(long index) {
            checkIndex(index);
            return dec.get(index);
        }

        @Override
        public void dequantize(long from, float[] dst, int off, int len) {
            checkRange(from, dst, off, len);
            dec.decode(from, dst, off, len);
        }
    }
}
