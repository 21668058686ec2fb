package io.quantkit.format;

/**
 * Rounding to an integer value, with the two tie rules the formats in this toolkit need.
 *
 * <ul>
 *   <li>{@link #roundHalfEven} — IEEE 754 roundTiesToEven: 0.5 → 0, 1.5 → 2, 2.5 → 2, −2.5 → −2.
 *       The rule of every format in this package unless a format says otherwise.</li>
 *   <li>{@link #roundHalfAway} — C {@code roundf}/{@code round}: ties away from zero: 0.5 → 1, 2.5 → 3,
 *       −2.5 → −3. ggml's reference quantizers use it.</li>
 * </ul>
 *
 * <p>Both are exact for every input: values at or above 2<sup>23</sup> (float) or 2<sup>52</sup> (double)
 * are already integers and are returned unchanged; the sign of zero is kept (−0.3 → −0.0); NaN and
 * ±Infinity are returned unchanged. {@link Math#round} is neither rule (it rounds ties toward +∞, so
 * −2.5 → −2 but 2.5 → 3) and must not be used where a format states one of these.
 *
 * <p>The {@code ...ToInt} variants return the rounded value as an {@code int}, saturating at
 * {@link Integer#MIN_VALUE}/{@link Integer#MAX_VALUE}; NaN is rejected with an
 * {@link IllegalArgumentException}. Stateless and thread-safe.
 */
public final class Rounding {
    private static final float FLOAT_INTEGRAL = 0x1p23f;   // every float with |x| >= 2^23 is an integer
    private static final double DOUBLE_INTEGRAL = 0x1p52;  // every double with |x| >= 2^52 is an integer

    private Rounding() {
    }

    /** Rounds to the nearest integer value, ties to even; exact; keeps −0.0, NaN and ±Inf. */
    public static float roundHalfEven(float x) {
        // float → double is exact, rint is IEEE roundTiesToEven, and the result (an integer of at most
        // 2^24 in magnitude, or x itself) is representable as a float, so the narrowing is exact too.
        return (float) Math.rint(x);
    }

    /** Rounds to the nearest integer value, ties to even; exact; keeps −0.0, NaN and ±Inf. */
    public static double roundHalfEven(double x) {
        return Math.rint(x);
    }

    /** Rounds to the nearest integer value, ties away from zero (C {@code roundf}); exact; keeps −0.0, NaN, ±Inf. */
    public static float roundHalfAway(float x) {
        float a = Math.abs(x);
        if (!(a < FLOAT_INTEGRAL)) { // large (already integral), Inf or NaN
            return x;
        }
        float t = (float) Math.floor(a);
        // a - t is exact: both lie in the same or adjacent binades below 2^23
        if (a - t >= 0.5f) {
            t += 1.0f;
        }
        return Math.copySign(t, x);
    }

    /** Rounds to the nearest integer value, ties away from zero (C {@code round}); exact; keeps −0.0, NaN, ±Inf. */
    public static double roundHalfAway(double x) {
        double a = Math.abs(x);
        if (!(a < DOUBLE_INTEGRAL)) {
            return x;
        }
        double t = Math.floor(a);
        if (a - t >= 0.5) { // exact subtraction (Sterbenz / same binade), so no spurious tie
            t += 1.0;
        }
        return Math.copySign(t, x);
    }

    /** {@link #roundHalfEven(float)} as an int, saturating; NaN → {@link IllegalArgumentException}. */
    public static int roundHalfEvenToInt(float x) {
        return toIntSaturating(Math.rint(x), x);
    }

    /** {@link #roundHalfEven(double)} as an int, saturating; NaN → {@link IllegalArgumentException}. */
    public static int roundHalfEvenToInt(double x) {
        return toIntSaturating(Math.rint(x), x);
    }

    /** {@link #roundHalfAway(float)} as an int, saturating; NaN → {@link IllegalArgumentException}. */
    public static int roundHalfAwayToInt(float x) {
        return toIntSaturating(roundHalfAway(x), x);
    }

    /** {@link #roundHalfAway(double)} as an int, saturating; NaN → {@link IllegalArgumentException}. */
    public static int roundHalfAwayToInt(double x) {
        return toIntSaturating(roundHalfAway(x), x);
    }

    private static int toIntSaturating(double rounded, double original) {
        if (Double.isNaN(rounded)) {
            throw new IllegalArgumentException("Cannot round NaN to an integer (input " + original + ").");
        }
        return (int) rounded; // Java's narrowing saturates at the int range
    }
}
