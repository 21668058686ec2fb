package io.quantkit.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Locale;

/**
 * What bounds the bf16 → q8_0/q4_0 loops on this JVM: the thread CPU time per element of the single operations they
 * are made of, each as a plain loop over 8192 values (in L1). A loop the JIT vectorizes runs at a few hundredths of
 * a nanosecond per element; a scalar one at a few tenths. On Java 17 (C2) only the float arithmetic vectorizes; the
 * bf16 → float widening, float → int conversion and int → byte narrowing that every block code needs do not,
 * and neither do the 32-element maximum scans.
 *
 * <p>Usage: {@code java -cp quant-bench/target/benchmarks.jar io.quantkit.bench.LoopProbe}
 */
public final class LoopProbe {
    private static final int N = 8192;
    private static final int REPS = 40_000;
    private static final float[] F = new float[N];
    private static final int[] I = new int[N];
    private static final short[] S = new short[N];
    private static final byte[] B = new byte[N];
    private static int sink;

    private LoopProbe() {
    }

    static void floatArithmetic(float id) {
        for (int i = 0; i < N; i++) {
            F[i] = F[i] * id + 0.5f;
        }
    }

    static void bf16ToFloat() {
        for (int i = 0; i < N; i++) {
            F[i] = Float.intBitsToFloat(S[i] << 16);
        }
    }

    static void floatToInt(float id) {
        for (int i = 0; i < N; i++) {
            I[i] = (int) (F[i] * id + 0.49999997f);
        }
    }

    static void intToByte() {
        for (int i = 0; i < N; i++) {
            B[i] = (byte) I[i];
        }
    }

    static void blockMax() {
        int acc = 0;
        for (int b = 0; b < N; b += 32) {
            int m = 0;
            for (int j = 0; j < 32; j++) {
                m = Math.max(m, S[b + j] & 0x7fff);
            }
            acc ^= m;
        }
        sink ^= acc;
    }

    public static void main(String[] args) {
        for (int i = 0; i < N; i++) {
            F[i] = i * 1e-3f;
            I[i] = i;
            S[i] = (short) (Float.floatToRawIntBits(i * 1e-3f) >>> 16);
        }
        String[] names = {"float multiply-add", "bf16 -> float", "float -> int", "int -> byte", "32-element max"};
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        System.out.printf(Locale.ROOT, "%s %s%n", System.getProperty("java.vm.name"), System.getProperty("java.version"));
        for (int round = 0; round < 3; round++) {
            for (int k = 0; k < names.length; k++) {
                long t0 = mx.getCurrentThreadCpuTime();
                for (int r = 0; r < REPS; r++) {
                    switch (k) {
                        case 0 -> floatArithmetic(1.0000001f);
                        case 1 -> bf16ToFloat();
                        case 2 -> floatToInt(1.0001f);
                        case 3 -> intToByte();
                        default -> blockMax();
                    }
                }
                double ns = (mx.getCurrentThreadCpuTime() - t0) / (double) REPS / N;
                if (round == 2) {
                    System.out.printf(Locale.ROOT, "%-20s %.3f ns/element (thread CPU)%n", names[k], ns);
                }
            }
        }
        if (sink == 42) {
            System.out.println();
        }
    }
}
