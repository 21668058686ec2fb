package io.quantkit.train;

import io.quantkit.quant.Scheme;
import java.io.IOException;
import java.io.Writer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The training loop: AdamW with decoupled weight decay, linear warmup then cosine decay, global-norm gradient
 * clipping, gradient accumulation, optional fake quantization of weights ({@link FakeQuant}) and activations
 * ({@link ActivationQuant}), held-out evaluation, a CSV log, checkpoint and resume.
 *
 * <p>Deterministic: the same options, data and starting state give the same bytes for any thread count. The windows
 * of step {@code s} are drawn from a generator seeded by {@code (seed, s)} alone, so a run resumed from a checkpoint
 * continues exactly as the uninterrupted run. Not thread-safe.
 */
public final class Trainer {
    private final Architecture arch;
    private final ParamLayout layout;
    private final TrainOptions opt;
    private final int[] train;
    private final int[] eval;
    private final FakeQuant fakeQuant;
    private final TrainModel model;
    private final TrainModel evalModel;
    private TrainModel teacherModel;
    private float[] teacherWeights;
    private float[] teacherProbs;
    private float teacherTemperature = 1f;
    private float hiddenWeight;
    private int quantWarmup;
    private LearnedScales lsq;
    private float[] lsqGrad;
    private float[] lsqM;
    private float[] lsqV;
    private final float[] params;
    private final float[] effective;
    private final float[] mask;
    private final float[] grad;
    private final float[] adamM;
    private final float[] adamV;
    private final int[] window;
    private int bosToken = -1;
    private int step;
    private Evaluator evaluator;

    /** One line of the log. {@code evalLoss} is NaN on steps without evaluation. */
    public record StepLog(int step, double lr, double loss, double gradNorm, double evalLoss, long tokens,
                          double seconds) {
        /** Perplexity of the held-out text, {@code e^evalLoss}. */
        public double evalPpl() {
            return Math.exp(evalLoss);
        }

        /** The CSV header matching {@link #csv()}. */
        public static String csvHeader() {
            return "step,lr,loss,grad_norm,eval_loss,eval_ppl,tokens,seconds,tokens_per_s";
        }

        /** One CSV line (no newline); empty cells where there was no evaluation. */
        public String csv() {
            String ev = Double.isNaN(evalLoss) ? "," : String.format(Locale.ROOT, "%.6f,%.4f", evalLoss, evalPpl());
            return String.format(Locale.ROOT, "%d,%.6g,%.6f,%.6f,%s,%d,%.3f,%.1f", step, lr, loss, gradNorm, ev, tokens,
                    seconds, seconds > 0 ? tokens / seconds : 0.0);
        }
    }

    /** Scores the forward-pass weights on held-out text (mean loss in nats), in place of {@link #evaluate}. */
    @FunctionalInterface
    public interface Evaluator {
        double meanLoss(Parallel par, float[] forwardWeights);
    }

    /** Receives one {@link StepLog} per step. */
    @FunctionalInterface
    public interface Listener {
        void onStep(StepLog log) throws IOException;
    }

    /**
     * A trainer starting from {@code initial} (copied), or from freshly initialized weights when null.
     *
     * @param train     training token stream (documents joined, each starting with BOS)
     * @param eval      held-out token stream (may be empty: no evaluation)
     * @param fakeQuant weight fake quantization, or null for plain float32 training
     */
    public Trainer(Architecture arch, TrainOptions opt, int[] train, int[] eval, float[] initial, FakeQuant fakeQuant,
                   ActivationQuant actQuant) {
        this.arch = arch;
        this.layout = new ParamLayout(arch);
        this.opt = opt;
        if (opt.seqLen() > arch.seqLen()) {
            throw new IllegalArgumentException("training sequence length (" + opt.seqLen() + ") exceeds the model's maximum ("
                    + arch.seqLen() + ")");
        }
        if (train.length < opt.seqLen() + 1) {
            throw new IllegalArgumentException("training text has " + train.length + " tokens, fewer than one window of "
                    + (opt.seqLen() + 1));
        }
        this.train = train.clone();
        this.eval = eval.clone();
        this.fakeQuant = fakeQuant;
        this.model = new TrainModel(arch, opt.batch(), opt.seqLen(), actQuant);
        this.evalModel = model;
        this.params = initial == null ? initialParams(layout, opt.seed()) : initial.clone();
        if (params.length != layout.size()) {
            throw new IllegalArgumentException("initial weights have " + params.length + " floats but the model needs "
                    + layout.size());
        }
        this.effective = fakeQuant == null ? params : new float[params.length];
        this.mask = fakeQuant == null ? null : new float[params.length];
        this.grad = new float[params.length];
        this.adamM = new float[params.length];
        this.adamV = new float[params.length];
        this.window = new int[opt.batch() * (opt.seqLen() + 1)];
    }

    /**
     * Initial weights as in llama2.c's {@code model.py}: normal(0, 0.02) for the embedding and every linear layer,
     * normal(0, 0.02/√(2·layers)) for {@code wo} and {@code w2} (the residual projections), norms at 1. The
     * Gaussian comes from Box–Muller over a {@link SplittableRandom} seeded with {@code seed}, with {@link StrictMath},
     * so it is the same on every JVM.
     */
    public static float[] initialParams(ParamLayout layout, long seed) {
        float[] p = new float[layout.size()];
        SplittableRandom rnd = new SplittableRandom(seed);
        double resid = 0.02 / Math.sqrt(2.0 * layout.architecture().nLayers());
        for (ParamLayout.Entry e : layout.entries()) {
            if (e.role() == ParamLayout.Role.NORM) {
                Arrays.fill(p, e.offset(), e.offset() + e.size(), 1f);
                continue;
            }
            boolean residual = e.name().endsWith("attention.wo.weight") || e.name().endsWith("feed_forward.w2.weight");
            double std = residual ? resid : 0.02;
            for (int i = 0; i < e.size(); i++) {
                p[e.offset() + i] = (float) (std * gaussian(rnd));
            }
        }
        return p;
    }

    private static double gaussian(SplittableRandom rnd) {
        double u1 = (rnd.nextLong() >>> 11) * 0x1.0p-53;
        double u2 = (rnd.nextLong() >>> 11) * 0x1.0p-53;
        return StrictMath.sqrt(-2.0 * StrictMath.log(1.0 - u1)) * StrictMath.cos(2 * Math.PI * u2);
    }

    /**
     * Continues from a checkpoint (weights, AdamW moments, step, and the learned scales with their moments); its
     * architecture must match, and it must hold learned scales exactly when this trainer learns them (call
     * {@link #learnScales} first).
     */
    public void restore(Checkpoint.State s) {
        if (!s.architecture().equals(arch)) {
            throw new IllegalArgumentException("checkpoint architecture " + s.architecture() + " differs from " + arch);
        }
        if (s.step() < 0 || s.step() > opt.steps()) {
            throw new IllegalArgumentException("checkpoint step (" + s.step() + ") is outside [0, " + opt.steps() + "]");
        }
        if ((s.scales() != null) != (lsq != null)) {
            throw new IllegalArgumentException(lsq != null ? "the checkpoint holds no learned scales but this run learns them"
                    : "the checkpoint holds learned scales but this run does not learn them (--lsq)");
        }
        if (lsq != null && s.scales().length != lsq.size()) {
            throw new IllegalArgumentException("the checkpoint holds " + s.scales().length + " learned scales but this run "
                    + "has " + lsq.size());
        }
        System.arraycopy(s.params(), 0, params, 0, params.length);
        System.arraycopy(s.adamM(), 0, adamM, 0, adamM.length);
        System.arraycopy(s.adamV(), 0, adamV, 0, adamV.length);
        if (lsq != null) {
            System.arraycopy(s.scales(), 0, lsq.scale, 0, lsq.size());
            System.arraycopy(s.scalesM(), 0, lsqM, 0, lsqM.length);
            System.arraycopy(s.scalesV(), 0, lsqV, 0, lsqV.length);
        }
        step = s.step();
    }

    /**
     * Learns the quantization scales of the symmetric int tensors (LSQ, see {@link LearnedScales}), starting from the
     * post-training scales; they are updated by AdamW with the weights' learning rate and no weight decay. Needs a
     * weight fake quantization; call before the first step (and before {@link #restore}, which then restores the
     * scales a checkpoint holds).
     */
    public void learnScales() {
        if (fakeQuant == null) {
            throw new IllegalStateException("learned scales need a weight fake quantization");
        }
        if (step != 0) {
            throw new IllegalStateException("learned scales must be switched on before the first step");
        }
        if (quantWarmup > 0) {
            throw new IllegalStateException("learned scales do not combine with a quantization warmup");
        }
        lsq = LearnedScales.of(fakeQuant, layout, params);
        lsqGrad = new float[lsq.size()];
        lsqM = new float[lsq.size()];
        lsqV = new float[lsq.size()];
    }

    private void applyFakeQuant() {
        fakeQuant.apply(layout, params, effective, mask);
        if (lsq != null) {
            lsq.apply(params, effective, mask);
        }
    }

    /**
     * Quantization warmup: during the first {@code steps} steps the forward pass uses the blend
     * {@code W + λ·(Q(W) − W)} of the master weights {@code W} and their fake-quantized values {@code Q(W)}, with
     * {@code λ = s / steps} at step {@code s} (0-based; {@link #quantLambda}), so step 0 trains the float model and
     * λ rises linearly to 1, the plain fake-quantized forward pass from step {@code steps} on. The gradient of the
     * blend is {@code (1 − λ) + λ·m} times the incoming one, {@code m} being the straight-through mask (1, or 0 where
     * {@link FakeQuant.Ste#CLIPPED} clips; {@link FakeQuant#blend}). {@code 0} (the default) turns it off: the run is
     * then the same to the bit as one without warmup. Evaluations ({@link #forwardWeights}, {@link #evaluate}) always
     * use λ = 1, the model that would be saved. Needs a weight fake quantization without learned scales; part of the
     * run's options, not of a checkpoint (a resumed run must set the same value).
     */
    public void quantWarmup(int steps) {
        if (steps < 0 || steps > opt.steps()) {
            throw new IllegalArgumentException("quantization warmup (" + steps + " steps) must lie in [0, " + opt.steps()
                    + "], the run's steps");
        }
        if (steps > 0 && fakeQuant == null) {
            throw new IllegalStateException("quantization warmup needs a weight fake quantization");
        }
        if (steps > 0 && lsq != null) {
            throw new IllegalStateException("quantization warmup does not combine with learned scales");
        }
        this.quantWarmup = steps;
    }

    /** The blend weight λ of step {@code step} (0-based) for a quantization warmup of {@code warmup} steps. */
    public static double quantLambda(int step, int warmup) {
        return warmup <= 0 || step >= warmup ? 1.0 : (double) step / warmup;
    }

    /**
     * The weights to store: the master weights, except that tensors with learned scales hold their fake-quantized
     * values (quantizing those with the scheme's codec reproduces the learned codes and scales exactly).
     */
    public float[] exportWeights() {
        if (lsq == null) {
            return params.clone();
        }
        float[] out = params.clone();
        float[] eff = forwardWeights();
        for (ParamLayout.Entry e : layout.entries()) {
            Scheme s = fakeQuant.schemeFor(e);
            if (s != null && isSymInt(s)) {
                System.arraycopy(eff, e.offset(), out, e.offset(), e.size());
            }
        }
        return out;
    }

    private static boolean isSymInt(Scheme s) {
        return switch (s.kind()) {
            case INT, INT4, INT8 -> s.param("mode").equals("sym");
            default -> false;
        };
    }

    private void adamwScales(double lr) {
        double b1 = opt.beta1();
        double b2 = opt.beta2();
        double c1 = 1 - Math.pow(b1, step + 1);
        double c2 = 1 - Math.pow(b2, step + 1);
        float[] sc = lsq.scale;
        for (int i = 0; i < sc.length; i++) {
            double g = lsqGrad[i];
            double m = b1 * lsqM[i] + (1 - b1) * g;
            double v = b2 * lsqV[i] + (1 - b2) * g * g;
            lsqM[i] = (float) m;
            lsqV[i] = (float) v;
            sc[i] = (float) Math.max(0.0, sc[i] - lr * (m / c1) / (Math.sqrt(v / c2) + opt.adamEps()));
        }
    }

    /** Saves weights, AdamW moments, the step count, and the learned scales with their moments. */
    public void save(Path file) throws IOException {
        Checkpoint.save(file, lsq == null ? new Checkpoint.State(arch, step, params, adamM, adamV)
                : new Checkpoint.State(arch, step, params, adamM, adamV, lsq.scale, lsqM, lsqV));
    }

    /**
     * Evaluates with {@code e} (every {@code evalEvery} steps and after the last) instead of the built-in windows over
     * the held-out stream; null restores the built-in evaluation.
     */
    public void evaluateWith(Evaluator e) {
        this.evaluator = e;
    }

    /**
     * Distils from a teacher: before each micro-batch the teacher's weights {@code teacher} (copied; e.g. the float
     * model a QAT run starts from) run forward on the same windows and the student's gradient is that of the
     * cross-entropy against {@code (1 − alpha)·label + alpha·teacher probabilities} ({@link TrainModel#distill}).
     * {@code alpha = 0} turns distillation off. The teacher is not part of a checkpoint.
     */
    public void distillFrom(float[] teacher, float alpha) {
        distillFrom(teacher, alpha, 1f);
    }

    /**
     * As {@link #distillFrom(float[], float)}, with the soft part at {@code temperature}: the teacher's
     * {@code softmax(z/T)} as the target of the student's {@code softmax(z/T)}, weighted {@code T²}
     * ({@link TrainModel#distill(float[], float, float)}).
     */
    public void distillFrom(float[] teacher, float alpha, float temperature) {
        if (teacher.length != layout.size()) {
            throw new IllegalArgumentException("teacher weights have " + teacher.length + " floats but the model needs "
                    + layout.size());
        }
        TrainModel.checkTemperature(temperature);
        if (alpha == 0f) {
            teacherModel = null;
            teacherWeights = null;
            model.distill(null, 0f);
            return;
        }
        teacherWeights = teacher.clone();
        teacherModel = new TrainModel(arch, opt.batch(), opt.seqLen(), ActivationQuant.NONE);
        teacherProbs = new float[opt.batch() * opt.seqLen() * arch.vocabSize()];
        teacherTemperature = temperature;
        model.distill(teacherProbs, alpha, temperature);
        model.distillHidden(hiddenWeight > 0 ? teacherModel.hiddenStates() : null, hiddenWeight);
    }

    /**
     * Hidden-state distillation: adds {@code beta} times the mean over the blocks of the relative squared error
     * between the student's and the teacher's residual stream after each block ({@link TrainModel#distillHidden}) to
     * the loss whose gradient is taken; the teacher is the one of {@link #distillFrom} with a weight above 0, which
     * must be set too (before or after). {@code beta = 0} turns it off.
     */
    public void distillHidden(float beta) {
        if (!(beta >= 0 && beta <= TrainModel.MAX_HIDDEN_WEIGHT)) {
            throw new IllegalArgumentException("hidden-state distillation weight (" + beta + ") must lie in [0, "
                    + TrainModel.MAX_HIDDEN_WEIGHT + "]");
        }
        hiddenWeight = beta;
        model.distillHidden(beta > 0 && teacherModel != null ? teacherModel.hiddenStates() : null, beta);
    }

    /** Steps done so far. */
    public int step() {
        return step;
    }

    /** A copy of the float32 master weights. */
    public float[] params() {
        return params.clone();
    }

    /** A copy of the weights the forward pass uses (fake-quantized where a {@link FakeQuant} applies). */
    public float[] forwardWeights() {
        if (fakeQuant == null) {
            return params.clone();
        }
        applyFakeQuant();
        return effective.clone();
    }

    public ParamLayout layout() {
        return layout;
    }

    /** Runs steps until {@code untilStep} (at most the configured total), reporting each to {@code listener}. */
    public void run(Parallel par, int untilStep, Listener listener) throws IOException {
        if (untilStep > opt.steps()) {
            throw new IllegalArgumentException("step " + untilStep + " is past the end of the run (" + opt.steps() + ")");
        }
        long tokens = (long) step * opt.batch() * opt.seqLen() * opt.accumulation();
        long start = System.nanoTime();
        while (step < untilStep) {
            double lr = opt.learningRate(step);
            if (fakeQuant != null) {
                applyFakeQuant();
                double lambda = quantLambda(step, quantWarmup);
                if (lambda < 1) {
                    FakeQuant.blend(params, effective, mask, lambda);
                }
            }
            Arrays.fill(grad, 0f);
            double loss = 0;
            for (int micro = 0; micro < opt.accumulation(); micro++) {
                fillWindows(step, micro);
                if (hiddenWeight > 0 && teacherModel == null) {
                    throw new IllegalStateException("hidden-state distillation needs a teacher (distillFrom)");
                }
                if (teacherModel != null) {
                    teacherModel.forward(par, teacherWeights, window, 0);
                    teacherModel.probabilities(par, teacherProbs, teacherTemperature);
                }
                loss += model.forward(par, effective, window, 0);
                model.backward(par, effective, grad, 1f / opt.accumulation());
            }
            loss /= opt.accumulation();
            if (lsq != null) {
                lsq.gradient(params, grad, lsqGrad);
            }
            if (mask != null) {
                FakeQuant.maskGradient(grad, mask);
            }
            double norm = globalNorm(grad);
            if (opt.clip() > 0 && norm > opt.clip()) {
                float scale = (float) (opt.clip() / norm);
                for (int i = 0; i < grad.length; i++) {
                    grad[i] *= scale;
                }
            }
            adamw(lr);
            if (lsq != null) {
                adamwScales(lr);
            }
            step++;
            tokens += (long) opt.batch() * opt.seqLen() * opt.accumulation();
            boolean evalNow = (evaluator != null || eval.length > opt.seqLen())
                    && ((opt.evalEvery() > 0 && step % opt.evalEvery() == 0) || step == opt.steps());
            double evalLoss = !evalNow ? Double.NaN
                    : evaluator != null ? evaluator.meanLoss(par, forwardWeights()) : evaluate(par);
            if (listener != null) {
                listener.onStep(new StepLog(step, lr, loss, norm, evalLoss, tokens, (System.nanoTime() - start) / 1e9));
            }
        }
    }

    /**
     * Windows shaped as llama.cpp's perplexity chunks: the first token of every training window (an input only, never a
     * target) is replaced by {@code bos}, as that method replaces the first token of each evaluated chunk, so the model
     * trains on what the evaluation shows it (a BOS followed by text from the middle of a document). Without it the
     * training text has a BOS only before each document. {@code -1} turns it off (the default). Same windows
     * otherwise; a resumed run must be given the same setting.
     */
    public void bosWindows(int bos) {
        if (bos < -1 || bos >= arch.vocabSize()) {
            throw new IllegalArgumentException("BOS token " + bos + " is not in the vocabulary of " + arch.vocabSize());
        }
        this.bosToken = bos;
    }

    /** The windows of step {@code s}, micro-batch {@code micro}: uniform random starts from a generator seeded by them. */
    private void fillWindows(int s, int micro) {
        SplittableRandom rnd = new SplittableRandom(opt.seed() * 0x9E3779B97F4A7C15L + s * 1_000_003L + micro);
        int w = opt.seqLen() + 1;
        for (int b = 0; b < opt.batch(); b++) {
            int startAt = rnd.nextInt(train.length - w + 1);
            System.arraycopy(train, startAt, window, b * w, w);
            if (bosToken >= 0) {
                window[b * w] = bosToken;
            }
        }
    }

    private static double globalNorm(float[] g) {
        double s = 0;
        for (float x : g) {
            s += (double) x * x;
        }
        return Math.sqrt(s);
    }

    private void adamw(double lr) {
        double b1 = opt.beta1();
        double b2 = opt.beta2();
        double c1 = 1 - Math.pow(b1, step + 1);
        double c2 = 1 - Math.pow(b2, step + 1);
        for (ParamLayout.Entry e : layout.entries()) {
            double wd = e.role() == ParamLayout.Role.NORM ? 0 : opt.weightDecay();
            for (int i = e.offset(); i < e.offset() + e.size(); i++) {
                double g = grad[i];
                double m = b1 * adamM[i] + (1 - b1) * g;
                double v = b2 * adamV[i] + (1 - b2) * g * g;
                adamM[i] = (float) m;
                adamV[i] = (float) v;
                double update = (m / c1) / (Math.sqrt(v / c2) + opt.adamEps());
                params[i] = (float) (params[i] - lr * (update + wd * params[i]));
            }
        }
    }

    /**
     * Mean next-token loss over the held-out stream cut into consecutive windows of {@code seqLen + 1} tokens that
     * overlap by one (so every token after the first is scored once), up to {@code evalWindows} windows, in whole
     * batches (a last partial batch is left out unless there is no full one).
     */
    public double evaluate(Parallel par) {
        if (fakeQuant != null) {
            applyFakeQuant();
        }
        TrainModel m = evalModel;
        int windows = (eval.length - 1) / opt.seqLen();
        if (opt.evalWindows() > 0) {
            windows = Math.min(windows, opt.evalWindows());
        }
        if (windows < m.batch()) {
            m = new TrainModel(arch, Math.max(1, windows), opt.seqLen(), model.activationQuant());
        }
        return meanLoss(par, m, effective, eval, opt.seqLen(), windows);
    }

    /** Mean next-token loss of {@code weights} over whole batches of windows of {@code tokens}; NaN if too short. */
    static double meanLoss(Parallel par, TrainModel m, float[] weights, int[] tokens, int seqLen, int maxWindows) {
        int batch = m.batch();
        int windows = Math.min((tokens.length - 1) / seqLen, maxWindows) / batch * batch;
        int[] buf = new int[batch * (seqLen + 1)];
        double sum = 0;
        long n = 0;
        for (int w0 = 0; w0 < windows; w0 += batch) {
            for (int b = 0; b < batch; b++) {
                System.arraycopy(tokens, (w0 + b) * seqLen, buf, b * (seqLen + 1), seqLen + 1);
            }
            sum += m.forward(par, weights, buf, 0) * batch * seqLen;
            n += (long) batch * seqLen;
        }
        return n == 0 ? Double.NaN : sum / n;
    }

    /** Writes the CSV header and then one line per step. */
    public static Listener csvLog(Writer out) throws IOException {
        out.write(StepLog.csvHeader());
        out.write('\n');
        return log -> {
            out.write(log.csv());
            out.write('\n');
            out.flush();
        };
    }
}
