package io.quantkit.format;

import java.util.Objects;

/**
 * The two OCP 8-bit floating-point formats (OCP "OFP8" specification, 2023), one byte per value.
 *
 * <pre>
 *   bit  7   6 5 4 3   2 1 0            bit  7   6 5 4 3 2   1 0
 *        S   E E E E   M M M                 S   E E E E E   M M
 *   E4M3 ("E4M3FN"): bias 7                E5M2: bias 15
 *     normal    (-1)^S * 1.MMM * 2^(E-7)     normal    (-1)^S * 1.MM * 2^(E-15), E = 1..30
 *     subnormal (-1)^S * 0.MMM * 2^-6        subnormal (-1)^S * 0.MM * 2^-14
 *     max 448 = S.1111.110                   max 57344 = S.11110.11, min normal 2^-14
 *     min normal 2^-6, min subnormal 2^-9    min subnormal 2^-16
 *     NaN only S.1111.111; no infinities     Inf S.11111.00; NaN S.11111.{01,10,11}
 * </pre>
 *
 * <p><b>Encoding</b> (float32 → byte) rounds to nearest, ties to even, exactly (no double rounding), with
 * subnormals; the sign of zero is kept. A value overflows when its rounding, on the same grid continued
 * above the largest finite value, lands above that value: for E4M3 that is |x| &gt; 464 (464 = 448 + half an
 * ulp is a tie that goes to the even code 448, as in NVIDIA's and PyTorch's converters), for E5M2
 * |x| ≥ 61440 (= 57344 + half an ulp, a tie whose even neighbour is 2^16). Overflow and ±Inf then follow
 * the {@link Overflow} mode: {@link Overflow#SATURATE} (the default of {@link #encode(float)}) gives ±max,
 * {@link Overflow#NON_SATURATING} gives NaN (E4M3) or ±Inf (E5M2). NaN input always gives the NaN code
 * with the input's sign ({@code S.1111.111} for E4M3, {@code S.11111.10} for E5M2).
 *
 * <p><b>Decoding</b> is exact (a 256-entry table); every NaN code decodes to a float NaN with the code's
 * sign. Every finite code re-encodes to itself in both modes, E5M2's ±Inf codes in the non-saturating mode
 * (saturation turns them into ±max), and E4M3's two NaN codes too; E5M2's six NaN codes re-encode to NaN.
 *
 * <p>Immutable and thread-safe.
 */
public enum Fp8Format {
    /** OCP E4M3 ("E4M3FN"): 4 exponent bits, bias 7, 3 mantissa bits, max 448, NaN S.1111.111, no Inf. */
    E4M3(4, 3, 7, false, 0x7E, 0x7F, 0x7F),
    /** OCP E5M2: 5 exponent bits, bias 15, 2 mantissa bits, max 57344, IEEE-style Inf and NaN. */
    E5M2(5, 2, 15, true, 0x7B, 0x7E, 0x7C);

    private final int exponentBits;
    private final int mantissaBits;
    private final int bias;
    private final boolean ieeeSpecials; // all-ones exponent = Inf/NaN (E5M2); else only S.1111.111 is NaN
    private final int maxCode;        // magnitude code of the largest finite value
    private final int nanCode;        // magnitude code produced for NaN input
    private final int overflowCode;   // magnitude code of non-saturating overflow (NaN or Inf)
    private final float subnormalScale;
    private final float[] decodeTable = new float[256];

    Fp8Format(int exponentBits, int mantissaBits, int bias, boolean ieeeSpecials, int maxCode, int nanCode,
              int overflowCode) {
        this.exponentBits = exponentBits;
        this.ieeeSpecials = ieeeSpecials;
        this.mantissaBits = mantissaBits;
        this.bias = bias;
        this.maxCode = maxCode;
        this.nanCode = nanCode;
        this.overflowCode = overflowCode;
        this.subnormalScale = Math.scalb(1.0f, bias - 1 + mantissaBits);
        for (int c = 0; c < 256; c++) {
            decodeTable[c] = decodeByFormula(c);
        }
    }

    /** The defining formula (used once, to build the decode table). */
    private float decodeByFormula(int code) {
        boolean negative = (code & 0x80) != 0;
        int e = (code >>> mantissaBits) & ((1 << exponentBits) - 1);
        int m = code & ((1 << mantissaBits) - 1);
        int eMax = (1 << exponentBits) - 1;
        float v;
        if (!ieeeSpecials && e == eMax && m == (1 << mantissaBits) - 1) {
            v = Float.NaN;
        } else if (ieeeSpecials && e == eMax) {
            v = m == 0 ? Float.POSITIVE_INFINITY : Float.NaN;
        } else if (e == 0) {
            v = Math.scalb((float) m, 1 - bias - mantissaBits);
        } else {
            v = Math.scalb((float) ((1 << mantissaBits) + m), e - bias - mantissaBits);
        }
        if (Float.isNaN(v)) {
            return Float.intBitsToFloat((negative ? 0x80000000 : 0) | 0x7fc00000);
        }
        return negative ? -v : v;
    }

    /** Number of exponent bits (4 or 5). */
    public int exponentBits() {
        return exponentBits;
    }

    /** Number of mantissa bits (3 or 2). */
    public int mantissaBits() {
        return mantissaBits;
    }

    /** Exponent bias (7 or 15). */
    public int bias() {
        return bias;
    }

    /** Largest finite value: 448 (E4M3) or 57344 (E5M2). */
    public float maxFinite() {
        return decodeTable[maxCode];
    }

    /** Smallest positive normal value: 2^-6 (E4M3) or 2^-14 (E5M2). */
    public float minNormal() {
        return Math.scalb(1.0f, 1 - bias);
    }

    /** Smallest positive subnormal value: 2^-9 (E4M3) or 2^-16 (E5M2). */
    public float minSubnormal() {
        return Math.scalb(1.0f, 1 - bias - mantissaBits);
    }

    /** Whether the format has infinities (E5M2 only). */
    public boolean hasInfinity() {
        return ieeeSpecials;
    }

    /** Whether a code is a NaN. */
    public boolean isNaN(byte code) {
        return Float.isNaN(decodeTable[code & 0xff]);
    }

    /** Whether a code is ±Inf (never for E4M3). */
    public boolean isInfinite(byte code) {
        return Float.isInfinite(decodeTable[code & 0xff]);
    }

    /** The code of +max finite value (0x7E or 0x7B). */
    public byte maxFiniteCode() {
        return (byte) maxCode;
    }

    /** Encodes with {@link Overflow#SATURATE}: round to nearest even, overflow and ±Inf → ±max, NaN → NaN. */
    public byte encode(float f) {
        return encode(f, Overflow.SATURATE);
    }

    /** Encodes float32 → code, round to nearest even, with the given overflow mode (see the class doc). */
    public byte encode(float f, Overflow overflow) {
        Objects.requireNonNull(overflow, "overflow");
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 24) & 0x80;
        int abs = bits & 0x7fffffff;
        if (abs > 0x7f800000) {
            return (byte) (sign | nanCode);
        }
        int mag = MiniFloats.roundMagnitude(abs, mantissaBits, bias, subnormalScale);
        if (mag > maxCode) {
            mag = overflow == Overflow.SATURATE ? maxCode : overflowCode;
        }
        return (byte) (sign | mag);
    }

    /** Decodes a code to its exact float32 value (NaN codes → NaN with the code's sign). */
    public float decode(byte code) {
        return decodeTable[code & 0xff];
    }

    /** Rounds a float32 to the nearest value of this format: {@code decode(encode(f, overflow))}. */
    public float round(float f, Overflow overflow) {
        return decodeTable[encode(f, overflow) & 0xff];
    }

    /**
     * Encodes {@code length} floats from {@code src[srcOffset..]} into {@code dst[dstOffset..]}.
     *
     * @throws IndexOutOfBoundsException if a range lies outside its array
     */
    public void encode(float[] src, int srcOffset, byte[] dst, int dstOffset, int length, Overflow overflow) {
        Objects.requireNonNull(overflow, "overflow");
        Objects.checkFromIndexSize(srcOffset, length, src.length);
        Objects.checkFromIndexSize(dstOffset, length, dst.length);
        final int mb = mantissaBits;
        final int b = bias;
        final float sub = subnormalScale;
        final int max = maxCode;
        final int over = overflow == Overflow.SATURATE ? maxCode : overflowCode;
        final int nan = nanCode;
        for (int i = 0; i < length; i++) {
            int bits = Float.floatToRawIntBits(src[srcOffset + i]);
            int sign = (bits >>> 24) & 0x80;
            int abs = bits & 0x7fffffff;
            int mag;
            if (abs > 0x7f800000) {
                mag = nan;
            } else {
                mag = MiniFloats.roundMagnitude(abs, mb, b, sub);
                if (mag > max) {
                    mag = over;
                }
            }
            dst[dstOffset + i] = (byte) (sign | mag);
        }
    }

    /**
     * Decodes {@code length} codes from {@code src[srcOffset..]} into {@code dst[dstOffset..]}.
     *
     * @throws IndexOutOfBoundsException if a range lies outside its array
     */
    public void decode(byte[] src, int srcOffset, float[] dst, int dstOffset, int length) {
        Objects.checkFromIndexSize(srcOffset, length, src.length);
        Objects.checkFromIndexSize(dstOffset, length, dst.length);
        final float[] table = decodeTable;
        for (int i = 0; i < length; i++) {
            dst[dstOffset + i] = table[src[srcOffset + i] & 0xff];
        }
    }
}
