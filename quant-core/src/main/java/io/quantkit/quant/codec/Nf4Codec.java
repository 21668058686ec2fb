package io.quantkit.quant.codec;

import io.quantkit.format.Nf4;
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
 * {@code nf4}: bitsandbytes NormalFloat4. Blocks of {@code block} (default 64) consecutive elements of the
 * flattened tensor (as bitsandbytes does; blocks may span rows, the last block may be shorter) share a
 * float32 absmax scale; each element stores the index of the nearest of the 16 NF4 table values.
 *
 * <pre>
 * a = max |w| over the block (float32);  x = w / a (float32 division)
 * code = {@link Nf4#encode}(x): the nearest table value as bitsandbytes decides it (upper code iff x is
 *        above the float32 midpoint, so exact ties go to the lower value); a = 0 → code 7 (the table's 0)
 * w' = table[code] · a
 * layout:
 *   "codes"  U8 [⌈n/2⌉]  4-bit codes, two per byte, element 2j in the low nibble (bitsandbytes uses the
 *                        high nibble first; this is the project's common packing, see BitPacking)
 *   "scales" F32 [⌈n/block⌉]  absmax per block
 * error: |w − w'| ≤ a · (largest half-gap of the table, (1 − 0.69619280)/2 ≈ 0.1519).  NaN/Inf: rejected.
 * </pre>
 * bits per weight: 4 + 32/block (4.5 at block 64). Re-quantizing a result reproduces it exactly.
 */
public final class Nf4Codec implements Codec {
    private final Scheme scheme;
    private final int block;

    public Nf4Codec(Scheme scheme) {
        if (scheme.kind() != SchemeKind.NF4) {
            throw new IllegalArgumentException("Nf4Codec does not handle " + scheme);
        }
        this.scheme = scheme;
        this.block = scheme.intParam("block");
    }

    @Override
    public Scheme scheme() {
        return scheme;
    }

    @Override
    public QuantizedTensor quantize(Tensor source) {
        Shape shape = source.shape();
        float[] w = CodecSupport.readFinite(source, scheme);
        int n = w.length;
        int blocks = (int) CodecSupport.ceilDiv(n, block);
        float[] scales = new float[blocks];
        byte[] codes = new byte[n];
        for (int b = 0; b < blocks; b++) {
            int start = b * block;
            int end = Math.min(start + block, n);
            float a = 0;
            for (int i = start; i < end; i++) {
                a = Math.max(a, Math.abs(w[i]));
            }
            scales[b] = a;
            if (a == 0) {
                for (int i = start; i < end; i++) {
                    codes[i] = 7;
                }
                continue;
            }
            for (int i = start; i < end; i++) {
                codes[i] = (byte) encode(w[i] / a);
            }
        }
        byte[] packed = BitPacking.pack(codes, n, 4);
        ByteBuffer sb = CodecSupport.allocate(4L * blocks);
        for (float s : scales) {
            sb.putFloat(s);
        }
        sb.flip();
        return new Nf4Tensor(scheme, shape, block, List.of(
                StoredArray.of("codes", DType.U8, Shape.of(packed.length), CodecSupport.le(packed)),
                StoredArray.of("scales", DType.F32, Shape.of(blocks), sb)));
    }

    @Override
    public QuantizedTensor fromArrays(Shape shape, List<StoredArray> arrays) {
        CodecSupport.expectCount(scheme, arrays, 2);
        CodecSupport.expect(scheme, arrays, 0, "codes", Shape.of(BitPacking.packedBytes(shape.numel(), 4)), DType.U8);
        CodecSupport.expect(scheme, arrays, 1, "scales", Shape.of(CodecSupport.ceilDiv(shape.numel(), block)),
                DType.F32);
        return new Nf4Tensor(scheme, shape, block, arrays);
    }

    private static final float[] TABLE_VALUES = Nf4.values();
    private static final float[] THRESHOLDS = new float[15];

    static {
        for (int k = 0; k < 15; k++) {
            THRESHOLDS[k] = Nf4.threshold(k);
        }
    }

    /**
     * {@link Nf4#encode} for a finite x, written with conditional expressions (no NaN check) so the JIT can
     * use conditional moves: code = the number of thresholds t with x &gt; t, by a 4-step binary search.
     */
    private static int encode(float x) {
        float[] t = THRESHOLDS;
        int c = x > t[7] ? 8 : 0;
        c += x > t[c + 3] ? 4 : 0;
        c += x > t[c + 1] ? 2 : 0;
        c += x > t[c] ? 1 : 0;
        return c;
    }

    private static final class Nf4Tensor extends PackedTensor {
        private final int block;
        private final ByteBuffer codes;
        private final float[] scales;

        Nf4Tensor(Scheme scheme, Shape shape, int block, List<StoredArray> arrays) {
            super(scheme, shape, arrays);
            this.block = block;
            this.codes = arrays.get(0).data();
            this.scales = CodecSupport.readF32(arrays.get(1));
        }

        @Override
        public float getFloat(long index) {
            checkIndex(index);
            return TABLE_VALUES[BitPacking.read(codes, index, 4)] * scales[(int) (index / block)];
        }

        @Override
        public void dequantize(long from, float[] dst, int off, int len) {
            checkRange(from, dst, off, len);
            int i = (int) from;
            int end = i + len;
            int o = off;
            while (i < end) {
                int blockEnd = Math.min((i / block + 1) * block, end);
                float s = scales[i / block];
                for (; i < blockEnd; i++, o++) {
                    int b = codes.get(i >>> 1);
                    dst[o] = TABLE_VALUES[(b >>> ((i & 1) << 2)) & 0x0f] * s;
                }
            }
        }
    }
}
