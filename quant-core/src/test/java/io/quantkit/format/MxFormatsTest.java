package io.quantkit.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** FP4 E2M1 and E8M0 against reference/formats/gen_mx.py. */
class MxFormatsTest {

    @Test
    void e2m1AllSixteenCodesDecodeToTheSpecValues() {
        List<String[]> rows = Reference.rows("e2m1_decode.txt");
        assertEquals(16, rows.size());
        for (String[] r : rows) {
            int code = Reference.hex(r[0]);
            assertEquals(Reference.hex(r[1]), Float.floatToRawIntBits(Fp4E2M1.decode(code)), "code " + code);
            assertEquals(code, Fp4E2M1.encode(Fp4E2M1.decode(code)), "re-encode code " + code);
        }
        assertEquals(6.0f, Fp4E2M1.MAX);
        assertEquals(Fp4E2M1.decode(3), Fp4E2M1.decode(0xF3), "only the low nibble is read");
    }

    @Test
    void e2m1EncodingMatchesBruteForceNearestEvenSaturating() {
        List<String[]> rows = Reference.rows("e2m1_encode.txt");
        assertTrue(rows.size() > 6000);
        for (String[] r : rows) {
            float x = Reference.f32(r[0]);
            int expected = Reference.hex(r[1]);
            int got = Fp4E2M1.encode(x);
            if (got != expected) {
                fail("E2M1 encode(" + x + ") = " + got + ", expected " + expected);
            }
        }
    }

    @Test
    void e2m1TiesAndPolicies() {
        float[] ties = {0.25f, 0.75f, 1.25f, 1.75f, 2.5f, 3.5f, 5.0f};
        float[] expected = {0.0f, 1.0f, 1.0f, 2.0f, 2.0f, 4.0f, 4.0f};
        for (int i = 0; i < ties.length; i++) {
            assertEquals(expected[i], Fp4E2M1.round(ties[i]), "tie " + ties[i]);
            assertEquals(-expected[i], Fp4E2M1.round(-ties[i]), "tie " + -ties[i]);
        }
        assertEquals(7, Fp4E2M1.encode(Float.POSITIVE_INFINITY));
        assertEquals(15, Fp4E2M1.encode(-1e30f));
        assertEquals(8, Fp4E2M1.encode(-0.1f));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Fp4E2M1.encode(Float.NaN));
        assertEquals("FP4 E2M1 has no NaN: cannot encode NaN.", e.getMessage());
    }

    @Test
    void e2m1BulkAndMonotonic() {
        long seed = 0xe2e1L;
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] xs = new float[1021];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = (float) (rnd.nextDouble() * 16 - 8);
        }
        java.util.Arrays.sort(xs);
        byte[] codes = new byte[xs.length];
        Fp4E2M1.encode(xs, 0, codes, 0, xs.length);
        float[] back = new float[xs.length];
        Fp4E2M1.decode(codes, 0, back, 0, xs.length);
        for (int i = 0; i < xs.length; i++) {
            assertEquals(Fp4E2M1.encode(xs[i]), codes[i], "seed " + seed);
            assertEquals(codes[i], Fp4E2M1.encode(back[i]), "decode∘encode idempotent, seed " + seed);
            if (i > 0) {
                assertTrue(back[i] >= back[i - 1], "monotonic at " + xs[i] + ", seed " + seed);
            }
        }
    }

    @Test
    void e8m0All256CodesDecode() {
        List<String[]> rows = Reference.rows("e8m0_decode.txt");
        assertEquals(256, rows.size());
        for (String[] r : rows) {
            int code = Reference.hex(r[0]);
            float v = E8M0.decode(code);
            if (r[1].equals("nan")) {
                assertTrue(Float.isNaN(v));
                assertTrue(E8M0.isNaN(code));
                assertThrows(IllegalArgumentException.class, () -> E8M0.exponent(code));
            } else {
                assertEquals(Reference.hex(r[1]), Float.floatToRawIntBits(v), "code " + code);
                assertEquals(code, E8M0.encodeExact(v), "exact re-encode of code " + code);
                assertEquals(code, E8M0.encodeFloor(v));
                assertEquals(code - 127, E8M0.exponent(code));
            }
        }
    }

    @Test
    void e8m0FloorAndMxScaleSelectionMatchReference() {
        List<String[]> rows = Reference.rows("e8m0_encode.txt");
        assertTrue(rows.size() > 3000);
        int[] emax = {2, 8, 15};
        for (String[] r : rows) {
            float x = Reference.f32(r[0]);
            assertEquals(Reference.hex(r[1]), E8M0.encodeFloor(x), "floor of " + x);
            for (int k = 0; k < 3; k++) {
                assertEquals(Reference.hex(r[2 + k]), E8M0.mxScale(x, emax[k]), "mxScale(" + x + ", " + emax[k] + ")");
            }
        }
    }

    @Test
    void e8m0RejectsWhatItCannotHold() {
        assertThrows(IllegalArgumentException.class, () -> E8M0.encodeExact(3.0f));
        assertThrows(IllegalArgumentException.class, () -> E8M0.encodeExact(0.0f));
        assertThrows(IllegalArgumentException.class, () -> E8M0.encodeExact(-2.0f));
        assertThrows(IllegalArgumentException.class, () -> E8M0.encodeExact(0x1p-128f));
        assertThrows(IllegalArgumentException.class, () -> E8M0.encodeExact(Float.NaN));
        assertThrows(IllegalArgumentException.class, () -> E8M0.encodeFloor(-1.0f));
        assertThrows(IllegalArgumentException.class, () -> E8M0.mxScale(-1.0f, 2));
        assertEquals(0x7F, E8M0.encodeExact(1.0f));
        assertEquals(0, E8M0.encodeExact(0x1p-127f));
        assertEquals(254, E8M0.encodeExact(0x1p127f));
        // MXFP4 worked example: amax 5.0 → floor(log2 5) = 2, minus emax 2 → scale 2^0
        assertEquals(127, E8M0.mxScale(5.0f, Fp4E2M1.EMAX));
        assertEquals(E8M0.NAN_CODE, E8M0.mxScale(Float.POSITIVE_INFINITY, Fp4E2M1.EMAX));
    }
}
