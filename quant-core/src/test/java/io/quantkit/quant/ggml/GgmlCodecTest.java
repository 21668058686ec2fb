package io.quantkit.quant.ggml;

import static io.quantkit.quant.ggml.GgmlGoldenTest.assertBytes;
import static io.quantkit.quant.ggml.GgmlGoldenTest.assertFloatsIdentical;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quantkit.format.Fp16;
import io.quantkit.quant.Codec;
import io.quantkit.quant.Codecs;
import io.quantkit.quant.QuantizedTensor;
import io.quantkit.quant.Scheme;
import io.quantkit.quant.SchemeKind;
import io.quantkit.tensor.DType;
import io.quantkit.tensor.FloatTensor;
import io.quantkit.tensor.Shape;
import io.quantkit.tensor.StoredArray;
import io.quantkit.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

class GgmlCodecTest {
    private static final long SEED = 20261124L;

    enum Quantizable {
        Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, MXFP4, TQ1_0, TQ2_0;

        GgmlType type() {
            return GgmlType.valueOf(name());
        }
    }

    enum GgmlScheme {
        Q8_0, Q4_0, Q4_1, TQ1_0, TQ2_0, MXFP4;

        Codec codec() {
            return Codecs.forScheme(Scheme.of(SchemeKind.valueOf(name())));
        }

        GgmlType type() {
            return GgmlType.valueOf(name());
        }
    }

    /** Random blocks with awkward content: the fast loops must give the scalar reference's bytes. */
    @ParameterizedTest
    @EnumSource(Quantizable.class)
    void fastQuantizeEqualsReference(Quantizable q) {
        GgmlType type = q.type();
        BlockFormat f = GgmlQuants.format(type);
        SplittableRandom rnd = new SplittableRandom(SEED + q.ordinal());
        int bs = type.blockSize();
        int blocks = 4000;
        float[] x = new float[blocks * bs];
        for (int b = 0; b < blocks; b++) {
            int kind = b % 8;
            double scale = Math.scalb(1.0, rnd.nextInt(-40, 20));
            for (int j = 0; j < bs; j++) {
                int i = b * bs + j;
                x[i] = switch (kind) {
                    case 0 -> (float) (rnd.nextGaussian() * scale);
                    case 1 -> (float) (rnd.nextInt(-16, 17) * 0.5 * scale); // many exact ties
                    case 2 -> j == 3 ? (float) (-scale * 1000) : (float) (rnd.nextGaussian() * scale);
                    case 3 -> rnd.nextInt(4) == 0 ? 0f : -0f;
                    case 4 -> (float) (rnd.nextGaussian() * 1e-40); // float32 subnormals
                    case 5 -> (float) (rnd.nextInt(-127, 128) * scale / 127.0);
                    case 6 -> Float.intBitsToFloat(rnd.nextInt()) / 1e30f * 0 + (float) (rnd.nextDouble() * scale);
                    default -> (float) (rnd.nextInt(-8, 8) + 0.5);
                };
                if (!Float.isFinite(x[i])) {
                    x[i] = 0f;
                }
            }
        }
        byte[] fast = new byte[blocks * type.blockBytes()];
        byte[] ref = new byte[fast.length];
        assertTrue(f.quantize(x, 0, fast, 0, blocks), "finite input reported as non-finite");
        for (int b = 0; b < blocks; b++) {
            f.quantizeBlockReference(x, b * bs, ref, b * type.blockBytes());
        }
        assertBytes(ref, fast, type + " fast vs reference, seed " + (SEED + q.ordinal()));
    }

    /**
     * The fast loops on block counts that fit no vector lane or chunk (0, 1, 31, 33, 1021), at an odd offset:
     * finite input gives the reference bytes and reports true; one NaN or infinity anywhere reports false.
     */
    @ParameterizedTest
    @EnumSource(Quantizable.class)
    void fastQuantizeReportsNonFiniteValuesAnywhere(Quantizable q) {
        GgmlType type = q.type();
        BlockFormat f = GgmlQuants.format(type);
        int bs = type.blockSize();
        int bb = type.blockBytes();
        long seed = SEED + 100 + q.ordinal();
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] bad = {Float.NaN, Float.intBitsToFloat(0xffc00000), Float.POSITIVE_INFINITY,
            Float.NEGATIVE_INFINITY, Float.intBitsToFloat(0x7f800001)};
        for (int blocks : new int[] {0, 1, 31, 33, 1021}) {
            int xo = 3;
            int yo = 5;
            int n = blocks * bs;
            float[] x = new float[xo + n + 7];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (rnd.nextGaussian() * 0.02);
            }
            x[x.length - 1] = Float.NaN; // just past the input: must not be read
            x[0] = Float.NaN;
            byte[] fast = new byte[yo + blocks * bb + 3];
            byte[] ref = new byte[fast.length];
            assertTrue(f.quantize(x, xo, fast, yo, blocks), type + " " + blocks + " blocks, seed " + seed);
            for (int b = 0; b < blocks; b++) {
                f.quantizeBlockReference(x, xo + b * bs, ref, yo + b * bb);
            }
            assertBytes(ref, fast, type + " " + blocks + " blocks at offset " + xo + ", seed " + seed);
            if (n == 0) {
                continue;
            }
            int[] at = {0, 1, bs - 1, Math.min(bs, n - 1), n / 2, n - 2, n - 1, rnd.nextInt(n), rnd.nextInt(n)};
            for (int p : at) {
                for (float v : bad) {
                    float keep = x[xo + p];
                    x[xo + p] = v;
                    assertFalse(f.quantize(x, xo, fast, yo, blocks), type + ": " + v + " at " + p + " of "
                            + blocks + " blocks not reported, seed " + seed);
                    x[xo + p] = keep;
                }
            }
        }
    }

    /** The index named for a non-finite value is right across the codec's chunk boundaries. */
    @ParameterizedTest
    @EnumSource(GgmlScheme.class)
    void nonFiniteIndexIsRightAcrossChunks(GgmlScheme s) {
        int cols = 4096;
        int rows = 7;
        for (int at : new int[] {8191, 8192, 8193, 16384 + 255, rows * cols - 1}) {
            float[] x = new float[rows * cols];
            x[at] = Float.NEGATIVE_INFINITY;
            if (at + 300 < x.length) {
                x[at + 300] = Float.NaN;
            }
            Tensor t = FloatTensor.wrap(Shape.of(rows, cols), x);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.codec().quantize(t));
            assertTrue(e.getMessage().contains("-Infinity at index " + at + ":"), e.getMessage());
        }
    }

    /** Decoding whole blocks equals decoding element by element (the readable definition). */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "MXFP4", "TQ1_0", "TQ2_0",
        "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K", "F64", "I8", "I16", "I32", "I64"})
    void fastDequantizeEqualsDecode(GgmlType type) {
        SplittableRandom rnd = new SplittableRandom(SEED);
        int blocks = 37;
        byte[] y = new byte[blocks * type.blockBytes()];
        for (int i = 0; i < y.length; i++) {
            y[i] = (byte) rnd.nextInt();
        }
        float[] fast = new float[blocks * type.blockSize()];
        GgmlQuants.dequantize(type, y, 0, fast, 0, fast.length);
        BlockFormat f = GgmlQuants.format(type);
        ByteBuffer buf = ByteBuffer.wrap(y).order(ByteOrder.LITTLE_ENDIAN);
        float[] one = new float[fast.length];
        for (int b = 0; b < blocks; b++) {
            for (int j = 0; j < type.blockSize(); j++) {
                one[b * type.blockSize() + j] = f.decode(buf, b * type.blockBytes(), j);
            }
        }
        assertFloatsIdentical(one, fast, type + " seed " + SEED);
    }

    /**
     * quantize(dequantize(q)) == q. ggml guarantees it for Q8_0, Q4_0, Q5_0, TQ1_0, TQ2_0 (the block maximum
     * decodes to exactly ±127d, -8d, -16d, ±d, and requantizing recovers d and every code) and MXFP4 (decoded
     * values lie on the grid of the same exponent) whenever the stored scale is not zero. Not for Q4_1/Q5_1:
     * their decoded maximum q*d + m is rounded, so d is recomputed from a rounded range and may change.
     */
    @ParameterizedTest
    @EnumSource(value = Quantizable.class, names = {"Q8_0", "Q4_0", "Q5_0", "MXFP4", "TQ1_0", "TQ2_0"})
    void requantizingDecodedValuesGivesTheSameBytes(Quantizable q) {
        GgmlType type = q.type();
        SplittableRandom rnd = new SplittableRandom(SEED + 7);
        int n = type.blockSize() * 300;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (rnd.nextGaussian() * Math.scalb(1.0, (i / type.blockSize()) % 24 - 12));
        }
        byte[] y = new byte[(int) type.rowBytes(n)];
        GgmlQuants.quantize(type, x, 0, y, 0, n);
        float[] back = new float[n];
        GgmlQuants.dequantize(type, y, 0, back, 0, n);
        byte[] again = new byte[y.length];
        GgmlQuants.quantize(type, back, 0, again, 0, n);
        assertBytes(y, again, type + " round trip, seed " + (SEED + 7));
    }

    @ParameterizedTest
    @EnumSource(value = Quantizable.class, names = {"Q4_1", "Q5_1"})
    void roundTripIsNotGuaranteedWithAMinimum(Quantizable q) {
        GgmlType type = q.type();
        SplittableRandom rnd = new SplittableRandom(SEED + 11);
        int n = 32 * 2000;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (-13.7 + 4e-6 * rnd.nextGaussian()); // a large minimum, a tiny spread
        }
        byte[] y = new byte[(int) type.rowBytes(n)];
        GgmlQuants.quantize(type, x, 0, y, 0, n);
        float[] back = new float[n];
        GgmlQuants.dequantize(type, y, 0, back, 0, n);
        byte[] again = new byte[y.length];
        GgmlQuants.quantize(type, back, 0, again, 0, n);
        int changed = 0;
        for (int b = 0; b < n / 32; b++) {
            if (!java.util.Arrays.equals(y, b * type.blockBytes(), (b + 1) * type.blockBytes(),
                    again, b * type.blockBytes(), (b + 1) * type.blockBytes())) {
                changed++;
            }
        }
        assertTrue(changed > 0, type + ": expected some blocks not to round-trip (seed " + (SEED + 11) + ")");
    }

    @ParameterizedTest
    @EnumSource(GgmlScheme.class)
    void rowsThatDoNotFitTheBlockAreRejected(GgmlScheme s) {
        int bs = s.type().blockSize();
        for (long len : new long[] {1, 17, bs + 1, bs - 1, 2 * bs + 31}) {
            Tensor t = FloatTensor.of(Shape.of(2, len), new float[(int) (2 * len)]);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.codec().quantize(t));
            assertTrue(e.getMessage().contains("multiple of " + bs), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> s.codec().quantize(FloatTensor.of(Shape.of(), new float[1])));
    }

    @ParameterizedTest
    @EnumSource(GgmlScheme.class)
    void nonFiniteInputNamesTheFirstBadIndex(GgmlScheme s) {
        int n = s.type().blockSize() * 5;
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            float[] x = new float[n * 3];
            x[n + 13] = bad;
            x[2 * n + 1] = Float.NaN;
            Tensor t = FloatTensor.of(Shape.of(3, n), x);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.codec().quantize(t));
            assertTrue(e.getMessage().contains("index " + (n + 13)), e.getMessage());
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgmlScheme.class, names = {"Q8_0", "Q4_0", "Q4_1", "TQ1_0", "TQ2_0"})
    void scalesBeyondFp16AreRejected(GgmlScheme s) {
        int bs = s.type().blockSize();
        float[] x = new float[bs * 2];
        x[bs + 2] = 1e10f;
        Tensor t = FloatTensor.of(Shape.of(bs * 2), x);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.codec().quantize(t));
        assertTrue(e.getMessage().contains("index " + bs) && e.getMessage().contains("overflows"), e.getMessage());
    }

    /**
     * The row function is ggml's reference quantizer and, like it, writes a scale beyond the fp16 range as an
     * infinity (the codecs above reject such a block). Expected bytes worked out by hand from
     * {@code quantize_row_q8_0_ref} / {@code quantize_row_q4_0_ref}: q8_0 d = 1e10/127 and q4_0 d = 1e10/-8 round to
     * +Inf (0x7c00) and -Inf (0xfc00); the big value codes to 127 (q8_0) and to (int8) 0.5 = 0 (q4_0), zeros to 0
     * and to 8.
     */
    @Test
    void rowFunctionWritesAnOverflowingScaleAsGgmlDoes() {
        float[] x = new float[32];
        x[2] = 1e10f;
        byte[] q8 = new byte[34];
        GgmlQuants.quantize(GgmlType.Q8_0, x, 0, q8, 0, 32);
        byte[] want8 = new byte[34];
        want8[1] = 0x7c;
        want8[2 + 2] = 127;
        assertBytes(want8, q8, "q8_0");
        byte[] q4 = new byte[18];
        GgmlQuants.quantize(GgmlType.Q4_0, x, 0, q4, 0, 32);
        byte[] want4 = new byte[18];
        want4[1] = (byte) 0xfc;
        java.util.Arrays.fill(want4, 2, 18, (byte) 0x88);
        want4[2 + 2] = (byte) 0x80; // low nibble: element 2 (0), high nibble: element 18 (8)
        assertBytes(want4, q4, "q4_0");
    }

    @Test
    void mxfp4TakesTheWholeFloatRange() {
        float[] x = new float[32];
        x[0] = Float.MAX_VALUE;
        x[1] = -1e38f;
        QuantizedTensor q = GgmlScheme.MXFP4.codec().quantize(FloatTensor.of(Shape.of(32), x));
        assertEquals(0x1p127f * 1.5f, q.getFloat(0), 0f); // 3.4e38 → 6 * 2^(252-128)/... = 1.5 * 2^127
    }

    @ParameterizedTest
    @EnumSource(GgmlScheme.class)
    void shapesEmptyVectorAndHigherRank(GgmlScheme s) {
        int bs = s.type().blockSize();
        Codec c = s.codec();
        QuantizedTensor empty = c.quantize(FloatTensor.of(Shape.of(0, bs), new float[0]));
        assertEquals(0, empty.storageBytes());
        assertEquals(Shape.of(0, s.type().blockBytes()), empty.arrays().get(0).shape());
        QuantizedTensor noCols = c.quantize(FloatTensor.of(Shape.of(3, 0), new float[0]));
        assertEquals(Shape.of(3, 0), noCols.arrays().get(0).shape());

        SplittableRandom rnd = new SplittableRandom(SEED);
        float[] x = new float[2 * 3 * bs * 2];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        QuantizedTensor q3 = c.quantize(FloatTensor.of(Shape.of(2, 3, 2L * bs), x));
        StoredArray blocks = q3.arrays().get(0);
        assertEquals("blocks", blocks.role());
        assertEquals(DType.U8, blocks.dtype());
        assertEquals(Shape.of(6, 2L * s.type().blockBytes()), blocks.shape());
        assertEquals(s.type().bitsPerWeight(), q3.bitsPerWeight(), 1e-12);
        assertEquals(s.name().toLowerCase(java.util.Locale.ROOT), q3.format());
        // the same bytes as quantizing the flat row
        byte[] flat = new byte[(int) s.type().rowBytes(x.length)];
        GgmlQuants.quantize(s.type(), x, 0, flat, 0, x.length);
        byte[] stored = new byte[flat.length];
        blocks.data().get(stored);
        assertBytes(flat, stored, "rank 3");
        // fromArrays rebuilds an equal tensor; wrong arrays are rejected
        QuantizedTensor back = c.fromArrays(q3.shape(), q3.arrays());
        assertFloatsIdentical(q3.toFloatArray(), back.toFloatArray(), "fromArrays");
        assertThrows(IllegalArgumentException.class, () -> c.fromArrays(Shape.of(6, 2L * bs + bs), q3.arrays()));
        assertThrows(IllegalArgumentException.class, () -> c.fromArrays(q3.shape(), List.of()));
        assertThrows(IllegalArgumentException.class, () -> c.fromArrays(q3.shape(),
                List.of(StoredArray.of("codes", DType.U8, blocks.shape(), blocks.data()))));
    }

    @Test
    void wrapReadsEveryDecodableType() {
        SplittableRandom rnd = new SplittableRandom(SEED);
        for (GgmlType type : GgmlType.values()) {
            Shape shape = Shape.of(3, 2L * type.blockSize());
            byte[] b = new byte[(int) type.tensorBytes(shape.rowLength(), shape.numel())];
            for (int i = 0; i < b.length; i++) {
                b[i] = (byte) rnd.nextInt(0, 0x7c); // keeps fp16/bf16 fields finite
            }
            if (!GgmlTensors.canWrap(type)) {
                assertThrows(UnsupportedOperationException.class,
                        () -> GgmlTensors.wrap(type, shape, ByteBuffer.wrap(b)), type.toString());
                continue;
            }
            Tensor t = GgmlTensors.wrap(type, shape, ByteBuffer.wrap(b));
            assertEquals(shape, t.shape());
            assertEquals(b.length, t.storageBytes(), type.toString());
            float[] all = t.toFloatArray();
            for (int i = 0; i < all.length; i += 7) {
                assertEquals(Float.floatToRawIntBits(all[i]), Float.floatToRawIntBits(t.getFloat(i)), type + " " + i);
            }
            if (GgmlGoldenTest.schemeKind(type) != null || type == GgmlType.F32 || type == GgmlType.BF16) {
                assertInstanceOf(QuantizedTensor.class, t, type.toString());
            }
            assertThrows(IllegalArgumentException.class,
                    () -> GgmlTensors.wrap(type, shape, ByteBuffer.wrap(b, 0, b.length - 1)), type.toString());
        }
        assertEquals(Fp16.toFloat((short) 0x3c00), GgmlTensors.wrap(GgmlType.F16, Shape.of(1),
                ByteBuffer.wrap(new byte[] {0, 0x3c})).getFloat(0), 0f);
        assertThrows(IllegalArgumentException.class,
                () -> GgmlTensors.wrap(GgmlType.Q4_0, Shape.of(2, 48), ByteBuffer.wrap(new byte[54])));
    }
}
