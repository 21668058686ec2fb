package io.quantkit.cli;

import io.quantkit.calib.ActivationScheme;
import io.quantkit.calib.CalibratedConversion;
import io.quantkit.calib.CalibrationData;
import io.quantkit.calib.CalibrationProfile;
import io.quantkit.calib.MixedPrecision;
import io.quantkit.calibration.DefaultModel;
import io.quantkit.eval.Comparison;
import io.quantkit.eval.Divergence;
import io.quantkit.eval.EvalPlan;
import io.quantkit.eval.Method;
import io.quantkit.eval.PairedDifference;
import io.quantkit.eval.PerplexityResult;
import io.quantkit.eval.Progress;
import io.quantkit.io.Checkpoint;
import io.quantkit.io.Checkpoints;
import io.quantkit.io.convert.Recipe;
import io.quantkit.model.LlamaLoader;
import io.quantkit.model.LlamaWeights;
import io.quantkit.model.ThreadPool;
import io.quantkit.model.Tokenizer;
import io.quantkit.quant.Scheme;
import io.quantkit.tensor.Tensor;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code quant compare [MODEL]}: what every scheme costs in quality and size, in one table. */
@Command(name = "compare", mixinStandardHelpOptions = true,
        description = {"Quantize a model's weights with several schemes and measure each against a bf16 baseline.",
            "Per scheme: bits per weight and bytes (all stored tensor data, norms as float32), weight SQNR, "
                + "perplexity, ΔPPL, mean KL divergence of next-token distributions and top-1 agreement with the "
                + "baseline, seconds.",
            "ΔPPL's ± is the paired standard error: every row scores the baseline's tokens, so it comes from the "
                + "per-token NLL differences (delta method with their covariance), not from the two perplexities' "
                + "own errors.",
            "Which tensors: every 2-D weight including the token embedding; norms stay float32. For ggml block "
                + "types the classifier (output.weight) is q8_0 and rows a type cannot store fall back to f16 "
                + "(tq1_0/tq2_0 first to q4_0), as llama.cpp's quantizer does; each fallback is reported.",
            "Without MODEL: the embedded default (calibration-data): a 260K-parameter Llama model, its BPE "
                + "tokenizer and held-out text, all made by this project; --data replaces the text.",
            "Weight-and-activation rows: --activations A (repeatable) measures every scheme again with the input of "
                + "every linear layer (classifier included) fake-quantized: int8 or fp8-e4m3, per token "
                + "(dynamic) or per tensor with static scales from an observer (minmax, ema, percentile, mse, kl) "
                + "over --calibration-data, optionally after SmoothQuant (smooth=ALPHA) or AWQ (smooth=awq) "
                + "equalisation. "
                + "W8A8 is --schemes int8 --activations int8:observer=...; 'none' adds the weight-only row.",
            "With --calibration PROFILE (from 'quant calibrate' on the same weights), int/int8/int4/int4-outliers "
                + "(mode=sym), q4_0 and q4_1 weights are quantized by --calib-method (GPTQ by default); the method "
                + "column says what each row used (mse: a weight without statistics, the token embedding, got an "
                + "MSE-optimal scale search).",
            "--recipe FILE adds a row with one scheme (and method) per tensor, as 'quant convert --recipe' "
                + "reads it. --target-bpw B measures each weight's sensitivity (ΔKLD on the first --plan-sequences "
                + "sequences of --calibration-data, 4 by default) to each candidate, chooses per-weight schemes whose bytes fit B bits per "
                + "weight (norms included), prints the plan, writes it as a recipe (--plan-out) and adds its row. "
                + "With --recipe or --target-bpw and no --schemes, only those rows are measured."},
        footerHeading = "%nJSON (--json):%n",
        footer = {
            "  model, data, method, ctx, tokens (scored), parameters,",
            "  baseline: {scheme: bf16, ppl, ppl_stderr, nll, bits_per_weight, bytes},",
            "  rows: [{scheme, bits_per_weight, bytes, sqnr_db, ppl, ppl_stderr,",
            "          delta_ppl, delta_ppl_stderr, ln_ppl_ratio, ln_ppl_ratio_stderr",
            "          (paired: from per-token NLL differences to the baseline),",
            "          kld (mean), kld_median, kld_max, top1 (percent),",
            "          seconds, fallbacks: [\"tensor=scheme\"], skipped (null or reason),",
            "          activations (null: float32 inputs; else e.g. int8:observer=kl,smooth=0.5),",
            "          method (rtn, gptq, imatrix, mse, joined by +; gptq-seq, gptq-seqq:",
            "          with --sequential's statistics and targets)}],",
            "  profile (null or the --calibration profile path), sequential (--sequential given),",
            "  plan (null, or with --target-bpw: {target_bpw, budget_bytes, bytes,",
            "        predicted_kld, recipe, tensors: [{name, scheme, method, bytes,",
            "        delta_kld}]}),",
            "  calibration: null or {data, samples, seed, ctx} (the pass of static scales and equalisation),",
            "  pairs: [{a, b (row labels), a_index, b_index (indexes into rows), ln_ppl_ratio",
            "          (mean of nll_a - nll_b = ln(PPL_a/PPL_b)), ln_ppl_ratio_stderr, delta_ppl",
            "          (PPL_a - PPL_b), delta_ppl_stderr, z (ln_ppl_ratio / its stderr; below -2:",
            "          a is better beyond two paired standard errors)}] for every two measured rows",
        })
final class CompareCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    OutputOptions output;

    @Mixin
    ThreadsOption threads;

    @Mixin
    CalibrationOptions calibration;

    @Option(names = "--recipe", paramLabel = "FILE",
            description = "Add a row quantized by this recipe ('PATTERN SCHEME [METHOD]' per line, first match wins; "
                    + "weights no rule matches stay float32).")
    Path recipe;

    @Option(names = "--target-bpw", paramLabel = "B",
            description = "Plan mixed precision to B bits per weight (needs --calibration, --calibration-data and "
                    + "--plan-out) and add the plan's row.")
    Double targetBpw;

    @Option(names = "--plan-out", paramLabel = "FILE", description = "With --target-bpw: where to write the plan's recipe.")
    Path planOut;

    @Option(names = "--plan-candidates", paramLabel = "C", defaultValue = "mixed",
            description = "With --target-bpw: mixed (int4/int5 in groups of 32, int6/int8 per row) or int4-outliers "
                    + "(int4-outliers only: groups of 32 or 64, outlier budgets 0, 0.5 %% or 1.5 %%, select=error), "
                    + "all by GPTQ (default: ${DEFAULT-VALUE}).")
    String planCandidates;

    @Option(names = "--plan-sequences", paramLabel = "N", defaultValue = "4",
            description = "With --target-bpw: how many of the --calibration-data sequences measure each candidate's "
                    + "ΔKLD (at most --samples; default: ${DEFAULT-VALUE}).")
    int planSequences;

    @Option(names = "--sequential", description = "With --calibration and --calibration-data: sequential "
            + "calibration. Each row's weights are quantized in forward order (per block q/k/v, attn_output, "
            + "gate/up, ffn_down; then the classifier), and each calibrated weight's statistics come from the "
            + "--samples calibration sequences run through the model with the earlier weights already quantized "
            + "(one pass per stage) instead of the profile's float-model statistics. Applies to every calibrated "
            + "row (q4_0 too); the method column says gptq-seq (or gptq-seqq). --target-bpw's sensitivities still "
            + "use the profile.")
    boolean sequential;

    @Option(names = "--sequential-targets", paramLabel = "T", defaultValue = "float",
            description = "With --sequential, what each weight W is fitted to: float (the float model's layer output "
                    + "W·x on the same token: GPTQ on E[x̂ x̂ᵀ] aims at W·E[x x̂ᵀ]·E[x̂ x̂ᵀ]⁻¹, damped; method "
                    + "gptq-seq) or quantized (W·x̂ on the quantized model's input x̂, as the GPTQ reference "
                    + "implementation; gptq-seqq) (default: ${DEFAULT-VALUE}).")
    String sequentialTargets;

    @Option(names = "--force", description = "Replace an existing --plan-out file.")
    boolean force;

    @Option(names = "--parallel", paramLabel = "N", defaultValue = "0",
            description = "Rows measured at once after the baseline, each with its share of --threads (default: "
                    + "${DEFAULT-VALUE} = as many as the threads, fewer when the free heap cannot hold them, 1 = one "
                    + "after another). Never more than --threads; the figures and their order are the same for any N.")
    int parallel;

    @Option(names = "--pairs", description = "Also print every two measured rows against each other, token by token: "
            + "ln(PPL_a/PPL_b) and PPL_a − PPL_b with their paired standard errors, and z (--json always has them).")
    boolean pairs;

    @Parameters(index = "0", arity = "0..1", paramLabel = "MODEL", description = "The model: GGUF, llama2.c .bin, safetensors (ours)"
            + " or a Hugging Face Llama folder.")
    Path model;

    @Option(names = "--data", paramLabel = "TEXT", description = "UTF-8 text to score (required with MODEL).")
    Path data;

    @Option(names = "--schemes", paramLabel = "S1,S2,...",
            description = "Schemes to measure (default: f16, fp8-e4m3, fp8-e5m2, int8, q8_0, int4:group=32, int4, "
                    + "q4_0, int4-outliers, ternary, tq2_0). Parameters may follow each name: "
                    + "int4:group=64,asym,q4_0.")
    String schemes;

    @Option(names = "--ctx", paramLabel = "N", description = "Context (default: the smaller of 128 and the model's).")
    Integer ctx;

    @Option(names = "--method", paramLabel = "M", defaultValue = "llama-cpp",
            description = "llama-cpp or documents (default: ${DEFAULT-VALUE}).")
    String method;

    @Option(names = "--tokenizer", paramLabel = "TOK.bin", description = "llama2.c tok.bin tokenizer, for a model that carries none"
            + " (.bin, safetensors, Hugging Face folder).")
    Path tokenizer;

    @Option(names = "--max-bytes", paramLabel = "N", defaultValue = "200000",
            description = "Score only the first N bytes of the text (default: ${DEFAULT-VALUE}; 0 = all).")
    long maxBytes;

    @Option(names = "--max-documents", paramLabel = "N", defaultValue = "0",
            description = "documents method: only the first N documents (0 = all).")
    int maxDocuments;

    @Option(names = "--plot", paramLabel = "FILE.png", description = "Write a chart of ΔPPL against bits per weight.")
    Path plot;

    @Option(names = "--activations", paramLabel = "A",
            description = "Also quantize linear-layer inputs, for every scheme (repeatable): none, int8 (= int8:dynamic, "
                    + "absmax per token), int8:observer=minmax|ema[,c=0.01]|percentile[,p=99.99]|mse|kl (static per "
                    + "tensor), the same with fp8-e4m3; add smooth=ALPHA for SmoothQuant equalisation "
                    + "(e.g. int8:observer=kl,smooth=0.5) or smooth=awq for AWQ-style equalisation searched for "
                    + "each weight scheme; none:smooth=awq equalises with float32 inputs.")
    List<String> activations;

    @Option(names = "--calibration-data", paramLabel = "TEXT",
            description = "Calibration text for static activation scales, equalisation and --target-bpw's sensitivity "
                    + "(UTF-8, or JSONL with a \"text\" field); --samples sequences of --ctx tokens.")
    Path calibrationData;

    @Option(names = "--samples", paramLabel = "N", defaultValue = "64",
            description = "Calibration sequences (default: ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1",
            description = "Seed of the calibration sequence selection (default: ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() throws Exception {
        Method m = EvalCommand.parseMethod(spec, method);
        EvalCommand.checkLimits(spec, maxBytes, maxDocuments);
        if (targetBpw != null) {
            if (!(targetBpw > 0 && targetBpw <= 32)) {
                throw new ParameterException(spec.commandLine(), "--target-bpw (" + targetBpw + ") must be in (0, 32]");
            }
            if (!calibration.given() || calibrationData == null || planOut == null) {
                throw new ParameterException(spec.commandLine(), "--target-bpw needs --calibration PROFILE, "
                        + "--calibration-data TEXT and --plan-out FILE");
            }
            if (planSequences < 1 || planSequences > samples) {
                throw new ParameterException(spec.commandLine(), "--plan-sequences (" + planSequences
                        + ") must be between 1 and --samples (" + samples + ")");
            }
            if (Files.exists(planOut) && !force) {
                throw new java.nio.file.FileAlreadyExistsException(planOut.toString());
            }
        } else if (planOut != null) {
            throw new ParameterException(spec.commandLine(), "--plan-out goes with --target-bpw");
        }
        if (!sequentialTargets.equals("quantized") && !sequentialTargets.equals("float")) {
            throw new ParameterException(spec.commandLine(), "--sequential-targets: unknown '" + sequentialTargets
                    + "' (float, quantized)");
        }
        if (sequential && (!calibration.given() || calibrationData == null)) {
            throw new ParameterException(spec.commandLine(), "--sequential needs --calibration PROFILE and "
                    + "--calibration-data TEXT");
        }
        calibration.method(); // bad usage before any work
        MixedPrecision.Candidates candidates;
        try {
            candidates = MixedPrecision.Candidates.parse(planCandidates);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--plan-candidates: " + e.getMessage());
        }
        this.candidates = candidates;
        List<Scheme> list = schemes == null ? recipe != null || targetBpw != null ? List.of()
                : Comparison.defaultSchemes() : parseSchemes(spec, schemes);
        List<ActivationScheme> acts = parseActivations(spec, activations);
        boolean needsCalibration = acts.stream().anyMatch(ActivationScheme::needsCalibration);
        if (needsCalibration && calibrationData == null) {
            throw new ParameterException(spec.commandLine(), "--activations with an observer or smooth= needs "
                    + "--calibration-data TEXT");
        }
        if (calibrationData != null && !needsCalibration && targetBpw == null && !sequential) {
            throw new ParameterException(spec.commandLine(), "--calibration-data is only used by --activations with an "
                    + "observer or smooth=, by --target-bpw and by --sequential");
        }
        if (samples < 1) {
            throw new ParameterException(spec.commandLine(), "--samples (" + samples + ") must be at least 1");
        }
        if (parallel < 0 || parallel > ThreadsOption.MAX_THREADS) {
            throw new ParameterException(spec.commandLine(), "--parallel (" + parallel + ") must be between 0 and "
                    + ThreadsOption.MAX_THREADS);
        }
        this.acts = acts;
        if (model != null) {
            return compare(model, data, tokenizer, null, list, m, model.toString(), data == null ? null : data.toString());
        }
        // No MODEL: the embedded default, copied out of the jar into a temporary folder for the run.
        Path dir = Files.createTempDirectory("quant-default-");
        try {
            Path bin = DefaultModel.extract(DefaultModel.MODEL, dir);
            Path tok = tokenizer != null ? tokenizer : DefaultModel.extract(DefaultModel.TOKENIZER, dir);
            Path text = data != null ? data : DefaultModel.extract(DefaultModel.EVAL_TEXT, dir);
            String note = "no MODEL given: using the embedded default model (calibration-data: a 260K-parameter "
                    + "Llama trained by this project on its own generated stories)"
                    + (data == null ? ", scored on its held-out text" : "");
            return compare(bin, text, tok, note, list, m, "embedded default (calibration-data " + DefaultModel.MODEL + ")",
                    data != null ? data.toString() : "embedded default held-out text (calibration-data "
                            + DefaultModel.EVAL_TEXT + ")");
        } finally {
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    Files.deleteIfExists(f);
                }
            }
            Files.deleteIfExists(dir);
        }
    }

    private List<ActivationScheme> acts = List.of(ActivationScheme.NONE);

    /** The activation schemes of {@code --activations} (weight-only when not given). */
    static List<ActivationScheme> parseActivations(CommandSpec spec, List<String> given) {
        if (given == null || given.isEmpty()) {
            return List.of(ActivationScheme.NONE);
        }
        List<ActivationScheme> out = new ArrayList<>();
        for (String g : given) {
            try {
                ActivationScheme a = ActivationScheme.parse(g);
                if (out.contains(a)) {
                    throw new IllegalArgumentException("'" + g + "' is given twice");
                }
                out.add(a);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), "--activations: " + e.getMessage());
            }
        }
        return out;
    }

    /** Runs the comparison; {@code modelName} and {@code dataName} are what the report shows for the two inputs. */
    private Integer compare(Path modelPath, Path dataPath, Path tokenizer, String note, List<Scheme> list, Method m,
            String modelName, String dataName) throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (dataPath == null) {
            throw new ParameterException(spec.commandLine(), "--data TEXT is required when MODEL is given");
        }
        if (note != null) {
            err.println("compare: " + note);
            err.flush();
        }
        String text = EvalCommand.readText(dataPath, maxBytes);
        Recipe rules = null;
        if (recipe != null) {
            if (!Files.isRegularFile(recipe)) {
                throw new java.nio.file.NoSuchFileException(recipe.toString());
            }
            rules = Recipe.parse(Files.readString(recipe, StandardCharsets.UTF_8));
        }
        CalibrationProfile profile = calibration.read();
        try (Checkpoint cp = Checkpoints.open(modelPath, tokenizer);
             ThreadPool pool = ThreadPool.create(threads.threads())) {
            LlamaWeights w = LlamaLoader.weights(cp);
            Tokenizer tok = LlamaLoader.tokenizer(cp);
            CalibratedConversion quantizer = calibration.quantizer(profile, w);
            int n = ctx != null ? ctx : Math.min(128, w.config().seqLen());
            EvalPlan plan = EvalCommand.plan(spec, tok, text, m, n, maxDocuments);
            List<Comparison.Variant> variants = new ArrayList<>();
            for (Scheme s : list) {
                variants.add(Comparison.Variant.of(s));
            }
            if (rules != null) {
                variants.add(Comparison.Variant.ofRecipe("recipe " + recipe.getFileName(), rules));
            }
            int rowCount = (variants.size() + (targetBpw != null ? 1 : 0)) * acts.size();
            err.printf(Locale.ROOT, "compare: %s, %s ctx %d, %,d scored tokens, %d rows + bf16 baseline, "
                    + "%d threads%s%n", modelName, m.cliName(), plan.ctx(), plan.scoredTokens(), rowCount,
                    pool.threads(), profile == null ? "" : ", weights calibrated by " + calibration.method().cliName());
            err.flush();
            List<int[]> calib = List.of();
            Map<String, Object> calibInfo = null;
            if (calibrationData != null) {
                String ctext = CalibrationData.readText(calibrationData);
                calib = CalibrationData.sequences(tok, ctext, samples, plan.ctx(), seed);
                calibInfo = new LinkedHashMap<>();
                calibInfo.put("data", calibrationData.toString());
                calibInfo.put("samples", samples);
                calibInfo.put("seed", seed);
                calibInfo.put("ctx", plan.ctx());
            }
            MixedPrecision.Plan mixed = null;
            if (targetBpw != null) {
                mixed = plan(w, profile, calib, pool, err);
                variants.add(Comparison.Variant.ofRecipe(String.format(Locale.ROOT, "plan %.2fbpw%s", targetBpw,
                        candidates == MixedPrecision.Candidates.MIXED ? "" : " " + candidates.cliName()),
                        Recipe.parse(mixed.recipe("plan"))));
            }
            if (sequential) {
                quantizer = quantizer.sequential(calib, sequentialTargets.equals("float"));
            }
            Comparison.Report report = Comparison.run(w, plan, variants, acts, calib, pool, listener(err), quantizer,
                    new Comparison.Parallelism(parallel, -1));
            if (output.json()) {
                Map<String, Object> j = json(report, modelName, dataName, note);
                j.put("calibration", calibInfo);
                j.put("profile", calibration.given() ? calibration.profile.toString() : null);
                j.put("plan", mixed == null ? null : planJson(mixed));
                j.put("sequential", sequential);
                Json.print(out, j);
            } else {
                if (mixed != null) {
                    printPlan(out, mixed);
                }
                printTable(out, report, modelName, dataName, note, calibInfo);
                if (pairs) {
                    printPairs(out, report);
                }
            }
            if (plot != null) {
                chart(report, modelName).writePng(plot);
                if (!output.json()) {
                    out.println("chart   " + plot);
                }
            }
            out.flush();
        }
        return ExitCodes.OK;
    }

    /** Measures sensitivities on the calibration sequences, chooses the plan for --target-bpw, writes its recipe. */
    private MixedPrecision.Plan plan(LlamaWeights w, CalibrationProfile profile, List<int[]> calib, ThreadPool pool,
                                     PrintWriter err) throws java.io.IOException {
        CalibrationProfile.Provenance prov = profile.provenance();
        if (!prov.dataSha256().isEmpty() && !CalibrationProfile.sha256(calibrationData).equals(prov.dataSha256())) {
            err.println("compare: warning: " + calibrationData + " is not the text the profile was made from "
                    + "(data_sha256 differs); sensitivities are measured on it anyway");
        }
        List<int[]> kl = calib.subList(0, Math.min(planSequences, calib.size()));
        long params = 0;
        long fixed = 0;
        for (Tensor t : w.tensors().values()) {
            params += t.shape().numel();
            if (t.shape().rank() != 2) {
                fixed += 4 * t.shape().numel(); // kept as float32, as compare stores them
            }
        }
        long budget = (long) Math.floor(targetBpw * params / 8);
        err.printf(Locale.ROOT, "compare: planning %.2f bits per weight (%,d bytes): sensitivity of each weight "
                + "on %d calibration sequences%n", targetBpw, budget, kl.size());
        io.quantkit.cli.Progress bar = io.quantkit.cli.Progress.auto(err, false);
        Map<String, List<MixedPrecision.Option>> options = MixedPrecision.measure(w, profile, kl, pool,
                (done, total) -> bar.step((int) done, (int) total, "candidates measured"), candidates,
                calibration.actOrder);
        bar.finish();
        MixedPrecision.Plan mixed = MixedPrecision.choose(options, fixed, budget);
        String header = String.format(Locale.ROOT, "quant compare --target-bpw %s --plan-candidates %s: %,d bytes "
                + "of %,d allowed, "
                + "predicted mean ΔKLD %.5f%nsensitivity: ΔKLD on %d sequences of the calibration text, one weight "
                + "quantized at a time%s", targetBpw, candidates.cliName(), mixed.bytes(), budget,
                mixed.predictedKld(), kl.size(), calibration.actOrder ? "\nmeasured with GPTQ in act-order: apply with "
                        + "--act-order" : "");
        io.quantkit.io.AtomicOutput.writeString(planOut, mixed.recipe(header), force);
        return mixed;
    }

    private MixedPrecision.Candidates candidates = MixedPrecision.Candidates.MIXED;

    private void printPlan(PrintWriter out, MixedPrecision.Plan plan) {
        out.printf(Locale.ROOT, "plan    %.2f bits per weight: %,d bytes of %,d allowed, predicted mean ΔKLD %.5f, "
                + "written to %s%n", targetBpw, plan.bytes(), plan.budget(), plan.predictedKld(), planOut);
        TextTable t = TextTable.of("tensor", "scheme", "method", ">bytes", ">ΔKLD");
        for (Map.Entry<String, MixedPrecision.Option> e : plan.choice().entrySet()) {
            MixedPrecision.Option o = e.getValue();
            t.row(e.getKey(), o.candidate().scheme().toString(), o.candidate().method().cliName(),
                    String.format(Locale.ROOT, "%,d", o.bytes()), String.format(Locale.ROOT, "%.6f", o.deltaKld()));
        }
        t.print(out);
        out.println();
    }

    private Map<String, Object> planJson(MixedPrecision.Plan plan) {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("target_bpw", targetBpw);
        j.put("budget_bytes", plan.budget());
        j.put("bytes", plan.bytes());
        j.put("predicted_kld", plan.predictedKld());
        j.put("recipe", planOut.toString());
        List<Object> ts = new ArrayList<>();
        for (Map.Entry<String, MixedPrecision.Option> e : plan.choice().entrySet()) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("name", e.getKey());
            o.put("scheme", e.getValue().candidate().scheme().toString());
            o.put("method", e.getValue().candidate().method().cliName());
            o.put("bytes", e.getValue().bytes());
            o.put("delta_kld", e.getValue().deltaKld());
            ts.add(o);
        }
        j.put("tensors", ts);
        return j;
    }

    /** Splits a scheme list on commas, keeping parameters with their scheme ({@code int4:group=64,asym,q4_0}). */
    static List<Scheme> parseSchemes(CommandSpec spec, String text) {
        List<String> items = new ArrayList<>();
        for (String part : text.split(",", -1)) {
            String p = part.trim();
            // a parameter of the previous scheme is "key=value" or a bare flag word; anything else is a scheme
            boolean parameter = !items.isEmpty() && !p.contains(":")
                    && (p.contains("=") || p.equalsIgnoreCase("sym") || p.equalsIgnoreCase("asym")
                        || p.equalsIgnoreCase("saturate"));
            if (parameter) {
                items.set(items.size() - 1, items.get(items.size() - 1) + "," + p);
            } else {
                items.add(p);
            }
        }
        List<Scheme> out = new ArrayList<>();
        for (String s : items) {
            try {
                out.add(Scheme.parse(s));
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), "--schemes: " + e.getMessage());
            }
        }
        return out;
    }

    /**
     * Progress on stderr, one self-contained line each (rows may run at once, so every line names its row):
     * "compare: [i/n] NAME" when a row starts, "  NAME:  40% (...)" as it scores, "compare: [i/n] NAME: PPL ..." when
     * it is done.
     */
    private static Comparison.Listener listener(PrintWriter err) {
        return new Comparison.Listener() {
            private final Map<Integer, String> names = new java.util.concurrent.ConcurrentHashMap<>();

            @Override
            public void schedule(Comparison.Schedule s) {
                if (s.rows() > 1) {
                    err.printf(Locale.ROOT, "compare: %d rows at a time, %d thread%s each (one row needs about %s "
                            + "besides %s per thread; %s of heap free)%n", s.rows(), s.threadsPerRow(),
                            s.threadsPerRow() == 1 ? "" : "s", mib(s.rowBytes()), mib(s.sessionBytes()),
                            mib(s.budget()));
                } else if (s.reason().equals("memory")) {
                    err.printf(Locale.ROOT, "compare: one row at a time: the free heap (%s) does not hold two "
                            + "(about %s each besides %s per thread)%n", mib(s.budget()), mib(s.rowBytes()),
                            mib(s.sessionBytes()));
                }
                err.flush();
            }

            @Override
            public Progress phase(String name, int index, int count) {
                names.put(index, name);
                err.printf(Locale.ROOT, "compare: [%d/%d] %s%n", index + 1, count, name);
                err.flush();
                return EvalCommand.progress(err, "  " + name);
            }

            @Override
            public void row(Comparison.Row row, int index, int count) {
                String name = names.getOrDefault(index, row.scheme());
                if (row.skipped() != null) {
                    err.printf(Locale.ROOT, "compare: [%d/%d] %s skipped: %s%n", index + 1, count, name,
                            row.skipped());
                } else {
                    err.printf(Locale.ROOT, "compare: [%d/%d] %s: PPL %.4f, %.2f bits per weight, %.1f s%n",
                            index + 1, count, name, row.perplexity().ppl(), row.bitsPerWeight(), row.seconds());
                }
                err.flush();
            }
        };
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%,.1f MiB", bytes / (1024.0 * 1024.0));
    }

    private static void printTable(PrintWriter out, Comparison.Report r, String modelPath, String dataPath,
            String note, Map<String, Object> calib) {
        if (note != null) {
            out.println("note    " + note);
        }
        out.printf(Locale.ROOT, "model   %s (%,d parameters)%n", modelPath, r.parameters());
        out.printf(Locale.ROOT, "data    %s, %s ctx %d, %,d scored tokens%n", dataPath, r.plan().method().cliName(),
                r.plan().ctx(), r.plan().scoredTokens());
        PerplexityResult b = r.baseline().perplexity();
        if (calib != null) {
            out.printf(Locale.ROOT, "calib   %s, %s sequences x %s tokens, seed %s (static activation scales, "
                    + "equalisation)%n", calib.get("data"), calib.get("samples"), calib.get("ctx"), calib.get("seed"));
        }
        out.printf(Locale.ROOT, "baseline %s: PPL %.4f ± %.4f%n%n", r.baseline().scheme().equals("stored")
                ? "as stored (BitNet b1.58: ternary weights, 8-bit inputs)" : "bf16", b.ppl(), b.pplStderr());
        boolean withActs = r.rows().stream().anyMatch(x -> x.activations() != null);
        List<String> header = new ArrayList<>(List.of("scheme", "method", ">bpw", ">bytes", ">SQNR dB", ">PPL", ">ΔPPL",
                ">±", ">mean KLD", ">top-1 %", ">seconds", "notes"));
        if (withActs) {
            header.add(1, "activations");
        }
        TextTable t = TextTable.of(header.toArray(new String[0]));
        List<String> base = new ArrayList<>(List.of(r.baseline().scheme() + " (baseline)", r.baseline().method(),
                f2(r.baseline().bitsPerWeight()),
                String.format(Locale.ROOT, "%,d", r.baseline().bytes()), f1(r.baseline().sqnrDb()), f4(b.ppl()), "-",
                "-", "-", "-", f1(r.baseline().seconds()), ""));
        if (withActs) {
            base.add(1, "f32");
        }
        t.row((Object[]) base.toArray(new String[0]));
        List<String> notes = new ArrayList<>();
        for (Comparison.Row row : r.rows()) {
            String label = label(row);
            String act = row.activations() == null ? "f32" : row.activations();
            if (row.skipped() != null) {
                List<String> cells = new ArrayList<>(List.of(row.scheme(), "-", "-", "-", "-", "-", "-", "-", "-", "-",
                        "-", "skipped (see below)"));
                if (withActs) {
                    cells.add(1, act);
                }
                t.row((Object[]) cells.toArray(new String[0]));
                notes.add(label + " skipped: " + row.skipped());
                continue;
            }
            Divergence d = row.divergence();
            String fb = row.fallbacks().isEmpty() ? "" : row.fallbacks().size() + " tensors fell back (see below)";
            if (!row.fallbacks().isEmpty()) {
                notes.add(label + " fallbacks: " + String.join(", ", row.fallbacks()));
            }
            List<String> cells = new ArrayList<>(List.of(row.scheme(), row.method(), f2(row.bitsPerWeight()),
                    String.format(Locale.ROOT, "%,d", row.bytes()), f1(row.sqnrDb()), f4(row.perplexity().ppl()),
                    String.format(Locale.ROOT, "%+.4f", row.deltaPpl()), f4(row.vsBaseline().deltaPplStderr()),
                    String.format(Locale.ROOT, "%.5f", d.meanKl()),
                    String.format(Locale.ROOT, "%.1f", 100 * d.top1()), f1(row.seconds()), fb));
            if (withActs) {
                cells.add(1, act);
            }
            t.row((Object[]) cells.toArray(new String[0]));
        }
        t.print(out);
        if (!notes.isEmpty()) {
            out.println();
            for (String n : notes) {
                out.println(n);
            }
        }
    }

    private static String f1(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.1f", v) : v > 0 ? "inf" : "-";
    }

    private static String f2(double v) {
        return String.format(Locale.ROOT, "%.2f", v);
    }

    private static String f4(double v) {
        return String.format(Locale.ROOT, "%.4f", v);
    }

    private static Map<String, Object> json(Comparison.Report r, String modelPath, String dataPath, String note) {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("model", modelPath);
        j.put("model_note", note);
        j.put("data", dataPath);
        j.put("method", r.plan().method().cliName());
        j.put("ctx", r.plan().ctx());
        j.put("tokens", r.plan().scoredTokens());
        j.put("parameters", r.parameters());
        PerplexityResult b = r.baseline().perplexity();
        Map<String, Object> base = new LinkedHashMap<>();
        base.put("scheme", r.baseline().scheme());
        base.put("ppl", b.ppl());
        base.put("ppl_stderr", b.pplStderr());
        base.put("nll", b.nll());
        base.put("bits_per_weight", r.baseline().bitsPerWeight());
        base.put("bytes", r.baseline().bytes());
        base.put("sqnr_db", r.baseline().sqnrDb());
        j.put("baseline", base);
        List<Object> rows = new ArrayList<>();
        for (Comparison.Row row : r.rows()) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("scheme", row.scheme());
            o.put("skipped", row.skipped());
            o.put("bits_per_weight", row.bitsPerWeight());
            o.put("bytes", row.skipped() == null ? row.bytes() : null);
            o.put("sqnr_db", row.sqnrDb());
            PerplexityResult p = row.perplexity();
            Divergence d = row.divergence();
            o.put("ppl", p == null ? null : p.ppl());
            o.put("ppl_stderr", p == null ? null : p.pplStderr());
            o.put("delta_ppl", row.deltaPpl());
            PairedDifference pd = row.vsBaseline();
            o.put("delta_ppl_stderr", pd == null ? null : pd.deltaPplStderr());
            o.put("ln_ppl_ratio", pd == null ? null : pd.meanNllDiff());
            o.put("ln_ppl_ratio_stderr", pd == null ? null : pd.meanNllDiffStderr());
            o.put("kld", d == null ? null : d.meanKl());
            o.put("kld_median", d == null ? null : d.medianKl());
            o.put("kld_max", d == null ? null : d.maxKl());
            o.put("top1", d == null ? null : 100 * d.top1());
            o.put("seconds", row.seconds());
            o.put("fallbacks", row.fallbacks());
            o.put("method", row.method());
            o.put("activations", row.activations());
            rows.add(o);
        }
        j.put("rows", rows);
        List<Object> pairs = new ArrayList<>();
        for (Pair p : pairs(r)) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("a", p.a());
            o.put("b", p.b());
            o.put("a_index", p.aIndex());
            o.put("b_index", p.bIndex());
            o.put("ln_ppl_ratio", p.d().meanNllDiff());
            o.put("ln_ppl_ratio_stderr", p.d().meanNllDiffStderr());
            o.put("delta_ppl", p.d().deltaPpl());
            o.put("delta_ppl_stderr", p.d().deltaPplStderr());
            o.put("z", p.d().z()); // NaN (identical losses) is written as null
            pairs.add(o);
        }
        j.put("pairs", pairs);
        return j;
    }

    /** Two measured rows and their paired difference (a against b). */
    private record Pair(String a, String b, int aIndex, int bIndex, PairedDifference d) {
    }

    private static String label(Comparison.Row row) {
        return row.activations() == null ? row.scheme() : row.scheme() + " + " + row.activations();
    }

    /** Every two measured rows, in row order (a before b). */
    private static List<Pair> pairs(Comparison.Report r) {
        List<Pair> out = new ArrayList<>();
        List<Comparison.Row> rows = r.rows();
        for (int i = 0; i < rows.size(); i++) {
            for (int k = i + 1; k < rows.size(); k++) {
                Comparison.Row a = rows.get(i);
                Comparison.Row b = rows.get(k);
                if (a.skipped() == null && b.skipped() == null) {
                    out.add(new Pair(label(a), label(b), i, k, Comparison.Report.paired(a, b)));
                }
            }
        }
        return out;
    }

    private static void printPairs(PrintWriter out, Comparison.Report r) {
        out.println();
        out.println("paired differences (a against b on the same tokens; z = ln(PPL_a/PPL_b) / its standard error, "
                + "below -2: a better, above 2: b better)");
        TextTable t = TextTable.of("a", "b", ">ln(PPL_a/PPL_b)", ">±", ">PPL_a − PPL_b", ">±", ">z");
        for (Pair p : pairs(r)) {
            PairedDifference d = p.d();
            t.row(p.a(), p.b(), String.format(Locale.ROOT, "%+.5f", d.meanNllDiff()),
                    String.format(Locale.ROOT, "%.5f", d.meanNllDiffStderr()),
                    String.format(Locale.ROOT, "%+.4f", d.deltaPpl()), f4(d.deltaPplStderr()),
                    Double.isNaN(d.z()) ? "-" : String.format(Locale.ROOT, "%+.1f", d.z()));
        }
        t.print(out);
    }

    private static Chart chart(Comparison.Report r, String modelName) {
        List<Chart.Point> pts = new ArrayList<>();
        for (Comparison.Row row : r.rows()) {
            if (row.skipped() == null) {
                pts.add(new Chart.Point(row.bitsPerWeight(), row.deltaPpl(), label(row)));
            }
        }
        double floor = logFloor(pts);
        return Chart.xy(modelName + ": perplexity cost of each scheme (vs bf16)", "bits per weight",
                String.format(Locale.ROOT, "ΔPPL (log scale; ΔPPL ≤ 0 drawn at %.0e)", floor)).logY(true)
                .series("schemes", onLogAxis(pts, floor));
    }

    /**
     * The floor a log ΔPPL axis draws non-positive ΔPPL at: one decade below the smallest positive ΔPPL, rounded
     * down to a power of ten (1e-4 when none is positive).
     */
    static double logFloor(List<Chart.Point> pts) {
        double min = Double.POSITIVE_INFINITY;
        for (Chart.Point p : pts) {
            if (p.y() > 0 && p.y() < min) {
                min = p.y();
            }
        }
        return Double.isInfinite(min) ? 1e-4 : Math.pow(10, Math.floor(Math.log10(min)) - 1);
    }

    /** Points for a log ΔPPL axis: ΔPPL ≤ 0 moves to {@code floor}, its label saying the true value. */
    static List<Chart.Point> onLogAxis(List<Chart.Point> pts, double floor) {
        List<Chart.Point> out = new ArrayList<>();
        for (Chart.Point p : pts) {
            out.add(p.y() > 0 ? p : new Chart.Point(p.x(), floor, p.label() + String.format(Locale.ROOT,
                    " (ΔPPL %+.4f)", p.y())));
        }
        return out;
    }
}
