package io.quantkit.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class RoundingTest {

    @Test
    void floatRoundingMatchesNumpyRintAndLibmRoundf() {
        List<String[]> rows = Reference.rows("rounding_float.txt");
        assertTrue(rows.size() > 2000);
        for (String[] r : rows) {
            float x = Reference.f32(r[0]);
            float even = Reference.f32(r[1]);
            float away = Reference.f32(r[2]);
            check(even, Rounding.roundHalfEven(x), "half-even", x);
            check(away, Rounding.roundHalfAway(x), "half-away", x);
        }
    }

    @Test
    void doubleRoundingMatchesNumpyRintAndLibmRound() {
        List<String[]> rows = Reference.rows("rounding_double.txt");
        assertTrue(rows.size() > 1000);
        for (String[] r : rows) {
            double x = Double.longBitsToDouble(Reference.hexLong(r[0]));
            double even = Double.longBitsToDouble(Reference.hexLong(r[1]));
            double away = Double.longBitsToDouble(Reference.hexLong(r[2]));
            double gotEven = Rounding.roundHalfEven(x);
            double gotAway = Rounding.roundHalfAway(x);
            if (!(Double.doubleToLongBits(even) == Double.doubleToLongBits(gotEven))) {
                fail("half-even(" + x + ") = " + gotEven + ", expected " + even);
            }
            if (!(Double.doubleToLongBits(away) == Double.doubleToLongBits(gotAway))) {
                fail("half-away(" + x + ") = " + gotAway + ", expected " + away);
            }
        }
    }

    private static void check(float expected, float actual, String rule, float x) {
        if (!Reference.sameFloat(expected, actual)) {
            fail(rule + "(" + x + " = 0x" + Integer.toHexString(Float.floatToRawIntBits(x)) + ") = " + actual
                    + ", expected " + expected);
        }
    }

    @Test
    void theTwoRulesAndMathRoundDifferAtNegativeHalves() {
        assertEquals(-2.0f, Rounding.roundHalfEven(-2.5f));
        assertEquals(-3.0f, Rounding.roundHalfAway(-2.5f));
        assertEquals(-2L, Math.round(-2.5f)); // why Math.round is banned where a format names a rule
        assertEquals(8388607.0f, Rounding.roundHalfAway(8388606.5f));
        assertEquals(8388606.0f, Rounding.roundHalfEven(8388606.5f));
        assertEquals(0.0f, Rounding.roundHalfAway(0.49999997f));
        assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(Rounding.roundHalfAway(-0.3f)));
        assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(Rounding.roundHalfEven(-0.5f)));
    }

    @Test
    void toIntVariantsSaturateAndRejectNaN() {
        assertEquals(2, Rounding.roundHalfEvenToInt(2.5f));
        assertEquals(-3, Rounding.roundHalfAwayToInt(-2.5f));
        assertEquals(-2, Rounding.roundHalfEvenToInt(-2.5));
        assertEquals(3, Rounding.roundHalfAwayToInt(2.5));
        assertEquals(Integer.MAX_VALUE, Rounding.roundHalfEvenToInt(1e20f));
        assertEquals(Integer.MIN_VALUE, Rounding.roundHalfAwayToInt(Float.NEGATIVE_INFINITY));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Rounding.roundHalfEvenToInt(Float.NaN));
        assertTrue(e.getMessage().contains("NaN"));
        assertThrows(IllegalArgumentException.class, () -> Rounding.roundHalfAwayToInt(Double.NaN));
    }

    @Test
    void randomFloatsObeyTheDefinitions() {
        long seed = 0x5eed_0001L;
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int i = 0; i < 200_000; i++) {
            float x = Float.intBitsToFloat(rnd.nextInt());
            if (Float.isNaN(x)) {
                continue;
            }
            float e = Rounding.roundHalfEven(x);
            float a = Rounding.roundHalfAway(x);
            // both are integers within 1/2 of x (exact in double); they differ only at a tie
            double dx = x;
            final int at = i;
            Supplier<String> where = () -> " for x=" + x + " (seed " + seed + ", i=" + at + ")";
            assertTrue(Math.abs(e - dx) <= 0.5 && Math.abs(a - dx) <= 0.5, () -> "within half" + where.get());
            assertTrue(e == Math.floor(e) && a == Math.floor(a) || Float.isInfinite(x), () -> "integral" + where.get());
            if (e != a) {
                assertEquals(0.5, Math.abs(dx - Math.floor(dx)) == 0.5 ? 0.5 : -1, () -> "differ only at ties" + where.get());
                assertEquals(0.0, Math.abs(e % 2.0), () -> "half-even picks the even one" + where.get());
                assertTrue(Math.abs(a) > Math.abs(e), () -> "half-away picks the larger magnitude" + where.get());
            }
        }
    }
}
