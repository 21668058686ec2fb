package io.quantkit.quant.ggml;

/**
 * The C library and x86 behaviours ggml's reference quantizers rely on, written out so they can be matched
 * bit for bit: {@code roundf}/{@code lroundf} (half away from zero), float-to-integer conversion (truncation;
 * for NaN, infinities and values outside {@code int} the x86 "integer indefinite" 0x80000000, whose low byte is
 * 0), {@code floorf(log2f(x))}, and ggml's E8M0 "half" scale.
 */
final class CMath {
    private static final double LN2 = Math.log(2.0);

    private CMath() {
    }

    /** The largest float below 0.5: truncating {@code v + copySign(JUST_BELOW_HALF, v)} is roundf for |v| &lt; 2^23. */
    static final float JUST_BELOW_HALF = 0.49999997f;

    /**
     * The bits of max |x[o..o+n)|, computed on the bit patterns: for non-negative floats the integer order of the
     * bits is the numeric order, so an integer maximum (branch-free) gives the same value as the scan
     * {@code amax = MAX(amax, fabsf(v))} for finite input. For any input, a NaN or infinity is present exactly when
     * the result exceeds {@link #MAX_FINITE_BITS}, so the scale scan doubles as the finiteness check.
     */
    static int absMaxBits(float[] x, int o, int n) {
        int m = 0;
        for (int j = 0; j < n; j++) {
            m = Math.max(m, Float.floatToRawIntBits(x[o + j]) & 0x7fffffff);
        }
        return m;
    }

    /** bf16 bits of the largest finite value: a magnitude pattern above it is an infinity or a NaN. */
    static final int BF16_MAX_FINITE_BITS = 0x7f7f;

    /**
     * {@link #absMaxBits} on bf16 bit patterns: the magnitude bits (15) of max |x| over s[o..o+n), where x is the
     * float with bits {@code s << 16}. Above {@link #BF16_MAX_FINITE_BITS} exactly when a NaN or infinity is there.
     */
    static int absMaxBf16(short[] s, int o, int n) {
        int m = 0;
        for (int j = 0; j < n; j++) {
            m = Math.max(m, s[o + j] & 0x7fff);
        }
        return m;
    }

    /**
     * {@link #signedAbsMax} on bf16 bit patterns (x is the float with bits {@code s << 16}): the value of the first
     * element of largest |x|, +0 when every element is zero, NaN if one is NaN or infinite.
     */
    static float signedAbsMaxBf16(short[] s, int o, int n) {
        // as signedAbsMax, on the sign-extended 16-bit patterns: p = largest pattern (sign clear), q = largest
        // magnitude among patterns with the sign set (the xor clears the sign of those and sets it on the others)
        int p = Integer.MIN_VALUE;
        int q = Integer.MIN_VALUE;
        for (int j = 0; j < n; j++) {
            int bits = s[o + j];
            p = Math.max(p, bits);
            q = Math.max(q, bits ^ 0xffff8000);
        }
        if (Math.max(p, q) > BF16_MAX_FINITE_BITS) {
            return Float.NaN;
        }
        if (p <= 0 && q <= 0) {
            return 0.0f;
        }
        if (p != q) {
            return p > q ? Float.intBitsToFloat(p << 16) : Float.intBitsToFloat((q | 0x8000) << 16);
        }
        for (int j = 0; ; j++) { // +a and -a both present: the first one wins
            if ((s[o + j] & 0x7fff) == p) {
                return Float.intBitsToFloat(s[o + j] << 16);
            }
        }
    }

    /** Bits of {@code Float.MAX_VALUE}: an absolute-value bit pattern above it is an infinity or a NaN. */
    static final int MAX_FINITE_BITS = 0x7f7fffff;

    /**
     * The value of the first element of x[o..o+n) whose |x| is largest (ggml's "if (amax &lt; fabsf(v)) { amax =
     * fabsf(v); max = v; }" scan), or +0 when every element is zero; NaN if any element is NaN or infinite.
     */
    static float signedAbsMax(float[] x, int o, int n) {
        // two branch-free integer maxima: p = bits of the largest value with the sign bit clear (negative int if
        // none), q = magnitude bits of the most negative value with the sign bit set (negative int if none)
        int p = Integer.MIN_VALUE;
        int q = Integer.MIN_VALUE;
        for (int j = 0; j < n; j++) {
            int bits = Float.floatToRawIntBits(x[o + j]);
            p = Math.max(p, bits);
            q = Math.max(q, bits ^ 0x80000000);
        }
        if (Math.max(p, q) > MAX_FINITE_BITS) {
            return Float.NaN; // a NaN or an infinity (of either sign) is there
        }
        if (p <= 0 && q <= 0) {
            return 0.0f; // all zeros: ggml keeps its initial +0
        }
        if (p != q) {
            return p > q ? Float.intBitsToFloat(p) : Float.intBitsToFloat(q | 0x80000000);
        }
        for (int j = 0; ; j++) { // +a and -a both present: the first one wins
            if (Math.abs(x[o + j]) == Float.intBitsToFloat(p)) {
                return x[o + j];
            }
        }
    }

    /**
     * Ternary digits {@code lroundf(x[o+j] * id) + 1} for j &lt; n into t, for |x * id| &lt;= 1 + rounding (so the
     * digit is 0, 1 or 2): truncating {@code v + copySign(JUST_BELOW_HALF, v)} is roundf here.
     */
    static void trits(float[] x, int o, float id, byte[] t, int n) {
        for (int j = 0; j < n; j++) {
            float v = x[o + j] * id;
            t[j] = (byte) ((int) (v + Math.copySign(JUST_BELOW_HALF, v)) + 1);
        }
    }

    /**
     * {@code v}, except that a zero is replaced by the first zero of x[o..o+n) with its own sign: C's
     * {@code if (v < min) min = v} keeps the first of values that compare equal, and only -0 and +0 compare equal
     * with different bits.
     */
    static float firstEqual(float[] x, int o, int n, float v) {
        if (v != 0f) {
            return v;
        }
        for (int j = 0; j < n; j++) {
            if (x[o + j] == 0f) {
                return x[o + j];
            }
        }
        return v;
    }

    /** C {@code roundf}: nearest integer, halfway cases away from zero; exact for every float. */
    static float roundf(float v) {
        if (!(Math.abs(v) < 0x1p23f)) {
            return v; // already an integer (or NaN/Inf, returned unchanged as roundf does)
        }
        float t = (float) (int) v; // truncation toward zero, exact here
        float frac = v - t; // exact: |v| < 2^23
        if (frac >= 0.5f) {
            t += 1f;
        } else if (frac <= -0.5f) {
            t -= 1f;
        }
        return t == 0f ? Math.copySign(0f, v) : t;
    }

    /**
     * C's float-to-{@code int} conversion as x86 performs it ({@code cvttss2si}): truncation toward zero;
     * NaN, infinities and values outside the {@code int} range give {@code Integer.MIN_VALUE}.
     */
    static int cvtt(float v) {
        if (!(Math.abs(v) < 0x1p31f)) {
            return Integer.MIN_VALUE;
        }
        return (int) v;
    }

    /** {@code (int8_t) v} on x86: the low byte of {@link #cvtt}, sign-extended. */
    static int toInt8(float v) {
        return (byte) cvtt(v);
    }

    /** {@code (uint8_t) v} on x86: the low byte of {@link #cvtt}. */
    static int toUint8(float v) {
        return cvtt(v) & 0xff;
    }

    /**
     * {@code (int) lroundf(v)} as glibc on x86-64 computes it: half away from zero; NaN, infinities and results
     * outside {@code long} give {@code LONG_MIN}, whose low 32 bits are 0.
     */
    static int lroundfInt(float v) {
        if (!(Math.abs(v) < 0x1p63f)) {
            return 0;
        }
        return (int) (long) roundf(v);
    }

    /**
     * {@code floorf(log2f(x))} for a positive finite float, with log2f rounded correctly to float. Checked
     * against glibc 2.36's log2f for every positive finite float (reference/ggml/log2f_floor_check.c: no
     * difference).
     */
    static float floorLog2f(float x) {
        int e = Math.getExponent(x);
        double m;
        if (e == Float.MIN_EXPONENT - 1) { // subnormal: normalise first
            float scaled = x * 0x1p64f;
            e = Math.getExponent(scaled) - 64;
            m = scaled / Math.scalb(1.0, e + 64);
        } else {
            m = x / Math.scalb(1.0, e);
        }
        float l = (float) (e + Math.log(m) / LN2);
        return (float) Math.floor(l);
    }

    /** ggml's {@code GGML_E8M0_TO_FP32_HALF(e)}: 2^(e-128) exactly, for every byte (255 gives 2^127, not NaN). */
    static float e8m0Half(int e) {
        int bits = e < 2 ? 0x00200000 << e : (e - 1) << 23;
        return Float.intBitsToFloat(bits);
    }

    static short getShortLE(byte[] b, int p) {
        return (short) ((b[p] & 0xff) | (b[p + 1] << 8));
    }

    static void putShortLE(byte[] b, int p, short v) {
        b[p] = (byte) v;
        b[p + 1] = (byte) (v >> 8);
    }
}
