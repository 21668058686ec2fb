package io.quantkit.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class Fp8FormatTest {

    private static String file(Fp8Format f, String what) {
        return "fp8_" + f.name().toLowerCase(Locale.ROOT) + "_" + what + ".txt";
    }

    @ParameterizedTest
    @EnumSource(Fp8Format.class)
    void all256CodesDecodeToTheSpecValues(Fp8Format f) {
        List<String[]> rows = Reference.rows(file(f, "decode"));
        assertEquals(256, rows.size());
        int nans = 0;
        for (String[] r : rows) {
            int code = Reference.hex(r[0]);
            float got = f.decode((byte) code);
            if (r[1].equals("nan")) {
                nans++;
                assertTrue(Float.isNaN(got), "code " + r[0] + " must be NaN");
                assertTrue(f.isNaN((byte) code));
                assertEquals((code & 0x80) != 0, (Float.floatToRawIntBits(got) & 0x80000000) != 0, "NaN sign");
            } else {
                assertEquals(Reference.hex(r[1]), Float.floatToRawIntBits(got), "code " + r[0]);
                assertFalse(f.isNaN((byte) code));
            }
        }
        assertEquals(f == Fp8Format.E4M3 ? 2 : 6, nans);
    }

    @ParameterizedTest
    @EnumSource(Fp8Format.class)
    void everyCodeReencodesToItself(Fp8Format f) {
        for (int c = 0; c < 256; c++) {
            byte code = (byte) c;
            float v = f.decode(code);
            if (Float.isNaN(v)) {
                assertTrue(f.isNaN(f.encode(v, Overflow.SATURATE)));
                assertTrue(f.isNaN(f.encode(v, Overflow.NON_SATURATING)));
                if (f == Fp8Format.E4M3) {
                    assertEquals(code, f.encode(v)); // S.1111.111 is the only NaN
                }
            } else if (Float.isInfinite(v)) {
                assertEquals(code, f.encode(v, Overflow.NON_SATURATING));
                assertEquals((byte) ((c & 0x80) | 0x7B), f.encode(v, Overflow.SATURATE), "Inf saturates to max");
            } else {
                assertEquals(code, f.encode(v, Overflow.SATURATE), "code " + Integer.toHexString(c));
                assertEquals(code, f.encode(v, Overflow.NON_SATURATING), "code " + Integer.toHexString(c));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Fp8Format.class)
    void encodingMatchesBruteForceNearestEvenInBothModes(Fp8Format f) {
        List<String[]> rows = Reference.rows(file(f, "encode"));
        assertTrue(rows.size() > 7000);
        for (String[] r : rows) {
            float x = Reference.f32(r[0]);
            int sat = Reference.hex(r[1]);
            int non = Reference.hex(r[2]);
            int gotSat = f.encode(x, Overflow.SATURATE) & 0xff;
            int gotNon = f.encode(x, Overflow.NON_SATURATING) & 0xff;
            if (gotSat != sat || gotNon != non) {
                fail(String.format("%s encode(%s = 0x%s): saturate %02x (expected %02x), non-saturating %02x "
                        + "(expected %02x)", f, x, r[0], gotSat, sat, gotNon, non));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Fp8Format.class)
    void bulkPathsEqualTheScalarOnes(Fp8Format f) {
        List<String[]> rows = Reference.rows(file(f, "encode"));
        float[] xs = new float[rows.size()];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = Reference.f32(rows.get(i)[0]);
        }
        for (Overflow mode : Overflow.values()) {
            for (int len : new int[] {0, 1, 7, 31, 33, xs.length - 3}) {
                byte[] codes = new byte[len + 2];
                f.encode(xs, 3, codes, 1, len, mode);
                assertEquals(0, codes[0]);
                assertEquals(0, codes[len + 1]);
                float[] back = new float[len + 1];
                f.decode(codes, 1, back, 1, len);
                for (int i = 0; i < len; i++) {
                    assertEquals(f.encode(xs[3 + i], mode), codes[1 + i], "index " + i);
                    assertTrue(Reference.sameFloat(f.decode(codes[1 + i]), back[1 + i]));
                }
            }
        }
        assertThrows(IndexOutOfBoundsException.class, () -> f.encode(xs, 1, new byte[4], 0, 5, Overflow.SATURATE));
        assertThrows(IndexOutOfBoundsException.class, () -> f.decode(new byte[4], 0, new float[3], 0, 4));
    }

    @Test
    void constantsAndOverflowBoundaries() {
        Fp8Format e4 = Fp8Format.E4M3;
        Fp8Format e5 = Fp8Format.E5M2;
        assertEquals(448.0f, e4.maxFinite());
        assertEquals(57344.0f, e5.maxFinite());
        assertEquals(0x1p-6f, e4.minNormal());
        assertEquals(0x1p-9f, e4.minSubnormal());
        assertEquals(0x1p-14f, e5.minNormal());
        assertEquals(0x1p-16f, e5.minSubnormal());
        assertEquals(7, e4.bias());
        assertEquals(15, e5.bias());
        assertFalse(e4.hasInfinity());
        assertTrue(e5.hasInfinity());
        // E4M3: 464 = 448 + half ulp is a tie; its even neighbour is 448 (1.110b), so it does not overflow
        assertEquals((byte) 0x7E, e4.encode(464.0f, Overflow.NON_SATURATING));
        assertEquals((byte) 0x7F, e4.encode(Math.nextUp(464.0f), Overflow.NON_SATURATING));
        assertEquals((byte) 0x7E, e4.encode(Math.nextUp(464.0f), Overflow.SATURATE));
        assertEquals((byte) 0xFF, e4.encode(-1e9f, Overflow.NON_SATURATING));
        assertEquals((byte) 0xFE, e4.encode(Float.NEGATIVE_INFINITY, Overflow.SATURATE));
        // E5M2: 61440 = 57344 + half ulp ties to 2^16 (even), which overflows
        assertEquals((byte) 0x7B, e5.encode(Math.nextDown(61440.0f), Overflow.NON_SATURATING));
        assertEquals((byte) 0x7C, e5.encode(61440.0f, Overflow.NON_SATURATING));
        assertEquals((byte) 0x7B, e5.encode(61440.0f, Overflow.SATURATE));
        assertEquals((byte) 0xFC, e5.encode(Float.NEGATIVE_INFINITY, Overflow.NON_SATURATING));
        // NaN stays NaN in both modes, sign kept
        assertEquals((byte) 0x7F, e4.encode(Float.NaN));
        assertEquals((byte) 0xFF, e4.encode(Float.intBitsToFloat(0xffc00000)));
        assertEquals((byte) 0x7E, e5.encode(Float.NaN, Overflow.SATURATE));
        // subnormals: half the smallest subnormal is a tie to zero; just above it rounds up
        assertEquals((byte) 0x00, e4.encode(0x1p-10f));
        assertEquals((byte) 0x01, e4.encode(Math.nextUp(0x1p-10f)));
        assertEquals((byte) 0x80, e4.encode(-0x1p-10f));
        assertEquals((byte) 0x02, e4.encode(0x1.8p-9f)); // 1.5 units: tie → 2 (even)
        assertEquals((byte) 0x08, e4.encode(Math.nextDown(0x1p-6f))); // rounds up into the smallest normal
        assertEquals((byte) 0x7E, e4.maxFiniteCode());
        assertEquals((byte) 0x7B, e5.maxFiniteCode());
        assertThrows(NullPointerException.class, () -> e4.encode(1.0f, null));
    }

    /** Sorted finite non-negative values of a format, from its (reference-checked) decode table. */
    private static float[] grid(Fp8Format f) {
        float[] g = new float[128];
        int n = 0;
        for (int c = 0; c < 128; c++) {
            float v = f.decode((byte) c);
            if (Float.isFinite(v)) {
                g[n++] = v;
            }
        }
        g = Arrays.copyOf(g, n);
        Arrays.sort(g);
        return g;
    }

    @ParameterizedTest
    @EnumSource(Fp8Format.class)
    void randomFloatsEncodeToOneOfTheTwoNearestValuesAndAreStable(Fp8Format f) {
        long seed = 0xf8_2026L + f.ordinal();
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] g = grid(f);
        float max = f.maxFinite();
        for (int i = 0; i < 300_000; i++) {
            float x;
            if (i % 2 == 0) {
                x = Float.intBitsToFloat(rnd.nextInt()); // any float, including NaN/Inf
            } else { // concentrate in the format's range
                x = (float) ((rnd.nextDouble() * 2 - 1) * Math.scalb(1.0, rnd.nextInt(-20, 18)));
            }
            final int at = i;
            final float fx = x;
            Supplier<String> where = () -> f + " x=" + fx + " (seed " + seed + ", i=" + at + ")";
            for (Overflow mode : Overflow.values()) {
                byte e = f.encode(x, mode);
                float d = f.decode(e);
                assertEquals(e, f.encode(d, mode), () -> "encode(decode(encode(x))) == encode(x) " + where.get());
                if (Float.isNaN(x)) {
                    assertTrue(Float.isNaN(d), where);
                    continue;
                }
                float a = Math.abs(x);
                if (a > max) {
                    assertTrue(Math.abs(d) == max || Float.isNaN(d) || Float.isInfinite(d), where);
                    continue;
                }
                int k = Arrays.binarySearch(g, a);
                float lo;
                float hi;
                if (k >= 0) {
                    lo = hi = g[k];
                } else {
                    int ins = -k - 1;
                    lo = g[ins - 1];
                    hi = ins < g.length ? g[ins] : Float.POSITIVE_INFINITY;
                }
                float ad = Math.abs(d);
                assertTrue(ad == lo || ad == hi || (hi == Float.POSITIVE_INFINITY && mode == Overflow.SATURATE),
                        () -> "decoded " + d + " is not a neighbour of " + where.get());
                if (ad == lo && ad != hi) {
                    assertTrue((double) a - lo <= (double) hi - a, () -> "not nearest " + where.get());
                } else if (ad == hi && ad != lo) {
                    assertTrue((double) hi - a <= (double) a - lo, () -> "not nearest " + where.get());
                }
                assertEquals(Math.copySign(1.0f, x), Math.copySign(1.0f, d), () -> "sign " + where.get());
            }
        }
    }

    @Test
    void encodeIsMonotonic() {
        for (Fp8Format f : Fp8Format.values()) {
            float prev = Float.NEGATIVE_INFINITY;
            float[] xs = new float[20001];
            for (int i = 0; i < xs.length; i++) {
                xs[i] = (float) (-1.2 * f.maxFinite() + i * (2.4 * f.maxFinite() / 20000));
            }
            byte[] codes = new byte[xs.length];
            f.encode(xs, 0, codes, 0, xs.length, Overflow.SATURATE);
            float[] back = new float[xs.length];
            f.decode(codes, 0, back, 0, xs.length);
            for (float v : back) {
                assertTrue(v >= prev, f + " not monotonic at " + v);
                prev = v;
            }
            assertArrayEquals(new float[] {-f.maxFinite(), f.maxFinite()}, new float[] {back[0], back[xs.length - 1]});
        }
    }
}
