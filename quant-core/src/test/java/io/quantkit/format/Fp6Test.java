package io.quantkit.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** FP6 E2M3 / E3M2 decoding: the OCP MX v1.0 tables (section 5.3.2), worked by hand, and invariants over all codes. */
class Fp6Test {
    @Test
    void handWorkedValues() {
        // E2M3: S EE MMM, bias 1
        assertEquals(0f, Fp6.E2M3.decode(0b000000));
        assertEquals(0.125f, Fp6.E2M3.decode(0b000001)); // subnormal 1/8, the smallest
        assertEquals(0.875f, Fp6.E2M3.decode(0b000111)); // largest subnormal 7/8
        assertEquals(1f, Fp6.E2M3.decode(0b001000));
        assertEquals(1.875f, Fp6.E2M3.decode(0b001111));
        assertEquals(2f, Fp6.E2M3.decode(0b010000));
        assertEquals(7.5f, Fp6.E2M3.decode(0b011111)); // max normal 2^2 * 1.875
        assertEquals(-7.5f, Fp6.E2M3.decode(0b111111));
        assertEquals(Float.floatToIntBits(-0f), Float.floatToIntBits(Fp6.E2M3.decode(0b100000)));
        // E3M2: S EEE MM, bias 3
        assertEquals(0.0625f, Fp6.E3M2.decode(0b000001)); // subnormal 1/16
        assertEquals(0.1875f, Fp6.E3M2.decode(0b000011));
        assertEquals(0.25f, Fp6.E3M2.decode(0b000100)); // min normal 2^-2
        assertEquals(1f, Fp6.E3M2.decode(0b001100));
        assertEquals(1.25f, Fp6.E3M2.decode(0b001101));
        assertEquals(28f, Fp6.E3M2.decode(0b011111)); // max normal 2^4 * 1.75
        assertEquals(-3f, Fp6.E3M2.decode(0b110010));
        // only the low six bits are read
        assertEquals(Fp6.E3M2.decode(0b001100), Fp6.E3M2.decode(0b11001100));
    }

    @Test
    void everyCodeIsFiniteSymmetricAndIncreasing() {
        for (Fp6 f : Fp6.values()) {
            float prev = -1;
            for (int c = 0; c < 32; c++) {
                float v = f.decode(c);
                assertTrue(Float.isFinite(v) && v > prev || c == 0, f + " code " + c);
                assertEquals(-v, f.decode(c | 0x20), f + " code " + c);
                prev = v;
            }
        }
    }
}
