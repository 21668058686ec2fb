package io.quantkit.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.quantkit.format.Bf16;
import io.quantkit.format.Fp16;
import io.quantkit.tensor.FloatTensor;
import io.quantkit.tensor.Shape;
import io.quantkit.tensor.Tensor;
import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The caller-buffer paths of {@link Codec} ({@code quantizeInto} into a {@code byte[]} and into a
 * {@link ByteBuffer}) against the allocating {@link Codec#quantize}: the same bytes on random, special and
 * odd-length inputs at odd offsets, nothing written outside the range, the same errors with the same messages.
 * The dense codecs are also checked against the scalar conversions of {@code format/} (the specification); the
 * ggml types against the golden bytes of an independent implementation in {@code GgmlGoldenTest}. quant-simd
 * runs this class again through its vector kernels.
 */
class CodecIntoTest {
    private static final long SEED = 0x1470_2026L;
    /** The kinds stored as one array in element order: the ones with a caller-buffer path. */
    static final Set<SchemeKind> INTO = EnumSet.of(SchemeKind.F32, SchemeKind.BF16, SchemeKind.F16, SchemeKind.Q8_0,
            SchemeKind.Q4_0, SchemeKind.Q4_1, SchemeKind.TQ1_0, SchemeKind.TQ2_0, SchemeKind.MXFP4);
    private static final byte GUARD = (byte) 0xa5;

    private static int blockOf(SchemeKind k) {
        int b = SchemeTableTest.ggmlBlock(k);
        return b == 0 ? 1 : b;
    }

    /** Lengths: zero, one block, prime numbers of blocks, and (dense) counts that fit no vector width. */
    private static int[] counts(SchemeKind k) {
        int b = blockOf(k);
        if (b == 1) {
            return new int[] {0, 1, 7, 15, 16, 17, 31, 33, 64, 1021, 4096, 4101, (1 << 14) + 3};
        }
        return new int[] {0, b, 2 * b, 3 * b, 31 * b, 33 * b, 257 * b};
    }

    /**
     * N(0, σ²) with σ from 2^-20 to 2^4 by block (every block scale fits fp16), values at half steps (k + 0.5)·σ/8
     * and (k + 0.5)·σ/127, exact and negative zeros, subnormals, a large negative maximum and an outlier. (The exact
     * rounding ties of each ggml type are in the golden files, which {@code GgmlGoldenTest} also runs through
     * {@code quantizeInto}.)
     */
    private static float[] sample(SplittableRandom rnd, int n, int block) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            int blockNo = i / Math.max(block, 32);
            double sigma = Math.scalb(1.0, blockNo % 25 - 20);
            x[i] = switch (rnd.nextInt(16)) {
                case 0 -> 0f;
                case 1 -> -0f;
                case 2 -> Float.MIN_VALUE * (1 + rnd.nextInt(100)) * (rnd.nextBoolean() ? 1 : -1);
                case 3 -> (float) ((rnd.nextInt(16) + 0.5) / 8 * sigma) * (rnd.nextBoolean() ? 1 : -1);
                case 4 -> (float) ((rnd.nextInt(127) + 0.5) / 127 * sigma) * (rnd.nextBoolean() ? 1 : -1);
                default -> (float) (rnd.nextGaussian() * sigma);
            };
        }
        if (n > 5) {
            x[n / 3] = (float) (-3000 * Math.scalb(1.0, (n / 3 / Math.max(block, 32)) % 25 - 20)); // negative maximum
            x[n - 2] *= 100; // an outlier
        }
        return x;
    }

    /** The stored array's bytes of {@code codec.quantize} for {@code x} as one row. */
    private static byte[] stored(Codec codec, float[] x) {
        QuantizedTensor q = codec.quantize(FloatTensor.of(Shape.of(x.length), x));
        assertEquals(1, q.arrays().size());
        ByteBuffer b = q.arrays().get(0).data().duplicate();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    @Test
    void theKindsWithACallerBufferPathAreExactlyTheOneArrayKinds() {
        Set<SchemeKind> into = EnumSet.noneOf(SchemeKind.class);
        for (SchemeKind k : SchemeKind.values()) {
            Codec c = Codecs.forScheme(Scheme.of(k));
            try {
                c.intoBytes(0);
                into.add(k);
            } catch (UnsupportedOperationException e) {
                assertTrue(e.getMessage().startsWith(k.cliName() + " stores more than one array"), e.getMessage());
                assertThrows(UnsupportedOperationException.class,
                        () -> c.quantizeInto(new float[32], 0, 32, new byte[1024], 0));
                Tensor t = FloatTensor.of(Shape.of(32), new float[32]);
                assertThrows(UnsupportedOperationException.class, () -> c.quantizeInto(t, ByteBuffer.allocate(1024)));
                assertTrue(c.quantize(FloatTensor.of(Shape.of(2, 32), new float[64])).arrays().size() > 1,
                        k + " refuses the caller-buffer path but stores one array");
            }
        }
        assertEquals(INTO, into);
    }

    @ParameterizedTest
    @EnumSource(SchemeKind.class)
    void intoBytesIsTheStoredSize(SchemeKind kind) {
        if (!INTO.contains(kind)) {
            return;
        }
        Codec c = Codecs.forScheme(Scheme.of(kind));
        int b = blockOf(kind);
        for (int count : counts(kind)) {
            assertEquals(stored(c, new float[count]).length, c.intoBytes(count), kind + " count " + count);
        }
        assertThrows(IllegalArgumentException.class, () -> c.intoBytes(-b));
        assertThrows(IllegalArgumentException.class, () -> c.intoBytes(Integer.MAX_VALUE * (long) b));
        if (b > 1) {
            for (int bad : new int[] {1, b - 1, b + 1, 3 * b + 7}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.intoBytes(bad));
                assertTrue(e.getMessage().contains("multiple of " + b), e.getMessage());
                assertThrows(IllegalArgumentException.class,
                        () -> c.quantizeInto(new float[bad], 0, bad, new byte[1 << 12], 0));
            }
        }
    }

    /** The bytes of the allocating path, into a caller's array at odd offsets; the bytes around it untouched. */
    @ParameterizedTest
    @EnumSource(SchemeKind.class)
    void intoAnArrayWritesTheStoredBytes(SchemeKind kind) {
        if (!INTO.contains(kind)) {
            return;
        }
        Codec c = Codecs.forScheme(Scheme.of(kind));
        long seed = SEED + kind.ordinal();
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int count : counts(kind)) {
            float[] x = sample(rnd, count, blockOf(kind));
            byte[] want = stored(c, x);
            checkSpec(kind, x, want, seed);
            for (int srcOff : new int[] {0, 1, 5}) {
                int dstOff = 3 + srcOff;
                float[] src = new float[srcOff + count + 2];
                Arrays.fill(src, Float.NaN); // outside the range: would fail every ggml type if read
                System.arraycopy(x, 0, src, srcOff, count);
                byte[] dst = new byte[dstOff + want.length + 4];
                Arrays.fill(dst, GUARD);
                assertEquals(want.length, c.quantizeInto(src, srcOff, count, dst, dstOff));
                assertBytes(want, Arrays.copyOfRange(dst, dstOff, dstOff + want.length),
                        kind + " count " + count + " srcOff " + srcOff + " seed " + seed);
                for (int i = 0; i < dst.length; i++) {
                    if ((i < dstOff || i >= dstOff + want.length) && dst[i] != GUARD) {
                        fail(kind + " count " + count + ": wrote byte " + i + " outside [" + dstOff + ", "
                                + (dstOff + want.length) + ")");
                    }
                }
            }
        }
    }

    /** Dense kinds: each code is the scalar conversion's (raw bits, {@code Bf16.fromFloat}, {@code Fp16.fromFloat}). */
    private static void checkSpec(SchemeKind kind, float[] x, byte[] got, long seed) {
        if (blockOf(kind) > 1) {
            return;
        }
        ByteBuffer b = ByteBuffer.wrap(got).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < x.length; i++) {
            int want = switch (kind) {
                case F32 -> Float.floatToRawIntBits(x[i]);
                case BF16 -> Bf16.fromFloat(x[i]);
                default -> Fp16.fromFloat(x[i]);
            };
            int have = kind == SchemeKind.F32 ? b.getInt(4 * i) : b.getShort(2 * i);
            if (have != want) {
                fail(kind + " element " + i + " (" + x[i] + "): code " + Integer.toHexString(have) + ", expected "
                        + Integer.toHexString(want) + " (seed " + seed + ")");
            }
        }
    }

    /** Dense kinds keep NaN (quieted, sign and top payload kept) and infinities; f16 overflows to infinity. */
    @ParameterizedTest
    @EnumSource(value = SchemeKind.class, names = {"F32", "BF16", "F16"})
    void denseKindsKeepNonFiniteValues(SchemeKind kind) {
        Codec c = Codecs.forScheme(Scheme.of(kind));
        float[] x = {Float.NaN, Float.intBitsToFloat(0xffc00001), Float.intBitsToFloat(0x7f800001),
            Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 65504f, 65520f, -65519.99f, Float.MAX_VALUE,
            Float.intBitsToFloat(0x7f7f8000), Float.intBitsToFloat(0x3f808000), 0x1p-24f, 0x1p-25f, -0f,
            1.00048828125f, 1.0009765625f, 3e-8f};
        float[] many = new float[3 * x.length + 5]; // past one vector of every width, with a tail
        for (int i = 0; i < many.length; i++) {
            many[i] = x[i % x.length];
        }
        byte[] dst = new byte[c.intoBytes(many.length)];
        c.quantizeInto(many, 0, many.length, dst, 0);
        checkSpec(kind, many, dst, SEED);
        assertBytes(stored(c, many), dst, kind + " special values");
    }

    /** NaN/Inf and an fp16 scale overflow: the message of {@link Codec#quantize}, indexes from {@code srcOff}. */
    @ParameterizedTest
    @EnumSource(value = SchemeKind.class, names = {"Q8_0", "Q4_0", "Q4_1", "TQ1_0", "TQ2_0", "MXFP4"})
    void badValuesGiveTheErrorsOfQuantize(SchemeKind kind) {
        Codec c = Codecs.forScheme(Scheme.of(kind));
        int bs = blockOf(kind);
        int n = 5 * bs;
        float[] bads = kind == SchemeKind.MXFP4 ? new float[] {Float.NaN, Float.POSITIVE_INFINITY,
            Float.NEGATIVE_INFINITY} : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
            1e10f};
        for (float bad : bads) {
            for (int at : new int[] {0, bs - 1, bs, 3 * bs + 13, n - 1}) {
                float[] x = new float[n];
                x[at] = bad;
                if (at + 2 < n && !Float.isFinite(bad)) {
                    x[at + 2] = Float.NaN; // the first bad index is named
                }
                String want = assertThrows(IllegalArgumentException.class,
                        () -> c.quantize(FloatTensor.of(Shape.of(n), x))).getMessage();
                assertTrue(want.contains("index " + (Float.isFinite(bad) ? at / bs * bs : at)), want);
                float[] src = new float[n + 7];
                System.arraycopy(x, 0, src, 7, n);
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> c.quantizeInto(src, 7, n, new byte[c.intoBytes(n)], 0));
                assertEquals(want, e.getMessage());
                ByteBuffer direct = ByteBuffer.allocateDirect(c.intoBytes(n));
                e = assertThrows(IllegalArgumentException.class,
                        () -> c.quantizeInto(FloatTensor.of(Shape.of(n), x), direct));
                assertEquals(want, e.getMessage());
            }
        }
    }

    @ParameterizedTest
    @EnumSource(SchemeKind.class)
    void rangesOutOfBoundsAreRejected(SchemeKind kind) {
        if (!INTO.contains(kind)) {
            return;
        }
        Codec c = Codecs.forScheme(Scheme.of(kind));
        int n = 2 * blockOf(kind);
        int bytes = c.intoBytes(n);
        float[] src = new float[n];
        assertThrows(IndexOutOfBoundsException.class, () -> c.quantizeInto(src, 1, n, new byte[bytes], 0));
        assertThrows(IndexOutOfBoundsException.class, () -> c.quantizeInto(src, -1, n, new byte[bytes], 0));
        assertThrows(IndexOutOfBoundsException.class, () -> c.quantizeInto(src, 0, n, new byte[bytes], 1));
        assertThrows(IndexOutOfBoundsException.class, () -> c.quantizeInto(src, 0, n, new byte[bytes - 1], 0));
        assertThrows(IndexOutOfBoundsException.class, () -> c.quantizeInto(src, 0, n, new byte[bytes], -1));
        ByteBuffer small = ByteBuffer.allocate(bytes + 3).position(4);
        assertThrows(BufferOverflowException.class,
                () -> c.quantizeInto(FloatTensor.of(Shape.of(2, n / 2), src), small));
    }

    /**
     * Into a buffer from its position: heap (with an array offset) and direct; a matrix, so ggml's rows and the
     * codecs' chunks both cross; the position advances by the bytes written.
     */
    @ParameterizedTest
    @EnumSource(SchemeKind.class)
    void intoABufferWritesTheStoredBytes(SchemeKind kind) {
        if (!INTO.contains(kind)) {
            return;
        }
        Codec c = Codecs.forScheme(Scheme.of(kind));
        long seed = SEED * 31 + kind.ordinal();
        SplittableRandom rnd = new SplittableRandom(seed);
        int b = blockOf(kind);
        long[][] shapes = {{b == 1 ? 5 : 9, b == 1 ? 4099 : 33L * b}, {129, b == 1 ? 257 : b}, {0, b}, {1, b}};
        for (long[] dims : shapes) {
            Shape shape = Shape.of(dims);
            float[] x = sample(rnd, (int) shape.numel(), b);
            Tensor t = FloatTensor.of(shape, x);
            byte[] want = bytesOf(c.quantize(t));
            assertBytes(stored(c, x), want, kind + " shape " + shape + ": a matrix stores its flat row's bytes");
            // a tensor that does not lend its array (read through dequantize, a chunk at a time)
            QuantizedTensor copied = c.quantize(new Copied(t));
            assertBytes(want, bytesOf(copied), kind + " shape " + shape + " through dequantize");
            ByteBuffer heap = ByteBuffer.allocate(want.length + 20).position(3).slice().position(5);
            ByteBuffer direct = ByteBuffer.allocateDirect(want.length + 20).position(5);
            for (ByteBuffer dst : new ByteBuffer[] {heap, direct}) {
                c.quantizeInto(t, dst);
                assertEquals(5 + want.length, dst.position(), kind + " position");
                byte[] got = new byte[want.length];
                dst.get(5, got);
                assertBytes(want, got, kind + " shape " + shape + (dst.isDirect() ? " direct" : " heap")
                        + " seed " + seed);
            }
        }
    }

    /** A float tensor read only through {@link Tensor#dequantize} (no {@link Tensor#readFloats}). */
    private static final class Copied implements Tensor {
        private final Tensor t;

        Copied(Tensor t) {
            this.t = t;
        }

        @Override
        public Shape shape() {
            return t.shape();
        }

        @Override
        public String format() {
            return t.format();
        }

        @Override
        public float getFloat(long index) {
            return t.getFloat(index);
        }

        @Override
        public void dequantize(long from, float[] dst, int off, int len) {
            t.dequantize(from, dst, off, len);
        }

        @Override
        public long storageBytes() {
            return t.storageBytes();
        }
    }

    @Test
    void aFloatTensorLendsExactlyTheRequestedRange() {
        float[] x = {1, 2, 3, 4, 5};
        FloatTensor t = FloatTensor.of(Shape.of(5), x);
        float[][] seen = new float[1][];
        assertTrue(t.readFloats(1, 3, (a, off, len) -> seen[0] = Arrays.copyOfRange(a, off, off + len)));
        assertArrayEquals(new float[] {2, 3, 4}, seen[0]);
        assertThrows(IndexOutOfBoundsException.class, () -> t.readFloats(3, 3, (a, off, len) -> { }));
        assertThrows(IndexOutOfBoundsException.class, () -> t.readFloats(-1, 1, (a, off, len) -> { }));
        assertFalse(new Copied(t).readFloats(0, 5, (a, off, len) -> fail("called")));
    }

    private static byte[] bytesOf(QuantizedTensor q) {
        ByteBuffer b = q.arrays().get(0).data().duplicate();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    private static void assertBytes(byte[] expected, byte[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        int i = Arrays.mismatch(expected, actual);
        if (i >= 0) {
            int from = Math.max(0, i - 4);
            fail(what + ": first difference at byte " + i + ": expected "
                    + HexFormat.of().formatHex(expected, from, Math.min(expected.length, i + 8)) + " got "
                    + HexFormat.of().formatHex(actual, from, Math.min(actual.length, i + 8)));
        }
        assertArrayEquals(expected, actual);
    }
}
