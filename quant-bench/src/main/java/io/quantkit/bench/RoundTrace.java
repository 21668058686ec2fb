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
import java.util.Locale;

/**
 * {@link CpuTimeBench}'s quantize rounds one by one, for one scheme and as many rounds as asked: MB/s of float32 input
 * by thread CPU time for each round, then the median [lowest-highest] of rounds 15-29 (the ones CpuTimeBench
 * measures) and of the last 15. Shows when the JIT reaches the steady speed: a path whose per-call methods are
 * compiled by C2 only after CpuTimeBench's 15 warm-up rounds (each call counts once, about 15,000 invocations are
 * needed) has its median decided by the compile's timing, which moves with the machine's load.
 *
 * <p>Usage: {@code java [--add-modules jdk.incubator.vector] -cp quant-bench/target/benchmarks.jar
 * io.quantkit.bench.RoundTrace values scheme rounds}, e.g. {@code 4096 q4_1 60}.
 */
public final class RoundTrace {
    private RoundTrace() {
    }

    public static void main(String[] args) {
        if (args.length != 3) {
            throw new IllegalArgumentException("usage: RoundTrace values scheme rounds");
        }
        int n = Integer.parseInt(args[0]);
        int rounds = Integer.parseInt(args[2]);
        if (n <= 0 || n % 256 != 0 || rounds < 30) {
            throw new IllegalArgumentException("values must be a positive multiple of 256 and rounds at least 30");
        }
        Shape shape = n % 4096 == 0 ? Shape.of(n / 4096, 4096) : Shape.of(n / 256, 256);
        int reps = Math.max(1, 4_000_000 / n);
        FloatTensor input = FloatTensor.wrap(shape, CpuTimeBench.gaussian(n));
        Codec codec = Codecs.forScheme(Scheme.parse(args[1]));
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        double mb = (double) n * reps * 4 / 1e6;
        double[] v = new double[rounds];
        QuantizedTensor q = null;
        for (int r = 0; r < rounds; r++) {
            long t0 = threads.getCurrentThreadCpuTime();
            for (int k = 0; k < reps; k++) {
                q = codec.quantize(input);
            }
            v[r] = mb / ((threads.getCurrentThreadCpuTime() - t0) / 1e9);
        }
        StringBuilder line = new StringBuilder();
        for (double m : v) {
            line.append(String.format(Locale.ROOT, "%.0f ", m));
        }
        System.out.println(args[1] + " " + n + " values, " + reps + " calls a round, " + q.storageBytes()
                + " bytes; MB/s per round: " + line.toString().trim());
        System.out.println("rounds 15-29: " + summary(Arrays.copyOfRange(v, 15, 30)) + "; last 15: "
                + summary(Arrays.copyOfRange(v, rounds - 15, rounds)));
    }

    private static String summary(double[] v) {
        Arrays.sort(v);
        return String.format(Locale.ROOT, "%.0f [%.0f-%.0f]", v[v.length / 2], v[0], v[v.length - 1]);
    }
}
