package io.quantkit.train;

import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Training throughput of the stories260K-sized model (dim 64, hidden 172, 5 layers, 8 heads, 4 kv heads, vocab 512)
 * on batches of 16 × 128 random tokens: forward, backward, clipping and AdamW, as {@link Trainer} runs them.
 * Compare with {@code reference/train/bench_torch.py} (same configuration and batch). With quant-simd on the class
 * path and {@code --add-modules jdk.incubator.vector} the vector kernels run ({@link TrainSimd}); the line printed
 * names the path ({@code -Dquantkit.simd=false} forces the scalar one).
 *
 * <pre>java --add-modules jdk.incubator.vector -cp quant-core/target/classes:quant-simd/target/classes:...
 *     io.quantkit.train.TrainBench [THREADS] [STEPS]</pre>
 */
public final class TrainBench {
    private TrainBench() {
    }

    /** CPU time of the whole process (all threads, JIT and GC included), or -1 where the JVM does not report it. */
    static long processCpuNanos() {
        java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getProcessCpuTime() : -1;
    }

    public static void main(String[] args) throws java.io.IOException {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        Architecture a = Architecture.llama(64, 172, 5, 8, 4, 512, 256, true);
        int warm = 8;
        TrainOptions o = new TrainOptions(1, warm + steps, 16, 128, 1, 1e-3f, 1e-4f, 1, 0.1f, 0.9f, 0.95f, 1e-8f, 1f, 0, 0);
        int[] data = new int[200_000];
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < data.length; i++) {
            data[i] = r.nextInt(512);
        }
        Trainer t = new Trainer(a, o, data, new int[0], null, null, ActivationQuant.NONE);
        try (Parallel par = Parallel.of(threads)) {
            t.run(par, warm, null);
            long c0 = processCpuNanos();
            long t0 = System.nanoTime();
            t.run(par, warm + steps, null);
            double dt = (System.nanoTime() - t0) / 1e9;
            double cpu = (processCpuNanos() - c0) / 1e9;
            System.out.printf(Locale.ROOT, "quantkit threads %d: %.0f tokens/s wall, %.0f tokens per CPU-second "
                    + "(%d steps of 16x128 tokens in %.2f s wall, %.2f s CPU; %s)%n", threads, steps * 16 * 128 / dt,
                    steps * 16 * 128 / cpu, steps, dt, cpu, io.quantkit.simd.Simd.describe());
        }
    }
}
