package io.quantkit.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class SchemeSurveyTest {
    private static final int ROWS = 256;
    private static final int COLS = 1024;
    private static final long SEED = 7;

    private static double sqnr(List<SchemeSurvey.Row> rows, String scheme) {
        return rows.stream().filter(r -> r.scheme().equals(scheme)).findFirst().orElseThrow().metrics().sqnrDb();
    }

    /**
     * Acceptance (issue 2): on heavy-tailed weights, keeping 0.5% of them in 16-bit beats plain INT4 at the
     * same group size by a clear margin. Measured on this 256×1024 t(3) matrix, seed 7: int4 (group 128)
     * 12.98 dB, int4-outliers (group 128, 0.5%) 17.14 dB: +4.2 dB; the assertion asks for 2 dB.
     */
    @Test
    void outliersBeatPlainInt4OnStudentT() {
        float[] w = SchemeSurvey.matrix(SchemeSurvey.Matrix.STUDENT_T3, ROWS, COLS, SEED);
        List<SchemeSurvey.Row> rows = SchemeSurvey.run(SchemeSurvey.Matrix.STUDENT_T3, w, ROWS, COLS,
                List.of("int4", "int4-outliers", "int4:group=64", "int4-outliers:group=64"));
        double plain = sqnr(rows, "int4");
        double kept = sqnr(rows, "int4-outliers");
        assertTrue(kept - plain >= 2.0, "seed " + SEED + ": int4-outliers " + kept + " dB vs int4 " + plain + " dB");
        assertTrue(sqnr(rows, "int4-outliers:group=64") - sqnr(rows, "int4:group=64") >= 2.0, "seed " + SEED);
        // the outliers cost what the budget says: 0.5% of the weights at 32 bits each (u16 offset, 16-bit
        // value), plus one 32-bit block end per 65,536 weights
        double bpw = rows.get(1).bitsPerWeight();
        long k = (long) Math.floor(0.005 * ROWS * COLS);
        assertEquals(4 + 16.0 / 128 + (32.0 * k + 32.0 * ROWS * COLS / 65536) / (ROWS * COLS), bpw, 1e-12);
    }

    /** On Gaussian weights each extra bit of an integer grid adds roughly 6 dB (the 6.02 dB/bit rule). */
    @Test
    void integerGridsGainAboutSixDbPerBit() {
        float[] w = SchemeSurvey.matrix(SchemeSurvey.Matrix.GAUSSIAN, 64, 1024, SEED);
        List<SchemeSurvey.Row> rows = SchemeSurvey.run(SchemeSurvey.Matrix.GAUSSIAN, w, 64, 1024,
                List.of("int:bits=4,group=128", "int:bits=5,group=128", "int:bits=6,group=128", "int:bits=7,group=128",
                        "int:bits=8,group=128"));
        for (int i = 1; i < rows.size(); i++) {
            double gain = rows.get(i).metrics().sqnrDb() - rows.get(i - 1).metrics().sqnrDb();
            assertTrue(gain > 5.5 && gain < 7.0, rows.get(i).scheme() + ": gain " + gain + " dB, seed " + SEED);
        }
    }

    @Test
    void matricesAreSeededAndHaveTheStatedSpread() {
        float[] a = SchemeSurvey.matrix(SchemeSurvey.Matrix.GAUSSIAN, 100, 1000, 3);
        float[] b = SchemeSurvey.matrix(SchemeSurvey.Matrix.GAUSSIAN, 100, 1000, 3);
        assertEquals(java.util.Arrays.hashCode(a), java.util.Arrays.hashCode(b));
        double ss = 0;
        for (float v : a) {
            ss += (double) v * v;
        }
        assertEquals(0.02, Math.sqrt(ss / a.length), 0.0002); // 100k samples: σ within 1%
        // t(3) has variance 3 (σ·√3); its sample variance converges slowly, so check the median |x| instead:
        // the median of |t(3)| is 0.7649 (t(3) 75th percentile), times 0.02
        float[] t = SchemeSurvey.matrix(SchemeSurvey.Matrix.STUDENT_T3, 100, 1000, 3);
        float[] abs = new float[t.length];
        for (int i = 0; i < t.length; i++) {
            abs[i] = Math.abs(t[i]);
        }
        java.util.Arrays.sort(abs);
        assertEquals(0.02 * 0.7649, abs[abs.length / 2], 0.02 * 0.01);
    }
}
