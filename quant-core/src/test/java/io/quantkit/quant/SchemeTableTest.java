package io.quantkit.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.quantkit.tensor.FloatTensor;
import io.quantkit.tensor.Shape;
import io.quantkit.tensor.StoredArray;
import io.quantkit.tensor.Tensor;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One table of tests that every scheme goes through: error within a bound derived from the format (computed
 * here from the input alone, not from the codec), re-quantization stability where the format guarantees it,
 * NaN/Inf handling, edge shapes (empty, one element, prime and one-past-a-group row lengths, 1-D and 3-D),
 * stored-array round trip, and bulk decoding equal to element decoding.
 */
class SchemeTableTest {
    static final long SEED = 0x5EED_2026L;

    /**
     * Kinds that have no codec yet (none today). When a kind is added without a codec it must be listed here;
     * when its codec lands, {@link #exceptionsAreExactlyTheKindsWithoutCodec} fails until it is removed here and
     * given a bound in {@link Bounds}.
     */
    static final Set<SchemeKind> WITHOUT_CODEC = EnumSet.noneOf(SchemeKind.class);

    /** ggml block types: rows must be a whole number of blocks (32, or 256 for tq1_0/tq2_0); rank ≥ 1. */
    static int ggmlBlock(SchemeKind kind) {
        return switch (kind) {
            case MXFP4, Q8_0, Q4_0, Q4_1 -> 32;
            case TQ1_0, TQ2_0 -> 256;
            default -> 0;
        };
    }

    /** Quantizing the dequantized result reproduces the stored arrays byte for byte. */
    static final Set<SchemeKind> REQUANT_EXACT = EnumSet.of(SchemeKind.F32, SchemeKind.BF16, SchemeKind.F16,
            SchemeKind.INT, SchemeKind.INT8, SchemeKind.INT4, SchemeKind.NF4, SchemeKind.FP8_E4M3, SchemeKind.FP8_E5M2);

    /** Dense kinds keep NaN/Inf (documented); every other kind rejects them. */
    static final Set<SchemeKind> KEEPS_NON_FINITE = EnumSet.of(SchemeKind.F32, SchemeKind.BF16, SchemeKind.F16);

    static final long[][] SHAPES = {
        {0}, {1}, {}, {31}, {33}, {172}, {257}, {3, 172}, {2, 3, 33}, {5, 257}, {3, 0}, {0, 5}, {4, 1}, {2, 129},
        {1, 32}, {5, 64}, {2, 256}, {2, 3, 256}, {768},
    };

    @Test
    void exceptionsAreExactlyTheKindsWithoutCodec() {
        Set<SchemeKind> missing = EnumSet.noneOf(SchemeKind.class);
        for (SchemeKind k : SchemeKind.values()) {
            try {
                Codecs.forScheme(Scheme.of(k));
            } catch (UnsupportedOperationException e) {
                missing.add(k);
            }
        }
        assertEquals(WITHOUT_CODEC, missing, "update WITHOUT_CODEC (and give the new codec a bound below)");
    }

    @ParameterizedTest
    @EnumSource(SchemeKind.class)
    void everyKindAtDefaults(SchemeKind kind) {
        if (WITHOUT_CODEC.contains(kind)) {
            assertThrows(UnsupportedOperationException.class, () -> Codecs.forScheme(Scheme.of(kind)));
            return;
        }
        checkScheme(Scheme.of(kind));
    }

    static Stream<String> variants() {
        return Stream.of("int:bits=2,group=32", "int:bits=3,group=64", "int:bits=5,group=0", "int:bits=6,group=7",
                "int:bits=7,group=16,asym", "int:bits=2,group=5,asym", "int:bits=8,group=32",
                "int8:asym", "int8:group=64", "int4:group=32,asym", "int4:group=64", "int4:group=0",
                "int4-outliers:budget=5%", "int4-outliers:budget=0.02,group=32", "int4-outliers:budget=5bpw,asym",
                "int4-outliers:budget=0", "ternary:scale=channel", "ternary:scale=group,group=32",
                "ternary:pack=base3", "ternary:scale=group,group=7,pack=base3", "nf4:block=32", "nf4:block=7",
                "fp8-e4m3:scale=channel", "fp8-e4m3:scale=block,block=16", "fp8-e4m3:scale=block,block=2,overflow=nan",
                "fp8-e5m2:scale=channel", "fp8-e5m2:scale=block,block=3", "fp8-e5m2:overflow=inf");
    }

    @ParameterizedTest
    @MethodSource("variants")
    void parameterVariants(String text) {
        checkScheme(Scheme.parse(text));
    }

    private static void checkScheme(Scheme scheme) {
        Codec codec = Codecs.forScheme(scheme);
        long seed = SEED ^ scheme.toString().hashCode();
        Random rnd = new Random(seed);
        for (long[] dims : SHAPES) {
            Shape shape = Shape.of(dims);
            float[] w = sample(rnd, (int) shape.numel(), shape.rowLength());
            String ctx = scheme + " shape " + shape + " seed " + seed;
            int block = ggmlBlock(scheme.kind());
            if (block > 0 && (shape.rank() == 0 || shape.rowLength() % block != 0)) {
                assertThrows(IllegalArgumentException.class, () -> codec.quantize(FloatTensor.of(shape, w)),
                        ctx + ": rows must be whole blocks");
                continue;
            }
            checkOne(codec, scheme, shape, w, ctx);
        }
        checkNonFinite(codec, scheme);
    }

    /** N(0, 0.02²) with a few large values and, from the third row on, one all-zero row. */
    static float[] sample(Random rnd, int n, long cols) {
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            w[i] = (float) (rnd.nextGaussian() * 0.02);
            if (rnd.nextInt(97) == 0) {
                w[i] *= 25;
            }
        }
        if (cols > 0 && n / cols >= 3) {
            Arrays.fill(w, (int) cols, (int) (2 * cols), 0f);
        }
        return w;
    }

    private static void checkOne(Codec codec, Scheme scheme, Shape shape, float[] w, String ctx) {
        QuantizedTensor q = codec.quantize(FloatTensor.of(shape, w));
        assertEquals(shape, q.shape(), ctx);
        assertEquals(scheme, q.scheme(), ctx);
        float[] d = q.toFloatArray();
        double[] bound = Bounds.of(scheme, w, shape);
        for (int i = 0; i < w.length; i++) {
            double err = Math.abs((double) w[i] - d[i]);
            if (!(err <= bound[i])) {
                fail(ctx + ": element " + i + " w=" + w[i] + " decoded " + d[i] + " error " + err
                        + " exceeds the bound " + bound[i]);
            }
        }
        // bulk decoding equals element decoding, also on unaligned sub-ranges
        for (int i = 0; i < w.length; i++) {
            assertEquals(Float.floatToRawIntBits(d[i]), Float.floatToRawIntBits(q.getFloat(i)), ctx + " element " + i);
        }
        if (w.length > 2) {
            float[] part = new float[w.length - 2];
            q.dequantize(1, part, 0, part.length);
            assertArrayEquals(Arrays.copyOfRange(d, 1, w.length - 1), part, ctx + " sub-range");
        }
        // storage accounting
        long bytes = 0;
        for (StoredArray a : q.arrays()) {
            bytes += a.byteSize();
        }
        assertEquals(bytes, q.storageBytes(), ctx);
        // the stored arrays alone rebuild the same tensor
        QuantizedTensor back = codec.fromArrays(shape, q.arrays());
        assertArrayEquals(bits(d), bits(back.toFloatArray()), ctx + " fromArrays");
        assertEquals(q.storageBytes(), back.storageBytes(), ctx);
        // re-quantizing the decoded values
        QuantizedTensor again = codec.quantize(FloatTensor.of(shape, d));
        boolean asym = scheme.params().containsKey("mode") && scheme.param("mode").equals("asym");
        if (REQUANT_EXACT.contains(scheme.kind()) && !asym && normalScales(q)) {
            assertStoredEqual(q, again, ctx + " re-quantized");
        } else if (scheme.kind() == SchemeKind.TERNARY) {
            // the scale may shrink (mean |w'| ≤ mean |w|) but every trit survives
            assertTrue(bytesOf(q.arrays().get(0)).equals(bytesOf(again.arrays().get(0))), ctx + " trits re-quantized");
        }
    }

    /**
     * Integer grids re-quantize exactly only when every non-zero 16-bit scale is a normal number: a subnormal
     * F16 scale rounded up can sit far enough above amax/qmax that the group's extreme lands one step short
     * of qmax, and the next pass then picks a smaller scale (documented in IntCodec).
     */
    private static boolean normalScales(QuantizedTensor q) {
        for (StoredArray a : q.arrays()) {
            if (a.role().equals("scales") && a.dtype() == io.quantkit.tensor.DType.F16) {
                ByteBuffer b = a.data();
                while (b.hasRemaining()) {
                    int h = b.getShort() & 0x7fff;
                    if (h != 0 && h < 0x0400) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    private static void checkNonFinite(Codec codec, Scheme scheme) {
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            float[] w = new float[512];
            w[0] = 0.5f;
            w[1] = -0.25f;
            w[2] = bad;
            w[3] = 0.125f;
            Tensor t = FloatTensor.of(Shape.of(2, 256), w);
            if (KEEPS_NON_FINITE.contains(scheme.kind())) {
                float got = codec.quantize(t).getFloat(2);
                assertEquals(Float.isNaN(bad), Float.isNaN(got), scheme + " keeps " + bad);
                if (!Float.isNaN(bad)) {
                    assertEquals(bad, got, scheme + " keeps " + bad);
                }
            } else {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> codec.quantize(t),
                        scheme + " must reject " + bad);
                assertTrue(e.getMessage().matches("(?s).*(element|index) 2\\b.*"), e.getMessage());
            }
        }
    }

    private static void assertStoredEqual(QuantizedTensor a, QuantizedTensor b, String ctx) {
        assertEquals(a.arrays().size(), b.arrays().size(), ctx);
        for (int i = 0; i < a.arrays().size(); i++) {
            StoredArray x = a.arrays().get(i);
            StoredArray y = b.arrays().get(i);
            assertEquals(x.role(), y.role(), ctx);
            assertEquals(x.dtype(), y.dtype(), ctx + " " + x.role());
            assertEquals(x.shape(), y.shape(), ctx + " " + x.role());
            assertEquals(bytesOf(x), bytesOf(y), ctx + " " + x.role());
        }
    }

    static List<Byte> bytesOf(StoredArray a) {
        ByteBuffer b = a.data();
        List<Byte> out = new ArrayList<>(b.remaining());
        while (b.hasRemaining()) {
            out.add(b.get());
        }
        return out;
    }

    static int[] bits(float[] f) {
        int[] r = new int[f.length];
        for (int i = 0; i < f.length; i++) {
            r[i] = Float.floatToRawIntBits(f[i]);
        }
        return r;
    }
}
