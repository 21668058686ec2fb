package io.quantkit.bench;

import io.quantkit.quant.Codec;
import io.quantkit.quant.Codecs;
import io.quantkit.quant.QuantizedTensor;
import io.quantkit.quant.Scheme;
import io.quantkit.tensor.FloatTensor;
import io.quantkit.tensor.Shape;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A cross-check of {@link CodecBenchmark} for a shared, oversubscribed machine: the same work (same matrix, same
 * calls), timed by this thread's CPU time instead of wall-clock time, so time spent waiting for a core does not
 * count. Prints the median of the measured rounds in MB/s of float32 input, and the spread (lowest and highest
 * round) so a noisy run shows itself.
 *
 * <p>Columns: {@code quantize} is {@link Codec#quantize} of a {@code FloatTensor} (allocates the stored array);
 * {@code into} is {@link Codec#quantizeInto(float[], int, int, byte[], int)} from the same values into one reused
 * caller array, what ggml's {@code quantize_row_*} (and its {@code test-quantize-perf}) measures; "-" where the
 * scheme stores more than one array and has no caller-buffer path; {@code dequantize} decodes the whole tensor
 * into a reused {@code float[]}.
 *
 * <p>Usage: {@code java -cp quant-bench/target/benchmarks.jar io.quantkit.bench.CpuTimeBench [--values N]
 * [scheme ...]}. {@code --values N} (a multiple of 256) replaces the 16 MB matrix by N values in rows of 4096 (or
 * 256), each round repeating the call until about 4 million values have gone through: {@code --values 4096} is
 * the cache-resident size that ggml's {@code test-quantize-perf} uses by default (its {@code L1_SIZE}).
 */
public final class CpuTimeBench {
    /**
     * Unmeasured rounds first: 40 (about 40,000 calls at 4096 values). With 15, C2's compile of the codec's
     * {@code quantizeInto} loop (after ~15,000 calls, {@code RoundTrace}) landed inside the measured rounds on a
     * loaded machine and decided the median.
     */
    private static final int WARMUP_ROUNDS = 40;
    private static final int ROUNDS = 15;

    private CpuTimeBench() {
    }

    public static void main(String[] args) {
        int n = CodecBenchmark.ROWS * CodecBenchmark.COLS;
        Shape shape = Shape.of(CodecBenchmark.ROWS, CodecBenchmark.COLS);
        int from = 0;
        if (args.length >= 2 && args[0].equals("--values")) {
            n = Integer.parseInt(args[1]);
            if (n <= 0 || n % 256 != 0) {
                throw new IllegalArgumentException("--values must be a positive multiple of 256, got " + n);
            }
            shape = n % 4096 == 0 ? Shape.of(n / 4096, 4096) : Shape.of(n / 256, 256);
            from = 2;
        }
        String[] schemes = args.length > from ? Arrays.copyOfRange(args, from, args.length)
                : CodecBenchmark.allSchemes();
        int reps = Math.max(1, 4_000_000 / n);
        float[] x = gaussian(n);
        FloatTensor input = FloatTensor.wrap(shape, x);
        float[] out = new float[n];
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        double mb = (double) n * reps * 4 / 1e6;
        System.out.printf("%-14s %-20s %-20s %-20s (MB/s of float32 input, thread CPU time, median [lowest-highest] of"
                + " %d rounds; %d values x %d calls a round)%n", "scheme", "quantize", "into", "dequantize", ROUNDS, n,
                reps);
        for (String s : schemes) {
            Codec codec;
            try {
                codec = Codecs.forScheme(Scheme.parse(s));
            } catch (UnsupportedOperationException e) {
                System.out.printf("%-14s no codec yet%n", s);
                continue;
            }
            QuantizedTensor q = codec.quantize(input);
            byte[] into = intoBuffer(codec, n);
            double[] qs = new double[ROUNDS];
            double[] is = new double[ROUNDS];
            double[] ds = new double[ROUNDS];
            for (int r = 0; r < WARMUP_ROUNDS + ROUNDS; r++) {
                long t0 = threads.getCurrentThreadCpuTime();
                for (int k = 0; k < reps; k++) {
                    q = codec.quantize(input);
                }
                long t1 = threads.getCurrentThreadCpuTime();
                if (into != null) {
                    for (int k = 0; k < reps; k++) {
                        codec.quantizeInto(x, 0, n, into, 0);
                    }
                }
                long t2 = threads.getCurrentThreadCpuTime();
                for (int k = 0; k < reps; k++) {
                    q.dequantize(0, out, 0, n);
                }
                long t3 = threads.getCurrentThreadCpuTime();
                if (r >= WARMUP_ROUNDS) {
                    qs[r - WARMUP_ROUNDS] = mb / ((t1 - t0) / 1e9);
                    is[r - WARMUP_ROUNDS] = mb / ((t2 - t1) / 1e9);
                    ds[r - WARMUP_ROUNDS] = mb / ((t3 - t2) / 1e9);
                }
            }
            if (into != null && !java.util.Arrays.equals(into, stored(q))) {
                throw new IllegalStateException(s + ": quantizeInto wrote other bytes than quantize stores");
            }
            System.out.printf("%-14s %-20s %-20s %-20s%n", s, spread(qs), into == null ? "-" : spread(is), spread(ds));
        }
    }

    /** A caller buffer for {@code codec.quantizeInto} of n values, or null if the codec has no such path. */
    private static byte[] intoBuffer(Codec codec, int n) {
        try {
            return new byte[codec.intoBytes(n)];
        } catch (UnsupportedOperationException e) {
            return null;
        }
    }

    private static byte[] stored(QuantizedTensor q) {
        java.nio.ByteBuffer b = q.arrays().get(0).data().duplicate();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    /** "median [lowest-highest]" of sorted-in-place rounds. */
    private static String spread(double[] v) {
        Arrays.sort(v);
        return String.format("%.0f [%.0f-%.0f]", v[v.length / 2], v[0], v[v.length - 1]);
    }

    /** The benchmark's input: {@code n} values of N(0, 0.02²), seed 42 (the same for every scheme and tool). */
    static float[] gaussian(int n) {
        SplittableRandom rnd = new SplittableRandom(42);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (rnd.nextGaussian() * 0.02);
        }
        return x;
    }
}
