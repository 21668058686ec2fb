package io.quantkit.cli;

import io.quantkit.eval.SchemeSurvey;
import io.quantkit.quant.ErrorMetrics;
import io.quantkit.quant.Scheme;
import io.quantkit.quant.SchemeInfo;
import io.quantkit.tensor.Shape;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code quant survey}: bits per weight and weight error (SQNR ...) of every scheme on seeded synthetic matrices,
 * through {@link SchemeSurvey}. No model needed; shows what each scheme costs and keeps before any perplexity run.
 */
@Command(name = "survey", mixinStandardHelpOptions = true,
        description = {"Bits per weight and SQNR of every scheme on synthetic weights.",
            "Quantizes a seeded N(0, 0.02^2) matrix and a heavy-tailed one (0.02 * Student-t with 3 degrees "
                + "of freedom) with each scheme and reports bits per weight (everything stored) and the "
                + "weight error: SQNR in dB, cosine similarity, relative Frobenius error, max |error|. For "
                + "reference, ggml measures Q8_0 45.4 dB, Q4_0 21.3 dB and Q4_1 22.1 dB on N(0, 0.02^2) data."},
        footerHeading = "%nJSON (--json):%n",
        footer = {
            "  shape: [rows, cols], seed, rows: [{matrix (gaussian|student_t3), scheme,",
            "  available, note (null, or why not available: no codec yet, or rows that do",
            "  not fill the scheme's blocks), bits_per_weight, bytes, sqnr_db (null when",
            "  exact), mse, rmse, max_abs_error, cosine, relative_frobenius}]",
        })
final class SurveyCommand implements Callable<Integer> {
    /** Largest matrix side accepted (a 16k x 16k float matrix already takes 1 GiB). */
    static final int MAX_SIDE = 16384;

    @Spec
    CommandSpec spec;

    @Mixin
    OutputOptions output;

    @Mixin
    ThreadsOption threads;

    @Option(names = "--size", paramLabel = "ROWSxCOLS", defaultValue = "4096x4096",
            description = "Matrix size, e.g. 4096x4096 or 1024 (square); default ${DEFAULT-VALUE}.")
    String size;

    @Option(names = "--seed", defaultValue = "42", description = "Random seed (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--matrix", defaultValue = "both", paramLabel = "KIND",
            description = "gaussian, t3 or both (default ${DEFAULT-VALUE}).")
    String matrix;

    @Option(names = "--schemes", split = ",", paramLabel = "S1,S2,...",
            description = "Schemes to measure (default: every scheme plus common variants).")
    List<String> schemes;

    @Option(names = "--plot", paramLabel = "FILE.png", description = "Also draw SQNR against bits per weight.")
    Path plot;

    @Option(names = {"-q", "--quiet"}, description = "No progress on stderr.")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        int[] rc = parseSize(size);
        List<SchemeSurvey.Matrix> kinds = switch (matrix.toLowerCase(Locale.ROOT)) {
            case "gaussian" -> List.of(SchemeSurvey.Matrix.GAUSSIAN);
            case "t3", "student-t", "student_t3" -> List.of(SchemeSurvey.Matrix.STUDENT_T3);
            case "both" -> List.of(SchemeSurvey.Matrix.values());
            default -> throw new ParameterException(spec.commandLine(),
                    "--matrix must be gaussian, t3 or both, got '" + matrix + "'");
        };
        List<String> list = schemes == null || schemes.isEmpty() ? SchemeSurvey.DEFAULT_SCHEMES : schemes;
        for (String s : list) {
            Scheme.parse(s); // a bad name is bad usage: fail before any work
        }
        Progress progress = Progress.auto(spec.commandLine().getErr(), quiet);
        List<SchemeSurvey.Row> rows = new ArrayList<>();
        int total = kinds.size() * list.size();
        int done = 0;
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(threads.threads(), list.size()));
        try {
            for (SchemeSurvey.Matrix kind : kinds) {
                float[] w = SchemeSurvey.matrix(kind, rc[0], rc[1], seed);
                List<Future<List<SchemeSurvey.Row>>> parts = new ArrayList<>();
                for (String s : list) {
                    Scheme scheme = Scheme.parse(s);
                    if (!SchemeInfo.of(scheme).fits(Shape.of(rc[0], rc[1]))) {
                        // a block type whose block does not divide the row: reported, not measured
                        parts.add(java.util.concurrent.CompletableFuture.completedFuture(List.of(
                                new SchemeSurvey.Row(scheme.toString(), kind, false, Double.NaN, 0, null))));
                        continue;
                    }
                    parts.add(pool.submit(() -> SchemeSurvey.run(kind, w, rc[0], rc[1], List.of(s))));
                }
                for (Future<List<SchemeSurvey.Row>> f : parts) {
                    List<SchemeSurvey.Row> r = Futures.get(f);
                    rows.addAll(r);
                    progress.step(++done, total, kind.label() + " " + r.get(0).scheme());
                }
            }
        } finally {
            pool.shutdownNow();
            progress.finish();
        }
        PrintWriter out = spec.commandLine().getOut();
        if (output.json()) {
            Json.print(out, json(rows, rc, seed));
        } else {
            text(out, rows, rc, seed);
        }
        if (plot != null) {
            plot(rows, rc).writePng(plot);
        }
        out.flush();
        return ExitCodes.OK;
    }

    private int[] parseSize(String text) {
        String[] parts = text.toLowerCase(Locale.ROOT).split("x", -1);
        try {
            int r = Integer.parseInt(parts[0].trim());
            int c = parts.length == 1 ? r : Integer.parseInt(parts[1].trim());
            if (parts.length > 2 || r < 1 || c < 1 || r > MAX_SIDE || c > MAX_SIDE) {
                throw new NumberFormatException();
            }
            return new int[] {r, c};
        } catch (NumberFormatException e) {
            throw new ParameterException(spec.commandLine(), String.format(Locale.ROOT,
                    "--size must be ROWSxCOLS or N with sides 1..%d, got '%s'", MAX_SIDE, text));
        }
    }

    static String matrixId(SchemeSurvey.Matrix m) {
        return switch (m) {
            case GAUSSIAN -> "gaussian";
            case STUDENT_T3 -> "student_t3";
        };
    }

    static Map<String, Object> json(List<SchemeSurvey.Row> rows, int[] rc, long seed) {
        List<Object> out = new ArrayList<>();
        for (SchemeSurvey.Row r : rows) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("matrix", matrixId(r.matrix()));
            m.put("scheme", r.scheme());
            m.put("available", r.available());
            m.put("note", note(r, rc));
            ErrorMetrics e = r.metrics();
            m.put("bits_per_weight", r.available() ? r.bitsPerWeight() : null);
            m.put("bytes", r.available() ? r.bytes() : null);
            m.put("sqnr_db", e == null ? null : e.sqnrDb());
            m.put("mse", e == null ? null : e.mse());
            m.put("rmse", e == null ? null : e.rmse());
            m.put("max_abs_error", e == null ? null : e.maxAbsError());
            m.put("cosine", e == null ? null : e.cosine());
            m.put("relative_frobenius", e == null ? null : e.relativeFrobenius());
            out.add(m);
        }
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("shape", List.of(rc[0], rc[1]));
        doc.put("seed", seed);
        doc.put("rows", out);
        return doc;
    }

    /** Why a row has no figures (null when it has them). */
    static String note(SchemeSurvey.Row r, int[] rc) {
        if (r.available()) {
            return null;
        }
        SchemeInfo info = SchemeInfo.of(Scheme.parse(r.scheme()));
        return info.fits(Shape.of(rc[0], rc[1])) ? "no codec yet"
                : "rows of " + rc[1] + " do not fill blocks of " + info.blockSize();
    }

    private static void text(PrintWriter out, List<SchemeSurvey.Row> rows, int[] rc, long seed) {
        out.printf(Locale.ROOT, "%d x %d matrices, seed %d; SQNR = 10 log10(sum w^2 / sum (w - w')^2)%n%n",
                rc[0], rc[1], seed);
        TextTable t = TextTable.of("MATRIX", "SCHEME", ">BITS/W", ">SQNR dB", ">COSINE", ">REL FROB", ">MAX |ERR|");
        for (SchemeSurvey.Row r : rows) {
            if (!r.available()) {
                t.row(r.matrix().label(), r.scheme(), "-", note(r, rc), "-", "-", "-");
                continue;
            }
            ErrorMetrics e = r.metrics();
            t.row(r.matrix().label(), r.scheme(), String.format(Locale.ROOT, "%.4f", r.bitsPerWeight()),
                    Double.isInfinite(e.sqnrDb()) ? "exact" : String.format(Locale.ROOT, "%.2f", e.sqnrDb()),
                    String.format(Locale.ROOT, "%.6f", e.cosine()),
                    String.format(Locale.ROOT, "%.3e", e.relativeFrobenius()),
                    String.format(Locale.ROOT, "%.3e", e.maxAbsError()));
        }
        t.print(out);
    }

    private static Chart plot(List<SchemeSurvey.Row> rows, int[] rc) {
        Chart c = Chart.xy(String.format(Locale.ROOT, "Weight error vs size (%d x %d)", rc[0], rc[1]),
                "bits per weight", "SQNR (dB)");
        for (SchemeSurvey.Matrix m : SchemeSurvey.Matrix.values()) {
            List<Chart.Point> pts = new ArrayList<>();
            for (SchemeSurvey.Row r : rows) {
                if (r.matrix() == m && r.available() && Double.isFinite(r.metrics().sqnrDb())) {
                    pts.add(new Chart.Point(r.bitsPerWeight(), r.metrics().sqnrDb(), r.scheme()));
                }
            }
            if (!pts.isEmpty()) {
                c.series(m.label(), pts);
            }
        }
        return c;
    }
}
