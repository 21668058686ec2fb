package io.quantkit.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quantkit.model.DetMath;
import org.junit.jupiter.api.Test;

/**
 * {@link DetMath}'s array exponential gives the bits of its scalar one on every argument class (both sides of the
 * table's {@code |k| <= 511} range, overflow, underflow to subnormals and zero, infinities, NaN), and the scalar one
 * agrees with {@link StrictMath#exp} (fdlibm) to its stated relative error.
 */
class DetMathTest {

    /** Every 509th float bit pattern (both signs, all exponents: 8.4 million arguments) plus the special values. */
    static double[] floatSweep() {
        int step = 509;
        int n = (int) ((1L << 32) / step) + 1;
        double[] x = new double[n + 8];
        long bits = 0;
        for (int i = 0; i < n; i++, bits += step) {
            x[i] = Float.intBitsToFloat((int) bits);
        }
        double[] special = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 0.0, -0.0, -745.0,
            709.78, Math.nextUp(709.78)};
        System.arraycopy(special, 0, x, n, special.length);
        return x;
    }

    /** Doubles within 2,000 ulps of each argument where the reduction's {@code k} crosses ±511.5 and of ±745, ±709.78. */
    static double[] boundaries() {
        double log2e = 1.4426950408889634;
        double[] centres = {511.5 / log2e, -511.5 / log2e, 510.5 / log2e, -510.5 / log2e, -745.0, 709.78,
            -708.3964185322641, 0.5 / log2e, -0.5 / log2e};
        double[] x = new double[centres.length * 4001];
        int i = 0;
        for (double c : centres) {
            double lo = c;
            for (int u = 0; u < 2000; u++) {
                lo = Math.nextDown(lo);
            }
            for (int u = 0; u <= 4000; u++) {
                x[i++] = lo;
                lo = Math.nextUp(lo);
            }
        }
        return x;
    }

    static void assertArrayExpMatchesScalar(double[] x) {
        double[] out = new double[x.length];
        double[] k = new double[x.length];
        DetMath.exp(x, out, k, x.length);
        for (int i = 0; i < x.length; i++) {
            double want = DetMath.exp(x[i]);
            if (Double.doubleToRawLongBits(want) != Double.doubleToRawLongBits(out[i])
                    && !(Double.isNaN(want) && Double.isNaN(out[i]))) {
                throw new AssertionError("exp(" + x[i] + "): array " + out[i] + ", scalar " + want);
            }
        }
    }

    @Test
    void arrayExpIsBitIdenticalToScalarExpOnAFloatSweep() {
        assertArrayExpMatchesScalar(floatSweep());
    }

    @Test
    void arrayExpIsBitIdenticalAtTheRangeBoundaries() {
        double[] x = boundaries();
        assertArrayExpMatchesScalar(x);
        // the sweep does reach both the table (|k| <= 511) and the scalar fallback on each side
        double[] k = new double[x.length];
        DetMath.exp(x, new double[x.length], k, x.length);
        java.util.Set<Double> ks = new java.util.HashSet<>();
        for (double v : k) {
            ks.add(v);
        }
        assertTrue(ks.containsAll(java.util.List.of(511.0, 512.0, -511.0, -512.0)), "k values " + ks);
        assertEquals(Double.POSITIVE_INFINITY, DetMath.exp(Math.nextUp(709.78)));
        assertEquals(0.0, DetMath.exp(Math.nextDown(-745.0)));
        assertTrue(DetMath.exp(-745.0) > 0 && DetMath.exp(-745.0) < Double.MIN_NORMAL, "subnormal near -745");
    }

    @Test
    void arrayExpMatchesAtEveryLengthAndOffsetOfTheVectorLoop() {
        // lengths 0..70 cover the JIT's pre-, main and post-loops
        for (int n = 0; n <= 70; n++) {
            double[] x = new double[n];
            for (int i = 0; i < n; i++) {
                x[i] = (i * 37 % 23 - 11) * 0.731 - (n % 5) * 100;
            }
            assertArrayExpMatchesScalar(x);
        }
    }

    @Test
    void scalarExpAgreesWithFdlibm() {
        double worst = 0;
        for (int i = 0; i <= 2_000_000; i++) {
            double x = -700.0 + i * (1409.0 / 2_000_000);
            double want = StrictMath.exp(x);
            worst = Math.max(worst, Math.abs(DetMath.exp(x) - want) / want);
        }
        assertTrue(worst < 1e-14, "worst relative error " + worst);
        assertTrue(worst > 0, "the two implementations are not the same code");
    }

    @Test
    void arraySigmoidIsBitIdenticalToScalarSigmoid() {
        double[] sweep = floatSweep();
        int n = sweep.length;
        float[] a = new float[n + 3];
        for (int i = 0; i < n; i++) {
            a[i + 3] = (float) sweep[i];
        }
        float[] g = new float[n + 1];
        DetMath.sigmoid(a, 3, g, 1, n, new double[n], new double[n], new double[n]);
        for (int i = 0; i < n; i++) {
            float want = DetMath.sigmoid(a[i + 3]);
            if (Float.floatToRawIntBits(want) != Float.floatToRawIntBits(g[i + 1])
                    && !(Float.isNaN(want) && Float.isNaN(g[i + 1]))) {
                throw new AssertionError("sigmoid(" + a[i + 3] + "): array " + g[i + 1] + ", scalar " + want);
            }
        }
    }
}
