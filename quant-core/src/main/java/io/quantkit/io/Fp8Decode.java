package io.quantkit.io;

/**
 * Exact decoding of the 8-bit float formats safetensors stores.
 *
 * <pre>
 * F8_E4M3 (OCP E4M3FN): s eeee mmm, bias 7, subnormals at e=0, no infinities, S.1111.111 = NaN; max 448
 * F8_E5M2:              s eeeee mm, bias 15, IEEE-like: e=31 is Inf (m=0) or NaN; max 57344
 * F8_E8M0 (OCP MX scale): eeeeeeee, value 2^(e-127), 0xFF = NaN, no sign, no zero
 * </pre>
 */
final class Fp8Decode {
    private Fp8Decode() {
    }

    static float e4m3(byte b) {
        int x = b & 0xff;
        int sign = x >>> 7;
        int e = (x >>> 3) & 0xf;
        int m = x & 0x7;
        float v;
        if (e == 0xf && m == 0x7) {
            v = Float.NaN;
        } else if (e == 0) {
            v = m * 0x1p-9f; // m/8 * 2^-6
        } else {
            v = Math.scalb(1f + m / 8f, e - 7);
        }
        return sign == 1 ? -v : v;
    }

    static float e5m2(byte b) {
        int x = b & 0xff;
        int sign = x >>> 7;
        int e = (x >>> 2) & 0x1f;
        int m = x & 0x3;
        float v;
        if (e == 0x1f) {
            v = m == 0 ? Float.POSITIVE_INFINITY : Float.NaN;
        } else if (e == 0) {
            v = m * 0x1p-16f; // m/4 * 2^-14
        } else {
            v = Math.scalb(1f + m / 4f, e - 15);
        }
        return sign == 1 ? -v : v;
    }

    static float e8m0(byte b) {
        int e = b & 0xff;
        if (e == 0xff) {
            return Float.NaN;
        }
        return e == 0 ? 0x1p-127f : Float.intBitsToFloat(e << 23);
    }
}
