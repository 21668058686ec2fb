package io.quantkit.quant.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.quantkit.format.Bf16;
import io.quantkit.format.Fp16;
import io.quantkit.simd.vector.DenseKernels;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The bf16 and f16 kernels against the scalar conversions {@link Bf16#fromFloat} and {@link Fp16#fromFloat}, bit for
 * bit: every bf16 high half with the
 * low halves that decide the rounding (below, at and above the midpoint, both ends), NaN payloads of both kinds,
 * and lengths and offsets around the vector width. DenseCodecTest (from quant-core's test jar) runs the codec
 * through it in this module.
 */
class DenseSimdTest {
    private static final DenseKernels KERNELS = new DenseKernels();
    private static final int[] LOWS = {0x0000, 0x0001, 0x7fff, 0x8000, 0x8001, 0xffff, 0x4000, 0xc000};

    private static void check(float[] x, int xo, int n, String what) {
        check(true, x, xo, n, "bf16 " + what);
        check(false, x, xo, n, "f16 " + what);
    }

    private static void check(boolean bf16, float[] x, int xo, int n, String what) {
        int oo = 3;
        byte[] out = new byte[oo + 2 * n + 4];
        if (bf16) {
            KERNELS.bf16(x, xo, out, oo, n);
        } else {
            KERNELS.f16(x, xo, out, oo, n);
        }
        for (int i = 0; i < n; i++) {
            short want = bf16 ? Bf16.fromFloat(x[xo + i]) : Fp16.fromFloat(x[xo + i]);
            short got = (short) ((out[oo + 2 * i] & 0xff) | (out[oo + 2 * i + 1] << 8));
            if (want != got) {
                throw new AssertionError(String.format("%s: value %d (bits %08x): scalar %04x, kernel %04x", what, i,
                        Float.floatToRawIntBits(x[xo + i]), want & 0xffff, got & 0xffff));
            }
        }
        for (int i = 2 * n; i < 2 * n + 4; i++) {
            assertEquals(0, out[oo + i], what + ": byte " + i + " beyond the values");
        }
        for (int i = 0; i < oo; i++) {
            assertEquals(0, out[i], what + ": byte " + i + " before the output offset");
        }
    }

    @Test
    void everyHighHalfWithTheLowHalvesThatDecideTheRounding() {
        float[] x = new float[65536 * LOWS.length];
        int i = 0;
        for (int hi = 0; hi < 65536; hi++) {
            for (int lo : LOWS) {
                x[i++] = Float.intBitsToFloat(hi << 16 | lo); // NaNs (signalling and quiet), infinities, zeros too
            }
        }
        check(x, 0, x.length, "all high halves");
    }

    /** f16's edges: every float from 2^-26 to 2^-13 in steps that hit the subnormal ties, and around 65504-65520. */
    @Test
    void f16SubnormalsAndOverflowEdges() {
        float[] x = new float[2 * ((0x39000000 - 0x32800000) / 512 + 1) + 2 * 4096];
        int i = 0;
        for (int bits = 0x32800000; bits <= 0x39000000; bits += 512) { // 2^-26 .. 2^-13, every 512th pattern
            x[i++] = Float.intBitsToFloat(bits);
            x[i++] = -Float.intBitsToFloat(bits + 0x1ff);
        }
        for (int bits = 0x477fe000 - 2048; bits < 0x477fe000 + 2048; bits++) { // 65504 and up to 65520
            x[i++] = Float.intBitsToFloat(bits);
            x[i++] = Float.intBitsToFloat(bits + 0x1000);
        }
        check(false, x, 0, i, "f16 edges");
    }

    @Test
    void lengthsAndOffsetsAroundTheVectorWidth() {
        Random r = new Random(20261201L);
        for (int n : new int[] {0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 1021, 1 << 14}) {
            for (int xo : new int[] {0, 1, 5}) {
                float[] x = new float[xo + n + 3];
                for (int j = 0; j < x.length; j++) {
                    x[j] = r.nextInt(4) == 0 ? Float.intBitsToFloat(r.nextInt()) : (float) r.nextGaussian();
                }
                check(x, xo, n, n + " values at offset " + xo + " (seed 20261201)");
            }
        }
    }
}
