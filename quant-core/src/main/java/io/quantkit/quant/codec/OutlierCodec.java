package io.quantkit.quant.codec;

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
import java.util.Locale;
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
 * layout:
 *   "codes", "scales"[, "zeros"]   as IntCodec with bits=4
 *   "outlier_index" I32 [k]        flat row-major element indexes, strictly ascending
 *   "outlier_value" BF16|F16 [k]   BF16 if every outlier is exactly a bf16 value (a bf16 checkpoint), else F16
 *                                  if every one is exact in f16, else F16 when all are ≤ 65504 in magnitude
 *                                  (rounded to nearest even), else BF16 (rounded to nearest even)
 * budget: "0.5%" or "0.005" → k = ⌊fraction · n⌋;  "4.6bpw" → the largest k ≥ 0 with
 *         8·(bytes of codes, scales, zeros) + 48·k ≤ 4.6·n  (an outlier costs 32 index + 16 value bits);
 *         when the grid alone already costs more than the target (tiny tensors), k = 0 and the tensor
 *         exceeds the target rather than failing a whole-model conversion
 * </pre>
 * Error: outliers exact (or within half an f16 ulp when the source is neither bf16 nor f16); every other
 * element within the INT4 bound of its group. NaN/Inf: rejected.
 */
public final class OutlierCodec implements Codec {
    /** Bits one outlier costs: a 32-bit index and a 16-bit value. */
    public static final int BITS_PER_OUTLIER = 48;
    private static final int BITS = 4;

    private final Scheme scheme;
    private final int group;
    private final boolean asym;
    private final Budget budget;
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
        this.budget = Budget.parse(scheme.param("budget"));
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
        if (budget.bpw) {
            GroupedInt grid = new GroupedInt(shape, BITS, group, asym);
            long groups = (long) grid.scaleCount();
            long baseBits = 8L * ((n * BITS + 7) / 8) + 16L * groups + (asym ? 8L * groups : 0);
            double spare = budget.value * n - baseBits;
            if (spare <= 0) {
                return 0; // target below the cost of the grid alone (tiny tensors): keep no outliers
            }
            return (int) Math.min(n, (long) Math.floor(spare / BITS_PER_OUTLIER));
        }
        return (int) Math.min(n, (long) Math.floor(budget.value * n));
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
        DType vt = valueType(values);
        ByteBuffer ib = CodecSupport.allocate(4L * k);
        ByteBuffer vb = CodecSupport.allocate(2L * k);
        for (int j = 0; j < k; j++) {
            ib.putInt(idx[j]);
            vb.putShort(vt == DType.BF16 ? Bf16.fromFloat(values[j]) : Fp16.fromFloat(values[j]));
        }
        ib.flip();
        vb.flip();
        arrays.add(StoredArray.of("outlier_index", DType.I32, Shape.of(k), ib));
        arrays.add(StoredArray.of("outlier_value", vt, Shape.of(k), vb));
        return new OutlierTensor(scheme, shape, grid, arrays);
    }

    @Override
    public QuantizedTensor fromArrays(Shape shape, List<StoredArray> arrays) {
        GroupedInt grid = new GroupedInt(shape, BITS, group, asym);
        int used = grid.validate(scheme, shape, arrays);
        CodecSupport.expectCount(scheme, arrays, used + 2);
        if (used < arrays.size() && arrays.get(used).shape().rank() != 1) {
            throw new IllegalArgumentException(scheme + " 'outlier_index' must be 1-D");
        }
        long k = arrays.get(used).shape().numel();
        CodecSupport.expect(scheme, arrays, used, "outlier_index", Shape.of(k), DType.I32);
        CodecSupport.expect(scheme, arrays, used + 1, "outlier_value", Shape.of(k), DType.BF16, DType.F16);
        ByteBuffer ib = arrays.get(used).data();
        int[] idx = new int[(int) k];
        for (int j = 0; j < k; j++) {
            idx[j] = ib.getInt(4 * j);
        }
        checkIndexes(idx, shape.numel(), (int) k);
        return new OutlierTensor(scheme, shape, grid, arrays);
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

    /** A parsed budget: a fraction of the elements, or a bits-per-weight target. */
    private static final class Budget {
        final String text;
        final boolean bpw;
        final double value;

        private Budget(String text, boolean bpw, double value) {
            this.text = text;
            this.bpw = bpw;
            this.value = value;
        }

        static Budget parse(String text) {
            String t = text.trim().toLowerCase(Locale.ROOT);
            try {
                if (t.endsWith("bpw")) {
                    double b = Double.parseDouble(t.substring(0, t.length() - 3).trim());
                    if (!(b > 0 && b <= 64)) {
                        throw new IllegalArgumentException("budget " + text + " must be in (0, 64] bits per weight");
                    }
                    return new Budget(text, true, b);
                }
                double f = t.endsWith("%") ? Double.parseDouble(t.substring(0, t.length() - 1).trim()) / 100
                        : Double.parseDouble(t);
                if (!(f >= 0 && f <= 1)) {
                    throw new IllegalArgumentException("budget " + text + " must be a fraction in 0..1 (0%..100%)");
                }
                return new Budget(text, false, f);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("budget '" + text
                        + "' is neither a fraction (0.5%, 0.005) nor a bits-per-weight target (4.6bpw)", e);
            }
        }
    }

    private static final class OutlierTensor extends PackedTensor {
        private final GroupedInt.Decoder dec;
        private final int[] index;
        private final float[] value;

        OutlierTensor(Scheme scheme, Shape shape, GroupedInt grid, List<StoredArray> arrays) {
            super(scheme, shape, arrays);
            int used = arrays.size() - 2;
            this.dec = grid.new Decoder(arrays);
            StoredArray ia = arrays.get(used);
            StoredArray va = arrays.get(used + 1);
            int k = (int) ia.shape().numel();
            this.index = new int[k];
            this.value = new float[k];
            ByteBuffer ib = ia.data();
            ByteBuffer vb = va.data();
            boolean bf16 = va.dtype() == DType.BF16;
            for (int j = 0; j < k; j++) {
                index[j] = ib.getInt(4 * j);
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
