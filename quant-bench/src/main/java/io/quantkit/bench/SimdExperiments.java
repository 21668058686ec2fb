package io.quantkit.bench;

import io.quantkit.format.Fp16;
import io.quantkit.quant.Codec;
import io.quantkit.quant.Codecs;
import io.quantkit.quant.Scheme;
import io.quantkit.tensor.FloatTensor;
import io.quantkit.tensor.Shape;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Loop shapes tried for q4_0 and bf16 quantization on Java 17 and not adopted (docs/benchmarks.md, "Speed pass"):
 * each is checked byte for byte against the codec and timed beside it by thread CPU time, on the same 16 MB
 * N(0, 0.02²) matrix as {@link CpuTimeBench}, input copied in 8K-value chunks as the codecs do.
 *
 * <ul>
 * <li>{@code q4_0-pipeline}: the block scan stays scalar; then per chunk, in separate loops that index every array
 *     alike (so SuperWord vectorises them): t = x·id + 8.5 (id spread per value), floor(t) in float arithmetic with
 *     the 2^23 magic number, r = rint(t) = (t + 2^23) − 2^23, floor = r − rint(r − t + 0.5) (r − t + 0.5 is exact),
 *     written as floor + 2^23 whose bits are 0x4b000000 + floor; one bulk copy to an {@code int[]}; the clamp
 *     c − (c &gt;&gt; 4) as an integer loop; the 32 nibbles of a block packed into 4 ints and stored with
 *     {@code putInt}.</li>
 * <li>{@code bf16-pairs}: the float bits read as {@code long}s (two values each) by one bulk copy, both halves
 *     rounded in one long loop (vectorised) and the pair narrowed to an {@code int} (one 4-byte store per two
 *     values instead of two 2-byte stores).</li>
 * </ul>
 * Usage: {@code java -cp quant-bench/target/benchmarks.jar io.quantkit.bench.SimdExperiments}.
 */
public final class SimdExperiments {
    private static final int CHUNK = 8192;
    private static final float MAGIC = 8388608f; // 2^23
    private static final int ROUNDS = 15;
    private static final int ROWS = CodecBenchmark.ROWS;
    private static final int COLS = CodecBenchmark.COLS;

    private SimdExperiments() {
    }

    /** q4_0 blocks of {@code x}, as the pipeline above computes them. */
    static byte[] q4_0Pipeline(float[] x) {
        int n = x.length;
        byte[] y = new byte[n / 32 * 18];
        ByteBuffer out = ByteBuffer.wrap(y).order(ByteOrder.LITTLE_ENDIAN);
        float[] xs = new float[CHUNK];
        float[] ids = new float[CHUNK];
        float[] v = new float[CHUNK];
        int[] c = new int[CHUNK];
        ByteBuffer view = ByteBuffer.allocate(4 * CHUNK).order(ByteOrder.nativeOrder());
        for (int pos = 0; pos < n; pos += CHUNK) {
            int len = Math.min(CHUNK, n - pos);
            System.arraycopy(x, pos, xs, 0, len);
            int yo = pos / 32 * 18;
            for (int b = 0; b < len / 32; b++) {
                float max = signedAbsMax(xs, b * 32);
                if (max != max) {
                    throw new IllegalArgumentException("input must be finite");
                }
                float d = max / -8f;
                float id = d != 0 ? 1.0f / d : 0.0f;
                if (id > Float.MAX_VALUE || id < -Float.MAX_VALUE) {
                    throw new IllegalStateException("degenerate block: not covered by this experiment");
                }
                out.putShort(yo + b * 18, Fp16.fromFloat(d));
                Arrays.fill(ids, b * 32, b * 32 + 32, id);
            }
            floorPlusMagic(xs, ids, v, len);
            view.asFloatBuffer().put(0, v, 0, len);
            view.asIntBuffer().get(0, c, 0, len);
            clampCodes(c, len);
            for (int b = 0; b < len / 32; b++) {
                int o = b * 32;
                int p = yo + b * 18 + 2;
                for (int w = 0; w < 4; w++) {
                    int a = o + 4 * w;
                    out.putInt(p + 4 * w, (c[a] | c[a + 16] << 4) | (c[a + 1] | c[a + 17] << 4) << 8
                            | (c[a + 2] | c[a + 18] << 4) << 16 | (c[a + 3] | c[a + 19] << 4) << 24);
                }
            }
        }
        return y;
    }

    /**
     * The first stages of the q4_0 block loop alone, over x in chunks: 0 = the chunk copy, 1 = + the block scan,
     * 2 = + the scale (d, 1/d, fp16, stored). Returns a checksum so nothing is optimised away.
     */
    static int q4_0Stages(float[] x, int stages, byte[] y) {
        float[] xs = new float[CHUNK];
        int sum = 0;
        for (int pos = 0; pos < x.length; pos += CHUNK) {
            int len = Math.min(CHUNK, x.length - pos);
            System.arraycopy(x, pos, xs, 0, len);
            sum += Float.floatToRawIntBits(xs[len - 1]);
            for (int b = 0; stages >= 1 && b < len / 32; b++) {
                float max = signedAbsMax(xs, b * 32);
                if (stages == 1) {
                    sum += Float.floatToRawIntBits(max);
                    continue;
                }
                float d = max / -8f;
                float id = d != 0 ? 1.0f / d : 0.0f;
                short h = Fp16.fromFloat(d);
                int p = (pos / 32 + b) * 18;
                y[p] = (byte) h;
                y[p + 1] = (byte) (h >> 8);
                sum += Float.floatToRawIntBits(id);
            }
        }
        return sum;
    }

    private static void floorPlusMagic(float[] x, float[] ids, float[] v, int n) {
        for (int i = 0; i < n; i++) {
            float t = x[i] * ids[i] + 8.5f;
            float r = (t + MAGIC) - MAGIC;
            float up = ((r - t + 0.5f) + MAGIC) - MAGIC;
            v[i] = (r - up) + MAGIC;
        }
    }

    private static void clampCodes(int[] c, int n) {
        for (int i = 0; i < n; i++) {
            int k = c[i] - 0x4b000000;
            c[i] = k - (k >> 4);
        }
    }

    /** The value of the first element of largest |x| in x[o..o+32) (+0 for all zeros), NaN for NaN/Inf. */
    private static float signedAbsMax(float[] x, int o) {
        int p = Integer.MIN_VALUE;
        int q = Integer.MIN_VALUE;
        for (int j = 0; j < 32; j++) {
            int bits = Float.floatToRawIntBits(x[o + j]);
            p = Math.max(p, bits);
            q = Math.max(q, bits ^ 0x80000000);
        }
        if (Math.max(p, q) > 0x7f7fffff) {
            return Float.NaN;
        }
        if (p <= 0 && q <= 0) {
            return 0.0f;
        }
        if (p != q) {
            return p > q ? Float.intBitsToFloat(p) : Float.intBitsToFloat(q | 0x80000000);
        }
        for (int j = 0; ; j++) {
            if (Math.abs(x[o + j]) == Float.intBitsToFloat(p)) {
                return x[o + j];
            }
        }
    }

    /** bf16 codes of {@code x}, little-endian, as the pair loop above computes them. */
    static byte[] bf16Pairs(float[] x) {
        int n = x.length;
        ByteBuffer out = ByteBuffer.allocate(2 * n).order(ByteOrder.LITTLE_ENDIAN);
        float[] xs = new float[CHUNK];
        long[] w = new long[CHUNK / 2];
        int[] pairs = new int[CHUNK / 2];
        ByteBuffer view = ByteBuffer.allocate(4 * CHUNK).order(ByteOrder.LITTLE_ENDIAN);
        for (int pos = 0; pos < n; pos += CHUNK) {
            int len = Math.min(CHUNK, n - pos);
            System.arraycopy(x, pos, xs, 0, len);
            view.asFloatBuffer().put(0, xs, 0, len);
            view.asLongBuffer().get(0, w, 0, len / 2);
            roundPairs(w, pairs, len / 2);
            out.asIntBuffer().put(pos / 2, pairs, 0, len / 2);
        }
        return out.array();
    }

    private static void roundPairs(long[] w, int[] out, int m) {
        for (int k = 0; k < m; k++) {
            long lo = w[k] & 0xffffffffL;
            long hi = w[k] >>> 32;
            long rl = (lo + 0x7fffL + ((lo >>> 16) & 1)) >>> 16;
            long rh = (hi + 0x7fffL + ((hi >>> 16) & 1)) >>> 16;
            long nl = (0x7f800000L - (lo & 0x7fffffffL)) >> 63; // all ones for a NaN
            long nh = (0x7f800000L - (hi & 0x7fffffffL)) >> 63;
            long bl = rl ^ ((rl ^ ((lo >>> 16) | 0x40)) & nl);
            long bh = rh ^ ((rh ^ ((hi >>> 16) | 0x40)) & nh);
            out[k] = (int) ((bl & 0xffff) | (bh << 16));
        }
    }

    private static byte[] bytes(ByteBuffer b) {
        ByteBuffer d = b.duplicate();
        byte[] a = new byte[d.remaining()];
        d.get(a);
        return a;
    }

    public static void main(String[] args) {
        int n = ROWS * COLS;
        SplittableRandom rnd = new SplittableRandom(42);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (rnd.nextGaussian() * 0.02);
        }
        FloatTensor input = FloatTensor.wrap(Shape.of(ROWS, COLS), x);
        Codec q40 = Codecs.forScheme(Scheme.parse("q4_0"));
        Codec bf16 = Codecs.forScheme(Scheme.parse("bf16"));
        boolean same40 = Arrays.equals(bytes(q40.quantize(input).arrays().get(0).data()), q4_0Pipeline(x));
        boolean sameBf = Arrays.equals(bytes(bf16.quantize(input).arrays().get(0).data()), bf16Pairs(x));
        System.out.println("byte-identical to the codec: q4_0-pipeline " + same40 + ", bf16-pairs " + sameBf);
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        double mb = 4.0 * n / 1e6;
        double[][] t = new double[4][ROUNDS];
        for (int r = 0; r < 2 * ROUNDS; r++) {
            long t0 = threads.getCurrentThreadCpuTime();
            q40.quantize(input);
            long t1 = threads.getCurrentThreadCpuTime();
            q4_0Pipeline(x);
            long t2 = threads.getCurrentThreadCpuTime();
            bf16.quantize(input);
            long t3 = threads.getCurrentThreadCpuTime();
            bf16Pairs(x);
            long t4 = threads.getCurrentThreadCpuTime();
            if (r >= ROUNDS) {
                t[0][r - ROUNDS] = mb / ((t1 - t0) / 1e9);
                t[1][r - ROUNDS] = mb / ((t2 - t1) / 1e9);
                t[2][r - ROUNDS] = mb / ((t3 - t2) / 1e9);
                t[3][r - ROUNDS] = mb / ((t4 - t3) / 1e9);
            }
        }
        String[] names = {"q4_0 codec", "q4_0-pipeline", "bf16 codec", "bf16-pairs"};
        double[][] st = new double[3][ROUNDS];
        byte[] y = new byte[n / 32 * 18];
        int sink = 0;
        for (int r = 0; r < 2 * ROUNDS; r++) {
            for (int k = 0; k < 3; k++) {
                long t0 = threads.getCurrentThreadCpuTime();
                sink += q4_0Stages(x, k, y);
                long t1 = threads.getCurrentThreadCpuTime();
                if (r >= ROUNDS) {
                    st[k][r - ROUNDS] = (t1 - t0) / (double) n;
                }
            }
        }
        String[] stageNames = {"chunk copy", "+ block scan", "+ scale"};
        System.out.println("q4_0 block loop by stage, ns per value (thread CPU time, median of " + ROUNDS + "; checksum "
                + (sink & 1) + "):");
        for (int k = 0; k < 3; k++) {
            Arrays.sort(st[k]);
            System.out.printf("  %-14s %.3f%n", stageNames[k], st[k][ROUNDS / 2]);
        }
        for (int k = 0; k < 4; k++) {
            Arrays.sort(t[k]);
            System.out.printf("%-14s %6.0f MB/s [%.0f-%.0f] (thread CPU time, median of %d)%n", names[k],
                    t[k][ROUNDS / 2], t[k][0], t[k][ROUNDS - 1], ROUNDS);
        }
    }
}
