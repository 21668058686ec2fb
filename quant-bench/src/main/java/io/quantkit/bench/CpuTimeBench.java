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
 * <p>Usage: {@code java -cp quant-bench/target/benchmarks.jar io.quantkit.bench.CpuTimeBench [--values N]
 * [scheme ...]}. {@code --values N} (a multiple of 256) replaces the 16 MB matrix by N values in rows of 4096 (or
 * 256), each round repeating the call until about 4 million values have gone through: {@code --values 4096} is
 * the cache-resident size that ggml's {@code test-quantize-perf} uses by default (its {@code L1_SIZE}).
 */
public final class CpuTimeBench {
    private static final int WARMUP_ROUNDS = 15;
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
        SplittableRandom rnd = new SplittableRandom(42);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (rnd.nextGaussian() * 0.02);
        }
        FloatTensor input = FloatTensor.wrap(shape, x);
        float[] out = new float[n];
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        double mb = (double) n * reps * 4 / 1e6;
        System.out.printf("%-14s %12s %12s   (MB/s of float32 input, thread CPU time, median [lowest-highest] of %d"
                + " rounds; %d values x %d calls a round)%n", "scheme", "quantize", "dequantize", ROUNDS, n, reps);
        for (String s : schemes) {
            Codec codec;
            try {
                codec = Codecs.forScheme(Scheme.parse(s));
            } catch (UnsupportedOperationException e) {
                System.out.printf("%-14s no codec yet%n", s);
                continue;
            }
            QuantizedTensor q = codec.quantize(input);
            double[] qs = new double[ROUNDS];
            double[] ds = new double[ROUNDS];
            for (int r = 0; r < WARMUP_ROUNDS + ROUNDS; r++) {
                long t0 = threads.getCurrentThreadCpuTime();
                for (int k = 0; k < reps; k++) {
                    q = codec.quantize(input);
                }
                long t1 = threads.getCurrentThreadCpuTime();
                for (int k = 0; k < reps; k++) {
                    q.dequantize(0, out, 0, n);
                }
                long t2 = threads.getCurrentThreadCpuTime();
                if (r >= WARMUP_ROUNDS) {
                    qs[r - WARMUP_ROUNDS] = mb / ((t1 - t0) / 1e9);
                    ds[r - WARMUP_ROUNDS] = mb / ((t2 - t1) / 1e9);
                }
            }
            Arrays.sort(qs);
            Arrays.sort(ds);
            System.out.printf("%-14s %6.0f [%.0f-%.0f] %6.0f [%.0f-%.0f]%n", s, qs[ROUNDS / 2], qs[0], qs[ROUNDS - 1],
                    ds[ROUNDS / 2], ds[0], ds[ROUNDS - 1]);
        }
    }
}
