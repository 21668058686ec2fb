package io.quantkit.quant.ggml;

import static io.quantkit.quant.ggml.GgmlGoldenTest.assertBytes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quantkit.quant.Codec;
import io.quantkit.quant.Codecs;
import io.quantkit.quant.Scheme;
import io.quantkit.quant.SchemeKind;
import io.quantkit.tensor.FloatTensor;
import io.quantkit.tensor.Shape;
import io.quantkit.tensor.Tensor;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The bf16 input path ({@link BlockFormat#quantizeBf16}, fused for q8_0 and q4_0) against the scalar reference
 * ({@link BlockFormat#quantizeBlockReference} on the same values as floats): every finite bf16 bit pattern, ties of
 * ±max, zeros of both signs, subnormals, block counts that fit no chunk, and NaN/infinity anywhere.
 */
class Bf16QuantizeTest {
    private static final long SEED = 20261201L;

    enum Quantizable {
        Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, MXFP4, TQ1_0, TQ2_0;

        GgmlType type() {
            return GgmlType.valueOf(name());
        }
    }

    static float bf(short s) {
        return Float.intBitsToFloat(s << 16);
    }

    static boolean finite(short s) {
        return (s & 0x7fff) <= 0x7f7f;
    }

    /** The reference bytes of blocks of bf16 values, converted to float. */
    static byte[] reference(BlockFormat f, short[] s, int so, int blocks) {
        GgmlType t = f.type();
        float[] x = new float[blocks * t.blockSize()];
        for (int i = 0; i < x.length; i++) {
            x[i] = bf(s[so + i]);
        }
        byte[] ref = new byte[blocks * t.blockBytes()];
        for (int b = 0; b < blocks; b++) {
            f.quantizeBlockReference(x, b * t.blockSize(), ref, b * t.blockBytes());
        }
        return ref;
    }

    /**
     * Every finite bf16 pattern (65,280 of them) appears in a block, once as the block's largest magnitude with
     * seeded smaller neighbours, and once among random neighbours of any size: the fused loop gives the
     * reference's bytes.
     */
    @ParameterizedTest
    @EnumSource(Quantizable.class)
    void everyFiniteBf16PatternGivesTheReferenceBytes(Quantizable q) {
        BlockFormat f = GgmlQuants.format(q.type());
        if (q.type().blockSize() > 32) { // tq*: 256-element blocks; the default path, covered below on fewer blocks
            return;
        }
        int bs = q.type().blockSize();
        long seed = SEED + q.ordinal();
        SplittableRandom rnd = new SplittableRandom(seed);
        int finiteCount = 0;
        for (int v = 0; v < 65536; v++) {
            finiteCount += finite((short) v) ? 1 : 0;
        }
        assertEquals(65280, finiteCount);
        int blocks = 2 * finiteCount;
        short[] s = new short[blocks * bs];
        int b = 0;
        for (int v = 0; v < 65536; v++) {
            short p = (short) v;
            if (!finite(p)) {
                continue;
            }
            int mag = p & 0x7fff;
            for (int mode = 0; mode < 2; mode++, b++) {
                int at = rnd.nextInt(bs);
                for (int j = 0; j < bs; j++) {
                    short n;
                    if (mode == 0) { // smaller magnitudes, some equal (a tie of +max and -max now and then)
                        int m = rnd.nextInt(4) == 0 ? mag : rnd.nextInt(mag + 1);
                        n = (short) (m | (rnd.nextBoolean() ? 0x8000 : 0));
                    } else {
                        do {
                            n = (short) rnd.nextInt(65536);
                        } while (!finite(n));
                    }
                    s[b * bs + j] = n;
                }
                s[b * bs + at] = p;
            }
        }
        byte[] fast = new byte[blocks * q.type().blockBytes()];
        assertTrue(f.quantizeBf16(s, 0, new float[bs], fast, 0, blocks), "finite input reported as non-finite");
        assertBytes(reference(f, s, 0, blocks), fast, q + " bf16 path vs reference, seed " + seed);
    }

    /**
     * Awkward blocks (ties of ±max and exact halves, all zeros of either sign, subnormals, values near the fp16
     * scale's limit) on block counts 0, 1, 31, 33, 1021 at odd offsets; one NaN or infinity anywhere reports false.
     */
    @ParameterizedTest
    @EnumSource(Quantizable.class)
    void awkwardBlocksAndNonFiniteValues(Quantizable q) {
        GgmlType type = q.type();
        BlockFormat f = GgmlQuants.format(type);
        int bs = type.blockSize();
        int bb = type.blockBytes();
        long seed = SEED + 100 + q.ordinal();
        SplittableRandom rnd = new SplittableRandom(seed);
        short[] bad = {(short) 0x7fc0, (short) 0xffc0, (short) 0x7f80, (short) 0xff80, (short) 0x7f81};
        for (int blocks : new int[] {0, 1, 31, 33, type.blockSize() > 32 ? 65 : 1021}) {
            int so = 3;
            int yo = 5;
            int n = blocks * bs;
            short[] s = new short[so + n + 7];
            for (int b = 0; b < blocks; b++) {
                int kind = b % 7;
                int e = rnd.nextInt(1, 255); // exponent of the block's scale
                for (int j = 0; j < bs; j++) {
                    int i = so + b * bs + j;
                    int m = switch (kind) {
                        case 0 -> (e << 7) | rnd.nextInt(128); // one binade
                        case 1 -> j < 2 ? (e << 7) | 0x40 : rnd.nextInt(e << 7); // +max and -max tie below
                        case 2 -> 0; // zeros
                        case 3 -> rnd.nextInt(0x80); // bf16 subnormals
                        case 4 -> (Math.min(e, 0xfe) << 7) | 0x7f;
                        case 5 -> Float.floatToRawIntBits(rnd.nextInt(-16, 17) * 0.5f) >>> 16 & 0x7fff; // halves
                        default -> rnd.nextInt(0x7f80);
                    };
                    boolean neg = kind == 1 ? j == 1 : rnd.nextBoolean();
                    s[i] = (short) (m | (neg ? 0x8000 : 0));
                }
            }
            s[0] = bad[0];
            s[s.length - 1] = bad[0]; // just past the input: must not be read
            byte[] fast = new byte[yo + blocks * bb + 3];
            assertTrue(f.quantizeBf16(s, so, new float[bs], fast, yo, blocks), q + " " + blocks + " blocks");
            byte[] got = new byte[blocks * bb];
            System.arraycopy(fast, yo, got, 0, got.length);
            assertBytes(reference(f, s, so, blocks), got, q + " " + blocks + " blocks, seed " + seed);
            if (n == 0) {
                continue;
            }
            for (int p : new int[] {0, bs - 1, n / 2, n - 1, rnd.nextInt(n)}) {
                for (short v : bad) {
                    short keep = s[so + p];
                    s[so + p] = v;
                    assertFalse(f.quantizeBf16(s, so, new float[bs], fast, yo, blocks), q + ": " + v + " at " + p);
                    s[so + p] = keep;
                }
            }
        }
    }

    /** A bf16 tensor that hands out its bit patterns, as a memory-mapped BF16 tensor does. */
    /** A bf16 tensor over a {@code short[]} of bit patterns (quant-simd's tests extend it with in-place bytes). */
    static class Bf16Tensor implements Tensor {
        private final Shape shape;
        private final short[] bits;

        Bf16Tensor(Shape shape, short[] bits) {
            this.shape = shape;
            this.bits = bits;
        }

        @Override
        public Shape shape() {
            return shape;
        }

        @Override
        public String format() {
            return "BF16";
        }

        @Override
        public float getFloat(long index) {
            return bf(bits[(int) index]);
        }

        @Override
        public boolean copyBf16Bits(long from, short[] dst, int off, int len) {
            System.arraycopy(bits, (int) from, dst, off, len);
            return true;
        }

        @Override
        public long storageBytes() {
            return 2L * bits.length;
        }
    }

    enum GgmlScheme {
        Q8_0, Q4_0, Q4_1, TQ1_0, TQ2_0, MXFP4;

        Codec codec() {
            return Codecs.forScheme(Scheme.of(SchemeKind.valueOf(name())));
        }
    }

    /**
     * The codec on a bf16 tensor (the bit-pattern path, across its 8192-value chunks) writes the bytes it writes
     * for the same values as floats, and names the same index for a NaN/infinity or a scale beyond fp16.
     */
    @ParameterizedTest
    @EnumSource(GgmlScheme.class)
    void codecOnBf16EqualsCodecOnFloats(GgmlScheme g) {
        int cols = 1024;
        int rows = 19;
        SplittableRandom rnd = new SplittableRandom(SEED + 200 + g.ordinal());
        short[] s = new short[rows * cols];
        float[] x = new float[s.length];
        for (int i = 0; i < s.length; i++) {
            s[i] = (short) (Float.floatToRawIntBits((float) (rnd.nextGaussian() * 0.02)) >>> 16);
            x[i] = bf(s[i]);
        }
        Shape shape = Shape.of(rows, cols);
        Tensor bt = new Bf16Tensor(shape, s);
        ByteBuffer a = g.codec().quantize(bt).arrays().get(0).data();
        ByteBuffer b = g.codec().quantize(FloatTensor.wrap(shape, x)).arrays().get(0).data();
        assertEquals(b, a);
        for (int at : new int[] {8191, 8192, 16384 + 255}) {
            short keep = s[at];
            s[at] = (short) 0xff80; // -inf
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> g.codec().quantize(bt));
            assertTrue(e.getMessage().contains("-Infinity at index " + at + ":"), e.getMessage());
            s[at] = (short) (Float.floatToRawIntBits(1e10f) >>> 16); // beyond every fp16 scale except mxfp4's
            if (g != GgmlScheme.MXFP4) {
                e = assertThrows(IllegalArgumentException.class, () -> g.codec().quantize(bt));
                int bs = GgmlCodec.typeOf(Scheme.of(SchemeKind.valueOf(g.name()))).blockSize();
                assertTrue(e.getMessage().contains("index " + (at - at % bs)) && e.getMessage().contains("overflows"),
                        e.getMessage());
            }
            s[at] = keep;
        }
    }

    /**
     * {@link GgmlCodec#quantizeInto} writes the bytes {@link GgmlCodec#quantize} stores, into a direct buffer (through
     * its cache-sized block buffer) and into a heap buffer at an offset, from bf16 and from float sources, and
     * advances the position by exactly the block bytes; a buffer too small is refused before anything is written.
     */
    @ParameterizedTest
    @EnumSource(GgmlScheme.class)
    void quantizeIntoWritesTheStoredBytesIntoAnyBuffer(GgmlScheme g) {
        int cols = 768;
        int rows = 23; // 17,664 values: two full 8192-value chunks and a partial one
        SplittableRandom rnd = new SplittableRandom(SEED + 300 + g.ordinal());
        short[] s = new short[rows * cols];
        float[] x = new float[s.length];
        for (int i = 0; i < s.length; i++) {
            s[i] = (short) (Float.floatToRawIntBits((float) (rnd.nextGaussian() * 0.05)) >>> 16);
            x[i] = bf(s[i]);
        }
        Shape shape = Shape.of(rows, cols);
        GgmlCodec codec = (GgmlCodec) g.codec();
        ByteBuffer want = codec.quantize(FloatTensor.wrap(shape, x)).arrays().get(0).data();
        int n = want.remaining();
        for (Tensor src : new Tensor[] {new Bf16Tensor(shape, s), FloatTensor.wrap(shape, x)}) {
            ByteBuffer direct = ByteBuffer.allocateDirect(n + 10);
            direct.position(3);
            codec.quantizeInto(src, direct);
            assertEquals(3 + n, direct.position(), g + " direct position");
            assertEquals(want, direct.flip().position(3), g + " direct bytes from " + src.getClass().getSimpleName());
            ByteBuffer heap = ByteBuffer.allocate(n + 40).position(17).slice(); // array offset 17
            heap.position(5);
            codec.quantizeInto(src, heap);
            assertEquals(5 + n, heap.position(), g + " heap position");
            assertEquals(want, heap.flip().position(5), g + " heap bytes from " + src.getClass().getSimpleName());
            ByteBuffer small = ByteBuffer.allocateDirect(n - 1);
            assertThrows(java.nio.BufferOverflowException.class, () -> codec.quantizeInto(src, small));
            assertEquals(0, small.position());
        }
    }
}
