package io.quantkit.model;

/**
 * Elementary functions computed with IEEE arithmetic only, so training and inference give the same bits on every JVM
 * and CPU ({@link Math#exp} may use a platform intrinsic whose last bit varies). The training kernels and the
 * inference model ({@link LlamaModel}) both use these, which is what lets a trained model evaluate to the very logits
 * training computed. Stateless and thread-safe.
 */
public final class DetMath {
    private DetMath() {
    }

    private static final double LOG2E = 1.4426950408889634;
    // ln 2 split so that k * LN2_HI is exact for |k| < 2^11
    private static final double LN2_HI = 0.6931471803691238;
    private static final double LN2_LO = 1.9082149292705877e-10;

    /**
     * e^x with relative error below 1e-14: x = k ln2 + r with |r| ≤ ln2/2, a degree-12 Taylor polynomial of
     * e^r (Horner), then an exact scaling by 2^k. Underflows to 0 below -745 and overflows to +∞ above 709.78.
     */
    public static double exp(double x) {
        if (x != x) {
            return x;
        }
        if (x < -745.0) {
            return 0.0;
        }
        if (x > 709.78) {
            return Double.POSITIVE_INFINITY;
        }
        double k = Math.floor(x * LOG2E + 0.5);
        double r = (x - k * LN2_HI) - k * LN2_LO;
        double p = 1.0 / 479001600.0;            // 1/12!
        p = p * r + 1.0 / 39916800.0;            // 1/11!
        p = p * r + 1.0 / 3628800.0;
        p = p * r + 1.0 / 362880.0;
        p = p * r + 1.0 / 40320.0;
        p = p * r + 1.0 / 5040.0;
        p = p * r + 1.0 / 720.0;
        p = p * r + 1.0 / 120.0;
        p = p * r + 1.0 / 24.0;
        p = p * r + 1.0 / 6.0;
        p = p * r + 0.5;
        p = p * r + 1.0;
        p = p * r + 1.0;
        return Math.scalb(p, (int) k);
    }

    /** {@code 2^(i - 511)} for {@code 0 <= i <= 1022}: every scale {@link #exp(double[], double[], double[], int)} multiplies by. */
    private static final double[] POW2 = new double[1023];

    static {
        for (int i = 0; i < POW2.length; i++) {
            POW2[i] = Math.scalb(1.0, i - 511);
        }
    }

    /**
     * {@code out[i] = exp(x[i])} for {@code i < n}, bit for bit the value of {@link #exp(double)}, in two passes: a
     * loop of plain double arithmetic over the arrays (the range reduction and the same Horner polynomial, which the
     * JIT turns into SIMD code), then a scalar pass that scales by {@code 2^k} from a table. For {@code |k| <= 511}
     * that product is the one multiplication {@link Math#scalb} performs (exact, as the result is normal); other
     * arguments (and NaN) take the scalar {@link #exp(double)}. {@code k} is scratch of at least {@code n};
     * {@code out} must not be {@code x}.
     */
    public static void exp(double[] x, double[] out, double[] k, int n) {
        for (int i = 0; i < n; i++) {
            double xi = x[i];
            double ki = Math.floor(xi * LOG2E + 0.5);
            double r = (xi - ki * LN2_HI) - ki * LN2_LO;
            // the polynomial of exp(double) written out again on purpose: a shared method here measured 3-8 % slower
            // in TrainBench (C2 vectorizes this loop less well through the call); DetMathTest keeps the two equal
            double p = 1.0 / 479001600.0;
            p = p * r + 1.0 / 39916800.0;
            p = p * r + 1.0 / 3628800.0;
            p = p * r + 1.0 / 362880.0;
            p = p * r + 1.0 / 40320.0;
            p = p * r + 1.0 / 5040.0;
            p = p * r + 1.0 / 720.0;
            p = p * r + 1.0 / 120.0;
            p = p * r + 1.0 / 24.0;
            p = p * r + 1.0 / 6.0;
            p = p * r + 0.5;
            p = p * r + 1.0;
            p = p * r + 1.0;
            out[i] = p;
            k[i] = ki;
        }
        for (int i = 0; i < n; i++) {
            double ki = k[i];
            out[i] = ki >= -511 && ki <= 511 ? out[i] * POW2[(int) ki + 511] : exp(x[i]);
        }
    }

    /**
     * {@code g[i] = sigmoid(a[i])} for {@code i < n} through the array {@link #exp(double[], double[], double[], int)},
     * the same bits as {@link #sigmoid(float)}. {@code x}, {@code e}, {@code k} are scratch of at least {@code n}.
     */
    public static void sigmoid(float[] a, int aOff, float[] g, int gOff, int n, double[] x, double[] e, double[] k) {
        for (int i = 0; i < n; i++) {
            x[i] = -a[aOff + i];
        }
        exp(x, e, k, n);
        for (int i = 0; i < n; i++) {
            g[gOff + i] = (float) (1.0 / (1.0 + e[i]));
        }
    }

    /** The logistic sigmoid 1 / (1 + e^-x) in float. */
    public static float sigmoid(float x) {
        return (float) (1.0 / (1.0 + exp(-x)));
    }
}
