package io.quantkit.calib;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quantkit.eval.EvalPlan;
import io.quantkit.eval.Evaluator;
import io.quantkit.eval.Method;
import io.quantkit.eval.Progress;
import io.quantkit.model.LlamaModel;
import io.quantkit.model.LlamaWeights;
import io.quantkit.model.Stories260K;
import io.quantkit.model.ThreadPool;
import io.quantkit.quant.Scheme;
import io.quantkit.testing.SharedData;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Tag;

/**
 * Calibrated quantization of stories260K: calibrated on the sample after its first 200,000 bytes, evaluated
 * (llama-cpp method, ctx 128) on its first 50,000 bytes (a quarter of the benchmark's text, to stay fast; the
 * full figures are in docs/benchmarks.md).
 */
@Tag("real-data")
class CalibrationRealDataTest {

    static double ppl(LlamaWeights w, EvalPlan plan, ThreadPool pool) {
        return Evaluator.run(LlamaModel.load(w), plan, pool, false, null, Progress.NONE).perplexity().ppl();
    }

    static LlamaWeights quantized(LlamaWeights w, CalibrationProfile p, String scheme, io.quantkit.calib.Method m) {
        Scheme s = Scheme.parse(scheme);
        return w.map((n, t) -> t.shape().rank() == 2 ? CalibratedQuantizer.quantize(t, s, m, p.stats(n), false) : t);
    }

    @Test
    void gptqAndSaliencyBeatTheirCalibrationFreeCounterparts() throws Exception {
        Stories260K s = Stories260K.bin();
        byte[] corpus = Files.readAllBytes(SharedData.path("corpora/tinystories_val_sample.txt"));
        String cal = new String(Arrays.copyOfRange(corpus, 200_000, corpus.length), StandardCharsets.UTF_8);
        String eval = new String(Arrays.copyOf(corpus, 50_000), StandardCharsets.UTF_8);
        try (ThreadPool pool = ThreadPool.ofAvailableProcessors()) {
            List<int[]> seqs = CalibrationData.sequences(s.tokenizer, cal, 16, 128, 1);
            CalibrationProfile p = CalibrationProfile.of(new CalibrationProfile.Provenance("stories260K.bin", "", 
                    CalibrationProfile.fingerprint(s.weights), "", "", 16, 128, 1, 16 * 128),
                    Calibrator.run(s.weights, s.model, seqs, pool, Progress.NONE));
            p.checkFits(s.weights);
            EvalPlan plan = EvalPlan.of(s.tokenizer, eval, Method.LLAMA_CPP, 128, 0);
            double rtn = ppl(quantized(s.weights, p, "int4:group=32", io.quantkit.calib.Method.RTN), plan, pool);
            double gptq = ppl(quantized(s.weights, p, "int4:group=32", io.quantkit.calib.Method.GPTQ), plan, pool);
            System.out.printf("int4:group=32 rtn %.4f gptq %.4f%n", rtn, gptq);
            assertTrue(gptq < rtn - 0.2, "GPTQ int4 " + gptq + " must beat RTN int4 " + rtn);
        }
    }
}
