package io.quantkit.format;

import java.util.Objects;

/**
 * FP4 E2M1, the element type of OCP Microscaling MXFP4 (OCP MX specification v1.0, section 5.3.3):
 * one 4-bit code per value, returned here in the low nibble of an {@code int} or {@code byte}.
 *
 * <pre>
 *   bit  3   2 1   0        bias 1; no Inf, no NaN
 *        S   E E   M        normal    (-1)^S * 2^(E-1) * 1.M     (E = 1..3)
 *                           subnormal (-1)^S * 0.M               (E = 0)
 *   code (S=0)  0    1    2    3    4    5    6    7
 *   value       0   0.5   1   1.5   2    3    4    6        (S=1: the negatives, 8 = -0)
 * </pre>
 *
 * <p><b>Encoding</b> rounds to nearest, ties to the even code (0.25 → 0, 0.75 → 1, 1.25 → 1, 1.75 → 2,
 * 2.5 → 2, 3.5 → 4, 5 → 4) and saturates: |x| &gt; 6, including ±Infinity, gives ±6 (the MX spec's
 * conversion clamps to the largest normal). The sign is kept, so negative values that round to zero give
 * code 8 (−0). NaN has no code: {@link IllegalArgumentException}. <b>Decoding</b> is exact; only the low
 * four bits of a code are read. Stateless and thread-safe.
 */
public final class Fp4E2M1 {
    /** Largest magnitude, 6.0. */
    public static final float MAX = 6.0f;
    /** Exponent of the largest normal (6 = 1.5 * 2^2): the {@code emax_elem} of MX scale selection. */
    public static final int EMAX = 2;

    private static final float[] VALUES = {
        0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f,
        -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f,
    };

    /**
     * UPPER_IF_ABOVE[k]: a magnitude above it gets code k + 1 rather than k. Midpoints whose tie goes up (to an
     * even code: 0.75, 1.75, 3.5) are moved one float32 ulp down so that '>' includes the tie.
     */
    private static final float[] UPPER_IF_ABOVE = {
        0.25f, Math.nextDown(0.75f), 1.25f, Math.nextDown(1.75f), 2.5f, Math.nextDown(3.5f), 5.0f,
    };

    private Fp4E2M1() {
    }

    /** float32 → 4-bit code (0..15), round to nearest even, saturating; NaN → IllegalArgumentException. */
    public static int encode(float x) {
        if (x != x) {
            throw new IllegalArgumentException("FP4 E2M1 has no NaN: cannot encode NaN.");
        }
        float a = Math.abs(x);
        // code = number of boundaries below a (binary search); a boundary is the midpoint between neighbours,
        // and at a midpoint the even code wins: 0.25 → 0, 0.75 → 2, 1.25 → 2, 1.75 → 4, 2.5 → 4, 3.5 → 6,
        // 5 → 6; above 5 (and +Inf) → 7 (= 6.0, saturation)
        int mag = a > UPPER_IF_ABOVE[3] ? 4 : 0;
        if (a > UPPER_IF_ABOVE[mag + 1]) {
            mag += 2;
        }
        if (a > UPPER_IF_ABOVE[mag]) {
            mag += 1;
        }
        return ((Float.floatToRawIntBits(x) >>> 28) & 0x8) | mag;
    }

    /** 4-bit code → exact value (only the low four bits of {@code code} are used). */
    public static float decode(int code) {
        return VALUES[code & 0xF];
    }

    /** Rounds a float32 to the nearest E2M1 value (RNE, saturating). */
    public static float round(float x) {
        return VALUES[encode(x)];
    }

    /**
     * Encodes {@code length} floats into one code per byte (low nibble). Packing two codes per byte is the
     * container's business (MXFP4 block layouts differ).
     *
     * @throws IllegalArgumentException if an input is NaN
     */
    public static void encode(float[] src, int srcOffset, byte[] dst, int dstOffset, int length) {
        Objects.checkFromIndexSize(srcOffset, length, src.length);
        Objects.checkFromIndexSize(dstOffset, length, dst.length);
        for (int i = 0; i < length; i++) {
            dst[dstOffset + i] = (byte) encode(src[srcOffset + i]);
        }
    }

    /** Decodes {@code length} codes (one per byte, low nibble) into floats. */
    public static void decode(byte[] src, int srcOffset, float[] dst, int dstOffset, int length) {
        Objects.checkFromIndexSize(srcOffset, length, src.length);
        Objects.checkFromIndexSize(dstOffset, length, dst.length);
        for (int i = 0; i < length; i++) {
            dst[dstOffset + i] = VALUES[src[srcOffset + i] & 0xF];
        }
    }
}
