package io.quantkit.quant;

import io.quantkit.tensor.Tensor;
import java.util.Objects;

/**
 * How far a reconstruction (the dequantized tensor) is from its original, element by element.
 *
 * <p>With {@code x} the original, {@code y} the reconstruction and {@code e = x - y}, over {@code n} elements:
 * <pre>
 * mse                = Σe² / n                    rmse = √mse
 * maxAbsError        = max |e|
 * sqnrDb             = 10·log10(Σx² / Σe²)        (signal-to-quantization-noise ratio)
 * cosine             = Σxy / √(Σx²·Σy²)
 * relativeFrobenius  = √(Σe² / Σx²)               (= ‖x − y‖_F / ‖x‖_F)
 * </pre>
 * Every difference and product is formed in double from the float inputs, and the four sums use
 * Neumaier's compensated summation, so results do not depend on summation order to within a few ulps
 * of double even for 10^8 elements.
 *
 * <p>Edge cases, all deliberate:
 * <ul>
 *   <li>The original must be finite: NaN or ±Inf there throws {@link IllegalArgumentException} (there is no
 *       meaningful error against an undefined reference).</li>
 *   <li>A non-finite reconstructed element (e.g. FP8 in non-saturating mode) counts as an infinite error:
 *       {@link #nonFinite()} counts them, and then mse, rmse, maxAbsError and relativeFrobenius are +Inf,
 *       sqnrDb is −Inf and cosine is NaN.</li>
 *   <li>Zero signal (Σx² = 0, including the empty pair): an exact reconstruction has sqnrDb = +Inf and
 *       relativeFrobenius = 0; otherwise sqnrDb = −Inf and relativeFrobenius = +Inf.</li>
 *   <li>Exact reconstruction of a non-zero signal: sqnrDb = +Inf, relativeFrobenius = 0, cosine = 1.</li>
 *   <li>cosine is 1 when both sides are all zero, 0 when exactly one side is all zero.</li>
 *   <li>Empty pair: mse = rmse = maxAbsError = 0, count = 0.</li>
 * </ul>
 *
 * <p>Immutable and thread-safe.
 */
public record ErrorMetrics(long count, double mse, double maxAbsError, double sqnrDb, double cosine,
                           double relativeFrobenius, long nonFinite) {

    private static final int CHUNK = 1 << 16;

    /** Root mean square error, {@code √mse}. */
    public double rmse() {
        return Math.sqrt(mse);
    }

    /** Metrics of {@code reconstructed} against {@code original} (same length). */
    public static ErrorMetrics of(float[] original, float[] reconstructed) {
        Objects.requireNonNull(original, "original");
        Objects.requireNonNull(reconstructed, "reconstructed");
        if (original.length != reconstructed.length) {
            throw new IllegalArgumentException("original has " + original.length
                    + " elements but the reconstruction has " + reconstructed.length);
        }
        Accumulator acc = new Accumulator();
        acc.add(original, reconstructed, 0, original.length, 0);
        return acc.result();
    }

    /** Metrics of {@code reconstructed} against {@code original}; shapes must be equal. Streams in chunks. */
    public static ErrorMetrics of(Tensor original, Tensor reconstructed) {
        Objects.requireNonNull(original, "original");
        Objects.requireNonNull(reconstructed, "reconstructed");
        if (!original.shape().equals(reconstructed.shape())) {
            throw new IllegalArgumentException("original has shape " + original.shape()
                    + " but the reconstruction has shape " + reconstructed.shape());
        }
        long n = original.shape().numel();
        float[] a = new float[(int) Math.min(n, CHUNK)];
        float[] b = new float[a.length];
        Accumulator acc = new Accumulator();
        for (long pos = 0; pos < n; pos += a.length) {
            int len = (int) Math.min(a.length, n - pos);
            original.dequantize(pos, a, 0, len);
            reconstructed.dequantize(pos, b, 0, len);
            acc.add(a, b, 0, len, pos);
        }
        return acc.result();
    }

    /** Mutable running sums (Neumaier); one per call, never shared. */
    private static final class Accumulator {
        private final double[] sum = new double[4]; // Σe², Σx², Σy², Σxy
        private final double[] comp = new double[4];
        private double maxAbs;
        private long count;
        private long nonFinite;

        void add(float[] x, float[] y, int off, int len, long base) {
            for (int i = off; i < off + len; i++) {
                float xi = x[i];
                float yi = y[i];
                if (!Float.isFinite(xi)) {
                    throw new IllegalArgumentException("original element " + (base + i - off) + " is " + xi
                            + "; error metrics need a finite original");
                }
                if (!Float.isFinite(yi)) {
                    nonFinite++;
                    continue;
                }
                double e = (double) xi - (double) yi;
                double ae = Math.abs(e);
                if (ae > maxAbs) {
                    maxAbs = ae;
                }
                add(0, e * e);
                add(1, (double) xi * xi);
                add(2, (double) yi * yi);
                add(3, (double) xi * yi);
            }
            count += len;
        }

        private void add(int k, double v) {
            double s = sum[k];
            double t = s + v;
            if (Math.abs(s) >= Math.abs(v)) {
                comp[k] += (s - t) + v;
            } else {
                comp[k] += (v - t) + s;
            }
            sum[k] = t;
        }

        ErrorMetrics result() {
            double se = sum[0] + comp[0];
            double sx = sum[1] + comp[1];
            double sy = sum[2] + comp[2];
            double sxy = sum[3] + comp[3];
            if (nonFinite > 0) {
                double inf = Double.POSITIVE_INFINITY;
                return new ErrorMetrics(count, inf, inf, Double.NEGATIVE_INFINITY, Double.NaN, inf, nonFinite);
            }
            double mse = count == 0 ? 0 : se / count;
            double sqnr;
            double rel;
            if (se == 0) {
                sqnr = Double.POSITIVE_INFINITY;
                rel = 0;
            } else if (sx == 0) {
                sqnr = Double.NEGATIVE_INFINITY;
                rel = Double.POSITIVE_INFINITY;
            } else {
                sqnr = 10 * Math.log10(sx / se);
                rel = Math.sqrt(se / sx);
            }
            double cos;
            if (sx == 0 && sy == 0) {
                cos = 1;
            } else if (sx == 0 || sy == 0) {
                cos = 0;
            } else {
                cos = sxy / Math.sqrt(sx * sy);
                cos = Math.max(-1, Math.min(1, cos));
            }
            return new ErrorMetrics(count, mse, maxAbs, sqnr, cos, rel, 0);
        }
    }
}
