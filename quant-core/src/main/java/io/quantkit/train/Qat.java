package io.quantkit.train;

import io.quantkit.eval.EvalPlan;
import io.quantkit.eval.Evaluator;
import io.quantkit.eval.Method;
import io.quantkit.eval.PerplexityResult;
import io.quantkit.eval.Progress;
import io.quantkit.io.Checkpoint;
import io.quantkit.io.Checkpoints;
import io.quantkit.io.TensorInfo;
import io.quantkit.io.convert.Converter;
import io.quantkit.io.convert.Recipe;
import io.quantkit.model.LlamaLoader;
import io.quantkit.model.LlamaModel;
import io.quantkit.model.ThreadPool;
import io.quantkit.model.Tokenizer;
import io.quantkit.quant.Scheme;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Quantization-aware fine-tuning and its report: the bf16 baseline, post-training quantization (PTQ) with the scheme,
 * then training with the scheme's fake quantization in the loop (QAT), every figure measured the same way on a
 * model file really stored in its format.
 *
 * <p>How each number is made (all with the inference model {@link LlamaModel} and llama.cpp's perplexity method,
 * {@link Method#LLAMA_CPP}, on the same evaluation plan):
 * <ul>
 *   <li><b>baseline</b>: the starting weights converted to bf16 by {@link Converter} (every 2-D weight; norms stay
 *       float32), as {@code quant compare}'s baseline;</li>
 *   <li><b>PTQ</b>: the starting weights converted to the scheme by {@link Converter} (its default rules plus the
 *       recipe: every 2-D weight, embedding and classifier included, in the scheme; norms float32; ggml rows that do not
 *       fit a block fall back), the same file {@code quant convert} writes;</li>
 *   <li><b>QAT</b>: training with each tensor fake-quantized with exactly the scheme the PTQ file stores it in (read
 *       back from that file, see {@link FakeQuant#ofPlan}), then the trained float32 master weights converted the same
 *       way into the output file, which is read back and evaluated. Quantizing the master weights gives the values
 *       the training forward pass used, since both go through the same codec.</li>
 * </ul>
 * {@code recovered = (PTQ − QAT) / (PTQ − baseline)}: 1 means QAT closed the whole gap, 0 no gain, above 1 QAT beat
 * the baseline. During training the evaluation perplexity is measured every {@code evalEvery} steps with the training
 * model's forward pass over the fake-quantized weights ({@link Perplexity#llamaCpp}), which computes the inference
 * model's logits to the bit, so the last one equals the saved file's figure.
 */
public final class Qat {
    private Qat() {
    }

    /**
     * Everything {@code quant qat} reports. {@code storedFormats}: each tensor of the output and its format.
     * {@code finished} is false when the run stopped at {@link Checkpointing#stopAt()} (no output written; the QAT
     * figures are NaN).
     */
    public record Report(String scheme, double f32Ppl, double baselinePpl, double ptqPpl, double qatPpl, double recovered,
                         long evalTokens, int steps, long trainTokens, double trainSeconds, double trainCpuSeconds,
                         Map<String, String> storedFormats, boolean finished) {
        public Report {
            storedFormats = Map.copyOf(storedFormats);
        }
    }

    /**
     * Training checkpoints of a QAT run ({@link Trainer#save}: weights, AdamW moments, step and learned scales).
     *
     * @param file   where to write one (null: none), every {@code every} steps and when the run stops
     * @param every  steps between checkpoints
     * @param resume a checkpoint of the same run to continue from (null: start at step 0)
     * @param stopAt stop after this step (0: run to the end); the report then has {@code finished = false}
     */
    public record Checkpointing(Path file, int every, Path resume, int stopAt) {
        /** No checkpoints. */
        public static final Checkpointing NONE = new Checkpointing(null, 1, null, 0);

        public Checkpointing {
            if (every < 1 || stopAt < 0) {
                throw new IllegalArgumentException("checkpoint interval (" + every + ") must be at least 1 and the stop "
                        + "step (" + stopAt + ") at least 0");
            }
            if (stopAt > 0 && file == null) {
                throw new IllegalArgumentException("stopping early needs a checkpoint file to continue from");
            }
        }
    }

    /**
     * What to run.
     *
     * @param scheme    the scheme to quantize to
     * @param recipe    extra conversion rules (as {@code quant convert --recipe}), or null
     * @param ste       straight-through variant
     * @param actQuant  activation fake quantization during training (the saved model is evaluated without it)
     * @param distill   weight of the starting model's probabilities in the training target (0: labels only; 1: pure
     *                  distillation from the float model, see {@link Trainer#distillFrom})
     * @param temperature distillation temperature of the soft part (1: the plain probabilities; see
     *                  {@link Trainer#distillFrom(float[], float, float)})
     * @param lsq       learn the scales of the symmetric int tensors ({@link Trainer#learnScales})
     * @param evalText  the evaluation text
     * @param train     training tokens (documents with BOS)
     * @param evalIds   the evaluation text's tokens (BOS first) for the curves during training
     * @param ctx       perplexity context ({@code ctx - 1} is also the training window)
     * @param evalEvery evaluate every this many steps during training (0: only the saved file at the end)
     * @param opt       training options
     * @param quantWarmup steps of quantization warmup ({@link Trainer#quantWarmup}; 0: none)
     * @param distillHidden weight of the hidden-state distillation term ({@link Trainer#distillHidden}; 0: none;
     *                  needs {@code distill > 0})
     * @param bosWindows training windows start with BOS, as the evaluation's chunks do ({@link Trainer#bosWindows})
     */
    public record Setup(Scheme scheme, Recipe recipe, FakeQuant.Ste ste, ActivationQuant actQuant, float distill,
                        float temperature, boolean lsq,
                        String evalText, int[] train, int[] evalIds, int ctx, int evalEvery, TrainOptions opt,
                        int quantWarmup, float distillHidden, boolean bosWindows) {
        /** A setup without quantization warmup or hidden-state distillation. */
        public Setup(Scheme scheme, Recipe recipe, FakeQuant.Ste ste, ActivationQuant actQuant, float distill,
                     float temperature, boolean lsq, String evalText, int[] train, int[] evalIds, int ctx, int evalEvery,
                     TrainOptions opt) {
            this(scheme, recipe, ste, actQuant, distill, temperature, lsq, evalText, train, evalIds, ctx, evalEvery, opt,
                    0, 0f, false);
        }

        public Setup {
            Objects.requireNonNull(scheme, "scheme");
            recipe = recipe == null ? Recipe.empty() : recipe;
            Objects.requireNonNull(ste, "ste");
            Objects.requireNonNull(actQuant, "actQuant");
            Objects.requireNonNull(evalText, "evalText");
            train = train.clone();
            evalIds = evalIds.clone();
            Objects.requireNonNull(opt, "opt");
            if (!(distill >= 0 && distill <= 1)) {
                throw new IllegalArgumentException("distillation weight (" + distill + ") must lie in [0, 1]");
            }
            TrainModel.checkTemperature(temperature);
            if (evalEvery < 0) {
                throw new IllegalArgumentException("eval every (" + evalEvery + ") cannot be negative");
            }
            if (quantWarmup < 0 || quantWarmup > opt.steps()) {
                throw new IllegalArgumentException("quantization warmup (" + quantWarmup + " steps) must lie in [0, "
                        + opt.steps() + "], the run's steps");
            }
            if (quantWarmup > 0 && lsq) {
                throw new IllegalArgumentException("quantization warmup does not combine with learned scales");
            }
            if (!(distillHidden >= 0 && distillHidden <= TrainModel.MAX_HIDDEN_WEIGHT)) {
                throw new IllegalArgumentException("hidden-state distillation weight (" + distillHidden
                        + ") must lie in [0, " + TrainModel.MAX_HIDDEN_WEIGHT + "]");
            }
            if (distillHidden > 0 && distill == 0) {
                throw new IllegalArgumentException("hidden-state distillation needs distillation from the float model "
                        + "(a distillation weight above 0)");
            }
        }
    }

    /**
     * Runs the whole comparison on the open checkpoint {@code ck} and writes the QAT model to {@code out} (its extension
     * picks the container, as for {@code quant convert}; replaced if it exists). {@code listener} receives every step;
     * at evaluated steps {@code evalLoss} is the llama.cpp-method mean NLL of the fake-quantized weights.
     */
    public static Report run(Parallel par, ThreadPool pool, Checkpoint ck, Setup setup, Path out,
                             Trainer.Listener listener) throws IOException {
        return run(par, pool, ck, setup, Checkpointing.NONE, out, listener);
    }

    /**
     * As {@link #run(Parallel, ThreadPool, Checkpoint, Setup, Path, Trainer.Listener)}, writing and resuming training
     * checkpoints as {@code ckpt} says; a resumed run writes the same output bytes as an uninterrupted one.
     */
    public static Report run(Parallel par, ThreadPool pool, Checkpoint ck, Setup setup, Checkpointing ckpt, Path out,
                             Trainer.Listener listener) throws IOException {
        Converter.outputContainer(out);
        LlamaWeights.Loaded m = LlamaWeights.from(ck);
        Architecture arch = m.architecture();
        Tokenizer tok = LlamaLoader.tokenizer(ck);
        EvalPlan plan = EvalPlan.of(tok, setup.evalText(), Method.LLAMA_CPP, setup.ctx(), 0);
        Path dir = Files.createTempDirectory(out.toAbsolutePath().getParent(), ".qat");
        try {
            String stem = stem(ck.path());
            Converter.Options conv = Converter.Options.of(setup.scheme()).withRecipe(setup.recipe()).withForce(true)
                    .withThreads(Math.min(Converter.MAX_THREADS, pool.threads()));
            double f32 = evaluate(LlamaLoader.weights(ck), plan, pool).ppl();
            Path baseFile = dir.resolve("baseline.safetensors");
            Converter.convert(ck, baseFile, Converter.Options.of(Scheme.parse("bf16")).withForce(true));
            double base = evaluateFile(baseFile, plan, pool).ppl();
            Path ptqFile = dir.resolve("ptq" + extension(out));
            Converter.convert(ck, ptqFile, conv);
            Map<String, Scheme> stored = new TreeMap<>();
            PerplexityResult ptq;
            try (Checkpoint p = Checkpoints.open(ptqFile)) {
                for (TensorInfo t : p.tensors()) {
                    stored.put(t.name(), Scheme.parse(t.format()));
                }
                ptq = evaluate(LlamaLoader.weights(p), plan, pool);
            }
            FakeQuant fq = FakeQuant.ofPlan(setup.scheme(), stored, setup.ste());
            TrainOptions opt = setup.opt();
            Trainer t = new Trainer(arch, opt, setup.train(), new int[0], m.params(), fq, setup.actQuant());
            if (setup.lsq()) {
                t.learnScales();
            }
            if (setup.distill() > 0) {
                t.distillFrom(m.params(), setup.distill(), setup.temperature());
                t.distillHidden(setup.distillHidden());
            }
            t.quantWarmup(setup.quantWarmup());
            if (setup.bosWindows()) {
                t.bosWindows(tok.bos());
            }
            if (ckpt.resume() != null) {
                t.restore(io.quantkit.train.Checkpoint.load(ckpt.resume()));
            }
            long cpu = 0;
            double seconds = 0;
            int every = setup.evalEvery() == 0 ? opt.steps() : setup.evalEvery();
            int limit = ckpt.stopAt() > 0 ? ckpt.stopAt() : opt.steps();
            while (t.step() < limit) {
                int segmentEnd = Math.min(opt.steps(), (t.step() / every + 1) * every);
                int until = Math.min(segmentEnd, limit);
                boolean evaluate = until == segmentEnd;
                Trainer.StepLog[] last = new Trainer.StepLog[1];
                double before = seconds;
                long cpu0 = processCpuNanos();
                t.run(par, until, s -> {
                    // seconds count training only, over all segments (evaluations excluded)
                    Trainer.StepLog x = new Trainer.StepLog(s.step(), s.lr(), s.loss(), s.gradNorm(), Double.NaN,
                            s.tokens(), before + s.seconds());
                    if (ckpt.file() != null && (s.step() % ckpt.every() == 0 || s.step() == limit)) {
                        t.save(ckpt.file());
                    }
                    if (s.step() < until || !evaluate) {
                        listener.onStep(x);
                    }
                    last[0] = x;
                });
                cpu += processCpuNanos() - cpu0;
                Trainer.StepLog s = last[0];
                seconds = s.seconds();
                if (evaluate) {
                    double nll = setup.evalEvery() == 0 ? Double.NaN
                            : Perplexity.llamaCpp(par, arch, t.forwardWeights(), setup.actQuant(), setup.evalIds(),
                                    setup.ctx(), 8, tok.bos()).nll();
                    listener.onStep(new Trainer.StepLog(s.step(), s.lr(), s.loss(), s.gradNorm(), nll, s.tokens(),
                            s.seconds()));
                }
            }
            double cpuSeconds = cpu / 1e9;
            if (t.step() < opt.steps()) {
                return new Report(setup.scheme().toString(), f32, base, ptq.ppl(), Double.NaN, Double.NaN, ptq.tokens(),
                        opt.steps(), (long) t.step() * opt.batch() * opt.seqLen() * opt.accumulation(), seconds,
                        cpuSeconds, Map.of(), false);
            }
            Path trained = dir.resolve(stem + ".bin");
            Llama2cExport.write(trained, arch, t.exportWeights());
            Path tmpOut = dir.resolve("qat" + extension(out));
            try (Checkpoint c = Checkpoints.open(trained)) {
                Checkpoint withTok = ck.tokenizer().isPresent()
                        ? c.withTokenizer(ck.tokenizer().get(), c.metadata()) : c;
                try (Checkpoint w = withTok) {
                    Converter.convert(w, tmpOut, conv);
                }
            }
            Map<String, String> formats = new TreeMap<>();
            PerplexityResult qat;
            try (Checkpoint q = Checkpoints.open(tmpOut)) {
                for (TensorInfo ti : q.tensors()) {
                    formats.put(ti.name(), ti.format());
                    if (!Scheme.parse(ti.format()).equals(stored.get(ti.name()))) {
                        throw new IllegalStateException("tensor " + ti.name() + " was trained as " + stored.get(ti.name())
                                + " but stored as " + ti.format());
                    }
                }
                checkDecodesTo(q, new ParamLayout(arch), t.forwardWeights());
                qat = evaluate(LlamaLoader.weights(q), plan, pool);
            }
            Files.move(tmpOut, out.toAbsolutePath(), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            double recovered = (ptq.ppl() - qat.ppl()) / (ptq.ppl() - base);
            return new Report(setup.scheme().toString(), f32, base, ptq.ppl(), qat.ppl(), recovered, qat.tokens(),
                    opt.steps(), (long) opt.steps() * opt.batch() * opt.seqLen() * opt.accumulation(), seconds,
                    cpuSeconds, formats, true);
        } finally {
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /**
     * Checks that every tensor of the saved model decodes to exactly the weights the training forward pass used (the
     * fake-quantized values; float32 tensors as trained), so the reported QAT figure is that of the trained model.
     */
    static void checkDecodesTo(Checkpoint saved, ParamLayout lay, float[] forward) {
        for (ParamLayout.Entry e : lay.entries()) {
            String name = LlamaWeights.ggufName(e);
            float[] got = saved.tensor(name).toFloatArray();
            for (int i = 0; i < e.size(); i++) {
                if (Float.floatToIntBits(got[i]) != Float.floatToIntBits(forward[e.offset() + i])) {
                    throw new IllegalStateException("saved tensor " + name + " element " + i + " decodes to " + got[i]
                            + " but training used " + forward[e.offset() + i]);
                }
            }
        }
    }

    /** Perplexity of a model file by the plan (what {@code quant eval} computes for it). */
    static PerplexityResult evaluateFile(Path file, EvalPlan plan, ThreadPool pool) throws IOException {
        try (Checkpoint c = Checkpoints.open(file)) {
            return evaluate(LlamaLoader.weights(c), plan, pool);
        }
    }

    private static PerplexityResult evaluate(io.quantkit.model.LlamaWeights w, EvalPlan plan, ThreadPool pool) {
        return Evaluator.run(LlamaModel.load(w), plan, pool, false, null, Progress.NONE).perplexity();
    }

    private static String extension(Path out) {
        String n = String.valueOf(out.getFileName());
        return n.substring(n.lastIndexOf('.'));
    }

    private static String stem(Path p) {
        String n = String.valueOf(p.getFileName());
        int dot = n.lastIndexOf('.');
        return dot > 0 ? n.substring(0, dot) : n;
    }

    /** CPU time of the whole process (all threads), or of this thread where the JVM cannot tell. */
    static long processCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            long t = os.getProcessCpuTime();
            if (t >= 0) {
                return t;
            }
        }
        return ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
    }
}
