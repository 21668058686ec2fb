package io.quantkit.format;

import java.util.Objects;

/**
 * bfloat16: the top 16 bits of an IEEE float32 (1 sign, 8 exponent, 7 mantissa bits).
 *
 * <pre>
 *   bit 15   14..7      6..0       bias 127, same range as float32 (max 3.3895e38, subnormals to 2^-133)
 *       S    EEEEEEEE   MMMMMMM    Inf S.11111111.0000000, NaN S.11111111.(non-zero)
 * </pre>
 *
 * <p>Encoding rounds to nearest, ties to even (the dropped low half is compared with 0x8000). NaN stays NaN
 * (quiet bit set, sign kept, top payload bits kept); overflow follows IEEE: |x| at or above the midpoint
 * between the largest finite bf16 and 2^128 (float32 bits 0x7F7F8000) gives ±Inf. Decoding is exact.
 * Tested against PyTorch on all 65,536 codes and every midpoint. Stateless and thread-safe.
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
