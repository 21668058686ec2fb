package io.quantkit.cli;

import io.quantkit.io.Checkpoint;
import io.quantkit.io.Checkpoints;
import io.quantkit.io.Container;
import io.quantkit.io.TokenizerData;
import io.quantkit.io.convert.Converter;
import io.quantkit.io.convert.Recipe;
import io.quantkit.model.ThreadPool;
import io.quantkit.quant.Scheme;
import io.quantkit.quant.SchemeKind;
import io.quantkit.train.ActivationQuant;
import io.quantkit.train.FakeQuant;
import io.quantkit.train.Parallel;
import io.quantkit.train.Qat;
import io.quantkit.train.TrainOptions;
import io.quantkit.train.Trainer;
import io.quantkit.train.corpus.BpeVocabulary;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code quant qat MODEL --scheme S --data TEXT --out OUT}: quantization-aware fine-tuning (fake quantization with a
 * straight-through gradient) and the report baseline / PTQ / QAT perplexity.
 */
@Command(name = "qat", mixinStandardHelpOptions = true,
        description = {"Fine-tune with fake quantization and report what it wins back.",
            "The first --eval-bytes of TEXT are the evaluation text (llama.cpp's perplexity method, --ctx), the rest "
                + "is training text (stories split on blank lines, BOS before each). Every figure is the perplexity "
                + "of a model file evaluated as 'quant eval' does: baseline = the model converted to bf16; PTQ = "
                + "the model converted to the scheme as 'quant convert' does (every 2-D weight, embedding and "
                + "classifier included; --recipe adds rules); QAT = the fine-tuned model converted the same way, "
                + "i.e. OUT itself. recovered = (PTQ - QAT) / (PTQ - baseline).",
            "Training fake-quantizes each tensor with exactly the scheme the PTQ file stores it in; the gradient "
                + "passes straight through (--clipped-ste: not where the quantizer clamps). --checkpoint/--resume "
                + "carry the weights, AdamW moments and learned scales (--lsq), so a resumed run writes the same OUT "
                + "bytes as an uninterrupted one; --stop-at ends a run early, with a checkpoint and no OUT.",
            "OUT's extension picks the container: .safetensors (every scheme) or .gguf (ggml types), the same "
                + "file 'quant convert' writes, readable by eval, compare and convert (a safetensors model needs "
                + "--tokenizer there)."},
        footerHeading = "%nJSON (--json):%n",
        footer = {
            "  scheme, f32_ppl, baseline_ppl, ptq_ppl, qat_ppl, recovered, steps,",
            "  train_tokens, eval_tokens, train_seconds, train_cpu_seconds,",
            "  train_tokens_per_s, lr, min_lr, warmup, weight_decay, distill,",
            "  distill_temperature, distill_hidden, quant_warmup, beta1, beta2,",
            "  clip, lsq, bos_windows, batch, out,",
            "  formats: {tensor: stored format}",
        })
final class QatCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    OutputOptions output;

    @Mixin
    ThreadsOption threads;

    @Mixin
    TrainingOptions training;

    @Parameters(index = "0", paramLabel = "MODEL", description = "The model: GGUF, llama2.c .bin, safetensors (ours)"
            + " or a Hugging Face Llama folder.")
    Path model;

    @Option(names = "--tokenizer", paramLabel = "TOK.bin", description = "llama2.c tok.bin tokenizer, for a model that carries none"
            + " (.bin, safetensors, Hugging Face folder).")
    Path tokenizer;

    @Option(names = "--scheme", required = true, paramLabel = "S", description = "Scheme to fake-quantize with, e.g. int4:group=32.")
    String scheme;

    @Option(names = "--recipe", paramLabel = "FILE", description = "Extra conversion rules 'PATTERN SCHEME' (as convert --recipe), e.g. 'token_embd.weight f32'.")
    Path recipe;

    @Option(names = "--out", required = true, paramLabel = "OUT", description = "Where to write the quantized fine-tuned model (.safetensors or .gguf).")
    Path out;

    @Option(names = "--force", description = "Overwrite OUT (and the --log/--plot files) if they exist.")
    boolean force;

    @Option(names = "--steps", defaultValue = "300", paramLabel = "N", description = "Optimizer steps (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--lr", paramLabel = "LR", description = "Peak learning rate (default: 3e-3 for ternary schemes, 5e-4 otherwise).")
    Float lrOption;

    @Option(names = "--min-lr", paramLabel = "LR", description = "Learning rate at the end of the cosine decay (default: a tenth of --lr).")
    Float minLr;

    @Option(names = "--weight-decay", defaultValue = "0", paramLabel = "WD", description = "AdamW decoupled weight decay of the matrices (default: ${DEFAULT-VALUE}).")
    float weightDecay;

    @Option(names = "--eval-every", defaultValue = "0", paramLabel = "N", description = "Also measure the evaluation perplexity every N steps for the log and plot (0 = only the saved model; default: ${DEFAULT-VALUE}).")
    int evalEvery;

    @Option(names = "--clipped-ste", description = "Zero the gradient of weights the quantizer clamps (int and ternary schemes).")
    boolean clippedSte;

    @Option(names = "--act", defaultValue = "none", paramLabel = "A", description = "Activation fake quantization during training: none, bf16, int8_absmax (the saved model is evaluated without it; default: ${DEFAULT-VALUE}).")
    ActivationQuant act;

    @Option(names = "--distill", paramLabel = "A", description = "Distil from the starting float model: the training target is (1-A) x the next token + A x the float model's probabilities (0 = labels only; default: 1 for ternary schemes, 0 otherwise).")
    Float distillOption;

    /** Peak learning rate of ternary runs when --lr is not given (measured on stories260K, docs/benchmarks.md). */
    static final float TERNARY_LR = 3e-3f;
    /** Peak learning rate of the other schemes when --lr is not given. */
    static final float DEFAULT_LR = 5e-4f;

    @Option(names = "--distill-temperature", defaultValue = "1", paramLabel = "T", description = "Temperature of the distillation target: the float model's softmax(z/T) is the target of the student's softmax(z/T), weighted T^2 (1 = the plain probabilities; default: ${DEFAULT-VALUE}).")
    float distillTemperature;

    @Option(names = "--beta1", defaultValue = "0.9", paramLabel = "B", description = "AdamW first-moment decay (default: ${DEFAULT-VALUE}).")
    float beta1;

    @Option(names = "--beta2", defaultValue = "0.95", paramLabel = "B", description = "AdamW second-moment decay (default: ${DEFAULT-VALUE}).")
    float beta2;

    @Option(names = "--clip", defaultValue = "1", paramLabel = "N", description = "Largest global L2 norm of the gradient; larger gradients are scaled down to it (0 = no clipping; default: ${DEFAULT-VALUE}).")
    float clip;

    @Option(names = "--quant-warmup", defaultValue = "0", paramLabel = "K", description = "Quantization warmup: for the first K steps the forward pass uses W + L x (Q(W) - W) with L = step/K rising linearly from 0 (the float weights) to 1 (the fake-quantized ones), the gradient scaled by (1 - L) + L x the STE mask; evaluations use L = 1 (0 = none; default: ${DEFAULT-VALUE}).")
    int quantWarmup;

    @Option(names = "--distill-hidden", defaultValue = "0", paramLabel = "B", description = "Hidden-state distillation: add B x the mean over the blocks of the relative squared error between the model's and the float model's residual stream after each block to the loss (needs --distill; 0 = none; default: ${DEFAULT-VALUE}).")
    float distillHidden;

    @Option(names = "--bos-windows", description = "Start every training window with BOS, as the llama-cpp evaluation replaces the first token of each chunk by BOS (the training text alone has one before each story only).")
    boolean bosWindows;

    @Option(names = "--lsq", description = "Learn the quantization scales (LSQ) of the symmetric int tensors, bounded by the PTQ range so the result stores exactly.")
    boolean lsq;

    @Override
    public Integer call() throws Exception {
        Scheme s = Scheme.parse(scheme);
        if (Converter.outputContainer(out) == Container.GGUF && Converter.ggufType(s) == null) {
            throw new IllegalArgumentException("scheme " + s + " cannot be stored in GGUF (GGUF takes f32, f16, bf16, "
                    + "q8_0, q4_0, q4_1, tq1_0, tq2_0, mxfp4); write a .safetensors file instead");
        }
        training.validate(steps);
        boolean ternary = s.kind() == SchemeKind.TERNARY;
        float lr = lrOption != null ? lrOption : ternary ? TERNARY_LR : DEFAULT_LR;
        float distill = distillOption != null ? distillOption : ternary ? 1f : 0f;
        for (Path p : new Path[] {out, training.log, training.plot}) {
            if (p != null && Files.exists(p) && !force) {
                throw new FileAlreadyExistsException(p + " exists (use --force to overwrite)");
            }
        }
        if (evalEvery < 0) {
            throw new IllegalArgumentException("--eval-every (" + evalEvery + ") cannot be negative");
        }
        Recipe rules = recipe == null ? Recipe.empty() : Recipe.parse(Files.readString(recipe, StandardCharsets.UTF_8));
        TrainingOptions.Texts texts = training.texts();
        float min = minLr == null ? lr / 10 : minLr;
        int warm = training.warmupFor(steps);
        int batch = training.batch;
        int ctx = training.ctx;
        if (distill == 0 && distillTemperature != 1) {
            throw new IllegalArgumentException("--distill-temperature needs --distill (the weight of the float model's "
                    + "probabilities)");
        }
        if (!(distillHidden >= 0 && distillHidden <= io.quantkit.train.TrainModel.MAX_HIDDEN_WEIGHT)) {
            throw new IllegalArgumentException("--distill-hidden (" + distillHidden + ") must lie in [0, "
                    + io.quantkit.train.TrainModel.MAX_HIDDEN_WEIGHT + "]");
        }
        if (distill == 0 && distillHidden != 0) {
            throw new IllegalArgumentException("--distill-hidden needs --distill (the float model is the teacher of both)");
        }
        if (quantWarmup < 0 || quantWarmup > steps) {
            throw new IllegalArgumentException("--quant-warmup (" + quantWarmup + ") must lie in [0, --steps = " + steps
                    + "]");
        }
        if (quantWarmup > 0 && lsq) {
            throw new IllegalArgumentException("--quant-warmup does not combine with --lsq");
        }
        TrainOptions opt = new TrainOptions(training.seed, steps, batch, ctx - 1, 1, lr, min, warm, weightDecay, beta1,
                beta2, 1e-8f, clip, 0, 0);
        Qat.Checkpointing ckpt = new Qat.Checkpointing(training.checkpoint, training.checkpointEvery, training.resume,
                training.stopAt);
        PrintWriter err = spec.commandLine().getErr();
        Qat.Report r;
        TrainingCurves curves = TrainingCurves.to(training.log);
        boolean done = false;
        try (Checkpoint ck = Checkpoints.open(model, tokenizer);
             Parallel par = Parallel.of(threads.threads());
             ThreadPool pool = ThreadPool.create(threads.threads())) {
            TokenizerData td = ck.tokenizer().orElseThrow(() ->
                    new IllegalArgumentException(model + " has no tokenizer (give --tokenizer TOK.bin)"));
            BpeVocabulary vocab = BpeVocabulary.of(td.tokens(), td.scores());
            int[] eval = vocab.encode(texts.eval(), true);
            int[] train = documents(vocab, texts.train());
            Qat.Setup setup = new Qat.Setup(s, rules, clippedSte ? FakeQuant.Ste.CLIPPED : FakeQuant.Ste.PLAIN, act,
                    distill, distillTemperature, lsq, texts.eval(), train, eval, ctx, evalEvery, opt, quantWarmup,
                    distillHidden, bosWindows);
            long[] before = {-1}; // tokens trained before this process's first step (a resumed run's)
            r = Qat.run(par, pool, ck, setup, ckpt, out, step -> {
                curves.onStep(step);
                if (before[0] < 0) {
                    before[0] = step.tokens() - (long) batch * (ctx - 1);
                }
                if (step.step() % 10 == 0 || step.step() == steps || !Double.isNaN(step.evalLoss())) {
                    TrainingOptions.progress(err, "qat", step.step(), steps, step.loss(), step.lr(),
                            (step.tokens() - before[0]) / Math.max(1e-9, step.seconds()), "eval", step.evalPpl());
                }
            });
            curves.finish();
            done = true;
        } finally {
            if (!done) {
                curves.abandon();
            }
        }
        if (!r.finished()) {
            training.stopped(err, "qat");
            return ExitCodes.OK;
        }
        if (training.plot != null) {
            Map<String, Double> refs = new java.util.LinkedHashMap<>();
            refs.put("bf16 baseline", r.baselinePpl());
            refs.put("PTQ", r.ptqPpl());
            refs.put("QAT (saved file)", r.qatPpl());
            curves.writePng(training.plot, "QAT " + r.scheme() + " of " + model.getFileName(), refs);
        }
        PrintWriter o = spec.commandLine().getOut();
        if (output.json()) {
            Map<String, Object> j = new TreeMap<>();
            j.put("scheme", r.scheme());
            j.put("f32_ppl", r.f32Ppl());
            j.put("baseline_ppl", r.baselinePpl());
            j.put("ptq_ppl", r.ptqPpl());
            j.put("qat_ppl", r.qatPpl());
            j.put("recovered", r.recovered());
            j.put("steps", r.steps());
            j.put("batch", batch);
            j.put("lr", (double) lr);
            j.put("min_lr", (double) min);
            j.put("warmup", warm);
            j.put("weight_decay", (double) weightDecay);
            j.put("distill", (double) distill);
            j.put("distill_temperature", (double) distillTemperature);
            j.put("beta1", (double) beta1);
            j.put("beta2", (double) beta2);
            j.put("clip", (double) clip);
            j.put("lsq", lsq);
            j.put("bos_windows", bosWindows);
            j.put("quant_warmup", quantWarmup);
            j.put("distill_hidden", (double) distillHidden);
            j.put("train_tokens", r.trainTokens());
            j.put("eval_tokens", r.evalTokens());
            j.put("train_seconds", r.trainSeconds());
            j.put("train_cpu_seconds", r.trainCpuSeconds());
            j.put("train_tokens_per_s", r.trainTokens() / Math.max(1e-9, r.trainSeconds()));
            j.put("formats", new TreeMap<>(r.storedFormats()));
            j.put("out", out.toString());
            Json.print(o, j);
        } else {
            o.printf(Locale.ROOT, "scheme        %s%n", r.scheme());
            o.printf(Locale.ROOT, "f32 PPL       %.4f%n", r.f32Ppl());
            o.printf(Locale.ROOT, "baseline PPL  %.4f  (bf16 weights)%n", r.baselinePpl());
            o.printf(Locale.ROOT, "PTQ PPL       %.4f%n", r.ptqPpl());
            o.printf(Locale.ROOT, "QAT PPL       %.4f  (%d steps, %d tokens, %.1f s, %.1f s CPU; of the saved file)%n",
                    r.qatPpl(), r.steps(), r.trainTokens(), r.trainSeconds(), r.trainCpuSeconds());
            o.printf(Locale.ROOT, "recovered     %.1f%% of the PTQ loss%n", 100 * r.recovered());
            o.printf(Locale.ROOT, "written       %s%n", out);
        }
        o.flush();
        return ExitCodes.OK;
    }

    /** BOS + tokens of each blank-line-separated document, concatenated. */
    static int[] documents(BpeVocabulary vocab, String text) {
        List<int[]> parts = new ArrayList<>();
        int n = 0;
        for (String d : text.split("\n\\s*\n")) {
            String t = d.strip();
            if (!t.isEmpty()) {
                int[] ids = vocab.encode(t, true);
                parts.add(ids);
                n += ids.length;
            }
        }
        int[] outIds = new int[n];
        int at = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, outIds, at, p.length);
            at += p.length;
        }
        return outIds;
    }
}
