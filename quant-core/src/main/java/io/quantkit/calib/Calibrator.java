package io.quantkit.calib;

import io.quantkit.eval.Progress;
import io.quantkit.model.LlamaModel;
import io.quantkit.model.LlamaWeights;
import io.quantkit.model.ThreadPool;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The calibration pass: runs the model over calibration sequences and accumulates {@link TensorStats} for the
 * input of every linear weight.
 *
 * <p>Sequences are processed one after another, each by one session whose matrix products may use
 * {@code pool}; the observer runs on the calling thread and sums in token order, so the statistics are
 * bit-identical for any thread count.
 */
public final class Calibrator {
    private Calibrator() {
    }

    /** Statistics of every linear weight's input over {@code sequences}, keyed by tensor name (sorted). */
    public static Map<String, CalibrationProfile.Entry> run(LlamaWeights weights, LlamaModel model,
                                                           List<int[]> sequences, ThreadPool pool, Progress progress) {
        return run(weights, model, sequences, pool, progress, name -> true);
    }

    /**
     * As {@link #run(LlamaWeights, LlamaModel, List, ThreadPool, Progress)}, accumulating only the weights
     * {@code only} accepts (the others' inputs are computed but not observed).
     */
    public static Map<String, CalibrationProfile.Entry> run(LlamaWeights weights, LlamaModel model,
                                                           List<int[]> sequences, ThreadPool pool, Progress progress,
                                                           java.util.function.Predicate<String> only) {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(only, "only");
        Objects.requireNonNull(progress, "progress");
        int maxLen = 1;
        long total = 0;
        for (int[] s : sequences) {
            maxLen = Math.max(maxLen, s.length);
            total += s.length;
        }
        Map<String, TensorStats.Accumulator> acc = new LinkedHashMap<>();
        LlamaModel.Session session = model.newSession(maxLen, pool,
                (tensor, x, rows, width) -> {
                    if (only.test(tensor)) {
                        acc.computeIfAbsent(tensor, k -> new TensorStats.Accumulator(width)).add(x, rows, width);
                    }
                });
        long done = 0;
        for (int[] seq : sequences) {
            session.reset();
            session.forward(seq, 0, seq.length, 0);
            done += seq.length;
            progress.update(done, total);
        }
        Map<String, CalibrationProfile.Entry> out = new TreeMap<>();
        for (Map.Entry<String, TensorStats.Accumulator> e : acc.entrySet()) {
            out.put(e.getKey(), new CalibrationProfile.Entry(weights.tensor(e.getKey()).shape(), e.getValue().finish()));
        }
        return out;
    }
}
