package io.quantkit.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** bf16 against PyTorch 1.13 and binary16 against numpy, exhaustively over codes (reference/formats/gen_half.py). */
class HalfFormatsTest {

    /** The two 16-bit formats under one interface for the table of tests. */
    enum Half {
        BF16("bf16") {
            @Override
            short encode(float f) {
                return Bf16.fromFloat(f);
            }

            @Override
            float decode(short h) {
                return Bf16.toFloat(h);
            }

            @Override
            float round(float f) {
                return Bf16.round(f);
            }

            @Override
            void encode(float[] s, int so, short[] d, int doff, int n) {
                Bf16.encode(s, so, d, doff, n);
            }

            @Override
            void decode(short[] s, int so, float[] d, int doff, int n) {
                Bf16.decode(s, so, d, doff, n);
            }
        },
        F16("f16") {
            @Override
            short encode(float f) {
                return Fp16.fromFloat(f);
            }

            @Override
            float decode(short h) {
                return Fp16.toFloat(h);
            }

            @Override
            float round(float f) {
                return Fp16.round(f);
            }

            @Override
            void encode(float[] s, int so, short[] d, int doff, int n) {
                Fp16.encode(s, so, d, doff, n);
            }

            @Override
            void decode(short[] s, int so, float[] d, int doff, int n) {
                Fp16.decode(s, so, d, doff, n);
            }
        };

        final String file;

        Half(String file) {
            this.file = file;
        }

        abstract short encode(float f);

        abstract float decode(short h);

        abstract float round(float f);

        abstract void encode(float[] s, int so, short[] d, int doff, int n);

        abstract void decode(short[] s, int so, float[] d, int doff, int n);
    }

    @ParameterizedTest
    @EnumSource(Half.class)
    void all65536CodesDecodeLikeTheIndependentImplementation(Half h) {
        ByteBuffer ref = Reference.binary(h.file + "_decode.bin.gz");
        assertEquals(65536 * 4, ref.remaining());
        int nans = 0;
        for (int c = 0; c < 65536; c++) {
            float expected = Float.intBitsToFloat(ref.getInt());
            float got = h.decode((short) c);
            if (Float.isNaN(expected)) {
                nans++;
                assertTrue(Float.isNaN(got), h + " code " + Integer.toHexString(c) + " must be NaN");
            } else if (Float.floatToRawIntBits(expected) != Float.floatToRawIntBits(got)) {
                fail(h + " code 0x" + Integer.toHexString(c) + " decodes to " + got + ", expected " + expected);
            }
        }
        assertEquals(h == Half.BF16 ? 2 * 127 : 2 * 1023, nans);
    }

    @ParameterizedTest
    @EnumSource(Half.class)
    void everyCodeReencodesToItself(Half h) {
        for (int c = 0; c < 65536; c++) {
            float v = h.decode((short) c);
            short back = h.encode(v);
            if (Float.isNaN(v)) {
                assertTrue(Float.isNaN(h.decode(back)), h + " NaN code " + Integer.toHexString(c) + " stays NaN");
                assertEquals(c & 0x8000, back & 0x8000, "NaN keeps its sign");
            } else {
                assertEquals((short) c, back, h + " code 0x" + Integer.toHexString(c));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Half.class)
    void roundingOfTiesNeighboursSubnormalsAndOverflowMatchesReference(Half h) {
        ByteBuffer ref = Reference.binary(h.file + "_encode.bin.gz");
        int n = ref.getInt();
        assertTrue(n > 150_000, "reference has " + n + " inputs");
        int outBase = 4 + 4 * n;
        for (int i = 0; i < n; i++) {
            float x = Float.intBitsToFloat(ref.getInt(4 + 4 * i));
            short expected = ref.getShort(outBase + 2 * i);
            short got = h.encode(x);
            boolean ok = got == expected || (Float.isNaN(h.decode(expected)) && Float.isNaN(h.decode(got)));
            if (!ok) {
                fail(String.format("%s encode(%s = 0x%08x) = 0x%04x, expected 0x%04x", h, x,
                        Float.floatToRawIntBits(x), got & 0xffff, expected & 0xffff));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Half.class)
    void bulkPathsEqualScalarOnesOnOddLengthsAndOffsets(Half h) {
        long seed = 0xb01c_0016L;
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int len : new int[] {0, 1, 2, 31, 32, 33, 1021, 4097}) {
            float[] src = new float[len + 5];
            for (int i = 0; i < src.length; i++) {
                src[i] = i % 3 == 0 ? Float.intBitsToFloat(rnd.nextInt()) : (float) rnd.nextGaussian();
            }
            short[] codes = new short[len + 2];
            h.encode(src, 5, codes, 1, len);
            float[] back = new float[len + 3];
            h.decode(codes, 1, back, 2, len);
            for (int i = 0; i < len; i++) {
                assertEquals(h.encode(src[5 + i]), codes[1 + i], "seed " + seed);
                assertTrue(Reference.sameFloat(h.decode(codes[1 + i]), back[2 + i]));
            }
            assertEquals(0, codes[0]);
            assertEquals(0, codes[len + 1]);
        }
        assertThrows(IndexOutOfBoundsException.class, () -> h.encode(new float[3], 0, new short[2], 0, 3));
        assertThrows(IndexOutOfBoundsException.class, () -> h.decode(new short[3], 1, new float[3], 0, 3));
    }

    @ParameterizedTest
    @EnumSource(Half.class)
    void randomFloatsRoundToOneOfTheTwoNearestValuesAndAreStable(Half h) {
        long seed = 0x16_2026L + h.ordinal();
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int i = 0; i < 500_000; i++) {
            float x = Float.intBitsToFloat(rnd.nextInt());
            short e = h.encode(x);
            float d = h.decode(e);
            final int at = i;
            Supplier<String> where = () -> h + " x=" + x + " (seed " + seed + ", i=" + at + ")";
            assertEquals(e, h.encode(d), () -> "encode(decode(encode(x))) == encode(x) " + where.get());
            assertTrue(Reference.sameFloat(d, h.round(x)), where);
            if (Float.isNaN(x)) {
                assertTrue(Float.isNaN(d), where);
                continue;
            }
            if (Float.isInfinite(d) && !Float.isInfinite(x)) {
                continue; // overflow: checked against the reference at the exact boundary
            }
            // neighbours of d on the code grid (codes are monotonic in magnitude for a fixed sign)
            int mag = e & 0x7fff;
            float below = mag == 0 ? 0.0f : Math.abs(h.decode((short) (mag - 1)));
            float above = Math.abs(h.decode((short) (mag + 1)));
            double ax = Math.abs((double) x);
            double ad = Math.abs(d);
            assertTrue(Math.abs(ax - ad) <= Math.abs(ax - below) && Math.abs(ax - ad) <= Math.abs(ax - above),
                    () -> "not the nearest " + where.get());
            assertEquals(Math.copySign(1.0f, x), Math.copySign(1.0f, d), () -> "sign " + where.get());
        }
    }
}
