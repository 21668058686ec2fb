package io.quantkit.quant.codec;

import io.quantkit.quant.OutlierBudget;

import io.quantkit.format.Bf16;
import io.quantkit.format.Fp16;
import io.quantkit.quant.Codec;
import io.quantkit.quant.OutlierSelector;
import io.quantkit.quant.QuantizedTensor;
import io.quantkit.quant.Scheme;
import io.quantkit.quant.SchemeKind;
import io.quantkit.tensor.DType;
import io.quantkit.tensor.Shape;
import io.quantkit.tensor.StoredArray;
import io.quantkit.tensor.Tensor;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * {@code int4-outliers}: {@link IntCodec INT4 groups} plus a budget of individual weights kept in 16-bit.
 *
 * <pre>
 * 1. choose k outliers with the {@link OutlierSelector} (select=magnitude: the k largest |w|, ties → lower index;
 *    select=error: greedily the largest squared grid error removed, {@link io.quantkit.quant.ErrorGainSelector};
 *    select=saliency needs a calibration profile)
 * 2. set them to 0 in a copy and quantize that copy exactly as int4:group=G,mode=M (so each group's scale
 *    is computed from the bulk only: 0 never raises amax, and the asym range always contains 0)
 * 3. store the outliers sparsely; decoding writes them over their (zero) grid value
 * layout (quantkit.format 2):
 *   "codes", "scales"[, "zeros"]   as IntCodec with bits=4
 *   "outlier_block_end" I32 [B]    the flat indexes are cut into blocks of 65,536 elements; entry b is the number
 *                                  of outliers whose index is below (b+1)·65,536 (non-decreasing, the last is k);
 *                                  B = ⌈n / 65,536⌉, or 0 when k = 0
 *   "outlier_offset" U16 [k]       each outlier's flat row-major index minus its block's start (index mod 65,536);
 *                                  together strictly ascending
 *   "outlier_value" BF16|F16 [k]   BF16 if every outlier is exactly a bf16 value (a bf16 checkpoint), else F16
 *                                  if every one is exact in f16, else F16 when all are ≤ 65504 in magnitude
 *                                  (rounded to nearest even), else BF16 (rounded to nearest even)
 *   read too (quantkit.format 1): "outlier_index" I32 [k] (flat indexes, strictly ascending) and "outlier_value"
 * budget: "0.5%" or "0.005" → k = ⌊fraction · n⌋;  "4.6bpw" → the largest k ≥ 0 with
 *         8·(bytes of codes, scales, zeros, block ends) + 32·k ≤ 4.6·n  (an outlier costs 16 offset + 16 value
 *         bits); when the grid alone already costs more than the target (tiny tensors), k = 0 and the tensor
 *         exceeds the target rather than failing a whole-model conversion
 * </pre>
 * Error: outliers exact (or within half an f16 ulp when the source is neither bf16 nor f16); every other
 * element within the INT4 bound of its group. NaN/Inf: rejected.
 */
public final class OutlierCodec implements Codec {
    /** Bits one outlier costs: a 16-bit offset in its block and a 16-bit value. */
    public static final int BITS_PER_OUTLIER = 32;
    /** Elements per block of the outlier offsets (an offset is a u16). */
    public static final int OUTLIER_BLOCK = 1 << 16;
    private static final int BITS = 4;

    private final Scheme scheme;
    private final int group;
    private final boolean asym;
    private final OutlierBudget budget;
    private final OutlierSelector selector;

    /** The codec with the selector the scheme names; select=saliency needs a calibration profile. */
    public OutlierCodec(Scheme scheme) {
        this(scheme, selectorFor(scheme));
    }

    /** The codec with an explicit selector (e.g. one built from calibration statistics). */
    public OutlierCodec(Scheme scheme, OutlierSelector selector) {
        if (scheme.kind() != SchemeKind.INT4_OUTLIERS) {
            throw new IllegalArgumentException("OutlierCodec does not handle " + scheme);
        }
        this.scheme = scheme;
        this.group = scheme.intParam("group");
        this.asym = scheme.param("mode").equals("asym");
        this.budget = OutlierBudget.parse(scheme.param("budget"));
        this.selector = Objects.requireNonNull(selector, "selector");
    }

    private static OutlierSelector selectorFor(Scheme scheme) {
        String select = scheme.param("select");
        if (select.equals("magnitude")) {
            return OutlierSelector.byMagnitude();
        }
        if (select.equals("error")) { // without a profile every input channel counts the same
            if (scheme.param("mode").equals("asym")) {
                throw new IllegalArgumentException(scheme.kind().cliName() + ": select=error models the symmetric "
                        + "grid; use mode=sym");
            }
            return io.quantkit.quant.ErrorGainSelector.of(null, scheme.intParam("group"));
        }
        throw new IllegalArgumentException(scheme.kind().cliName() + ": select=" + select
                + " needs a calibration profile, and this codec was given none (use select=magnitude)");
    }

    @Override
    public Scheme scheme() {
        return scheme;
    }

    /** How many outliers a tensor of this shape gets under the scheme's budget. */
    public int outlierCount(Shape shape) {
        long n = shape.numel();
        if (budget.bitsPerWeight()) {
            GroupedInt grid = new GroupedInt(shape, BITS, group, asym);
            long groups = (long) grid.scaleCount();
            long baseBits = 8L * ((n * BITS + 7) / 8) + 16L * groups + (asym ? 8L * groups : 0);
            double spare = budget.value() * n - baseBits - 32.0 * blockCount(n, 1);
            if (spare < BITS_PER_OUTLIER) {
                return 0; // target below the cost of the grid (and one outlier) alone: keep no outliers
            }
            return (int) Math.min(n, (long) Math.floor(spare / BITS_PER_OUTLIER));
        }
        return (int) Math.min(n, (long) Math.floor(budget.value() * n));
    }

    @Override
    public QuantizedTensor quantize(Tensor source) {
        Shape shape = source.shape();
        float[] w = CodecSupport.readFinite(source, scheme);
        int k = outlierCount(shape);
        int[] idx = selector.select(w, shape, k);
        checkIndexes(idx, w.length, k);
        float[] values = new float[k];
        for (int j = 0; j < k; j++) {
            values[j] = w[idx[j]];
            w[idx[j]] = 0; // w is our own copy
        }
        GroupedInt grid = new GroupedInt(shape, BITS, group, asym);
        List<StoredArray> arrays = new java.util.ArrayList<>(grid.encode(w, shape));
        arrays.addAll(outlierArrays(shape.numel(), idx, values));
        return new OutlierTensor(scheme, shape, grid, arrays, idx);
    }

    @Override
    public QuantizedTensor fromArrays(Shape shape, List<StoredArray> arrays) {
        GroupedInt grid = new GroupedInt(shape, BITS, group, asym);
        int used = grid.validate(scheme, shape, arrays);
        boolean legacy = used < arrays.size() && arrays.get(used).role().equals("outlier_index");
        CodecSupport.expectCount(scheme, arrays, used + (legacy ? 2 : 3));
        int[] idx = legacy ? legacyIndexes(arrays, used) : blockIndexes(shape.numel(), arrays, used);
        int k = idx.length;
        CodecSupport.expect(scheme, arrays, arrays.size() - 1, "outlier_value", Shape.of(k), DType.BF16, DType.F16);
        checkIndexes(idx, shape.numel(), k);
        return new OutlierTensor(scheme, shape, grid, arrays, idx);
    }

    /** quantkit.format 1: "outlier_index" I32 [k], flat indexes. */
    private int[] legacyIndexes(List<StoredArray> arrays, int at) {
        if (arrays.get(at).shape().rank() != 1) {
            throw new IllegalArgumentException(scheme + " 'outlier_index' must be 1-D");
        }
        long k = arrays.get(at).shape().numel();
        CodecSupport.expect(scheme, arrays, at, "outlier_index", Shape.of(k), DType.I32);
        ByteBuffer ib = arrays.get(at).data();
        int[] idx = new int[(int) k];
        for (int j = 0; j < k; j++) {
            idx[j] = ib.getInt(4 * j);
        }
        return idx;
    }

    /** quantkit.format 2: "outlier_block_end" I32 [B] and "outlier_offset" U16 [k]. */
    private int[] blockIndexes(long n, List<StoredArray> arrays, int at) {
        if (at + 1 >= arrays.size() || arrays.get(at + 1).shape().rank() != 1) {
            throw new IllegalArgumentException(scheme + " expects a 1-D 'outlier_offset' array at position "
                    + (at + 1));
        }
        long k = arrays.get(at + 1).shape().numel();
        int blocks = blockCount(n, k);
        CodecSupport.expect(scheme, arrays, at, "outlier_block_end", Shape.of(blocks), DType.I32);
        CodecSupport.expect(scheme, arrays, at + 1, "outlier_offset", Shape.of(k), DType.U16);
        ByteBuffer eb = arrays.get(at).data();
        ByteBuffer ob = arrays.get(at + 1).data();
        int[] idx = new int[(int) k];
        int j = 0;
        for (int b = 0; b < blocks; b++) {
            int end = eb.getInt(4 * b);
            if (end < j || end > k || (b == blocks - 1 && end != k)) {
                throw new IllegalArgumentException(scheme + " outlier_block_end[" + b + "] = " + end
                        + " is not between " + j + " and " + k + (b == blocks - 1 ? " or is not " + k : ""));
            }
            for (; j < end; j++) {
                idx[j] = (int) ((long) b * OUTLIER_BLOCK + Short.toUnsignedInt(ob.getShort(2 * j)));
            }
        }
        return idx;
    }

    /** Blocks of offsets stored for a tensor of n elements with k outliers: ⌈n / 65,536⌉, or 0 without outliers. */
    static int blockCount(long n, long k) {
        return k == 0 ? 0 : (int) ((n + OUTLIER_BLOCK - 1) / OUTLIER_BLOCK);
    }

    /**
     * The stored outlier arrays ("outlier_block_end", "outlier_offset", "outlier_value") of a tensor of {@code n}
     * elements whose outliers are at the strictly ascending flat indexes {@code idx} with {@code values}.
     */
    public static List<StoredArray> outlierArrays(long n, int[] idx, float[] values) {
        int k = idx.length;
        if (values.length != k) {
            throw new IllegalArgumentException(k + " outlier indexes but " + values.length + " values");
        }
        checkIndexes(idx, n, k);
        int blocks = blockCount(n, k);
        DType vt = valueType(values);
        ByteBuffer eb = CodecSupport.allocate(4L * blocks);
        ByteBuffer ob = CodecSupport.allocate(2L * k);
        ByteBuffer vb = CodecSupport.allocate(2L * k);
        int j = 0;
        for (int b = 0; b < blocks; b++) {
            long end = (long) (b + 1) * OUTLIER_BLOCK;
            while (j < k && idx[j] < end) {
                ob.putShort((short) (idx[j] & (OUTLIER_BLOCK - 1)));
                vb.putShort(vt == DType.BF16 ? Bf16.fromFloat(values[j]) : Fp16.fromFloat(values[j]));
                j++;
            }
            eb.putInt(j);
        }
        eb.flip();
        ob.flip();
        vb.flip();
        return List.of(StoredArray.of("outlier_block_end", DType.I32, Shape.of(blocks), eb),
                StoredArray.of("outlier_offset", DType.U16, Shape.of(k), ob),
                StoredArray.of("outlier_value", vt, Shape.of(k), vb));
    }

    private static void checkIndexes(int[] idx, long n, int k) {
        if (idx.length != k) {
            throw new IllegalArgumentException("outlier selector returned " + idx.length + " indexes, " + k
                    + " were asked for");
        }
        for (int j = 0; j < k; j++) {
            if (idx[j] < 0 || idx[j] >= n || (j > 0 && idx[j] <= idx[j - 1])) {
                throw new IllegalArgumentException("outlier index " + idx[j] + " at position " + j
                        + " is out of range 0.." + (n - 1) + " or not strictly ascending");
            }
        }
    }

    private static DType valueType(float[] v) {
        boolean bf16Exact = true;
        boolean f16Exact = true;
        boolean f16Range = true;
        for (float x : v) {
            bf16Exact &= Bf16.round(x) == x;
            f16Exact &= Fp16.round(x) == x;
            f16Range &= Math.abs(x) <= Scales16.F16_MAX;
        }
        if (bf16Exact) {
            return DType.BF16;
        }
        return f16Exact || f16Range ? DType.F16 : DType.BF16;
    }

    private static final class OutlierTensor extends PackedTensor {
        private final GroupedInt.Decoder dec;
        private final int[] index;
        private final float[] value;

        /** {@code arrays} as stored (either layout, the values last); {@code index} the flat indexes they hold. */
        OutlierTensor(Scheme scheme, Shape shape, GroupedInt grid, List<StoredArray> arrays, int[] index) {
            super(scheme, shape, arrays);
            this.dec = grid.new Decoder(arrays);
            StoredArray values = arrays.get(arrays.size() - 1);
            int k = index.length;
            this.index = index;
            this.value = new float[k];
            ByteBuffer vb = values.data();
            boolean bf16 = values.dtype() == DType.BF16;
            for (int j = 0; j < k; j++) {
                short h = vb.getShort(2 * j);
                value[j] = bf16 ? Bf16.toFloat(h) : Fp16.toFloat(h);
            }
        }

        @Override
        public float getFloat(long i) {
            checkIndex(i);
            int j = Arrays.binarySearch(index, (int) i);
            return j >= 0 ? value[j] : dec.get(i);
        }

        @Override
        public void dequantize(long from, float[] dst, int off, int len) {
            checkRange(from, dst, off, len);
            dec.decode(from, dst, off, len);
            int j = Arrays.binarySearch(index, (int) from);
            if (j < 0) {
                j = -j - 1;
            }
            long end = from + len;
            for (; j < index.length && index[j] < end; j++) {
                dst[off + (int) (index[j] - from)] = value[j];
            }
        }
    }
}
