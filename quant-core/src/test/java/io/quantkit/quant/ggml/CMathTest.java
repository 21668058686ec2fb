package io.quantkit.quant.ggml;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class CMathTest {

    /** roundf against BigDecimal HALF_UP (which is half away from zero) on halves, neighbours and random floats. */
    @Test
    void roundfIsHalfAwayFromZero() {
        long seed = 77L;
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int i = 0; i < 200_000; i++) {
            float v;
            if (i < 2000) {
                float h = (i - 1000) + 0.5f;
                v = switch (i % 3) {
                    case 0 -> h;
                    case 1 -> Math.nextUp(h);
                    default -> Math.nextDown(h);
                };
            } else {
                v = (float) ((rnd.nextDouble() - 0.5) * Math.scalb(1.0, rnd.nextInt(-30, 30)));
            }
            float expected = new BigDecimal(v).setScale(0, RoundingMode.HALF_UP).floatValue();
            assertEquals(expected, CMath.roundf(v), 0.0f, "roundf(" + v + "), seed " + seed);
        }
        assertEquals(0f, CMath.roundf(0.49999997f));
        assertEquals(-3f, CMath.roundf(-2.5f));
        assertEquals(3f, CMath.roundf(2.5f));
        assertEquals(1e30f, CMath.roundf(1e30f));
    }

    /**
     * The fast loops round with {@code (int) (v + copySign(0.5 - 2^-25, v))}. Exhaustively equal to roundf for
     * every float with 2^-3 &lt;= |v| &lt; 2^8 (below, both give 0; the codes never exceed 128 in magnitude).
     */
    @Test
    void copySignTruncationEqualsRoundfExhaustively() {
        int from = Float.floatToRawIntBits(0x1p-3f);
        int to = Float.floatToRawIntBits(0x1p8f);
        for (int bits = from; bits < to; bits++) {
            float v = Float.intBitsToFloat(bits);
            int up = (int) (v + Math.copySign(CMath.JUST_BELOW_HALF, v));
            int down = (int) (-v + Math.copySign(CMath.JUST_BELOW_HALF, -v));
            if (up != (int) CMath.roundf(v) || down != (int) CMath.roundf(-v)) {
                assertEquals((int) CMath.roundf(v), up, "v = " + v);
                assertEquals((int) CMath.roundf(-v), down, "v = " + -v);
            }
        }
        for (float v : new float[] {0f, -0f, 0x1p-149f, 0.1f, -0.12f, 0x1p-3f - 0x1p-30f}) {
            assertEquals(0, (int) (v + Math.copySign(CMath.JUST_BELOW_HALF, v)), "v = " + v);
        }
    }

    @Test
    void x86ConversionsOfNonFiniteValuesGiveTheIndefiniteInteger() {
        assertEquals(0, CMath.toInt8(Float.NaN));
        assertEquals(0, CMath.toInt8(Float.POSITIVE_INFINITY));
        assertEquals(0, CMath.toUint8(Float.NEGATIVE_INFINITY));
        assertEquals(0, CMath.toInt8(3e9f));
        assertEquals(-56, CMath.toInt8(200.7f));
        assertEquals(200, CMath.toUint8(200.7f));
        assertEquals(-2, CMath.toInt8(-2.9f));
        assertEquals(0, CMath.lroundfInt(Float.NaN));
        assertEquals(-3, CMath.lroundfInt(-2.5f));
    }

    @Test
    void floorLog2OfPowersOfTwoIsExact() {
        for (int k = -149; k <= 127; k++) {
            float p = Math.scalb(1f, k);
            assertEquals(k, CMath.floorLog2f(p), 0f, "2^" + k);
        }
    }

    @Test
    void e8m0HalfIsTwoToTheEMinus128() {
        for (int e = 0; e < 256; e++) {
            assertEquals(Math.scalb(1.0, e - 128), CMath.e8m0Half(e), 0.0, "e=" + e);
        }
    }
}
