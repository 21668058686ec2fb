package io.quantkit.quant.ggml;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.management.HotSpotDiagnosticMXBean;
import io.quantkit.simd.vector.BlockKernels;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The vector kernels of Q8_0, Q4_0 and Q4_1 against the scalar specification ({@code quantizeBlockReference}, block
 * by block) and the scalar fast loops, byte for byte, on blocks chosen to hit every rounding rule; this module runs
 * it at 512-, 256- and 128-bit vectors. The golden files of reference/ggml go through the same path in
 * GgmlGoldenTest, which this module's surefire also runs (from quant-core's test jar) with the module loaded.
 */
class BlockSimdTest {
    private static final BlockKernels KERNELS = new BlockKernels();
    private static final long SEED = 20261201L;

    static Stream<GgmlType> types() {
        return Stream.of(GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1);
    }

    @Test
    void theFormatsUseTheKernelsInThisModuleOnWideVectors() {
        HotSpotDiagnosticMXBean hs = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        int bits = 8 * Integer.parseInt(hs.getVMOption("MaxVectorSize").getValue());
        if (bits >= 256) {
            assertInstanceOf(BlockKernels.class, GgmlQuants.SIMD);
        } else {
            assertNull(GgmlQuants.SIMD, "128-bit vectors: the scalar loops");
        }
    }

    private static boolean simd(GgmlType type, float[] x, int xo, byte[] y, int yo, int blocks) {
        return switch (type) {
            case Q8_0 -> new Q8_0Format().quantizeSimd(KERNELS, x, xo, y, yo, blocks);
            case Q4_0 -> new Q4_0Format().quantizeSimd(KERNELS, x, xo, y, yo, blocks);
            case Q4_1 -> new Q4_1Format().quantizeSimd(KERNELS, x, xo, y, yo, blocks);
            default -> throw new AssertionError(type);
        };
    }

    private static boolean scalar(GgmlType type, float[] x, int xo, byte[] y, int yo, int blocks) {
        return switch (type) {
            case Q8_0 -> new Q8_0Format().quantizeScalar(x, xo, y, yo, blocks);
            case Q4_0 -> new Q4_0Format().quantizeScalar(x, xo, y, yo, blocks);
            case Q4_1 -> new Q4_1Format().quantizeScalar(x, xo, y, yo, blocks);
            default -> throw new AssertionError(type);
        };
    }

    private static void dequantizeSimd(GgmlType type, byte[] y, int yo, float[] x, int xo, int blocks) {
        switch (type) {
            case Q8_0 -> KERNELS.dequantizeQ8_0(y, yo, x, xo, blocks);
            case Q4_0 -> KERNELS.dequantizeQ4_0(y, yo, x, xo, blocks);
            case Q4_1 -> KERNELS.dequantizeQ4_1(y, yo, x, xo, blocks);
            default -> throw new AssertionError(type);
        }
    }

    private static void dequantizeScalar(GgmlType type, byte[] y, int yo, float[] x, int xo, int blocks) {
        switch (type) {
            case Q8_0 -> new Q8_0Format().dequantizeScalar(y, yo, x, xo, blocks);
            case Q4_0 -> new Q4_0Format().dequantizeScalar(y, yo, x, xo, blocks);
            case Q4_1 -> new Q4_1Format().dequantizeScalar(y, yo, x, xo, blocks);
            default -> throw new AssertionError(type);
        }
    }

    /**
     * Blocks of y decoded by the kernel and by the scalar loop into x at offset xo: the same float bits, except that
     * a NaN matches any NaN. Which payload a sum of two NaNs keeps is not fixed by Java (C2 may swap the operands
     * of an addition, and does so in the Q4_1 kernel: a NaN d and a NaN m gave m's payload there, d's in the scalar
     * loop); the quantizers never store a NaN scale.
     */
    private static void checkDecode(GgmlType type, byte[] y, int yo, int blocks, int xo, String what) {
        float[] want = new float[xo + 32 * blocks + 3];
        float[] got = new float[want.length];
        dequantizeScalar(type, y, yo, want, xo, blocks);
        dequantizeSimd(type, y, yo, got, xo, blocks);
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i])
                    && !(Float.isNaN(want[i]) && Float.isNaN(got[i]))) {
                int b = (i - xo) / 32;
                throw new AssertionError(type + " " + what + ": value " + i + " (block " + b + ") is "
                        + Integer.toHexString(Float.floatToRawIntBits(got[i])) + ", the scalar loop gives "
                        + Integer.toHexString(Float.floatToRawIntBits(want[i])));
            }
        }
    }

    /**
     * Decoding over every value of every block field: block b has the fp16 scale code b (all 65,536: zeros,
     * subnormals, infinities, NaNs with their payloads), for Q4_1 the fp16 minimum code b * 40503 mod 2^16 (every
     * code once: 40503 is odd), and code byte j equal to b + 37 j mod 256, so every byte value (every pair of
     * nibbles) reaches every lane over 256 consecutive blocks. Raw float bits are compared.
     */
    @ParameterizedTest
    @MethodSource("types")
    void decodingEveryScaleMinimumAndCodeMatchesTheScalarLoop(GgmlType type) {
        int bb = type.blockBytes();
        int blocks = 1 << 16;
        int codes = type == GgmlType.Q4_1 ? 4 : 2; // offset of the codes in a block
        int yo = 3;
        byte[] y = new byte[yo + blocks * bb];
        for (int b = 0; b < blocks; b++) {
            int p = yo + b * bb;
            CMath.putShortLE(y, p, (short) b);
            if (type == GgmlType.Q4_1) {
                CMath.putShortLE(y, p + 2, (short) (b * 40503));
            }
            for (int j = 0; j < bb - codes; j++) {
                y[p + codes + j] = (byte) (b + 37 * j);
            }
        }
        checkDecode(type, y, yo, blocks, 5, "every scale and code");
    }

    @ParameterizedTest
    @MethodSource("types")
    void decodingRandomRunsOfEveryLengthMatchesTheScalarLoop(GgmlType type) {
        Random r = new Random(SEED);
        for (int blocks : new int[] {0, 1, 2, 31, 33, 257}) {
            for (int yo : new int[] {0, 1, 13}) {
                byte[] y = new byte[yo + blocks * type.blockBytes() + 2];
                r.nextBytes(y);
                checkDecode(type, y, yo, blocks, 1 + yo % 7, blocks + " random blocks at byte offset " + yo
                        + " (seed " + SEED + ")");
            }
        }
    }

    /** The blocks of x (finite), through the kernels and through the reference, at offsets xo and yo. */
    private static void check(GgmlType type, float[] x, int xo, int blocks, String what) {
        BlockFormat f = GgmlQuants.format(type);
        int bb = type.blockBytes();
        int yo = 5;
        byte[] want = new byte[yo + blocks * bb + 3];
        for (int b = 0; b < blocks; b++) {
            f.quantizeBlockReference(x, xo + b * 32, want, yo + b * bb);
        }
        byte[] got = new byte[want.length];
        assertTrue(simd(type, x, xo, got, yo, blocks), what);
        if (!java.util.Arrays.equals(want, got)) {
            for (int b = 0; b < blocks; b++) { // name the first block that differs
                int p = yo + b * bb;
                assertArrayEquals(java.util.Arrays.copyOfRange(want, p, p + bb),
                        java.util.Arrays.copyOfRange(got, p, p + bb), type + " " + what + ", block " + b);
            }
            assertArrayEquals(want, got, type + " " + what + ": bytes outside the blocks were written");
        }
        byte[] fast = new byte[want.length];
        assertTrue(scalar(type, x, xo, fast, yo, blocks));
        assertArrayEquals(want, fast, () -> type + " " + what + " (scalar fast loop)");
    }

    /** Special blocks, each 32 values; the constructions name the rounding edge they aim at. */
    static List<float[]> specialBlocks(GgmlType type) {
        List<float[]> blocks = new ArrayList<>();
        blocks.add(new float[32]); // all +0
        float[] zeros = new float[32];
        for (int j = 0; j < 32; j += 3) {
            zeros[j] = -0f; // -0 and +0 mixed, -0 first
        }
        blocks.add(zeros);
        float[] negZeros = new float[32];
        java.util.Arrays.fill(negZeros, -0f);
        blocks.add(negZeros);
        // exact ties of each rule: the scale a power of two so that x*id is exact
        // q8_0: amax 127 -> d = 1, id = 1: x = k + 0.5 is a roundf tie (away from zero), and its neighbours
        // q4_0: max 8 -> d = -1, id = -1: x*id + 8.5 is an integer for x = k + 0.5 (the +8.5f truncation edge)
        // q4_1: min 0, max 15 -> d = 1, id = 1: x + 0.5 is an integer for x = k + 0.5, a half for x = k
        float top = type == GgmlType.Q8_0 ? 127f : type == GgmlType.Q4_0 ? 8f : 15f;
        for (int variant = 0; variant < 4; variant++) {
            for (float sign : new float[] {1f, -1f}) {
                float[] t = new float[32];
                t[0] = type == GgmlType.Q4_1 ? 0f : sign * top;
                t[1] = type == GgmlType.Q4_1 ? top : sign * top;
                for (int j = 2; j < 32; j++) {
                    float k = (j * 7 % (int) (2 * top)) - top + 0.5f;
                    if (type == GgmlType.Q4_1) {
                        k = Math.abs(k) % top;
                    }
                    float v = switch (variant) {
                        case 0 -> k;
                        case 1 -> Math.nextUp(k);
                        case 2 -> Math.nextDown(k);
                        default -> Math.round(k - 0.5f); // integers
                    };
                    t[j] = type == GgmlType.Q4_1 ? Math.min(top, Math.abs(v)) : v;
                }
                blocks.add(t);
                float[] scaled = t.clone(); // the same ties at another power-of-two scale
                for (int j = 0; j < 32; j++) {
                    scaled[j] *= 0x1p-10f;
                }
                blocks.add(scaled);
            }
        }
        // +a and -a both present (the first one wins for q4_0), in both orders, at late positions
        for (int first : new int[] {0, 17, 30}) {
            float[] pm = new float[32];
            for (int j = 0; j < 32; j++) {
                pm[j] = 0.001f * (j - 16);
            }
            pm[first] = 0.75f;
            pm[31] = -0.75f;
            blocks.add(pm);
            float[] mp = pm.clone();
            mp[first] = -0.75f;
            mp[31] = 0.75f;
            blocks.add(mp);
        }
        // one huge outlier, a negative maximum, all equal values
        float[] outlier = new float[32];
        for (int j = 0; j < 32; j++) {
            outlier[j] = 0.01f * ((j * 13) % 7 - 3);
        }
        outlier[19] = 30000f;
        blocks.add(outlier);
        float[] negMax = outlier.clone();
        negMax[19] = -30000f;
        blocks.add(negMax);
        float[] equal = new float[32];
        java.util.Arrays.fill(equal, -0.3f);
        blocks.add(equal);
        // all positive (q4_1: a positive minimum) and all negative (a negative maximum), no zero among them
        float[] positive = new float[32];
        float[] negative = new float[32];
        for (int j = 0; j < 32; j++) {
            positive[j] = 0.25f + 0.013f * ((j * 11) % 32);
            negative[j] = -positive[(j * 5) % 32];
        }
        blocks.add(positive);
        blocks.add(negative);
        // subnormals: the scale underflows to 0 (id = 0), or d is subnormal and 1/d overflows (the degenerate
        // path, rewritten by the reference), or the values are mixed with normal ones
        float[] tinyAll = new float[32];
        float[] subnormal = new float[32];
        float[] mixed = new float[32];
        for (int j = 0; j < 32; j++) {
            tinyAll[j] = (j % 2 == 0 ? 1 : -1) * Float.MIN_VALUE * j;
            subnormal[j] = (j % 3 == 0 ? -1 : 1) * Float.intBitsToFloat(0x00400000 + j * 977);
            mixed[j] = j % 2 == 0 ? Float.intBitsToFloat(j * 12345) : 1e-3f * j;
        }
        blocks.add(tinyAll);
        blocks.add(subnormal);
        blocks.add(mixed);
        float[] minNormal = new float[32];
        java.util.Arrays.fill(minNormal, Float.MIN_NORMAL);
        minNormal[5] = -Float.MIN_NORMAL * 3;
        blocks.add(minNormal);
        // the largest magnitudes (fp16 of the scale overflows to inf, which the codec rejects; the bytes still match)
        float[] huge = new float[32];
        for (int j = 0; j < 32; j++) {
            huge[j] = (j % 2 == 0 ? -1 : 1) * Float.MAX_VALUE / (j + 1);
        }
        blocks.add(huge);
        return blocks;
    }

    @ParameterizedTest
    @MethodSource("types")
    void specialBlocksMatchTheReference(GgmlType type) {
        List<float[]> blocks = specialBlocks(type);
        float[] all = new float[3 + 32 * blocks.size()];
        for (int i = 0; i < blocks.size(); i++) {
            float[] one = new float[32 + 7];
            System.arraycopy(blocks.get(i), 0, one, 7, 32);
            check(type, one, 7, 1, "special block " + i);
            System.arraycopy(blocks.get(i), 0, all, 3 + 32 * i, 32);
        }
        check(type, all, 3, blocks.size(), "all special blocks in one run");
    }

    /** Random blocks: gaussian at scales from 2^-130 to 2^100, random finite bit patterns, sparse blocks. */
    private static float[] randomValues(Random r, int n) {
        float[] x = new float[n];
        for (int b = 0; b < n / 32; b++) {
            int kind = r.nextInt(4);
            float scale = (float) Math.scalb(1.0, r.nextInt(230) - 130);
            for (int j = b * 32; j < b * 32 + 32; j++) {
                x[j] = switch (kind) {
                    case 0 -> (float) (0.02 * r.nextGaussian());
                    case 1 -> (float) (scale * r.nextGaussian());
                    case 2 -> {
                        float v;
                        do {
                            v = Float.intBitsToFloat(r.nextInt());
                        } while (!Float.isFinite(v));
                        yield v;
                    }
                    default -> r.nextInt(5) == 0 ? (float) r.nextGaussian() : (r.nextBoolean() ? 0f : -0f);
                };
            }
        }
        return x;
    }

    @ParameterizedTest
    @MethodSource("types")
    void randomRunsOfEveryLengthMatchTheReference(GgmlType type) {
        Random r = new Random(SEED);
        for (int blocks : new int[] {0, 1, 2, 31, 33, 256, 257, 1021}) {
            for (int xo : new int[] {0, 1, 13}) {
                float[] x = new float[xo + 32 * blocks + 5];
                float[] v = randomValues(r, 32 * blocks);
                System.arraycopy(v, 0, x, xo, v.length);
                check(type, x, xo, blocks, blocks + " random blocks at offset " + xo + " (seed " + SEED + ")");
            }
        }
    }

    /**
     * Blocks the kernels hand back to the scalar loop (or treat specially) at every block position of a run of
     * {@code 64 + 16 + 7} gaussian blocks: a whole group of the Q4_1 kernel, then one with a full vector step of
     * scales (16 or 8 blocks) and a scalar tail, so each kind lands in every lane of the vector scale step, in the
     * scalar tail, first and last in a group and right after the group boundary.
     */
    @ParameterizedTest
    @MethodSource("types")
    void handedBackBlocksAtEveryPositionOfALongRun(GgmlType type) {
        int blocks = 64 + 16 + 7;
        Random r = new Random(20261202L);
        float[] base = new float[32 * blocks];
        for (int i = 0; i < base.length; i++) {
            base[i] = (float) (0.02 * r.nextGaussian());
        }
        List<float[]> kinds = new ArrayList<>();
        float[] zeroMax = new float[32]; // q4_1: the maximum is a zero (the first zero met is kept)
        float[] zeroMin = new float[32]; // q4_1: the minimum is +0 (met first), not the later -0 (the stored m)
        float[] equal = new float[32]; // d = 0, id = 0
        float[] tiny = new float[32]; // d subnormal, 1/d overflows
        float[] plusMinus = new float[32]; // q4_0: +a and -a both largest
        for (int j = 0; j < 32; j++) {
            zeroMax[j] = j == 9 ? 0f : -0.01f * (j + 1);
            zeroMin[j] = j == 5 ? 0f : j == 20 ? -0f : 0.01f * (j + 1);
            equal[j] = 0.7f;
            tiny[j] = Float.MIN_VALUE * (j % 3);
            plusMinus[j] = 0.001f * (j - 16);
        }
        plusMinus[3] = -0.5f;
        plusMinus[30] = 0.5f;
        kinds.add(zeroMax);
        kinds.add(zeroMin);
        kinds.add(equal);
        kinds.add(tiny);
        kinds.add(plusMinus);
        for (int k = 0; k < kinds.size(); k++) {
            for (int p = 0; p < blocks; p++) {
                float[] x = new float[3 + base.length];
                System.arraycopy(base, 0, x, 3, base.length);
                System.arraycopy(kinds.get(k), 0, x, 3 + 32 * p, 32);
                check(type, x, 3, blocks, "kind " + k + " at block " + p + " of " + blocks + " (seed 20261202)");
            }
        }
        for (int p = 0; p < blocks; p++) { // a NaN or an infinity in block p, lane p % 32
            float[] x = base.clone();
            x[32 * p + p % 32] = p % 2 == 0 ? Float.NaN : Float.NEGATIVE_INFINITY;
            byte[] y = new byte[blocks * type.blockBytes()];
            assertFalse(simd(type, x, 0, y, 0, blocks), "non-finite in block " + p);
            byte[] want = new byte[y.length];
            BlockFormat f = GgmlQuants.format(type);
            for (int b = 0; b < p; b++) {
                f.quantizeBlockReference(x, 32 * b, want, b * type.blockBytes());
            }
            assertArrayEquals(java.util.Arrays.copyOf(want, p * type.blockBytes()),
                    java.util.Arrays.copyOf(y, p * type.blockBytes()), "the blocks before block " + p);
        }
    }

    @ParameterizedTest
    @MethodSource("types")
    void nanOrInfinityAnywhereIsReported(GgmlType type) {
        float[] bad = {Float.NaN, Float.intBitsToFloat(0xffc00001), Float.intBitsToFloat(0x7f800001),
            Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
        Random r = new Random(SEED);
        int blocks = 3;
        float[] base = randomValues(r, 32 * blocks);
        for (float v : bad) {
            for (int pos = 0; pos < 32 * blocks; pos++) { // every lane of every vector, at every block
                float[] x = base.clone();
                x[pos] = v;
                byte[] y = new byte[blocks * type.blockBytes()];
                assertFalse(simd(type, x, 0, y, 0, blocks), type + ": " + v + " at " + pos);
                assertFalse(scalar(type, x, 0, y, 0, blocks), type + " scalar: " + v + " at " + pos);
            }
        }
        // a block of nothing but huge finite values next to one with an infinity
        float[] x = new float[64];
        java.util.Arrays.fill(x, -Float.MAX_VALUE);
        x[40] = Float.NEGATIVE_INFINITY;
        assertFalse(simd(type, x, 0, new byte[2 * type.blockBytes()], 0, 2));
        assertEquals(true, simd(type, x, 0, new byte[type.blockBytes()], 0, 1));
    }
}
