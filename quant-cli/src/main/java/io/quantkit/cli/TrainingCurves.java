package io.quantkit.cli;

import io.quantkit.train.Trainer;
import io.quantkit.io.AtomicOutput;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The record of a training run, step by step, written as a CSV log and as PNG curves; {@code quant qat} and
 * {@code quant train} share it.
 *
 * <p>CSV: the header of {@link Trainer.StepLog#csvHeader()} and one line per step ({@link Trainer.StepLog#csv()};
 * the evaluation cells are empty at steps without an evaluation). PNG: two charts stacked in one image, the training
 * loss per step with the evaluation loss at the evaluated steps (nats per token), and the evaluation perplexity;
 * an optional horizontal reference line per chart (e.g. the baseline) is drawn as its own series. Both outputs are
 * written atomically and are deterministic. Not thread-safe.
 */
public final class TrainingCurves implements Trainer.Listener {
    private final List<Trainer.StepLog> steps = new ArrayList<>();
    private final Path csv;
    private final Writer csvOut;
    private final AtomicOutput csvFile;

    private TrainingCurves(Path csv) throws IOException {
        this.csv = csv;
        if (csv == null) {
            this.csvFile = null;
            this.csvOut = null;
        } else {
            this.csvFile = AtomicOutput.create(csv, true);
            this.csvOut = new OutputStreamWriter(csvFile.stream(), StandardCharsets.UTF_8);
            csvOut.write(Trainer.StepLog.csvHeader());
            csvOut.write('\n');
        }
    }

    /** Records steps; with {@code csv} not null, also streams them to that file (visible there after {@link #finish}). */
    public static TrainingCurves to(Path csv) throws IOException {
        return new TrainingCurves(csv);
    }

    @Override
    public void onStep(Trainer.StepLog log) throws IOException {
        steps.add(Objects.requireNonNull(log));
        if (csvOut != null) {
            csvOut.write(log.csv());
            csvOut.write('\n');
            csvOut.flush();
        }
    }

    /** The steps recorded so far, in order. */
    public List<Trainer.StepLog> steps() {
        return List.copyOf(steps);
    }

    /** Closes the CSV and moves it into place. */
    public void finish() throws IOException {
        if (csvOut == null) {
            return;
        }
        csvOut.flush();
        try (csvFile) {
            csvFile.commit();
        }
    }

    /** Drops the unfinished CSV (after a failure). */
    public void abandon() throws IOException {
        if (csvOut != null) {
            csvFile.close();
        }
    }

    /**
     * Writes the two charts to {@code png}: loss (training per step, evaluation where evaluated) and evaluation
     * perplexity; each entry of {@code references} (name → perplexity, e.g. "bf16 baseline" → 4.22, in the map's
     * order) adds a flat reference series to the perplexity chart.
     */
    public void writePng(Path png, String title, java.util.Map<String, Double> references) throws IOException {
        List<Chart.Point> train = new ArrayList<>();
        List<Chart.Point> eval = new ArrayList<>();
        List<Chart.Point> ppl = new ArrayList<>();
        for (Trainer.StepLog s : steps) {
            train.add(new Chart.Point(s.step(), s.loss(), ""));
            if (!Double.isNaN(s.evalLoss())) {
                eval.add(new Chart.Point(s.step(), s.evalLoss(), ""));
                ppl.add(new Chart.Point(s.step(), s.evalPpl(), ""));
            }
        }
        Chart loss = Chart.xy(title + ": loss", "step", "loss (nats/token)").lines(true).series("training", train);
        if (!eval.isEmpty()) {
            loss.series("evaluation", eval);
        }
        List<Double> all = new ArrayList<>(references.values());
        ppl.forEach(q -> all.add(q.y()));
        Chart p = Chart.xy(title + ": evaluation perplexity", "step", "perplexity").lines(true)
                .logY(spansOrdersOfMagnitude(all)).series("evaluation", ppl);
        if (!steps.isEmpty()) {
            int first = steps.get(0).step();
            int last = steps.get(steps.size() - 1).step();
            for (java.util.Map.Entry<String, Double> r : references.entrySet()) {
                p.series(r.getKey(), List.of(new Chart.Point(Math.min(0, first), r.getValue(), ""),
                        new Chart.Point(last, r.getValue(), "")));
            }
        }
        Chart.stacked(png, 900, 450, loss, p);
    }

    /**
     * Whether the perplexity chart needs a logarithmic axis: its finite positive values span more than a factor of
     * 10 (a PTQ reference of 1,137 beside a curve near 8 flattens the curve to a line on a linear axis).
     */
    static boolean spansOrdersOfMagnitude(List<Double> values) {
        double lo = Double.POSITIVE_INFINITY;
        double hi = 0;
        for (double v : values) {
            if (Double.isFinite(v) && v > 0) {
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
        }
        return hi > 10 * lo;
    }
}
