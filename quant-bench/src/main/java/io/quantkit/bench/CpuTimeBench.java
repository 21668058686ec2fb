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
 * count. Prints the median of the measured rounds in MB/s of float32 input.
 *
 * <p>Usage: {@code java -cp quant-bench/target/benchmarks.jar io.quantkit.bench.CpuTimeBench [scheme ...]}
 */
public final class CpuTimeBench {
    private static final int WARMUP_ROUNDS = 15;
    private static final int ROUNDS = 15;

    private CpuTimeBench() {
    }

    public static void main(String[] args) {
        String[] schemes = args.length > 0 ? args : CodecBenchmark.allSchemes();
        int n = CodecBenchmark.ROWS * CodecBenchmark.COLS;
        SplittableRandom rnd = new SplittableRandom(42);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (rnd.nextGaussian() * 0.02);
        }
        FloatTensor input = FloatTensor.wrap(Shape.of(CodecBenchmark.ROWS, CodecBenchmark.COLS), x);
        float[] out = new float[n];
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        double mb = n * 4 / 1e6;
        System.out.printf("%-14s %12s %12s   (MB/s of float32 input, thread CPU time, median of %d rounds)%n",
                "scheme", "quantize", "dequantize", ROUNDS);
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
                q = codec.quantize(input);
                long t1 = threads.getCurrentThreadCpuTime();
                q.dequantize(0, out, 0, n);
                long t2 = threads.getCurrentThreadCpuTime();
                if (r >= WARMUP_ROUNDS) {
                    qs[r - WARMUP_ROUNDS] = mb / ((t1 - t0) / 1e9);
                    ds[r - WARMUP_ROUNDS] = mb / ((t2 - t1) / 1e9);
                }
            }
            Arrays.sort(qs);
            Arrays.sort(ds);
            System.out.printf("%-14s %12.0f %12.0f%n", s, qs[ROUNDS / 2], ds[ROUNDS / 2]);
        }
    }
}
