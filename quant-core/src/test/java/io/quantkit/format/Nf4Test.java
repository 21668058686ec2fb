package io.quantkit.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** NF4 against bitsandbytes' constants and decision tree, transcribed in reference/formats/gen_nf4.py. */
class Nf4Test {

    @Test
    void tableIsBitsandbytesValues() {
        List<String[]> rows = Reference.rows("nf4_table.txt");
        assertEquals(Nf4.SIZE, rows.size());
        float[] values = Nf4.values();
        for (String[] r : rows) {
            int code = Reference.hex(r[0]);
            assertEquals(Reference.hex(r[1]), Float.floatToRawIntBits(Nf4.decode(code)), "code " + code);
            assertEquals(Reference.hex(r[1]), Float.floatToRawIntBits(values[code]));
            assertEquals(code, Nf4.encode(Nf4.decode(code)), "re-encode code " + code);
        }
        values[0] = 42.0f;
        assertEquals(-1.0f, Nf4.decode(0), "values() is a copy");
    }

    @Test
    void encodingEqualsBitsandbytesTreeAndNearestExceptAtTheDocumentedPoints() {
        List<String[]> rows = Reference.rows("nf4_encode.txt");
        assertTrue(rows.size() > 5000);
        List<Float> differFromNearest = new ArrayList<>();
        for (String[] r : rows) {
            float x = Reference.f32(r[0]);
            int tree = Reference.hex(r[1]);
            int nearest = Reference.hex(r[2]);
            int got = Nf4.encode(x);
            if (got != tree) {
                fail("NF4 encode(" + x + ") = " + got + ", bitsandbytes gives " + tree);
            }
            if (got != nearest) {
                differFromNearest.add(x);
                assertEquals(nearest - 1, got, "only ever one code lower, at " + x);
                assertEquals(Nf4.threshold(got), x, "only at a threshold, at " + x);
            }
        }
        assertEquals(6, differFromNearest.size(), "the six thresholds rounded above their midpoint: "
                + differFromNearest);
    }

    @Test
    void thresholdsAreFloat32Midpoints() {
        float[] v = Nf4.values();
        for (int k = 0; k < 15; k++) {
            float t = Nf4.threshold(k);
            assertTrue(v[k] < t && t < v[k + 1]);
            double mid = ((double) v[k] + v[k + 1]) / 2;
            assertTrue(Math.abs(t - mid) <= Math.ulp(t) / 2, "threshold " + k);
        }
        assertThrows(IndexOutOfBoundsException.class, () -> Nf4.threshold(15));
    }

    @Test
    void outOfRangeClampsAndNaNIsRejected() {
        assertEquals(15, Nf4.encode(7.0f));
        assertEquals(0, Nf4.encode(Float.NEGATIVE_INFINITY));
        assertEquals(7, Nf4.encode(-0.0f));
        assertThrows(IllegalArgumentException.class, () -> Nf4.encode(Float.NaN));
    }

    @Test
    void bulkMonotonicAndIdempotent() {
        long seed = 0x2f4L;
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] xs = new float[4097];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = (float) (rnd.nextDouble() * 2.2 - 1.1);
        }
        java.util.Arrays.sort(xs);
        byte[] codes = new byte[xs.length + 1];
        Nf4.encode(xs, 0, codes, 1, xs.length);
        float[] back = new float[xs.length];
        Nf4.decode(codes, 1, back, 0, xs.length);
        for (int i = 0; i < xs.length; i++) {
            assertEquals(Nf4.encode(xs[i]), codes[i + 1], "seed " + seed);
            assertEquals(codes[i + 1], Nf4.encode(back[i]), "decode∘encode idempotent, seed " + seed);
            if (i > 0) {
                assertTrue(codes[i + 1] >= codes[i], "monotonic, seed " + seed);
            }
        }
    }
}
