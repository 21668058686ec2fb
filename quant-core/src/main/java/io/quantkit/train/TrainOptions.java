package io.quantkit.train;

/**
 * Hyper-parameters of a training run. Validated on construction; immutable.
 *
 * @param seed         seeds the initial weights and the choice of training windows
 * @param steps        optimizer steps of the whole run (the cosine schedule ends here)
 * @param batch        sequences per micro-batch
 * @param seqLen       positions per sequence
 * @param accumulation micro-batches whose gradients are averaged before each step
 * @param lr           peak learning rate
 * @param minLr        learning rate at the end of the cosine decay
 * @param warmup       steps of linear warmup from 0 to {@code lr}
 * @param weightDecay  AdamW decoupled weight decay, applied to the embedding, linear and classifier weights only
 * @param beta1        AdamW first-moment decay
 * @param beta2        AdamW second-moment decay
 * @param adamEps      AdamW epsilon
 * @param clip         largest global gradient L2 norm (0 = no clipping)
 * @param evalEvery    evaluate on held-out text every this many steps (0 = only at the end)
 * @param evalWindows  held-out windows of {@code seqLen + 1} tokens per evaluation (0 = all)
 */
public record TrainOptions(long seed, int steps, int batch, int seqLen, int accumulation, float lr, float minLr, int warmup,
                           float weightDecay, float beta1, float beta2, float adamEps, float clip, int evalEvery,
                           int evalWindows) {

    /** Most steps accepted. */
    public static final int MAX_STEPS = 100_000_000;

    public TrainOptions {
        if (steps < 1 || steps > MAX_STEPS) {
            throw new IllegalArgumentException("steps (" + steps + ") must be between 1 and " + MAX_STEPS);
        }
        if (batch < 1 || seqLen < 1 || accumulation < 1) {
            throw new IllegalArgumentException("batch (" + batch + "), sequence length (" + seqLen
                    + ") and accumulation (" + accumulation + ") must be at least 1");
        }
        if (!(lr > 0) || !(minLr >= 0) || minLr > lr) {
            throw new IllegalArgumentException("learning rates must satisfy 0 <= min_lr (" + minLr + ") <= lr (" + lr
                    + ") and lr > 0");
        }
        if (warmup < 0 || evalEvery < 0 || evalWindows < 0) {
            throw new IllegalArgumentException("warmup (" + warmup + "), eval_every (" + evalEvery + ") and eval_windows ("
                    + evalWindows + ") cannot be negative");
        }
        if (!(weightDecay >= 0) || !(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1) || !(adamEps > 0)
                || !(clip >= 0)) {
            throw new IllegalArgumentException("need weight_decay >= 0, 0 <= beta1, beta2 < 1, eps > 0, clip >= 0");
        }
    }

    /** Defaults close to llama2.c's small-model recipe: lr 1e-3 → 1e-4, warmup 10% , wd 0.1, betas (0.9, 0.95), clip 1. */
    public static TrainOptions defaults(long seed, int steps, int batch, int seqLen) {
        return new TrainOptions(seed, steps, batch, seqLen, 1, 1e-3f, 1e-4f, Math.max(1, steps / 10), 0.1f, 0.9f,
                0.95f, 1e-8f, 1f, 0, 0);
    }

    public TrainOptions withSteps(int s) {
        return new TrainOptions(seed, s, batch, seqLen, accumulation, lr, minLr, warmup, weightDecay, beta1, beta2,
                adamEps, clip, evalEvery, evalWindows);
    }

    public TrainOptions withLr(float peak, float min, int warm) {
        return new TrainOptions(seed, steps, batch, seqLen, accumulation, peak, min, warm, weightDecay, beta1, beta2,
                adamEps, clip, evalEvery, evalWindows);
    }

    public TrainOptions withAccumulation(int a) {
        return new TrainOptions(seed, steps, batch, seqLen, a, lr, minLr, warmup, weightDecay, beta1, beta2,
                adamEps, clip, evalEvery, evalWindows);
    }

    public TrainOptions withEval(int every, int windows) {
        return new TrainOptions(seed, steps, batch, seqLen, accumulation, lr, minLr, warmup, weightDecay, beta1, beta2,
                adamEps, clip, every, windows);
    }

    /** The learning rate of step {@code step} (0-based): linear warmup, then cosine decay to {@code minLr}. */
    public double learningRate(int step) {
        if (step < warmup) {
            return (double) lr * (step + 1) / warmup;
        }
        if (steps <= warmup) {
            return lr;
        }
        double progress = Math.min(1.0, (double) (step - warmup) / (steps - warmup));
        return minLr + 0.5 * (1 + StrictMath.cos(Math.PI * progress)) * (lr - minLr);
    }
}
