package io.quantkit.format;

/**
 * E8M0, the shared scale of OCP Microscaling (MX) blocks (OCP MX specification v1.0, section 5.4.1):
 * an 8-bit unsigned biased exponent, no sign, no mantissa.
 *
 * <pre>
 *   bit  7 6 5 4 3 2 1 0
 *        E E E E E E E E        value 2^(E - 127) for E = 0..254; E = 0xFF is NaN; there is no zero
 *   0x00 = 2^-127 (a float32 subnormal), 0x7F = 1.0, 0xFE = 2^127
 * </pre>
 *
 * <p>Encoders, none of which rounds to nearest:
 * <ul>
 *   <li>{@link #encodeExact(float)}: a power of two in [2^-127, 2^127] → its code; anything else is an
 *       {@link IllegalArgumentException}.</li>
 *   <li>{@link #encodeFloor(float)}: the largest power of two ≤ x, i.e. 2^floor(log2 x), clamped to the
 *       range (x = 0 → 0x00, x ≥ 2^128 → 0xFE); NaN and +Inf → 0xFF (NaN); negative x is rejected.</li>
 *   <li>{@link #mxScale(float, int)}: MX scale selection (spec section 6.3): for a block whose largest
 *       magnitude is {@code amax} and an element format whose largest normal has exponent
 *       {@code elementEmax} (2 for E2M1, 8 for E4M3, 15 for E5M2), X = 2^(floor(log2 amax) − elementEmax),
 *       clamped to [2^-127, 2^127]; amax = 0 gives 2^-127; NaN or Inf amax gives the NaN scale 0xFF.
 *       Elements are then {@code x / X}, converted with saturation.</li>
 * </ul>
 * floor(log2 x) is taken from the float32 bits, exactly, subnormals included. Decoding is exact.
 * Stateless and thread-safe.
 */
public final class E8M0 {
    /** Exponent bias. */
    public static final int BIAS = 127;
    /** The NaN code. */
    public static final int NAN_CODE = 0xFF;

    private E8M0() {
    }

    /** Code (0..255, low 8 bits read) → 2^(code−127), or NaN for 0xFF. Exact. */
    public static float decode(int code) {
        int c = code & 0xFF;
        if (c == 0) {
            return 0x1p-127f;
        }
        if (c == NAN_CODE) {
            return Float.NaN;
        }
        return Float.intBitsToFloat(c << 23);
    }

    /** Whether a code is the NaN code. */
    public static boolean isNaN(int code) {
        return (code & 0xFF) == NAN_CODE;
    }

    /** The unbiased exponent 2^k of a non-NaN code: code − 127. */
    public static int exponent(int code) {
        int c = code & 0xFF;
        if (c == NAN_CODE) {
            throw new IllegalArgumentException("The E8M0 NaN code (0xFF) has no exponent.");
        }
        return c - BIAS;
    }

    /**
     * An exact power of two → its code.
     *
     * @throws IllegalArgumentException if {@code x} is not a power of two in [2^-127, 2^127]
     */
    public static int encodeExact(float x) {
        int k = floorLog2(x);
        if (k == Integer.MIN_VALUE || !(x > 0) || Math.scalb(1.0f, k) != x || k < -BIAS || k > BIAS) {
            throw new IllegalArgumentException("E8M0 holds only powers of two from 2^-127 to 2^127, not " + x + ".");
        }
        return k + BIAS;
    }

    /**
     * 2^floor(log2 x), clamped to the code range; 0 → 0x00; NaN, +Inf → 0xFF.
     *
     * @throws IllegalArgumentException if {@code x} is negative (E8M0 has no sign)
     */
    public static int encodeFloor(float x) {
        if (x != x || x == Float.POSITIVE_INFINITY) {
            return NAN_CODE;
        }
        if (x < 0) {
            throw new IllegalArgumentException("E8M0 has no sign: cannot encode " + x + ".");
        }
        if (x == 0) {
            return 0;
        }
        return clampCode(floorLog2(x));
    }

    /**
     * MX shared-scale selection: the code of 2^(floor(log2 amax) − elementEmax), clamped; see the class doc.
     *
     * @throws IllegalArgumentException if {@code amax} is negative
     */
    public static int mxScale(float amax, int elementEmax) {
        if (amax != amax || Float.isInfinite(amax)) {
            return NAN_CODE;
        }
        if (amax < 0) {
            throw new IllegalArgumentException("The block's largest magnitude cannot be negative (" + amax + ").");
        }
        if (amax == 0) {
            return 0;
        }
        return clampCode(floorLog2(amax) - elementEmax);
    }

    private static int clampCode(int k) {
        return Math.max(-BIAS, Math.min(BIAS, k)) + BIAS;
    }

    /** floor(log2 |x|) for finite non-zero x, exact from the bits; Integer.MIN_VALUE for 0, NaN or Inf. */
    static int floorLog2(float x) {
        int abs = Float.floatToRawIntBits(x) & 0x7fffffff;
        if (abs == 0 || abs >= 0x7f800000) {
            return Integer.MIN_VALUE;
        }
        int e = abs >>> 23;
        if (e != 0) {
            return e - 127;
        }
        return (31 - Integer.numberOfLeadingZeros(abs)) - 149; // subnormal: position of the top set bit
    }
}
