package io.quantkit.format;

/**
 * An integer quantization grid: the codes a value is rounded to before it is scaled back.
 *
 * <pre>
 *   kind        codes q                      value            typical scale
 *   SYMMETRIC   -2^(b-1) .. 2^(b-1)-1        q * s            s = amax / qmax   (b = 2..8)
 *   UNSIGNED    0 .. 2^b - 1, zero point z   (q - z) * s      s = (max - min) / qmax, z = roundHalfEven(-min / s)
 *   TERNARY     -1, 0, +1                    q * s            s = mean |w|  (BitNet b1.58 absmean)
 * </pre>
 * For b = 4: SYMMETRIC is -8..7, UNSIGNED 0..15. With s = amax/qmax the symmetric code -2^(b-1) is only
 * reached by clamping; it stays in the grid because two's-complement storage has it.
 *
 * <p><b>Rounding</b>: {@code q = clamp(roundHalfEven(x / s) [+ z], qmin, qmax)} — ties to even (2.5 → 2,
 * -2.5 → -2, 0.5 → 0), then clamping (saturation). The division is one float32 division (RNE); callers that
 * multiply by a reciprocal instead use {@link #quantizeScaled(float)}. ±Infinity saturates to qmin/qmax.
 * NaN input (or a NaN quotient) is an {@link IllegalArgumentException}. A scale of 0 (an all-zero block) maps
 * every value to the zero code (0, or z). Dequantization is one float32 multiply, {@code q * s} or
 * {@code (q - z) * s}.
 *
 * <p>Immutable, thread-safe; obtain with {@link #symmetric}, {@link #unsigned} or {@link #ternary}.
 */
public final class IntGrid {
    /** The three kinds of grid. */
    public enum Kind {
        /** Two's-complement range -2^(b-1) .. 2^(b-1)-1, no zero point. */
        SYMMETRIC,
        /** Unsigned range 0 .. 2^b-1 with an integer zero point (asymmetric quantization). */
        UNSIGNED,
        /** {-1, 0, +1} (log2(3) ≈ 1.58 bits of information, stored in 2 bits or 5 per byte). */
        TERNARY
    }

    /** Smallest supported width in bits. */
    public static final int MIN_BITS = 2;
    /** Largest supported width in bits. */
    public static final int MAX_BITS = 8;

    private static final IntGrid[] SYMMETRIC_GRIDS = new IntGrid[MAX_BITS + 1];
    private static final IntGrid[] UNSIGNED_GRIDS = new IntGrid[MAX_BITS + 1];
    private static final IntGrid TERNARY_GRID = new IntGrid(Kind.TERNARY, 2, -1, 1);

    static {
        for (int b = MIN_BITS; b <= MAX_BITS; b++) {
            SYMMETRIC_GRIDS[b] = new IntGrid(Kind.SYMMETRIC, b, -(1 << (b - 1)), (1 << (b - 1)) - 1);
            UNSIGNED_GRIDS[b] = new IntGrid(Kind.UNSIGNED, b, 0, (1 << b) - 1);
        }
    }

    private final Kind kind;
    private final int bits;
    private final int qmin;
    private final int qmax;

    private IntGrid(Kind kind, int bits, int qmin, int qmax) {
        this.kind = kind;
        this.bits = bits;
        this.qmin = qmin;
        this.qmax = qmax;
    }

    /** The symmetric signed grid of {@code bits} bits (2..8): -2^(bits-1) .. 2^(bits-1)-1. */
    public static IntGrid symmetric(int bits) {
        return SYMMETRIC_GRIDS[checkBits(bits)];
    }

    /** The unsigned grid of {@code bits} bits (2..8) used with a zero point: 0 .. 2^bits-1. */
    public static IntGrid unsigned(int bits) {
        return UNSIGNED_GRIDS[checkBits(bits)];
    }

    /** The ternary grid {-1, 0, +1} (stored in 2 bits). */
    public static IntGrid ternary() {
        return TERNARY_GRID;
    }

    private static int checkBits(int bits) {
        if (bits < MIN_BITS) {
            throw new IllegalArgumentException(String.format(
                    "Integer grid width (%d bits) is below the minimum (%d).", bits, MIN_BITS));
        }
        if (bits > MAX_BITS) {
            throw new IllegalArgumentException(String.format(
                    "Integer grid width (%d bits) exceeds the maximum (%d).", bits, MAX_BITS));
        }
        return bits;
    }

    /** The kind of grid. */
    public Kind kind() {
        return kind;
    }

    /** Storage width in bits (2 for ternary). */
    public int bits() {
        return bits;
    }

    /** Smallest code. */
    public int qmin() {
        return qmin;
    }

    /** Largest code. */
    public int qmax() {
        return qmax;
    }

    /** Number of codes (qmax - qmin + 1). */
    public int levels() {
        return qmax - qmin + 1;
    }

    /**
     * Rounds an already-scaled value to a code: {@code clamp(roundHalfEven(v), qmin, qmax)}.
     * For UNSIGNED grids {@code v} must already include the zero point.
     *
     * @throws IllegalArgumentException if {@code v} is NaN
     */
    public int quantizeScaled(float v) {
        if (v != v) {
            throw new IllegalArgumentException("Cannot quantize NaN to an integer grid.");
        }
        float r = (float) Math.rint(v); // exact, ties to even
        if (r <= qmin) {
            return qmin;
        }
        if (r >= qmax) {
            return qmax;
        }
        return (int) r;
    }

    /**
     * Symmetric/ternary quantization: {@code clamp(roundHalfEven(x / scale), qmin, qmax)}; scale 0 → 0.
     *
     * @throws IllegalArgumentException if this grid is UNSIGNED (it needs a zero point), if {@code x} is
     *     NaN, or if {@code scale} is negative or not finite
     */
    public int quantize(float x, float scale) {
        if (kind == Kind.UNSIGNED) {
            throw new IllegalArgumentException("An unsigned grid needs a zero point: use quantize(x, scale, zeroPoint).");
        }
        checkScale(scale);
        if (scale == 0.0f) {
            if (x != x) {
                throw new IllegalArgumentException("Cannot quantize NaN to an integer grid.");
            }
            return 0;
        }
        return quantizeScaled(x / scale);
    }

    /**
     * Asymmetric quantization: {@code clamp(roundHalfEven(x / scale) + zeroPoint, qmin, qmax)}; scale 0 →
     * the zero point. Accepted on every kind (the zero point must lie in [qmin, qmax]).
     *
     * @throws IllegalArgumentException if {@code x} is NaN, {@code scale} is negative or not finite, or the
     *     zero point is outside the grid
     */
    public int quantize(float x, float scale, int zeroPoint) {
        checkZeroPoint(zeroPoint);
        checkScale(scale);
        if (x != x) {
            throw new IllegalArgumentException("Cannot quantize NaN to an integer grid.");
        }
        if (scale == 0.0f) {
            return zeroPoint;
        }
        double r = Math.rint(x / scale) + zeroPoint; // the rounded quotient, then an exact integer add
        if (r <= qmin) {
            return qmin;
        }
        if (r >= qmax) {
            return qmax;
        }
        return (int) r;
    }

    /** {@code q * scale} (one float32 multiply). */
    public float dequantize(int q, float scale) {
        return q * scale;
    }

    /** {@code (q - zeroPoint) * scale} (an exact integer subtract, one float32 multiply). */
    public float dequantize(int q, float scale, int zeroPoint) {
        return (q - zeroPoint) * scale;
    }

    /**
     * The symmetric scale {@code amax / qmax} (float32 division) that maps the largest magnitude to qmax.
     *
     * @throws IllegalArgumentException if {@code amax} is negative, NaN or infinite
     */
    public float symmetricScale(float amax) {
        if (!(amax >= 0.0f) || amax == Float.POSITIVE_INFINITY) {
            throw new IllegalArgumentException("The largest magnitude (" + amax + ") must be finite and non-negative.");
        }
        return amax / qmax;
    }

    /**
     * The asymmetric scale {@code (max - min) / (qmax - qmin)} for a range that is first widened to contain 0
     * (so that 0 is exactly representable), computed in double and rounded once to float32.
     *
     * @throws IllegalArgumentException if min or max is not finite, or min &gt; max
     */
    public float asymmetricScale(float min, float max) {
        checkRange(min, max);
        double lo = Math.min(min, 0.0f);
        double hi = Math.max(max, 0.0f);
        return (float) ((hi - lo) / (qmax - qmin));
    }

    /**
     * The zero point for a range and scale: {@code clamp(qmin + roundHalfEven(-min' / scale), qmin, qmax)}
     * with {@code min' = min(min, 0)}; scale 0 gives qmin.
     *
     * @throws IllegalArgumentException if {@code min} is not finite or {@code scale} is negative or not finite
     */
    public int zeroPoint(float min, float scale) {
        if (!Float.isFinite(min)) {
            throw new IllegalArgumentException("The range minimum (" + min + ") must be finite.");
        }
        checkScale(scale);
        if (scale == 0.0f) {
            return qmin;
        }
        double z = qmin + Math.rint(-Math.min(min, 0.0f) / (double) scale);
        if (z <= qmin) {
            return qmin;
        }
        if (z >= qmax) {
            return qmax;
        }
        return (int) z;
    }

    private static void checkScale(float scale) {
        if (!(scale >= 0.0f) || scale == Float.POSITIVE_INFINITY) {
            throw new IllegalArgumentException("The scale (" + scale + ") must be finite and non-negative.");
        }
    }

    private void checkZeroPoint(int zeroPoint) {
        if (zeroPoint < qmin || zeroPoint > qmax) {
            throw new IllegalArgumentException(String.format(
                    "Zero point (%d) lies outside the grid [%d, %d].", zeroPoint, qmin, qmax));
        }
    }

    private static void checkRange(float min, float max) {
        if (!Float.isFinite(min) || !Float.isFinite(max) || min > max) {
            throw new IllegalArgumentException("The range [" + min + ", " + max + "] must be finite with min <= max.");
        }
    }

    @Override
    public String toString() {
        return kind == Kind.TERNARY ? "ternary{-1,0,+1}"
                : kind.name().toLowerCase(java.util.Locale.ROOT) + bits + "[" + qmin + ".." + qmax + "]";
    }
}
