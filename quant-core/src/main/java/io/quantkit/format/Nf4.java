package io.quantkit.format;

import java.util.Objects;

/**
 * NF4 (4-bit NormalFloat, Dettmers et al., QLoRA 2023): 16 fixed values in [-1, 1] built from quantiles of
 * N(0, 1), applied to values already divided by their block's absmax. A 4-bit code is an index into the table.
 *
 * <pre>
 *   code  value                    code  value
 *    0   -1.0                       8    0.07958029955625534
 *    1   -0.6961928009986877        9    0.16093020141124725
 *    2   -0.5250730514526367       10    0.24611230194568634
 *    3   -0.39491748809814453      11    0.33791524171829224
 *    4   -0.28444138169288635      12    0.44070982933044434
 *    5   -0.18477343022823334      13    0.5626170039176941
 *    6   -0.09105003625154495      14    0.7229568362236023
 *    7    0.0                      15    1.0
 * </pre>
 * The constants are bitsandbytes' (csrc/kernels.cu, {@code dDequantizeNF4} and {@code dQuantizeNF4}, read at
 * commit c037a306e97ced3c452570132f66aac4e2964056 of bitsandbytes-foundation/bitsandbytes); each decimal is
 * the float32 value written by that source.
 *
 * <p><b>Encoding</b> is nearest-value, exactly as bitsandbytes' {@code dQuantizeNF4} decides it: between
 * neighbours a &lt; b the upper code is chosen iff {@code x > t}, where t is the float32 rounding of the exact
 * midpoint (a + b) / 2 (bitsandbytes' threshold constants are these). So an exact tie goes to the lower
 * (more negative) value; and at the six boundaries where t rounds above the exact midpoint (codes 0|1, 1|2,
 * 3|4, 4|5, 12|13, 14|15) the single input x = t, which is nearer to b by less than half a float32 ulp, also goes
 * to a — bit-compatible with bitsandbytes' codes. Inputs outside [-1, 1] get code 0 or 15 (no error, as in
 * bitsandbytes); NaN is an {@link IllegalArgumentException}. Decoding is exact. Stateless and thread-safe.
 */
public final class Nf4 {
    private static final float[] VALUES = {
        -1.0f,
        -0.6961928009986877f,
        -0.5250730514526367f,
        -0.39491748809814453f,
        -0.28444138169288635f,
        -0.18477343022823334f,
        -0.09105003625154495f,
        0.0f,
        0.07958029955625534f,
        0.16093020141124725f,
        0.24611230194568634f,
        0.33791524171829224f,
        0.44070982933044434f,
        0.5626170039176941f,
        0.7229568362236023f,
        1.0f,
    };

    /** THRESHOLDS[k] separates code k (at or below) from code k + 1 (above). */
    private static final float[] THRESHOLDS = new float[15];

    static {
        for (int k = 0; k < 15; k++) {
            // the sum of two floats in [-1, 1] is exact in double; halving is exact; one rounding to float
            THRESHOLDS[k] = (float) (((double) VALUES[k] + (double) VALUES[k + 1]) * 0.5);
        }
    }

    /** Number of codes. */
    public static final int SIZE = 16;

    private Nf4() {
    }

    /** The table value of a code (only the low four bits are read). */
    public static float decode(int code) {
        return VALUES[code & 0xF];
    }

    /** A copy of the 16 table values, code order. */
    public static float[] values() {
        return VALUES.clone();
    }

    /** The float32 decision threshold between code k and k + 1 (k = 0..14). */
    public static float threshold(int k) {
        Objects.checkIndex(k, THRESHOLDS.length);
        return THRESHOLDS[k];
    }

    /** Nearest code for a normalized value (see the class doc for the tie rule); NaN → exception. */
    public static int encode(float x) {
        if (x != x) {
            throw new IllegalArgumentException("NF4 has no NaN: cannot encode NaN.");
        }
        // code = number of thresholds t with x > t, by a 4-step binary search over the 15 sorted thresholds
        // (measured twice as fast as a branch-free count of all 15 comparisons)
        int code = x > THRESHOLDS[7] ? 8 : 0;
        if (x > THRESHOLDS[code + 3]) {
            code += 4;
        }
        if (x > THRESHOLDS[code + 1]) {
            code += 2;
        }
        if (x > THRESHOLDS[code]) {
            code += 1;
        }
        return code;
    }

    /** Encodes {@code length} normalized values, one code per byte. */
    public static void encode(float[] src, int srcOffset, byte[] dst, int dstOffset, int length) {
        Objects.checkFromIndexSize(srcOffset, length, src.length);
        Objects.checkFromIndexSize(dstOffset, length, dst.length);
        for (int i = 0; i < length; i++) {
            dst[dstOffset + i] = (byte) encode(src[srcOffset + i]);
        }
    }

    /** Decodes {@code length} codes (one per byte, low nibble). */
    public static void decode(byte[] src, int srcOffset, float[] dst, int dstOffset, int length) {
        Objects.checkFromIndexSize(srcOffset, length, src.length);
        Objects.checkFromIndexSize(dstOffset, length, dst.length);
        for (int i = 0; i < length; i++) {
            dst[dstOffset + i] = VALUES[src[srcOffset + i] & 0xF];
        }
    }
}
