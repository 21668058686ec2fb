package io.quantkit.simd.vector;

import io.quantkit.format.Bf16;
import io.quantkit.format.Fp16;
import io.quantkit.quant.codec.DenseSimd;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link DenseSimd} with the Vector API, 16 (or 8) floats at a time: integer arithmetic on the bit patterns, lane by
 * lane (no float operation whose result depends on the lane count), narrowed to shorts with the lane-wise
 * {@code I2S} conversion and stored little-endian.
 */
public final class DenseKernels implements DenseSimd {
    private static final VectorSpecies<Float> F =
            FloatVector.SPECIES_PREFERRED.length() >= 16 ? FloatVector.SPECIES_512 : FloatVector.SPECIES_256;
    private static final VectorSpecies<Short> S = F.length() == 16 ? ShortVector.SPECIES_256 : ShortVector.SPECIES_128;
    private static final int L = F.length();

    @Override
    public void bf16(float[] x, int xo, byte[] out, int oo, int n) {
        int k = n - n % L;
        for (int i = 0; i < k; i += L) {
            IntVector b = FloatVector.fromArray(F, x, xo + i).reinterpretAsInts();
            // DenseCodec.bf16Bits: (b + 0x7fff + lsb) >>> 16, or the quieted NaN where |b| > 0x7f800000
            IntVector hi = b.lanewise(VectorOperators.LSHR, 16);
            IntVector rounded = b.add(0x7fff).add(hi.and(1)).lanewise(VectorOperators.LSHR, 16);
            IntVector quiet = hi.or(0x0040);
            IntVector isNaN = b.and(0x7fffffff).neg().add(0x7f800000).lanewise(VectorOperators.ASHR, 31);
            IntVector r = rounded.lanewise(VectorOperators.XOR,
                    rounded.lanewise(VectorOperators.XOR, quiet).and(isNaN));
            ((ShortVector) r.convertShape(VectorOperators.I2S, S, 0)).intoByteArray(out, oo + 2 * i,
                    ByteOrder.LITTLE_ENDIAN);
        }
        for (int i = k; i < n; i++) { // the last values, fewer than a vector
            putShortLE(out, oo + 2 * i, Bf16.fromFloat(x[xo + i]));
        }
    }

    private static void putShortLE(byte[] out, int p, short v) {
        out[p] = (byte) v;
        out[p + 1] = (byte) (v >> 8);
    }

    /**
     * Fp16.fromFloat, branch-free: the normal-range rounding for every lane, then the other cases blended in. A
     * subnormal half (|f| below 2^-14) is |f| * 2^24 (exact: a power of two) rounded to the nearest integer, ties to
     * even, with the 2^23 magic number; that also gives 0 below 2^-25 and at 2^-25 (a tie), and 0x400 where the
     * rounding carries into the smallest normal half.
     */
    @Override
    public void f16(float[] x, int xo, byte[] out, int oo, int n) {
        int k = n - n % L;
        for (int i = 0; i < k; i += L) {
            FloatVector f = FloatVector.fromArray(F, x, xo + i);
            IntVector b = f.reinterpretAsInts();
            IntVector abs = b.and(0x7fffffff);
            IntVector r = abs.sub(0x38000000); // rebias 127 -> 15, round 23 -> 10 mantissa bits (RNE)
            r = r.add(r.lanewise(VectorOperators.LSHR, 13).and(1)).add(0x0fff).lanewise(VectorOperators.LSHR, 13);
            IntVector sub = f.abs().mul(0x1p24f).add(0x1p23f).reinterpretAsInts().sub(0x4b000000);
            r = r.blend(sub, abs.compare(VectorOperators.LT, 0x38800000));
            r = r.blend(0x7c00, abs.compare(VectorOperators.GE, 0x477ff000)); // rounds to infinity; infinities
            IntVector nan = abs.lanewise(VectorOperators.LSHR, 13).and(0x3ff).or(0x7e00);
            r = r.blend(nan, abs.compare(VectorOperators.GT, 0x7f800000));
            r = r.or(b.lanewise(VectorOperators.LSHR, 16).and(0x8000));
            ((ShortVector) r.convertShape(VectorOperators.I2S, S, 0)).intoByteArray(out, oo + 2 * i,
                    ByteOrder.LITTLE_ENDIAN);
        }
        for (int i = k; i < n; i++) {
            putShortLE(out, oo + 2 * i, Fp16.fromFloat(x[xo + i]));
        }
    }
}
