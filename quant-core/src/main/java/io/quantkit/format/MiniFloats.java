package io.quantkit.format;

/**
 * Shared round-to-nearest-even core of the small sign/exponent/mantissa formats (FP8, FP4).
 * Package-private: the formats expose the public API and state their overflow policy.
 */
final class MiniFloats {
    private MiniFloats() {
    }

    /**
     * Rounds a non-negative float32 (given by its bits: finite or +Infinity, never NaN) to the nearest
     * value, ties to even, of a format with {@code mantBits} mantissa bits and exponent bias {@code bias}
     * whose exponent range is unbounded above, and returns that value's code magnitude
     * ({@code exponentField << mantBits | mantissa}). A result above the format's largest code is overflow;
     * the caller applies its policy. Subnormals are handled; the smallest normal exponent field is 1.
     */
    static int roundMagnitude(int absBits, int mantBits, int bias, float subnormalScale) {
        int minNormalBits = (128 - bias) << 23; // float bits of 2^(1 - bias)
        if (absBits < minNormalBits) {
            // subnormal range: count units of 2^(1 - bias - mantBits); scaling by a power of two is exact
            // and rint rounds ties to even; the result may be 2^mantBits, which is the smallest normal code
            return (int) Math.rint(Float.intBitsToFloat(absBits) * subnormalScale);
        }
        int shift = 23 - mantBits;
        int r = absBits - ((127 - bias) << 23); // rebias the exponent field
        r += (1 << (shift - 1)) - 1 + ((r >>> shift) & 1); // add half an ulp minus one, plus the kept lsb
        return r >>> shift; // a carry out of the mantissa correctly bumps the exponent field
    }
}
