package io.quantkit.simd.vector;

import io.quantkit.format.Fp16;
import io.quantkit.quant.ggml.Bf16BlockSimd;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The fused bf16 → q8_0 / q4_0 loops with vectors, straight from the (memory-mapped) input bytes into the output
 * buffer; the same bytes as {@code Q8_0Format.quantizeBf16} / {@code Q4_0Format.quantizeBf16}.
 *
 * <p>Blocks go in batches of {@link #BATCH}: the scales of a batch first (a maximum per block, then d and 1/d for the
 * whole batch in two vector divisions, so no block waits on its own divisions), then the codes block by block. The
 * arithmetic is the scalar loop's, lane by lane: a bf16 value is the float with bits {@code s << 16} (widened S2I,
 * shifted), products and sums are single float operations in the scalar order, and the truncation {@code (int) a}
 * of a non-negative {@code a < 2^22} is done exactly with the 2^23 magic number. Lanes: int
 * vectors of 16 (512-bit machines) or 8 (otherwise), shorts and bytes of as many lanes.
 */
public final class Bf16Blocks implements Bf16BlockSimd {
    /** int lanes: 16 with 512-bit vectors, else 8 (narrower machines run 256-bit shapes, still exact). */
    static final int L = IntVector.SPECIES_PREFERRED.length() >= 16 ? 16 : 8;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED.length() >= 16 ? IntVector.SPECIES_512
            : IntVector.SPECIES_256;
    static final VectorSpecies<Float> F = I.withLanes(float.class);
    static final VectorSpecies<Short> S = ShortVector.SPECIES_PREFERRED.withShape(VectorShape.forBitSize(16 * L));
    static final VectorSpecies<Byte> B = ByteVector.SPECIES_PREFERRED.withShape(VectorShape.forBitSize(8 * L));
    /** Blocks whose scales are computed together: one int vector of maxima. */
    static final int BATCH = L;
    private static final int QK = 32;
    private static final int PARTS = QK / L; // vectors per block
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final float JUST_BELOW_HALF = 0.49999997f; // the largest float below 0.5 (CMath's constant)
    private static final float MAGIC = 8388608f; // 2^23
    private static final int MAGIC_BITS = 0x4B000000;
    /** bf16 magnitude bits of the largest finite value; above it a block holds an infinity or a NaN. */
    private static final int BF16_MAX_FINITE_BITS = 0x7f7f;
    /** Smallest |d| whose fp16 conversion is infinite. */
    private static final float FP16_OVERFLOW = 65520f;

    @Override
    public int q8_0(ByteBuffer src, int srcIndex, ByteBuffer dst, int dstIndex, int blocks) {
        // Every vector step is written out in the loops, not in helper methods: C2 keeps vectors in registers only
        // within one compiled method, and a helper it declines to inline would box each vector it passes.
        int[] m = new int[BATCH];
        float[] ds = new float[BATCH];
        float[] ids = new float[BATCH];
        int done = 0;
        while (done < blocks) {
            int nb = Math.min(BATCH, blocks - done);
            // scales: max |x| as bf16 magnitude bits (the integer order of non-negative patterns is the numeric one)
            int ok = nb;
            for (int b = 0; b < nb; b++) {
                int o = srcIndex + 2 * QK * (done + b);
                ShortVector mx = ShortVector.fromByteBuffer(S, src, o, LE).and((short) 0x7fff);
                for (int k = 1; k < PARTS; k++) {
                    mx = mx.max(ShortVector.fromByteBuffer(S, src, o + 2 * L * k, LE).and((short) 0x7fff));
                }
                m[b] = mx.reduceLanes(VectorOperators.MAX);
                if (m[b] > BF16_MAX_FINITE_BITS) {
                    ok = b;
                    break;
                }
            }
            for (int b = ok; b < BATCH; b++) {
                m[b] = 0;
            }
            // d = amax / 127, id = d != 0 ? 1 / d : 0, as the scalar loop computes them
            FloatVector d = IntVector.fromArray(I, m, 0).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                    .div(127f);
            FloatVector id = FloatVector.broadcast(F, 1f).div(d).blend(0f, d.compare(VectorOperators.EQ, 0f));
            d.intoArray(ds, 0);
            id.intoArray(ids, 0);
            for (int b = 0; b < ok; b++) {
                float idb = ids[b];
                if (idb > Float.MAX_VALUE || ds[b] >= FP16_OVERFLOW) {
                    return done + b; // 1/d overflowed or the fp16 scale would: the scalar loop's cases
                }
                int o = srcIndex + 2 * QK * (done + b);
                int y = dstIndex + 34 * (done + b);
                short h = Fp16.fromFloat(ds[b]);
                dst.put(y, (byte) h);
                dst.put(y + 1, (byte) (h >> 8));
                for (int k = 0; k < PARTS; k++) {
                    IntVector v = (IntVector) ShortVector.fromByteBuffer(S, src, o + 2 * L * k, LE)
                            .convertShape(VectorOperators.S2I, I, 0);
                    // code = roundf(|x| * id) with x's sign: (int) (|x| * id + just below 0.5), negated if x < 0
                    FloatVector mag = v.and(0x7fff).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                    FloatVector a = mag.mul(idb).add(JUST_BELOW_HALF);
                    // (int) a for 0 <= a < 2^22: a + 2^23 rounds to the nearest integer (ties to even) in the low
                    // mantissa bits; one less where that rounded up is the floor, which is the truncation here
                    FloatVector r = a.add(MAGIC).sub(MAGIC);
                    r = r.blend(r.sub(1f), r.compare(VectorOperators.GT, a));
                    IntVector ai = r.add(MAGIC).reinterpretAsInts().sub(MAGIC_BITS);
                    IntVector neg = v.lanewise(VectorOperators.ASHR, 31);
                    IntVector code = ai.lanewise(VectorOperators.XOR, neg).sub(neg);
                    ((ByteVector) code.convertShape(VectorOperators.I2B, B, 0)).intoByteBuffer(dst, y + 2 + L * k, LE);
                }
            }
            done += ok;
            if (ok < nb) {
                return done;
            }
        }
        return done;
    }

    @Override
    public int q4_0(ByteBuffer src, int srcIndex, ByteBuffer dst, int dstIndex, int blocks) {
        float[] mx = new float[BATCH];
        float[] ds = new float[BATCH];
        float[] ids = new float[BATCH];
        int done = 0;
        while (done < blocks) {
            int nb = Math.min(BATCH, blocks - done);
            int ok = nb;
            for (int b = 0; b < nb; b++) {
                float v = signedAbsMax(src, srcIndex + 2 * QK * (done + b));
                if (v != v) {
                    ok = b;
                    break;
                }
                mx[b] = v;
            }
            for (int b = ok; b < BATCH; b++) {
                mx[b] = 0f;
            }
            // d = max / -8, id = d != 0 ? 1 / d : 0
            FloatVector d = FloatVector.fromArray(F, mx, 0).div(-8f);
            FloatVector id = FloatVector.broadcast(F, 1f).div(d).blend(0f, d.compare(VectorOperators.EQ, 0f));
            d.intoArray(ds, 0);
            id.intoArray(ids, 0);
            for (int b = 0; b < ok; b++) {
                float idb = ids[b];
                if (Math.abs(idb) > Float.MAX_VALUE || Math.abs(ds[b]) >= FP16_OVERFLOW) {
                    return done + b;
                }
                int o = srcIndex + 2 * QK * (done + b);
                int y = dstIndex + 18 * (done + b);
                short h = Fp16.fromFloat(ds[b]);
                dst.put(y, (byte) h);
                dst.put(y + 1, (byte) (h >> 8));
                // byte j = code(x[j]) | code(x[j + 16]) << 4, code = min(15, (int) (x * id + 8.5)), x * id + 8.5 > 0
                for (int k = 0; k < PARTS / 2; k++) {
                    FloatVector xl = ((IntVector) ShortVector.fromByteBuffer(S, src, o + 2 * L * k, LE)
                            .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16)
                            .reinterpretAsFloats();
                    FloatVector xh = ((IntVector) ShortVector.fromByteBuffer(S, src, o + QK + 2 * L * k, LE)
                            .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16)
                            .reinterpretAsFloats(); // element j + 16 is 32 bytes further
                    FloatVector al = xl.mul(idb).add(8.5f);
                    FloatVector ah = xh.mul(idb).add(8.5f);
                    // truncation as in q8_0 (0 < a < 17), written out rather than calling BlockKernels' floor: with a
                    // shared helper here C2 left this method's vectors boxed (bf16 -> q4_0 ConvertBench, one thread:
                    // 2,684 -> 1,142-1,249 MB/s of CPU time, 2026-12-01, quiet machine)
                    FloatVector rl = al.add(MAGIC).sub(MAGIC);
                    FloatVector rh = ah.add(MAGIC).sub(MAGIC);
                    rl = rl.blend(rl.sub(1f), rl.compare(VectorOperators.GT, al));
                    rh = rh.blend(rh.sub(1f), rh.compare(VectorOperators.GT, ah));
                    IntVector lo = rl.add(MAGIC).reinterpretAsInts().sub(MAGIC_BITS);
                    IntVector hi = rh.add(MAGIC).reinterpretAsInts().sub(MAGIC_BITS);
                    lo = lo.sub(lo.lanewise(VectorOperators.ASHR, 4)); // min(15, c) for 0 <= c <= 16
                    hi = hi.sub(hi.lanewise(VectorOperators.ASHR, 4));
                    IntVector packed = lo.or(hi.lanewise(VectorOperators.LSHL, 4));
                    ((ByteVector) packed.convertShape(VectorOperators.I2B, B, 0)).intoByteBuffer(dst, y + 2 + L * k,
                            LE);
                }
            }
            done += ok;
            if (ok < nb) {
                return done;
            }
        }
        return done;
    }

    /**
     * The value of the block's first element of largest |x| (+0 if all are zero), NaN if it holds a NaN or an
     * infinity: {@code CMath.signedAbsMaxBf16}, its two maxima over the sign-extended patterns taken by vectors (p:
     * the largest pattern, that is the largest positive value; q: the same after flipping the sign bit, the largest
     * magnitude among the negative values).
     */
    private static float signedAbsMax(ByteBuffer src, int o) {
        ShortVector v = ShortVector.fromByteBuffer(S, src, o, LE);
        ShortVector p = v;
        ShortVector q = v.lanewise(VectorOperators.XOR, (short) 0x8000);
        for (int k = 1; k < PARTS; k++) {
            v = ShortVector.fromByteBuffer(S, src, o + 2 * L * k, LE);
            p = p.max(v);
            q = q.max(v.lanewise(VectorOperators.XOR, (short) 0x8000));
        }
        int pm = p.reduceLanes(VectorOperators.MAX);
        int qm = q.reduceLanes(VectorOperators.MAX);
        if (Math.max(pm, qm) > BF16_MAX_FINITE_BITS) {
            return Float.NaN;
        }
        if (pm <= 0 && qm <= 0) {
            return 0.0f; // +0 and -0 only: ggml keeps its initial +0
        }
        if (pm != qm) { // the common case; the sign is data, so a select rather than a branch on it
            int bits = pm > qm ? pm : qm | 0x8000;
            return Float.intBitsToFloat(bits << 16);
        }
        for (int j = 0; ; j++) { // +a and -a both present: the first one wins
            short x = src.getShort(o + 2 * j);
            if ((x & 0x7fff) == pm) {
                return Float.intBitsToFloat(x << 16);
            }
        }
    }
}
