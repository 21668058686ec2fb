package io.quantkit.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class IntGridTest {

    private static IntGrid grid(String kind, int bits) {
        switch (kind) {
            case "sym":
                return IntGrid.symmetric(bits);
            case "uns":
                return IntGrid.unsigned(bits);
            case "ter":
                return IntGrid.ternary();
            default:
                throw new IllegalStateException(kind);
        }
    }

    @Test
    void rangesAreTheDocumentedOnes() {
        assertEquals(-8, IntGrid.symmetric(4).qmin());
        assertEquals(7, IntGrid.symmetric(4).qmax());
        assertEquals(-128, IntGrid.symmetric(8).qmin());
        assertEquals(127, IntGrid.symmetric(8).qmax());
        assertEquals(-2, IntGrid.symmetric(2).qmin());
        assertEquals(1, IntGrid.symmetric(2).qmax());
        assertEquals(0, IntGrid.unsigned(3).qmin());
        assertEquals(7, IntGrid.unsigned(3).qmax());
        assertEquals(255, IntGrid.unsigned(8).qmax());
        assertEquals(3, IntGrid.ternary().levels());
        assertEquals(IntGrid.Kind.TERNARY, IntGrid.ternary().kind());
        assertSame(IntGrid.symmetric(5), IntGrid.symmetric(5));
        assertEquals("symmetric4[-8..7]", IntGrid.symmetric(4).toString());
    }

    @Test
    void widthsOutsideTwoToEightAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IntGrid.symmetric(9));
        assertEquals("Integer grid width (9 bits) exceeds the maximum (8).", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> IntGrid.unsigned(1));
        assertEquals("Integer grid width (1 bits) is below the minimum (2).", e.getMessage());
    }

    @Test
    void quantizeScaledMatchesPythonBankersRoundingAndClamp() {
        List<String[]> rows = Reference.rows("intgrid_scaled.txt");
        assertTrue(rows.size() > 9000);
        for (String[] r : rows) {
            IntGrid g = grid(r[0], Integer.parseInt(r[1]));
            float v = Reference.f32(r[2]);
            int expected = Integer.parseInt(r[3]);
            int got = g.quantizeScaled(v);
            if (got != expected) {
                fail(g + ".quantizeScaled(" + v + ") = " + got + ", expected " + expected);
            }
        }
    }

    @Test
    void quantizeWithScaleMatchesFloat32DivisionReference() {
        List<String[]> rows = Reference.rows("intgrid_divide.txt");
        assertTrue(rows.size() > 4000);
        for (String[] r : rows) {
            IntGrid g = grid(r[0], Integer.parseInt(r[1]));
            float x = Reference.f32(r[2]);
            float s = Reference.f32(r[3]);
            int expected = Integer.parseInt(r[5]);
            int got = r[4].equals("-") ? g.quantize(x, s) : g.quantize(x, s, Integer.parseInt(r[4]));
            if (got != expected) {
                fail(g + ".quantize(" + x + ", " + s + ", " + r[4] + ") = " + got + ", expected " + expected);
            }
        }
    }

    @Test
    void tiesGoToEvenAndNegativeHalvesToo() {
        IntGrid g = IntGrid.symmetric(8);
        assertEquals(2, g.quantizeScaled(2.5f));
        assertEquals(-2, g.quantizeScaled(-2.5f));
        assertEquals(0, g.quantizeScaled(-0.5f));
        assertEquals(-4, g.quantizeScaled(-3.5f));
        assertEquals(126, g.quantizeScaled(126.5f)); // tie → 126 (even)
        assertEquals(127, g.quantizeScaled(127.5f)); // tie → 128 (even), clamped to 127
    }

    @Test
    void ternaryClipsToMinusOneZeroOne() {
        IntGrid t = IntGrid.ternary();
        assertEquals(0, t.quantize(0.5f, 1.0f)); // tie → 0
        assertEquals(1, t.quantize(0.51f, 1.0f));
        assertEquals(-1, t.quantize(-7.0f, 1.0f));
        assertEquals(2, IntGrid.ternary().bits());
    }

    @Test
    void zeroScaleNaNAndBadArguments() {
        IntGrid s4 = IntGrid.symmetric(4);
        IntGrid u4 = IntGrid.unsigned(4);
        assertEquals(0, s4.quantize(0.0f, 0.0f));
        assertEquals(5, u4.quantize(3.0f, 0.0f, 5));
        assertThrows(IllegalArgumentException.class, () -> s4.quantizeScaled(Float.NaN));
        assertThrows(IllegalArgumentException.class, () -> s4.quantize(Float.NaN, 1.0f));
        assertThrows(IllegalArgumentException.class, () -> s4.quantize(Float.NaN, 0.0f));
        assertThrows(IllegalArgumentException.class, () -> s4.quantize(1.0f, -1.0f));
        assertThrows(IllegalArgumentException.class, () -> s4.quantize(1.0f, Float.NaN));
        assertThrows(IllegalArgumentException.class, () -> s4.quantize(1.0f, Float.POSITIVE_INFINITY));
        assertThrows(IllegalArgumentException.class, () -> u4.quantize(1.0f, 1.0f));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> u4.quantize(1.0f, 1.0f, 16));
        assertEquals("Zero point (16) lies outside the grid [0, 15].", e.getMessage());
        assertEquals(7, s4.quantize(Float.POSITIVE_INFINITY, 1.0f));
        assertEquals(-8, s4.quantize(Float.NEGATIVE_INFINITY, 1.0f));
        assertThrows(IllegalArgumentException.class, () -> s4.symmetricScale(Float.NaN));
        assertThrows(IllegalArgumentException.class, () -> u4.asymmetricScale(2.0f, 1.0f));
    }

    @Test
    void scaleAndZeroPointHelpers() {
        assertEquals(1.0f / 7.0f, IntGrid.symmetric(4).symmetricScale(1.0f));
        assertEquals(2.54f / 127, IntGrid.symmetric(8).symmetricScale(2.54f));
        IntGrid u4 = IntGrid.unsigned(4);
        float s = u4.asymmetricScale(-1.0f, 2.0f);
        assertEquals(0.2f, s);
        assertEquals(5, u4.zeroPoint(-1.0f, s));
        assertEquals(0, u4.zeroPoint(0.5f, 0.1f)); // range widened to include 0
        assertEquals(0, u4.quantize(-1.0f, s, 5));
        assertEquals(15, u4.quantize(2.0f, s, 5));
        assertEquals(5, u4.quantize(0.0f, s, 5)); // zero is exact
        assertEquals(0.0f, u4.dequantize(5, s, 5));
        assertEquals(-1.0f, u4.dequantize(0, s, 5), 1e-7f);
        assertEquals(1.5f, IntGrid.symmetric(4).dequantize(3, 0.5f));
    }

    @Test
    void quantizeIsMonotonicAndIdempotentOnEveryGrid() {
        long seed = 0x1417_2026L;
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int b = IntGrid.MIN_BITS; b <= IntGrid.MAX_BITS; b++) {
            for (IntGrid g : new IntGrid[] {IntGrid.symmetric(b), IntGrid.unsigned(b), IntGrid.ternary()}) {
                for (int q = g.qmin(); q <= g.qmax(); q++) {
                    assertEquals(q, g.quantizeScaled(q), g + " code " + q);
                    float scale = 0.0137f;
                    int z = g.kind() == IntGrid.Kind.UNSIGNED ? (g.qmax() + 1) / 2 : 0;
                    float x = g.dequantize(q, scale, z);
                    assertEquals(q, g.quantize(x, scale, z), g + " decode∘encode at " + q);
                }
                float[] xs = new float[2000];
                for (int i = 0; i < xs.length; i++) {
                    xs[i] = (float) ((rnd.nextDouble() * 2 - 1) * (g.levels() + 4));
                }
                java.util.Arrays.sort(xs);
                int prev = Integer.MIN_VALUE;
                for (float x : xs) {
                    int q = g.quantizeScaled(x);
                    assertTrue(q >= prev, g + " not monotonic at " + x + " (seed " + seed + ")");
                    assertTrue(Math.abs(q - x) <= 0.5f || q == g.qmin() || q == g.qmax(), g + " at " + x);
                    prev = q;
                }
            }
        }
    }
}
