package io.quantkit.quant;

import io.quantkit.tensor.Shape;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * Per-element error bounds derived from each format's definition and the input alone (group extremes,
 * absmax, mean |w|), independent of the codec under test. Each bound allows for the format's documented
 * 16-bit scale rounding (F16 round-up: at most 2^-10 relative plus 2^-24 absolute) and float32 arithmetic.
 */
final class Bounds {
    private static final double F32_SLACK = 0x1p-22;

    private Bounds() {
    }

    static double[] of(Scheme scheme, float[] w, Shape shape) {
        int n = w.length;
        double[] b = new double[n];
        int cols = (int) shape.rowLength();
        switch (scheme.kind()) {
            case F32 -> { }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    b[i] = Math.abs(w[i]) * 0x1p-8;
                }
            }
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    b[i] = Math.abs(w[i]) * 0x1p-11 + 0x1p-25;
                }
            }
            case INT -> intBound(w, cols, scheme.intParam("bits"), scheme.intParam("group"), asym(scheme), b);
            case INT8 -> intBound(w, cols, 8, scheme.intParam("group"), asym(scheme), b);
            case INT4 -> intBound(w, cols, 4, scheme.intParam("group"), asym(scheme), b);
            case INT4_OUTLIERS -> outlierBound(scheme, w, shape, b);
            case TERNARY -> ternaryBound(scheme, w, cols, b);
            case NF4 -> {
                // largest half-gap of the NF4 table: between -1.0 and -0.6961928009986877
                double halfGap = (1.0 - 0.6961928009986877) / 2;
                int block = scheme.intParam("block");
                for (int s = 0; s < n; s += block) {
                    int e = Math.min(n, s + block);
                    double a = 0;
                    for (int i = s; i < e; i++) {
                        a = Math.max(a, Math.abs(w[i]));
                    }
                    for (int i = s; i < e; i++) {
                        b[i] = a * halfGap * (1 + 1e-6) + Math.abs(w[i]) * F32_SLACK;
                    }
                }
            }
            case FP8_E4M3 -> fp8Bound(scheme, w, shape, 448f, 3, 0x1p-9, b);
            case FP8_E5M2 -> fp8Bound(scheme, w, shape, 57344f, 2, 0x1p-16, b);
            case Q8_0, Q4_0, Q4_1, TQ2_0, TQ1_0, MXFP4 -> ggmlBound(scheme.kind(), w, cols, b);
        }
        return b;
    }

    /**
     * ggml block types, from ggml's definitions (block of 32, or 256 for tq*; fp16 scales rounded to nearest,
     * which moves a decoded value by at most |q|·d·2^-11):
     * q8_0 d = amax/127, q = round(x/d): ≤ d/2 + 127·d·2^-11;
     * q4_0 d = ±amax/8 (sign of the extreme), q = min(15, ⌊x/d + 8.5⌋) − 8: the opposite extreme clips at 7·|d|,
     *      so ≤ |d| + 8·|d|·2^-11;
     * q4_1 d = (max − min)/15, q = ⌊(x − min)/d + 0.5⌋, x' = q·d + min (min in fp16): ≤ d/2 + 15·d·2^-11 + |min|·2^-11;
     * tq1_0/tq2_0 d = amax, q ∈ {−1,0,1}: ≤ d/2 + d·2^-11;
     * mxfp4 E8M0 power-of-two scale s ≤ amax/4 (x/s < 8) and E2M1 values up to 6 with gaps ≤ 2: ≤ 2s ≤ amax/2.
     */
    private static void ggmlBound(SchemeKind kind, float[] w, int cols, double[] b) {
        int block = kind == SchemeKind.TQ1_0 || kind == SchemeKind.TQ2_0 ? 256 : 32;
        for (int s = 0; s < w.length; s += block) {
            int e = Math.min(s + block, w.length);
            double amax = 0;
            double lo = Double.POSITIVE_INFINITY;
            double hi = Double.NEGATIVE_INFINITY;
            for (int i = s; i < e; i++) {
                amax = Math.max(amax, Math.abs(w[i]));
                lo = Math.min(lo, w[i]);
                hi = Math.max(hi, w[i]);
            }
            double bound = switch (kind) {
                case Q8_0 -> amax / 127 * (0.5 + 127 * 0x1p-11);
                case Q4_0 -> amax / 8 * (1 + 8 * 0x1p-11);
                case Q4_1 -> (hi - lo) / 15 * (0.5 + 15 * 0x1p-11) + Math.abs(lo) * 0x1p-11;
                case TQ1_0, TQ2_0 -> amax * (0.5 + 0x1p-11);
                default -> amax / 2;
            };
            for (int i = s; i < e; i++) {
                b[i] = bound * (1 + 1e-5) + Math.abs(w[i]) * F32_SLACK + 0x1p-24 * amax;
            }
        }
    }

    /** Half an FP8 ulp of w/s (relative 2^-(m+1) for normals, half the smallest subnormal below), times s. */
    private static void fp8Bound(Scheme scheme, float[] w, Shape shape, float max, int m, double minSub,
                                 double[] b) {
        int n = w.length;
        int cols = (int) shape.rowLength();
        String mode = scheme.param("scale");
        int block = scheme.intParam("block");
        int[] unit = new int[n];
        int units;
        if (mode.equals("tensor")) {
            units = 1;
        } else if (mode.equals("channel")) {
            units = cols == 0 ? 0 : n / cols;
            for (int i = 0; i < n; i++) {
                unit[i] = i / cols;
            }
        } else {
            int bc = cols == 0 ? 0 : (cols + block - 1) / block;
            units = 0;
            for (int i = 0; i < n; i++) {
                unit[i] = (i / cols / block) * bc + (i % cols) / block;
                units = Math.max(units, unit[i] + 1);
            }
        }
        double[] amax = new double[Math.max(units, 1)];
        for (int i = 0; i < n; i++) {
            amax[unit[i]] = Math.max(amax[unit[i]], Math.abs(w[i]));
        }
        for (int i = 0; i < n; i++) {
            double s = amax[unit[i]] / max;
            double a = Math.abs(w[i]);
            b[i] = Math.max(a * Math.scalb(1.0, -(m + 1)), s * minSub / 2) + a * F32_SLACK;
        }
    }

    private static boolean asym(Scheme s) {
        return s.param("mode").equals("asym");
    }

    /** sym: s/2 with s = up16(amax/qmax); asym: s with s = up16((hi − lo)/(2^b − 1)). */
    static void intBound(float[] w, int cols, int bits, int group, boolean asym, double[] b) {
        if (cols == 0) {
            return;
        }
        int g = group == 0 || group > cols ? cols : group;
        for (int rowStart = 0; rowStart < w.length; rowStart += cols) {
            for (int s = rowStart; s < rowStart + cols; s += g) {
                int e = Math.min(s + g, rowStart + cols);
                double lo = 0;
                double hi = 0;
                for (int i = s; i < e; i++) {
                    lo = Math.min(lo, w[i]);
                    hi = Math.max(hi, w[i]);
                }
                double step = asym ? (hi - lo) / ((1 << bits) - 1) : Math.max(hi, -lo) / ((1 << (bits - 1)) - 1);
                double stored = step * (1 + 0x1p-10) + 0x1p-24;
                double allowed = asym ? stored : stored / 2;
                for (int i = s; i < e; i++) {
                    b[i] = allowed + Math.abs(w[i]) * F32_SLACK;
                }
            }
        }
    }

    private static void outlierBound(Scheme scheme, float[] w, Shape shape, double[] b) {
        int n = w.length;
        int group = scheme.intParam("group");
        boolean asym = asym(scheme);
        int k = outlierCount(scheme.param("budget"), n, (int) shape.rowLength(), group, asym);
        // the k largest |w|, ties to the lower index: a plain sort, independent of the codec's radix select
        Integer[] order = IntStream.range(0, n).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> -Math.abs(w[i])).thenComparingInt(i -> i));
        float[] bulk = w.clone();
        boolean[] kept = new boolean[n];
        for (int j = 0; j < k; j++) {
            kept[order[j]] = true;
            bulk[order[j]] = 0;
        }
        intBound(bulk, (int) shape.rowLength(), 4, group, asym, b);
        for (int i = 0; i < n; i++) {
            if (kept[i]) {
                b[i] = Math.abs(w[i]) * 0x1p-11; // kept in F16 (random test data is not bf16-exact)
            }
        }
    }

    static int outlierCount(String budget, int n, int cols, int group, boolean asym) {
        String t = budget.trim();
        if (t.endsWith("bpw")) {
            double bpw = Double.parseDouble(t.substring(0, t.length() - 3));
            int g = cols == 0 ? 0 : (group == 0 || group > cols ? cols : group);
            long groups = cols == 0 ? 0 : (long) (n / cols) * ((cols + g - 1) / g);
            long base = 8L * ((4L * n + 7) / 8) + 16 * groups + (asym ? 8 * groups : 0);
            // format 2: 32 bits per outlier (u16 offset, 16-bit value) and, once there is one, 32 bits per
            // block of 65,536 elements
            long blocks = (n + 65535L) / 65536;
            return (int) Math.max(0, Math.floor((bpw * n - base - 32.0 * blocks) / 32));
        }
        double f = t.endsWith("%") ? Double.parseDouble(t.substring(0, t.length() - 1)) / 100 : Double.parseDouble(t);
        return (int) Math.floor(f * n);
    }

    private static void ternaryBound(Scheme scheme, float[] w, int cols, double[] b) {
        String mode = scheme.param("scale");
        int n = w.length;
        if (mode.equals("tensor")) {
            fillTernary(w, 0, n, b);
            return;
        }
        if (cols == 0) {
            return;
        }
        int g = mode.equals("group") ? Math.min(scheme.intParam("group"), cols) : cols;
        for (int rowStart = 0; rowStart < n; rowStart += cols) {
            for (int s = rowStart; s < rowStart + cols; s += g) {
                fillTernary(w, s, Math.min(s + g, rowStart + cols), b);
            }
        }
    }

    private static void fillTernary(float[] w, int s, int e, double[] b) {
        double sum = 0;
        for (int i = s; i < e; i++) {
            sum += Math.abs(w[i]);
        }
        double scale = e > s ? sum / (e - s) : 0;
        for (int i = s; i < e; i++) {
            double a = Math.abs(w[i]);
            b[i] = Math.max(scale / 2, a - scale) + (a + scale) * F32_SLACK;
        }
    }
}
