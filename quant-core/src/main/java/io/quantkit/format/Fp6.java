package io.quantkit.format;

/**
 * The two 6-bit element formats of OCP Microscaling MXFP6 (OCP MX specification v1.0, section 5.3.2), decoded
 * exactly. No Inf, no NaN; both have subnormals.
 *
 * <pre>
 *   E2M3  bit 5 | 4 3 | 2 1 0   bias 1   normal (-1)^S * 2^(E-1) * (1 + M/8)  (E = 1..3)
 *                                        subnormal (-1)^S * M/8               (E = 0)   max 7.5, min 0.125
 *   E3M2  bit 5 | 4 3 2 | 1 0   bias 3   normal (-1)^S * 2^(E-3) * (1 + M/4)  (E = 1..7)
 *                                        subnormal (-1)^S * M/16              (E = 0)   max 28, min 0.0625
 * </pre>
 * Only the low six bits of a code are read. Stateless and thread-safe.
 */
public enum Fp6 {
    /** 2 exponent bits (bias 1), 3 mantissa bits. */
    E2M3(2, 3, 1),
    /** 3 exponent bits (bias 3), 2 mantissa bits. */
    E3M2(3, 2, 3);

    private final float[] values = new float[64];

    Fp6(int expBits, int mantBits, int bias) {
        for (int code = 0; code < 64; code++) {
            int m = code & ((1 << mantBits) - 1);
            int e = (code >> mantBits) & ((1 << expBits) - 1);
            // subnormal: 2^(1-bias) * M / 2^mantBits; normal: 2^(e-bias) * (1 + M / 2^mantBits); both exact
            float mag = e == 0 ? Math.scalb((float) m, 1 - bias - mantBits)
                    : Math.scalb((float) ((1 << mantBits) + m), e - bias - mantBits);
            values[code] = (code & 0x20) != 0 ? -mag : mag;
        }
    }

    /** 6-bit code → exact value. */
    public float decode(int code) {
        return values[code & 0x3F];
    }
}
