package io.quantkit.simd.vector;

import io.quantkit.format.Fp16;
import io.quantkit.quant.ggml.BlockSimd;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link BlockSimd} with the Vector API: 16 float lanes (512 bits) when the CPU has them, else 8 (256 bits); a
 * block of 32 is two or four vectors. Every step is the scalar loop's own arithmetic, lane by lane:
 * <ul>
 * <li>block maxima and minima on the integer bit patterns, as the scalar fast loops take them (order-free, so the
 * lane count does not matter), and the same float operations for the scale, in the same order;
 * <li>{@code x * id} and the added constants as separate float multiplications and additions (no fused
 * multiply-add), so each lane rounds exactly as the scalar expression does;
 * <li>the truncation of a value {@code 0 <= t < 2^22} without the (slow) {@code F2I} conversion: {@code T = t +
 * 2^23} is 2^23 plus t rounded to the nearest integer (exact: the sum's ulp is 1), {@code T - 2^23} is that
 * integer, one less where it exceeds t gives the floor, and the integer is the bits of T minus those of 2^23;
 * <li>narrowing to bytes with the lane-wise {@code I2B} conversion (Java's {@code (byte)} cast).
 * </ul>
 * For Q8_0 and Q4_0 each call does the scan, the scale and the codes of a whole run of blocks in one loop: called
 * once per chunk, it is compiled on its own. (Split into separate scan and code kernels called from quant-core, C2
 * inlined them into the caller, hit its node-count inlining cutoff on the Vector API's many small methods, and boxed
 * the vectors: 0.66 ns per value for Q4_0 against 0.40 with the kernels compiled on their own.) Q4_1 has more work
 * per block (a minimum and a maximum, two fp16 conversions) and is done in passes over groups of blocks, each pass a
 * method that takes and returns only arrays and scalars, so no vector is ever boxed at a call; see
 * {@link #quantizeQ4_1}.
 */
public final class BlockKernels implements BlockSimd {
    private static final VectorSpecies<Float> F =
            FloatVector.SPECIES_PREFERRED.length() >= 16 ? FloatVector.SPECIES_512 : FloatVector.SPECIES_256;
    private static final VectorSpecies<Integer> I = F.length() == 16 ? IntVector.SPECIES_512 : IntVector.SPECIES_256;
    private static final VectorSpecies<Byte> B = F.length() == 16 ? ByteVector.SPECIES_128 : ByteVector.SPECIES_64;
    private static final int L = F.length();
    private static final int QK = 32;
    private static final float MAGIC = 0x1p23f;
    private static final int MAGIC_BITS = 0x4b000000;
    /** Bits of Float.MAX_VALUE: an absolute-value pattern above it is an infinity or a NaN. */
    private static final int MAX_FINITE_BITS = 0x7f7fffff;
    /** The largest float below 0.5: truncating |v| + this is roundf(|v|) for |v| < 2^22. */
    private static final float JUST_BELOW_HALF = 0.49999997f;

    private static IntVector bits(float[] x, int o) {
        return FloatVector.fromArray(F, x, o).reinterpretAsInts();
    }

    /** floor(t) for 0 <= t < 2^22 (see the class comment); garbage, but no exception, for other t. */
    private static IntVector floor(FloatVector t) {
        FloatVector big = t.add(MAGIC);
        IntVector r = big.reinterpretAsInts().sub(MAGIC_BITS);
        return r.sub(1, big.sub(MAGIC).compare(VectorOperators.GT, t).cast(I));
    }

    private static void store(IntVector v, byte[] y, int p) {
        ((ByteVector) v.convertShape(VectorOperators.I2B, B, 0)).intoArray(y, p);
    }

    private static void putHalf(byte[] y, int p, float v) {
        short h = Fp16.fromFloat(v);
        y[p] = (byte) h;
        y[p + 1] = (byte) (h >> 8);
    }

    @Override
    public int quantizeQ8_0(float[] x, int xo, byte[] y, int yo, int blocks) {
        for (int b = 0; b < blocks; b++, xo += QK, yo += 34) {
            IntVector a = bits(x, xo).and(0x7fffffff);
            for (int k = L; k < QK; k += L) {
                a = a.max(bits(x, xo + k).and(0x7fffffff));
            }
            int m = a.reduceLanes(VectorOperators.MAX);
            if (m > MAX_FINITE_BITS) {
                return b; // a NaN or an infinity
            }
            float d = Float.intBitsToFloat(m) / 127f;
            float id = d != 0 ? 1.0f / d : 0.0f;
            if (id > Float.MAX_VALUE) {
                return b; // 1/d overflowed: the reference's inf/NaN conversion
            }
            putHalf(y, yo, d);
            for (int k = 0; k < QK; k += L) {
                FloatVector v = FloatVector.fromArray(F, x, xo + k).mul(id);
                // roundf(v) = sign(v) * trunc(|v| + JUST_BELOW_HALF); the sign applied as (c ^ s) - s
                IntVector c = floor(v.abs().add(JUST_BELOW_HALF));
                IntVector s = v.reinterpretAsInts().lanewise(VectorOperators.ASHR, 31);
                store(c.lanewise(VectorOperators.XOR, s).sub(s), y, yo + 2 + k);
            }
        }
        return blocks;
    }

    @Override
    public int quantizeQ4_0(float[] x, int xo, byte[] y, int yo, int blocks) {
        for (int b = 0; b < blocks; b++, xo += QK, yo += 18) {
            // CMath.signedAbsMax: p = largest bit pattern, q = largest pattern with the sign bit flipped
            IntVector v = bits(x, xo);
            IntVector vp = v;
            IntVector vq = v.lanewise(VectorOperators.XOR, 0x80000000);
            for (int k = L; k < QK; k += L) {
                v = bits(x, xo + k);
                vp = vp.max(v);
                vq = vq.max(v.lanewise(VectorOperators.XOR, 0x80000000));
            }
            int p = vp.reduceLanes(VectorOperators.MAX);
            int q = vq.reduceLanes(VectorOperators.MAX);
            int m = Math.max(p, q);
            if (m > MAX_FINITE_BITS || (p == q && m > 0)) {
                return b; // a NaN or an infinity, or +a and -a both there (the first wins): the scalar loop's
            }
            float max = m <= 0 ? 0.0f : Float.intBitsToFloat(p > q ? p : q | 0x80000000);
            float d = max / -8f;
            float id = d != 0 ? 1.0f / d : 0.0f;
            if (id > Float.MAX_VALUE || id < -Float.MAX_VALUE) {
                return b;
            }
            putHalf(y, yo, d);
            for (int k = 0; k < QK / 2; k += L) {
                // min(15, (int8_t) (x*id + 8.5f)): the sum lies in [0.5, 16.5] up to rounding, where it is floor
                IntVector lo = floor(FloatVector.fromArray(F, x, xo + k).mul(id).add(8.5f)).min(15);
                IntVector hi = floor(FloatVector.fromArray(F, x, xo + QK / 2 + k).mul(id).add(8.5f)).min(15);
                store(lo.or(hi.lanewise(VectorOperators.LSHL, 4)), y, yo + 2 + k);
            }
        }
        return blocks;
    }

    /** Q4_1 blocks are done in groups of up to this many: scan all, then the scales of all, then the codes. */
    private static final int GROUP = 64;
    /** Bits of the order-preserving key of -Float.MAX_VALUE: a key below it is -infinity or a negative NaN. */
    private static final int MIN_FINITE_KEY = 0xff7fffff ^ 0x7fffffff;
    private static final DenseKernels HALVES = new DenseKernels();

    /**
     * Q4_1 in three passes over each group of up to {@link #GROUP} blocks, each a method of its own that no vector
     * enters or leaves (scalars and arrays only): {@link #q4_1Scan} (the minimum and maximum key of each block),
     * {@link #q4_1Scales} (d, 1/d and the checks for a whole vector of blocks at a time, the fp16 conversions of d and
     * the minimum by {@link DenseKernels#f16}) and {@link #q4_1Codes}. Written as one fused loop like the other two
     * formats, the method was too large for C2: with the two scalar fp16 conversions inlined it passed the
     * node-count inlining cutoff, left the nibble store out of line and boxed its vector, and the per-block scale
     * work was scalar (1.0 ns per value against 0.40 for Q4_0, the kernel alone on 4096 values).
     */
    @Override
    public int quantizeQ4_1(float[] x, int xo, byte[] y, int yo, int blocks) {
        int cap = Math.min(GROUP, blocks);
        int[] keys = new int[2 * cap]; // the lowest key of each block, then the highest
        float[] scales = new float[3 * cap]; // d of each block, then its minimum, then 1/d
        byte[] halves = new byte[4 * cap]; // fp16 of d of each block, then of its minimum (little-endian)
        for (int done = 0; done < blocks; ) {
            int g = Math.min(cap, blocks - done);
            q4_1Scan(x, xo + QK * done, g, keys, cap);
            int ok = q4_1Scales(keys, g, cap, scales);
            HALVES.f16(scales, 0, halves, 0, 2 * cap);
            q4_1Codes(x, xo + QK * done, y, yo + 20 * done, ok, scales, halves, cap);
            done += ok;
            if (ok < g) {
                return done;
            }
        }
        return blocks;
    }

    /**
     * The lowest and highest order-preserving key ({@code bits ^ ((bits >> 31) & 0x7fffffff)}: -0 below +0, NaNs
     * beyond the infinities) of each of {@code g} blocks, into {@code keys[b]} and {@code keys[cap + b]}.
     */
    private static void q4_1Scan(float[] x, int xo, int g, int[] keys, int cap) {
        for (int b = 0; b < g; b++, xo += QK) {
            IntVector v = FloatVector.fromArray(F, x, xo).reinterpretAsInts();
            IntVector kk = v.lanewise(VectorOperators.XOR, v.lanewise(VectorOperators.ASHR, 31).and(0x7fffffff));
            IntVector lo = kk;
            IntVector hi = kk;
            for (int k = L; k < QK; k += L) {
                v = FloatVector.fromArray(F, x, xo + k).reinterpretAsInts();
                kk = v.lanewise(VectorOperators.XOR, v.lanewise(VectorOperators.ASHR, 31).and(0x7fffffff));
                lo = lo.min(kk);
                hi = hi.max(kk);
            }
            keys[b] = lo.reduceLanes(VectorOperators.MIN);
            keys[cap + b] = hi.reduceLanes(VectorOperators.MAX);
        }
    }

    /**
     * From the keys of {@code g} blocks: d, the minimum and id = 1/d of each into {@code scales[b]},
     * {@code scales[cap + b]} and {@code scales[2 * cap + b]}, L blocks per step (the scalar loop's float operations,
     * lane by lane), the last {@code g % L} one by one. Returns how many blocks from the first the kernel can do: it
     * stops at the first block with an infinity or a NaN (keys beyond those of ±MAX_VALUE), a zero minimum or maximum
     * (keys 0 and -1: the scalar loop keeps the first zero it meets), or an infinite d or 1/d.
     */
    private static int q4_1Scales(int[] keys, int g, int cap, float[] scales) {
        int b = 0;
        for (; b + L <= g; b += L) {
            IntVector lo = IntVector.fromArray(I, keys, b);
            IntVector hi = IntVector.fromArray(I, keys, cap + b);
            VectorMask<Integer> odd = hi.compare(VectorOperators.GT, MAX_FINITE_BITS)
                    .or(lo.compare(VectorOperators.LT, MIN_FINITE_KEY))
                    .or(lo.compare(VectorOperators.EQ, 0)).or(lo.compare(VectorOperators.EQ, -1))
                    .or(hi.compare(VectorOperators.EQ, 0)).or(hi.compare(VectorOperators.EQ, -1));
            FloatVector min = lo.lanewise(VectorOperators.XOR, lo.lanewise(VectorOperators.ASHR, 31).and(0x7fffffff))
                    .reinterpretAsFloats();
            FloatVector max = hi.lanewise(VectorOperators.XOR, hi.lanewise(VectorOperators.ASHR, 31).and(0x7fffffff))
                    .reinterpretAsFloats();
            FloatVector d = max.sub(min).div(15f);
            FloatVector id = FloatVector.broadcast(F, 1.0f).div(d).blend(0.0f, d.compare(VectorOperators.EQ, 0.0f));
            VectorMask<Float> stop = odd.cast(F).or(id.compare(VectorOperators.GT, Float.MAX_VALUE))
                    .or(d.compare(VectorOperators.GT, Float.MAX_VALUE));
            d.intoArray(scales, b);
            min.intoArray(scales, cap + b);
            id.intoArray(scales, 2 * cap + b);
            if (stop.anyTrue()) {
                return b + stop.firstTrue();
            }
        }
        for (; b < g; b++) {
            int lo = keys[b];
            int hi = keys[cap + b];
            if (hi > MAX_FINITE_BITS || lo < MIN_FINITE_KEY || lo == 0 || lo == -1 || hi == 0 || hi == -1) {
                return b;
            }
            float min = Float.intBitsToFloat(lo ^ ((lo >> 31) & 0x7fffffff));
            float max = Float.intBitsToFloat(hi ^ ((hi >> 31) & 0x7fffffff));
            float d = (max - min) / 15f;
            float id = d != 0 ? 1.0f / d : 0.0f;
            if (id > Float.MAX_VALUE || d > Float.MAX_VALUE) {
                return b;
            }
            scales[b] = d;
            scales[cap + b] = min;
            scales[2 * cap + b] = id;
        }
        return g;
    }

    /** The bytes of {@code n} blocks: the fp16 d and minimum from {@code halves}, then the codes. */
    private static void q4_1Codes(float[] x, int xo, byte[] y, int yo, int n, float[] scales, byte[] halves,
            int cap) {
        for (int b = 0; b < n; b++, xo += QK, yo += 20) {
            float min = scales[cap + b];
            float id = scales[2 * cap + b];
            y[yo] = halves[2 * b];
            y[yo + 1] = halves[2 * b + 1];
            y[yo + 2] = halves[2 * cap + 2 * b];
            y[yo + 3] = halves[2 * cap + 2 * b + 1];
            for (int k = 0; k < QK / 2; k += L) {
                // min(15, (int8_t) ((x - min)*id + 0.5f)): the value lies in [0.5, 15.5] up to rounding, where the
                // truncation is the floor (written out, not by floor(): no vector crosses a call here)
                FloatVector t0 = FloatVector.fromArray(F, x, xo + k).sub(min).mul(id).add(0.5f);
                FloatVector t1 = FloatVector.fromArray(F, x, xo + QK / 2 + k).sub(min).mul(id).add(0.5f);
                FloatVector g0 = t0.add(MAGIC);
                FloatVector g1 = t1.add(MAGIC);
                IntVector c0 = g0.reinterpretAsInts().sub(MAGIC_BITS)
                        .sub(1, g0.sub(MAGIC).compare(VectorOperators.GT, t0).cast(I)).min(15);
                IntVector c1 = g1.reinterpretAsInts().sub(MAGIC_BITS)
                        .sub(1, g1.sub(MAGIC).compare(VectorOperators.GT, t1).cast(I)).min(15);
                ((ByteVector) c0.or(c1.lanewise(VectorOperators.LSHL, 4)).convertShape(VectorOperators.I2B, B, 0))
                        .intoArray(y, yo + 4 + k);
            }
        }
    }

    private static float halfAt(byte[] y, int p) {
        return Fp16.toFloat((short) ((y[p] & 0xff) | (y[p + 1] << 8)));
    }

    /*
     * Decoding: the codes widened lane by lane (B2I, sign-extending as Java's byte does; the nibbles masked out of
     * that), converted to float (I2F, exact for these small integers) and scaled with the scalar loop's operations in
     * its order: q * d for Q8_0, (q - 8) * d for Q4_0, q * d then + m for Q4_1 (no fused multiply-add). The fp16
     * scales are decoded by Fp16.toFloat, once per block.
     */

    @Override
    public void dequantizeQ8_0(byte[] y, int yo, float[] x, int xo, int blocks) {
        for (int b = 0; b < blocks; b++, xo += QK, yo += 34) {
            float d = halfAt(y, yo);
            for (int k = 0; k < QK; k += L) {
                IntVector q = (IntVector) ByteVector.fromArray(B, y, yo + 2 + k).convertShape(VectorOperators.B2I, I, 0);
                ((FloatVector) q.convertShape(VectorOperators.I2F, F, 0)).mul(d).intoArray(x, xo + k);
            }
        }
    }

    @Override
    public void dequantizeQ4_0(byte[] y, int yo, float[] x, int xo, int blocks) {
        for (int b = 0; b < blocks; b++, xo += QK, yo += 18) {
            float d = halfAt(y, yo);
            for (int k = 0; k < QK / 2; k += L) {
                IntVector q = (IntVector) ByteVector.fromArray(B, y, yo + 2 + k).convertShape(VectorOperators.B2I, I, 0);
                IntVector lo = q.and(0x0f).sub(8);
                IntVector hi = q.lanewise(VectorOperators.ASHR, 4).and(0x0f).sub(8);
                ((FloatVector) lo.convertShape(VectorOperators.I2F, F, 0)).mul(d).intoArray(x, xo + k);
                ((FloatVector) hi.convertShape(VectorOperators.I2F, F, 0)).mul(d).intoArray(x, xo + QK / 2 + k);
            }
        }
    }

    @Override
    public void dequantizeQ4_1(byte[] y, int yo, float[] x, int xo, int blocks) {
        for (int b = 0; b < blocks; b++, xo += QK, yo += 20) {
            float d = halfAt(y, yo);
            float m = halfAt(y, yo + 2);
            for (int k = 0; k < QK / 2; k += L) {
                IntVector q = (IntVector) ByteVector.fromArray(B, y, yo + 4 + k).convertShape(VectorOperators.B2I, I, 0);
                IntVector lo = q.and(0x0f);
                IntVector hi = q.lanewise(VectorOperators.ASHR, 4).and(0x0f);
                ((FloatVector) lo.convertShape(VectorOperators.I2F, F, 0)).mul(d).add(m).intoArray(x, xo + k);
                ((FloatVector) hi.convertShape(VectorOperators.I2F, F, 0)).mul(d).add(m).intoArray(x, xo + QK / 2 + k);
            }
        }
    }
}
