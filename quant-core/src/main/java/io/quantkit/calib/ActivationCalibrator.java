package io.quantkit.calib;

import io.quantkit.model.LlamaModel;
import io.quantkit.model.ThreadPool;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The calibration pass of the activation observers: runs the model twice over the same sequences (ranges, then
 * the |x| histogram over those ranges) and returns {@link ActivationStats} for the input of every linear weight.
 * One forward per sequence, so each sequence is one observer batch. The observer runs on the calling thread, so
 * the statistics are identical for any thread count of {@code pool}.
 */
public final class ActivationCalibrator {
    private ActivationCalibrator() {
    }

    /** Statistics by tensor name (sorted). The model's own input quantizer, if any, is left out of the pass. */
    public static Map<String, ActivationStats> run(LlamaModel model, List<int[]> sequences, ThreadPool pool) {
        Objects.requireNonNull(model, "model");
        LlamaModel floatModel = model.withInputQuantizer(null);
        int maxLen = 1;
        for (int[] s : sequences) {
            maxLen = Math.max(maxLen, s.length);
        }
        Map<String, ActivationStats.Accumulator> acc = new LinkedHashMap<>();
        LlamaModel.Session session = floatModel.newSession(maxLen, pool,
                (tensor, x, rows, width) -> acc.computeIfAbsent(tensor, k -> new ActivationStats.Accumulator(width))
                        .add(x, rows, width));
        for (int pass = 0; pass < 2; pass++) {
            if (pass == 1) {
                acc.values().forEach(ActivationStats.Accumulator::beginHistogram);
            }
            for (int[] seq : sequences) {
                session.reset();
                session.forward(seq, 0, seq.length, 0);
            }
        }
        Map<String, ActivationStats> out = new TreeMap<>();
        acc.forEach((k, v) -> out.put(k, v.finish()));
        return out;
    }
}
