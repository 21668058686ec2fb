package io.quantkit.quant.ggml;

import static io.quantkit.quant.ggml.Bf16QuantizeTest.bf;
import static io.quantkit.quant.ggml.Bf16QuantizeTest.finite;
import static io.quantkit.quant.ggml.Bf16QuantizeTest.reference;
import static io.quantkit.quant.ggml.GgmlGoldenTest.assertBytes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quantkit.format.Fp16;
import io.quantkit.quant.Codecs;
import io.quantkit.quant.Scheme;
import io.quantkit.quant.SchemeKind;
import io.quantkit.simd.Simd;
import io.quantkit.simd.vector.Bf16Blocks;
import io.quantkit.tensor.FloatTensor;
import io.quantkit.tensor.Shape;
import io.quantkit.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The vector bf16 → q8_0 / q4_0 kernels ({@link Bf16Blocks}) against the scalar reference
 * ({@link BlockFormat#quantizeBlockReference} on the same values as floats): every finite bf16 pattern as a block's
 * largest magnitude and among random neighbours, ties of ±max, zeros of both signs, subnormals; the kernel stops
 * exactly at the blocks the scalar loop treats specially (NaN/infinity, 1/d overflow, fp16 scale overflow) and
 * nowhere else; and through {@link GgmlCodec} (kernel plus scalar loop for those blocks) the bytes and error messages
 * of the scalar path. Runs at 512-, 256- and 128-bit vectors (this module's surefire executions).
 */
class Bf16BlocksTest {
    private static final long SEED = 20261202L;
    private static final Bf16Blocks KERNEL = new Bf16Blocks();

    enum Type {
        Q8_0, Q4_0;

        GgmlType type() {
            return GgmlType.valueOf(name());
        }

        int run(ByteBuffer src, int si, ByteBuffer dst, int di, int blocks) {
            return this == Q8_0 ? KERNEL.q8_0(src, si, dst, di, blocks) : KERNEL.q4_0(src, si, dst, di, blocks);
        }

        /**
         * Whether the scalar loop takes a special path for this block (or rejects it): a non-finite value, 1/d
         * overflowing, or an fp16 scale that is infinite. Computed here from the definition of the format.
         */
        boolean special(short[] s, int o) {
            float amax = 0;
            float max = 0;
            for (int j = 0; j < 32; j++) {
                if (!finite(s[o + j])) {
                    return true;
                }
                float a = Math.abs(bf(s[o + j]));
                if (a > amax) {
                    amax = a;
                    max = bf(s[o + j]);
                }
            }
            float d = this == Q8_0 ? amax / 127f : max / -8f;
            float id = d != 0 ? 1f / d : 0f;
            return Float.isInfinite(id) || (Fp16.fromFloat(d) & 0x7fff) == 0x7c00;
        }
    }

    static ByteBuffer bytesOf(short[] s, int extraFront) {
        ByteBuffer b = ByteBuffer.allocateDirect(extraFront + 2 * s.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < s.length; i++) {
            b.putShort(extraFront + 2 * i, s[i]);
        }
        return b.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN); // as a memory-mapped input is
    }

    /**
     * Runs the kernel over {@code blocks} blocks, the way {@link GgmlCodec} does: where it stops, the stopped block
     * must be a special one (it is skipped), and the kernel resumes after it. Returns the indexes of the stops.
     */
    static List<Integer> runAll(Type t, short[] s, int blocks, ByteBuffer dst, int di, short[] keep) {
        int bb = t.type().blockBytes();
        ByteBuffer src = bytesOf(s, 6);
        List<Integer> stops = new ArrayList<>();
        int done = 0;
        while (done < blocks) {
            done += t.run(src, 6 + 64 * done, dst, di + bb * done, blocks - done);
            if (done < blocks) {
                assertTrue(t.special(s, 32 * done), t + " kernel stopped at an ordinary block " + done);
                stops.add(done);
                System.arraycopy(s, 32 * done, keep, 0, 32);
                done++;
            }
        }
        return stops;
    }

    @ParameterizedTest
    @EnumSource(Type.class)
    void everyFiniteBf16PatternGivesTheReferenceBytes(Type t) {
        long seed = SEED + t.ordinal();
        SplittableRandom rnd = new SplittableRandom(seed);
        int blocks = 2 * 65280;
        short[] s = new short[32 * blocks];
        int b = 0;
        for (int v = 0; v < 65536; v++) {
            short p = (short) v;
            if (!finite(p)) {
                continue;
            }
            int mag = p & 0x7fff;
            for (int mode = 0; mode < 2; mode++, b++) {
                for (int j = 0; j < 32; j++) {
                    short n;
                    if (mode == 0) { // smaller magnitudes, some equal (ties of +max and -max now and then)
                        int m = rnd.nextInt(4) == 0 ? mag : rnd.nextInt(mag + 1);
                        n = (short) (m | (rnd.nextBoolean() ? 0x8000 : 0));
                    } else {
                        do {
                            n = (short) rnd.nextInt(65536);
                        } while (!finite(n));
                    }
                    s[32 * b + j] = n;
                }
                s[32 * b + rnd.nextInt(32)] = p;
            }
        }
        assertEquals(blocks, b);
        int bb = t.type().blockBytes();
        ByteBuffer dst = ByteBuffer.allocateDirect(3 + blocks * bb);
        List<Integer> stops = runAll(t, s, blocks, dst, 3, new short[32]);
        byte[] ref = reference(GgmlQuants.format(t.type()), s, 0, blocks);
        byte[] got = new byte[ref.length];
        dst.get(3, got);
        for (int stop : stops) { // the scalar loop's blocks: compared by Bf16QuantizeTest, not here
            System.arraycopy(ref, stop * bb, got, stop * bb, bb);
        }
        assertBytes(ref, got, t + " vector kernel vs reference, seed " + seed);
        int special = 0;
        for (int k = 0; k < blocks; k++) {
            special += t.special(s, 32 * k) ? 1 : 0;
        }
        // (most of the large patterns' blocks are special: their fp16 scale overflows)
        assertEquals(special, stops.size(), t + ": stops at every special block and only there");
    }

    /**
     * Awkward blocks on block counts that fit no batch (0, 1, 15, 17, 1021) at odd byte offsets: ties of ±max (the
     * first one decides q4_0's sign), all zeros of either sign, subnormals only, a single nonzero value, powers of two.
     */
    @ParameterizedTest
    @EnumSource(Type.class)
    void awkwardBlocks(Type t) {
        SplittableRandom rnd = new SplittableRandom(SEED + 10 + t.ordinal());
        int bb = t.type().blockBytes();
        for (int blocks : new int[] {0, 1, 15, 17, 1021}) {
            short[] s = new short[32 * blocks];
            for (int b = 0; b < blocks; b++) {
                int kind = b % 6;
                for (int j = 0; j < 32; j++) {
                    s[32 * b + j] = switch (kind) {
                        case 0 -> (short) ((j % 2 == 0 ? 0x3f80 : 0xbf80) ^ (b % 4 < 2 ? 0 : 0x8000)); // ±1, tie
                        case 1 -> (short) (rnd.nextBoolean() ? 0x8000 : 0); // +0 and -0
                        case 2 -> (short) (rnd.nextInt(0x80) | (rnd.nextBoolean() ? 0x8000 : 0)); // subnormals
                        case 3 -> (short) (j == b % 32 ? 0xc2f6 : 0); // one value, -123
                        case 4 -> (short) ((0x3f80 + 0x80 * rnd.nextInt(8)) | (rnd.nextBoolean() ? 0x8000 : 0));
                        default -> (short) (Float.floatToRawIntBits((float) rnd.nextGaussian()) >>> 16);
                    };
                }
            }
            ByteBuffer dst = ByteBuffer.allocate(5 + blocks * bb); // a heap output too
            List<Integer> stops = runAll(t, s, blocks, dst, 5, new short[32]);
            byte[] ref = reference(GgmlQuants.format(t.type()), s, 0, blocks);
            byte[] got = new byte[ref.length];
            dst.get(5, got);
            for (int stop : stops) {
                System.arraycopy(ref, stop * bb, got, stop * bb, bb);
            }
            assertBytes(ref, got, t + " awkward blocks, " + blocks + " blocks");
        }
    }

    /** A bf16 tensor whose bytes the codec reads in place (as a memory-mapped one). */
    static final class MappedLike extends Bf16QuantizeTest.Bf16Tensor {
        private final ByteBuffer bytes;

        MappedLike(Shape shape, short[] bits) {
            super(shape, bits);
            this.bytes = bytesOf(bits, 0);
        }

        @Override
        public ByteBuffer bf16Bytes(long from, int len) {
            ByteBuffer d = bytes.duplicate();
            d.position((int) (2 * from)).limit((int) (2 * (from + len)));
            return d.slice().order(ByteOrder.LITTLE_ENDIAN);
        }
    }

    @Test
    void theCodecFindsTheKernel() {
        assertTrue(Simd.enabled());
        assertInstanceOf(Bf16Blocks.class, Simd.provider(Bf16BlockSimd.class));
    }

    /**
     * Through the codec (kernel, and the scalar loop for the blocks it leaves): the bytes of the float path on the
     * same values, across the codec's 8192-value chunks, with tiny-scale blocks mixed in; a NaN/infinity or an
     * fp16 scale overflow anywhere gives the scalar path's message with the same index.
     */
    @ParameterizedTest
    @EnumSource(Type.class)
    void codecOnMappedBf16EqualsCodecOnFloats(Type t) {
        int rows = 37;
        int cols = 640;
        SplittableRandom rnd = new SplittableRandom(SEED + 20 + t.ordinal());
        short[] s = new short[rows * cols];
        float[] x = new float[s.length];
        for (int i = 0; i < s.length; i++) {
            boolean tinyBlock = (i / 32) % 97 == 5; // 1/d overflows here: the scalar loop's reference path
            s[i] = tinyBlock ? (short) rnd.nextInt(3) : (short) (Float.floatToRawIntBits((float) (rnd.nextGaussian()
                    * 0.02)) >>> 16);
            x[i] = bf(s[i]);
        }
        Shape shape = Shape.of(rows, cols);
        GgmlCodec codec = (GgmlCodec) Codecs.forScheme(Scheme.of(SchemeKind.valueOf(t.name())));
        Tensor mapped = new MappedLike(shape, s);
        ByteBuffer want = codec.quantize(FloatTensor.wrap(shape, x)).arrays().get(0).data();
        assertEquals(want, codec.quantize(mapped).arrays().get(0).data(), t + " heap output");
        ByteBuffer direct = ByteBuffer.allocateDirect(want.remaining() + 7).position(7);
        codec.quantizeInto(mapped, direct);
        assertEquals(want, direct.flip().position(7), t + " direct output");
        for (int at : new int[] {0, 8191, 8192, 16384 + 33, s.length - 1}) {
            short keep = s[at];
            for (short bad : new short[] {(short) 0xff80, (short) 0x7fc1}) {
                s[at] = bad;
                Tensor m = new MappedLike(shape, s);
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> codec.quantize(m));
                String what = bad == (short) 0xff80 ? "-Infinity" : "NaN";
                assertTrue(e.getMessage().contains(what + " at index " + at + ":"), e.getMessage());
            }
            s[at] = (short) (Float.floatToRawIntBits(1e10f) >>> 16); // a scale beyond fp16
            Tensor m = new MappedLike(shape, s);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> codec.quantize(m));
            assertTrue(e.getMessage().contains("index " + (at - at % 32)) && e.getMessage().contains("overflows"),
                    e.getMessage());
            s[at] = keep;
        }
    }
}
