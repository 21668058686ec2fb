package io.quantkit.calib;

import io.quantkit.eval.EvalPlan;
import io.quantkit.eval.Evaluator;
import io.quantkit.eval.Method;
import io.quantkit.eval.PerplexityResult;
import io.quantkit.eval.Progress;
import io.quantkit.io.Checkpoint;
import io.quantkit.io.Checkpoints;
import io.quantkit.model.LlamaLoader;
import io.quantkit.model.LlamaModel;
import io.quantkit.model.LlamaWeights;
import io.quantkit.model.ThreadPool;
import io.quantkit.model.Tokenizer;
import io.quantkit.quant.Codecs;
import io.quantkit.quant.Scheme;
import io.quantkit.tensor.Tensor;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The calibration benchmark of docs/benchmarks.md: on a llama2.c model and a text file, calibrates on the text
 * after its first {@code evalBytes} bytes and measures llama-cpp perplexity (ctx 128) on those first bytes, for
 * round-to-nearest against calibrated methods and for mixed-precision plans at byte targets.
 *
 * <p>{@code main MODEL.bin TOK.bin TEXT [evalBytes samples seed budget...]} prints Markdown tables. System
 * properties: {@code plans=false} skips the mixed-precision part, {@code rows="S/M;S/M"} picks rows of the method
 * table, {@code act=true} runs GPTQ in act-order.
 */
public final class CalibrationBenchmark {
    private CalibrationBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[0]);
        Path tok = Path.of(args[1]);
        byte[] corpus = Files.readAllBytes(Path.of(args[2]));
        int evalBytes = args.length > 3 ? Integer.parseInt(args[3]) : 200_000;
        int samples = args.length > 4 ? Integer.parseInt(args[4]) : 64;
        long seed = args.length > 5 ? Long.parseLong(args[5]) : 1;
        long[] budgets = args.length > 6 ? Arrays.stream(args, 6, args.length).mapToLong(Long::parseLong).toArray()
                : new long[] {262_624, 289_696, 168_000};
        PrintStream out = System.out;
        LlamaWeights weights;
        Tokenizer tokenizer;
        try (Checkpoint cp = Checkpoints.open(model, tok)) {
            weights = LlamaLoader.weights(cp);
            weights = weights.map((n, t) -> io.quantkit.tensor.FloatTensor.of(t.shape(), t.toFloatArray()));
            tokenizer = LlamaLoader.tokenizer(cp);
        }
        String evalText = new String(Arrays.copyOf(corpus, evalBytes), StandardCharsets.UTF_8);
        String calText = new String(Arrays.copyOfRange(corpus, evalBytes, corpus.length), StandardCharsets.UTF_8);
        try (ThreadPool pool = ThreadPool.ofAvailableProcessors()) {
            long t0 = System.nanoTime();
            List<int[]> seqs = CalibrationData.sequences(tokenizer, calText, samples, 128, seed);
            Map<String, CalibrationProfile.Entry> stats = Calibrator.run(weights, LlamaModel.load(weights), seqs, pool,
                    Progress.NONE);
            CalibrationProfile profile = CalibrationProfile.of(new CalibrationProfile.Provenance(
                    model.getFileName().toString(), "", CalibrationProfile.fingerprint(weights), "", "", samples, 128,
                    seed, 128L * samples), stats);
            out.printf(Locale.ROOT, "calibration: %d sequences x 128 tokens, seed %d, %.1f s%n%n", samples, seed,
                    (System.nanoTime() - t0) / 1e9);
            EvalPlan plan = EvalPlan.of(tokenizer, evalText, Method.LLAMA_CPP, 128, 0);
            double base = ppl(weights, plan, pool).ppl();
            long fixed = fixedBytes(weights);
            out.printf(Locale.ROOT, "baseline f32: PPL %.4f%n%n", base);
            boolean plans = !"false".equals(System.getProperty("plans"));
            List<int[]> klSeqs = seqs.subList(0, Math.min(4, seqs.size()));
            long t1 = System.nanoTime();
            Map<String, List<MixedPrecision.Option>> options = plans ? MixedPrecision.measure(weights, profile, klSeqs,
                    pool, Progress.NONE) : Map.of();
            out.printf(Locale.ROOT, "sensitivity: %d weights, %.1f s%n%n", options.size(),
                    (System.nanoTime() - t1) / 1e9);
            for (long budget : plans ? budgets : new long[0]) {
                MixedPrecision.Plan mp = MixedPrecision.choose(options, fixed, budget);
                LlamaWeights q = MixedPrecision.apply(weights, profile, mp);
                PerplexityResult pr = ppl(q, plan, pool);
                out.printf(Locale.ROOT, "plan for %d bytes: %d bytes, predicted ΔKLD %.5f, PPL %.4f ± %.4f "
                        + "(ΔPPL %+.4f)%n", budget, q.storageBytes(), mp.predictedKld(), pr.ppl(), pr.pplStderr(),
                        pr.ppl() - base);
                out.println(mp.recipe("plan for " + budget + " bytes"));
            }
            out.println("| weights | method | bytes | PPL | ΔPPL |");
            out.println("|---|---|---:|---:|---:|");
            String[][] rows = {
                {"int4:group=32", "rtn"}, {"int4:group=32", "imatrix"}, {"int4:group=32", "gptq"},
                {"int4-outliers:group=32,budget=0.5%", "rtn"},
                {"int4-outliers:group=32,budget=0.5%,select=saliency", "rtn"},
                {"int4-outliers:group=32,budget=0.5%,select=error", "rtn"},
                {"int4-outliers:group=32,budget=0.5%", "gptq"},
                {"int4-outliers:group=32,budget=0.5%,select=saliency", "gptq"},
                {"int4-outliers:group=32,budget=0.5%,select=error", "gptq"},
                {"q4_0", "rtn"}, {"q4_0", "imatrix"}, {"q4_0", "gptq"},
                {"q4_1", "rtn"}, {"q4_1", "imatrix"}, {"q4_1", "gptq"},
            };
            boolean actOrder = Boolean.getBoolean("act");
            String only = System.getProperty("rows", "");
            for (String[] r : rows) {
                if (!only.isEmpty() && !Arrays.asList(only.split(";")).contains(r[0] + "/" + r[1])) {
                    continue;
                }
                Scheme s = Scheme.parse(r[0]);
                io.quantkit.calib.Method m = io.quantkit.calib.Method.parse(r[1]);
                boolean llamaPolicy = r[0].startsWith("q4_"); // llama.cpp's tensor policy for q4_0 and q4_1
                LlamaWeights q = weights.map((n, t) -> {
                    if (t.shape().rank() != 2) {
                        return t;
                    }
                    if (llamaPolicy && t.shape().rowLength() % 32 != 0) {
                        return Codecs.forScheme(Scheme.parse("f16")).quantize(t); // as llama.cpp's fallback
                    }
                    if (llamaPolicy && n.equals(LlamaWeights.OUTPUT)) {
                        return Codecs.forScheme(Scheme.parse("q8_0")).quantize(t); // llama.cpp: output in q8_0
                    }
                    return CalibratedQuantizer.quantize(t, s, m, profile.stats(n), actOrder);
                });
                double p = ppl(q, plan, pool).ppl();
                out.printf(Locale.ROOT, "| %s%s | %s | %d | %.4f | %+.4f |%n", r[0],
                        llamaPolicy ? " (ffn_down f16, output q8_0)" : "", r[1], q.storageBytes(), p, p - base);
            }
        }
    }

    static long fixedBytes(LlamaWeights w) {
        long n = 0;
        for (Tensor t : w.tensors().values()) {
            if (t.shape().rank() != 2) {
                n += t.storageBytes();
            }
        }
        return n;
    }

    static PerplexityResult ppl(LlamaWeights w, EvalPlan plan, ThreadPool pool) {
        return Evaluator.run(LlamaModel.load(w), plan, pool, false, null, Progress.NONE).perplexity();
    }
}
