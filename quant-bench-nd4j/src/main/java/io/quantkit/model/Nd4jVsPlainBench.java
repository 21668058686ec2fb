package io.quantkit.model;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The forward pass's matrix product {@code Y[T×out] = X[T×in] · W[in×out]} in plain Java ({@link Kernels#matmul},
 * the kernel {@link LlamaModel} uses) against ND4J's {@code mmul} (OpenBLAS sgemm), on one thread, for the shapes of
 * stories260K (the model this project evaluates) and of a 7B Llama layer. Figures: wall and process CPU time per
 * product, GFLOP/s by CPU time; ND4J once with its arrays made beforehand ("mmul only", as if the weights and the
 * activations lived in ND4J arrays) and once copying the activations in and the result out of Java arrays, which is
 * what calling it from the existing model would cost. Before timing, both results are compared (max |ΔY| / max |Y|).
 *
 * <p>Run with {@code OMP_NUM_THREADS=1} (ND4J's and OpenBLAS's threads; the plain kernel runs on the calling thread):
 * <pre>
 * mvn -q -B -Pnd4j -pl quant-bench-nd4j -am package -DskipTests
 * OMP_NUM_THREADS=1 java -cp quant-bench-nd4j/target/classes:$(cat quant-bench-nd4j/target/classpath.txt) \
 *     io.quantkit.model.Nd4jVsPlainBench
 * </pre>
 */
public final class Nd4jVsPlainBench {
    private Nd4jVsPlainBench() {
    }

    record Shape(String name, int rows, int in, int out) {
        double flop() {
            return 2.0 * rows * in * out;
        }
    }

    record Timing(double wallNs, double cpuNs) {
    }

    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    /** Runs {@code body} until about {@code seconds} have passed (at least 3 times) and returns the mean per call. */
    static Timing time(Runnable body, double seconds) {
        for (int i = 0; i < 3; i++) {
            body.run();
        }
        long w0 = System.nanoTime();
        long c0 = OS.getProcessCpuTime();
        int n = 0;
        long limit = (long) (seconds * 1e9);
        do {
            body.run();
            n++;
        } while (System.nanoTime() - w0 < limit || n < 3);
        return new Timing((System.nanoTime() - w0) / (double) n, (OS.getProcessCpuTime() - c0) / (double) n);
    }

    public static void main(String[] args) {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 2.0;
        long t0 = System.nanoTime();
        INDArray probe = Nd4j.create(DataType.FLOAT, 2, 2);
        probe.mmul(probe);
        double initS = (System.nanoTime() - t0) / 1e9;
        System.out.printf(Locale.ROOT, "ND4J %s backend, first product after %.2f s (backend loading), OMP_NUM_THREADS=%s,"
                + " java %s, load average %.2f%n", Nd4j.getBackend().getClass().getSimpleName(), initS,
                System.getenv("OMP_NUM_THREADS"), System.getProperty("java.version"), OS.getSystemLoadAverage());

        List<Shape> shapes = new ArrayList<>();
        shapes.add(new Shape("stories260K wq/wo (chunk of 128)", 128, 64, 64));
        shapes.add(new Shape("stories260K w1/w3", 128, 64, 172));
        shapes.add(new Shape("stories260K w2", 128, 172, 64));
        shapes.add(new Shape("stories260K classifier", 128, 64, 512));
        shapes.add(new Shape("stories260K wq, one token", 1, 64, 64));
        shapes.add(new Shape("7B wq (chunk of 128)", 128, 4096, 4096));
        shapes.add(new Shape("7B w1 (chunk of 128)", 128, 4096, 11008));
        shapes.add(new Shape("7B wq, one token", 1, 4096, 4096));

        System.out.println();
        System.out.println("| product | T×in·in×out | plain Java ms (CPU) | GFLOP/s | ND4J mmul only ms (CPU) | GFLOP/s"
                + " | ND4J with copies ms (CPU) | GFLOP/s | max rel. diff |");
        System.out.println("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        for (Shape s : shapes) {
            SplittableRandom rnd = new SplittableRandom(42);
            float[] x = new float[s.rows * s.in];
            float[] wT = new float[s.in * s.out];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (rnd.nextDouble() * 2 - 1);
            }
            for (int i = 0; i < wT.length; i++) {
                wT[i] = (float) ((rnd.nextDouble() * 2 - 1) * 0.05);
            }
            float[] y = new float[s.rows * s.out];
            INDArray xa = Nd4j.create(x, new long[] {s.rows, s.in}, 'c');
            INDArray wa = Nd4j.create(wT, new long[] {s.in, s.out}, 'c');
            INDArray ya = Nd4j.create(DataType.FLOAT, new long[] {s.rows, s.out}, 'c');

            float[][] wRows = new float[s.in][];
            for (int i = 0; i < s.in; i++) {
                wRows[i] = java.util.Arrays.copyOfRange(wT, i * s.out, (i + 1) * s.out);
            }
            Kernels.matmul(x, s.in, wRows, s.out, y, 0, s.rows, 0, s.out);
            xa.mmuli(wa, ya);
            float[] yn = ya.data().asFloat();
            double maxAbs = 0;
            double maxDiff = 0;
            for (int i = 0; i < y.length; i++) {
                maxAbs = Math.max(maxAbs, Math.abs(y[i]));
                maxDiff = Math.max(maxDiff, Math.abs(y[i] - yn[i]));
            }

            Timing plain = time(() -> Kernels.matmul(x, s.in, wRows, s.out, y, 0, s.rows, 0, s.out), seconds);
            Timing only = time(() -> xa.mmuli(wa, ya), seconds);
            float[] sink = new float[y.length];
            Timing copies = time(() -> {
                INDArray xi = Nd4j.create(x, new long[] {s.rows, s.in}, 'c');
                INDArray yi = xi.mmul(wa);
                float[] out = yi.data().asFloat();
                System.arraycopy(out, 0, sink, 0, out.length);
            }, seconds);
            System.out.printf(Locale.ROOT, "| %s | %d×%d·%d×%d | %s | %.1f | %s | %.1f | %s | %.1f | %.1e |%n",
                    s.name, s.rows, s.in, s.in, s.out,
                    ms(plain), s.flop() / plain.cpuNs, ms(only), s.flop() / only.cpuNs, ms(copies),
                    s.flop() / copies.cpuNs, maxDiff / maxAbs);
        }
        System.out.printf(Locale.ROOT, "%nload average at the end %.2f%n", OS.getSystemLoadAverage());
    }

    private static String ms(Timing t) {
        return String.format(Locale.ROOT, "%.4f (%.4f)", t.wallNs / 1e6, t.cpuNs / 1e6);
    }
}
