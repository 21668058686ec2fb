package io.quantkit.format;

import java.util.Objects;

/**
 * bfloat16: the top 16 bits of an IEEE float32 (1 sign, 8 exponent, 7 mantissa bits).
 *
 * <p>Encoding rounds to nearest, ties to even. NaN stays NaN (quiet bit set, sign kept); infinities and
 * overflow to infinity follow IEEE. Decoding is exact.
 */
public final class Bf16 {
    private Bf16() {
    }

    /** float32 → bf16 bits, round-to-nearest-even; NaN → a quiet NaN with the same sign. */
    public static short fromFloat(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7fffffff) > 0x7f800000) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        int lsb = (bits >>> 16) & 1;
        int rounded = bits + 0x7fff + lsb;
        return (short) (rounded >>> 16);
    }

    /** bf16 bits → float32, exact. */
    public static float toFloat(short h) {
        return Float.intBitsToFloat((h & 0xffff) << 16);
    }

    /** Rounds a float32 to the nearest bf16 value (RNE). */
    public static float round(float f) {
        return toFloat(fromFloat(f));
    }

    /**
     * Encodes {@code length} floats from {@code src[srcOffset..]} to bf16 bits in {@code dst[dstOffset..]}
     * (same rounding as {@link #fromFloat}).
     *
     * @throws IndexOutOfBoundsException if a range lies outside its array
     */
    public static void encode(float[] src, int srcOffset, short[] dst, int dstOffset, int length) {
        Objects.checkFromIndexSize(srcOffset, length, src.length);
        Objects.checkFromIndexSize(dstOffset, length, dst.length);
        for (int i = 0; i < length; i++) {
            dst[dstOffset + i] = fromFloat(src[srcOffset + i]);
        }
    }

    /**
     * Decodes {@code length} bf16 codes from {@code src[srcOffset..]} into {@code dst[dstOffset..]}, exactly.
     *
     * @throws IndexOutOfBoundsException if a range lies outside its array
     */
    public static void decode(short[] src, int srcOffset, float[] dst, int dstOffset, int length) {
        Objects.checkFromIndexSize(srcOffset, length, src.length);
        Objects.checkFromIndexSize(dstOffset, length, dst.length);
        for (int i = 0; i < length; i++) {
            dst[dstOffset + i] = Float.intBitsToFloat(src[srcOffset + i] << 16);
        }
    }
}
