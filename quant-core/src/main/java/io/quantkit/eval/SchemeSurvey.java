package io.quantkit.eval;

import io.quantkit.quant.Codec;
import io.quantkit.quant.Codecs;
import io.quantkit.quant.ErrorMetrics;
import io.quantkit.quant.QuantizedTensor;
import io.quantkit.quant.Scheme;
import io.quantkit.quant.SchemeKind;
import io.quantkit.tensor.FloatTensor;
import io.quantkit.tensor.Shape;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.apache.commons.math3.random.RandomGenerator;
import org.apache.commons.math3.random.Well19937c;

/**
 * Weight error by scheme on synthetic matrices: bits per weight (everything stored) and SQNR of every
 * scheme with a codec, on a seeded N(0, 0.02²) matrix and on a heavy-tailed one (Student-t with 3 degrees
 * of freedom, times 0.02). Both come from commons-math3's {@link Well19937c}; a t(3) variate is drawn as
 * Z / √(χ²₃ / 3) with Z and the three terms of χ²₃ standard normal.
 *
 * <p>{@code main [rows cols seed]} prints a Markdown table (default 4096 × 4096, seed 42).
 */
public final class SchemeSurvey {
    /** The schemes the survey reports, in order: every kind at its defaults plus the interesting variants. */
    public static final List<String> DEFAULT_SCHEMES = List.of(
            "f32", "bf16", "f16", "fp8-e4m3", "fp8-e4m3:scale=channel", "fp8-e4m3:scale=block",
            "fp8-e5m2", "fp8-e5m2:scale=channel",
            "int8", "int:bits=6,group=128", "int:bits=5,group=128", "int4:group=32", "int4:group=64", "int4",
            "int4:group=128,asym", "int4:group=0", "int:bits=3,group=64", "int:bits=3,group=128",
            "int:bits=2,group=32", "int4-outliers", "int4-outliers:budget=1%", "int4-outliers:budget=4.6bpw",
            "nf4", "ternary", "ternary:scale=channel", "ternary:pack=base3",
            "mxfp4", "q8_0", "q4_0", "q4_1", "tq1_0", "tq2_0");

    private SchemeSurvey() {
    }

    /** Which synthetic matrix. */
    public enum Matrix {
        /** N(0, 0.02²). */
        GAUSSIAN("N(0, 0.02²)"),
        /** 0.02 · Student-t with 3 degrees of freedom. */
        STUDENT_T3("0.02·t(3)");

        private final String label;

        Matrix(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /** One line of the survey; {@code available} is false for a scheme without a codec yet. */
    public record Row(String scheme, Matrix matrix, boolean available, double bitsPerWeight, long bytes,
                      ErrorMetrics metrics) {
    }

    /** A seeded {@code rows × cols} matrix of the given kind. */
    public static float[] matrix(Matrix kind, int rows, int cols, long seed) {
        long n = (long) rows * cols;
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("matrix of " + n + " elements exceeds one float array");
        }
        RandomGenerator rng = new Well19937c(seed);
        float[] w = new float[(int) n];
        for (int i = 0; i < w.length; i++) {
            double z = rng.nextGaussian();
            if (kind == Matrix.STUDENT_T3) {
                double a = rng.nextGaussian();
                double b = rng.nextGaussian();
                double c = rng.nextGaussian();
                z /= Math.sqrt((a * a + b * b + c * c) / 3);
            }
            w[i] = (float) (0.02 * z);
        }
        return w;
    }

    /** Quantizes {@code w} with each scheme and measures it. */
    public static List<Row> run(Matrix kind, float[] w, int rows, int cols, List<String> schemes) {
        Objects.requireNonNull(schemes, "schemes");
        FloatTensor t = FloatTensor.wrap(Shape.of(rows, cols), w);
        List<Row> out = new ArrayList<>();
        for (String text : schemes) {
            Scheme scheme = Scheme.parse(text);
            Codec codec;
            try {
                codec = Codecs.forScheme(scheme);
            } catch (UnsupportedOperationException e) {
                out.add(new Row(scheme.toString(), kind, false, Double.NaN, 0, null));
                continue;
            }
            QuantizedTensor q = codec.quantize(t);
            out.add(new Row(scheme.toString(), kind, true, q.bitsPerWeight(), q.storageBytes(), ErrorMetrics.of(t, q)));
        }
        return out;
    }

    /** Prints rows as a Markdown table. */
    public static void print(List<Row> rows, PrintStream out) {
        out.println("| matrix | scheme | bits/weight | SQNR dB | rel. Frobenius | max abs err |");
        out.println("|---|---|---:|---:|---:|---:|");
        for (Row r : rows) {
            if (!r.available()) {
                out.printf(Locale.ROOT, "| %s | %s | | no codec yet | | |%n", r.matrix().label(), r.scheme());
                continue;
            }
            ErrorMetrics m = r.metrics();
            out.printf(Locale.ROOT, "| %s | %s | %.4f | %s | %.3e | %.3e |%n", r.matrix().label(), r.scheme(),
                    r.bitsPerWeight(), Double.isInfinite(m.sqnrDb()) ? "exact" : String.format(Locale.ROOT, "%.2f",
                            m.sqnrDb()), m.relativeFrobenius(), m.maxAbsError());
        }
    }

    /** {@code [rows cols seed]}: prints the survey of both matrices (default 4096 4096 42). */
    public static void main(String[] args) {
        int rows = args.length > 0 ? Integer.parseInt(args[0]) : 4096;
        int cols = args.length > 1 ? Integer.parseInt(args[1]) : 4096;
        long seed = args.length > 2 ? Long.parseLong(args[2]) : 42;
        List<Row> all = new ArrayList<>();
        for (Matrix m : Matrix.values()) {
            float[] w = matrix(m, rows, cols, seed);
            all.addAll(run(m, w, rows, cols, DEFAULT_SCHEMES));
        }
        System.out.printf(Locale.ROOT, "%d x %d, seed %d%n%n", rows, cols, seed);
        print(all, System.out);
    }
}
