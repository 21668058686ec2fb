package io.quantkit.train;

import io.quantkit.model.DetMath;
import java.util.Arrays;

/**
 * A Llama-architecture model for training: a full-sequence forward pass that keeps every activation the
 * backward pass needs, and the hand-written backward pass. Float32 throughout (sums of squares and softmax
 * denominators in double).
 *
 * <p>One instance is a workspace for batches of {@code batch} sequences of {@code seqLen} positions; the
 * parameters and gradients live in flat arrays laid out by {@link ParamLayout}. The linear layers' inputs can be
 * fake-quantized ({@link ActivationQuant}); weights are fake-quantized by the caller before the forward pass
 * (see {@link FakeQuant}). Not thread-safe; results are identical for any {@link Parallel} thread count.
 *
 * <p>Block {@code l}: {@code x1 = x0 + Wo·attn(rope(Wq·n1), rope(Wk·n1), Wv·n1)} with {@code n1 = rmsnorm(x0)};
 * {@code x2 = x1 + W2·(silu(W1·n2) ⊙ W3·n2)} with {@code n2 = rmsnorm(x1)}. Then {@code logits = Wcls·rmsnorm(x)} and
 * the loss is the mean softmax cross-entropy of the next token.
 *
 * <p>With {@link Architecture#subNorms()} (BitNet's SubLN) the attention output and the SwiGLU output are each
 * RMS-normalized (with their own gains) before {@code Wo} and {@code W2}: {@code x1 = x0 + Wo·rmsnorm(attn(…))},
 * {@code x2 = x1 + W2·rmsnorm(silu(W1·n2) ⊙ W3·n2)}.
 */
public final class TrainModel {
    /** Largest distillation temperature accepted. */
    public static final float MAX_TEMPERATURE = 100f;
    /** Largest hidden-state distillation weight accepted. */
    public static final float MAX_HIDDEN_WEIGHT = 1000f;

    private final Architecture arch;
    private final ParamLayout layout;
    private final int batch;
    private final int seqLen;
    private final int rows;
    private final ActivationQuant actQuant;
    private final float[] ropeCos;
    private final float[] ropeSin;

    // activations, per layer
    private final float[][] x0;   // block input (x0[L] = final residual stream)
    private final float[][] n1;   // attention-norm output, after activation fake-quant
    private final float[][] q;    // after RoPE
    private final float[][] k;    // after RoPE
    private final float[][] v;
    private final float[][] probs;
    private final float[][] ao;   // attention output, after activation fake-quant
    private final float[][] xm;   // residual stream between attention and FFN
    private final float[][] n2;   // ffn-norm output, after activation fake-quant
    private final float[][] a;    // W1·n2
    private final float[][] c;    // W3·n2
    private final float[][] sg;   // sigmoid(a)
    private final float[][] hq;   // silu(a)·c, after activation fake-quant
    private final float[][] inv1;
    private final float[][] aoRaw; // attention output before SubLN (subNorms only)
    private final float[][] hRaw;  // SwiGLU output before SubLN (subNorms only)
    private final float[][] invA;
    private final float[][] invH;
    private final float[][] inv2;
    private final float[] nf;
    private final float[] invf;
    private final float[] logits;
    private final double[] rowLoss;
    private final int[] inputs;
    private final int[] targets;
    private boolean haveForward;
    private float[] softTargets; // distillation targets [rows, vocab], or null
    private float softWeight;
    private float softTemperature = 1f;
    private float[] softScratch; // the student's softmax at the distillation temperature (allocated when T ≠ 1)
    private float[][] hiddenTargets; // a teacher's residual streams (its hiddenStates()), or null
    private float hiddenWeight;

    // backward scratch
    private final float[] dx;
    private final float[] dn;
    private final float[] dq;
    private final float[] dk;
    private final float[] dv;
    private final float[] dao;
    private final float[] da;
    private final float[] dc;
    private final float[] dh;
    private final float[] daoRaw;
    private final float[] dhRaw;
    private final float[] dlogits;
    private final float[] tmp;

    /** A workspace for {@code batch} sequences of {@code seqLen} tokens (at most the architecture's seq_len). */
    public TrainModel(Architecture arch, int batch, int seqLen, ActivationQuant actQuant) {
        if (batch < 1 || seqLen < 1) {
            throw new IllegalArgumentException("batch (" + batch + ") and sequence length (" + seqLen + ") must be positive");
        }
        if (seqLen > arch.seqLen()) {
            throw new IllegalArgumentException("sequence length (" + seqLen + ") exceeds the maximum (" + arch.seqLen() + ")");
        }
        long r = (long) batch * seqLen;
        long biggest = Math.max(r * Math.max(arch.vocabSize(), arch.hiddenDim()), (long) batch * arch.nHeads() * seqLen * seqLen);
        if (biggest > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("batch (" + batch + ") x sequence (" + seqLen + ") needs arrays of "
                    + biggest + " floats, more than the maximum (" + (Integer.MAX_VALUE - 8) + ")");
        }
        this.arch = arch;
        this.layout = new ParamLayout(arch);
        this.batch = batch;
        this.seqLen = seqLen;
        this.rows = (int) r;
        this.actQuant = actQuant;
        float[][] rope = Ops.ropeTables(seqLen, arch.headSize(), arch.ropeTheta());
        this.ropeCos = rope[0];
        this.ropeSin = rope[1];
        int L = arch.nLayers();
        int d = arch.dim();
        int kv = arch.kvDim();
        int hid = arch.hiddenDim();
        x0 = new float[L + 1][rows * d];
        n1 = new float[L][rows * d];
        q = new float[L][rows * d];
        k = new float[L][rows * kv];
        v = new float[L][rows * kv];
        probs = new float[L][batch * arch.nHeads() * seqLen * seqLen];
        ao = new float[L][rows * d];
        xm = new float[L][rows * d];
        n2 = new float[L][rows * d];
        a = new float[L][rows * hid];
        c = new float[L][rows * hid];
        sg = new float[L][rows * hid];
        hq = new float[L][rows * hid];
        inv1 = new float[L][rows];
        boolean sub = arch.subNorms();
        aoRaw = sub ? new float[L][rows * d] : null;
        hRaw = sub ? new float[L][rows * hid] : null;
        invA = sub ? new float[L][rows] : null;
        invH = sub ? new float[L][rows] : null;
        daoRaw = sub ? new float[rows * d] : null;
        dhRaw = sub ? new float[rows * hid] : null;
        inv2 = new float[L][rows];
        nf = new float[rows * d];
        invf = new float[rows];
        logits = new float[rows * arch.vocabSize()];
        rowLoss = new double[rows];
        inputs = new int[rows];
        targets = new int[rows];
        dx = new float[rows * d];
        dn = new float[rows * d];
        dq = new float[rows * d];
        dk = new float[rows * kv];
        dv = new float[rows * kv];
        dao = new float[rows * d];
        da = new float[rows * hid];
        dc = new float[rows * hid];
        dh = new float[rows * hid];
        dlogits = new float[rows * arch.vocabSize()];
        tmp = new float[rows * Math.max(d, hid)];
    }

    public Architecture architecture() {
        return arch;
    }

    public ParamLayout layout() {
        return layout;
    }

    public int batch() {
        return batch;
    }

    public int seqLen() {
        return seqLen;
    }

    public ActivationQuant activationQuant() {
        return actQuant;
    }

    /** The logits of the last forward pass, {@code [batch*seqLen, vocab]} (a live view; do not modify). */
    float[] logits() {
        return logits;
    }

    /**
     * Forward pass over {@code batch} windows of {@code seqLen + 1} tokens each, read from {@code tokens} at
     * {@code off} (window {@code b} at {@code off + b*(seqLen+1)}): positions {@code 0..seqLen-1} are the inputs,
     * {@code 1..seqLen} the targets. A negative target is not scored. Returns the mean cross-entropy (nats) over the
     * scored positions (NaN if none).
     */
    public double forward(Parallel par, float[] params, int[] tokens, int off) {
        checkParams(params);
        for (int b = 0; b < batch; b++) {
            for (int s = 0; s < seqLen; s++) {
                inputs[b * seqLen + s] = tokens[off + b * (seqLen + 1) + s];
                targets[b * seqLen + s] = tokens[off + b * (seqLen + 1) + s + 1];
            }
        }
        return forwardRows(par, params);
    }

    /**
     * Forward pass over explicit inputs and targets, each {@code batch * seqLen} ids (row {@code b*seqLen + s} is
     * position {@code s} of sequence {@code b}); a negative target is not scored. Returns the mean cross-entropy over
     * the scored positions (NaN if none).
     */
    public double forward(Parallel par, float[] params, int[] inputIds, int[] targetIds) {
        checkParams(params);
        if (inputIds.length != rows || targetIds.length != rows) {
            throw new IllegalArgumentException("inputs (" + inputIds.length + ") and targets (" + targetIds.length
                    + ") must hold batch x sequence = " + rows + " ids");
        }
        System.arraycopy(inputIds, 0, inputs, 0, rows);
        System.arraycopy(targetIds, 0, targets, 0, rows);
        return forwardRows(par, params);
    }

    /** Sum of the cross-entropy (nats) of the scored positions of the last forward pass, summed in row order. */
    public double lastLossSum() {
        double sum = 0;
        for (int t = 0; t < rows; t++) {
            if (targets[t] >= 0) {
                sum += rowLoss[t];
            }
        }
        return sum;
    }

    /** The cross-entropy of row {@code t} of the last forward pass (0 where the target was not scored). */
    public double lastRowLoss(int t) {
        return rowLoss[t];
    }

    private double forwardRows(Parallel par, float[] params) {
        int V = arch.vocabSize();
        for (int t = 0; t < rows; t++) {
            if (inputs[t] < 0 || inputs[t] >= V) {
                throw new IllegalArgumentException("token id (" + inputs[t] + ") is outside the vocabulary [0, " + V + ")");
            }
            if (targets[t] >= V) {
                throw new IllegalArgumentException("token id (" + targets[t] + ") is outside the vocabulary [0, " + V + ")");
            }
        }
        int d = arch.dim();
        int kv = arch.kvDim();
        int hid = arch.hiddenDim();
        int hs = arch.headSize();
        ParamLayout lay = layout;
        // embedding
        for (int t = 0; t < rows; t++) {
            System.arraycopy(params, lay.tokEmb + inputs[t] * d, x0[0], t * d, d);
        }
        for (int l = 0; l < arch.nLayers(); l++) {
            float[] xin = x0[l];
            Ops.rmsnorm(par, n1[l], xin, params, lay.rmsAtt[l], inv1[l], rows, d, arch.normEps());
            quantizeRows(par, n1[l], n1[l], d);
            linear(par, q[l], n1[l], params, lay.wq[l], d, d);
            linear(par, k[l], n1[l], params, lay.wk[l], kv, d);
            linear(par, v[l], n1[l], params, lay.wv[l], kv, d);
            Ops.rope(par, q[l], rows, d, hs, seqLen, ropeCos, ropeSin, false);
            Ops.rope(par, k[l], rows, kv, hs, seqLen, ropeCos, ropeSin, false);
            if (arch.subNorms()) {
                Ops.attention(par, aoRaw[l], probs[l], q[l], k[l], v[l], batch, seqLen, arch.nHeads(), arch.nKvHeads(), hs);
                Ops.rmsnorm(par, ao[l], aoRaw[l], params, lay.subAtt[l], invA[l], rows, d, arch.normEps());
            } else {
                Ops.attention(par, ao[l], probs[l], q[l], k[l], v[l], batch, seqLen, arch.nHeads(), arch.nKvHeads(), hs);
            }
            quantizeRows(par, ao[l], ao[l], d);
            float[] x1 = xm[l];
            linear(par, x1, ao[l], params, lay.wo[l], d, d);
            for (int i = 0; i < rows * d; i++) {
                x1[i] += xin[i];
            }
            Ops.rmsnorm(par, n2[l], x1, params, lay.rmsFfn[l], inv2[l], rows, d, arch.normEps());
            quantizeRows(par, n2[l], n2[l], d);
            linear(par, a[l], n2[l], params, lay.w1[l], hid, d);
            linear(par, c[l], n2[l], params, lay.w3[l], hid, d);
            if (arch.subNorms()) {
                Ops.swiglu(par, hRaw[l], a[l], c[l], sg[l], rows * hid);
                Ops.rmsnorm(par, hq[l], hRaw[l], params, lay.subFfn[l], invH[l], rows, hid, arch.normEps());
            } else {
                Ops.swiglu(par, hq[l], a[l], c[l], sg[l], rows * hid);
            }
            quantizeRows(par, hq[l], hq[l], hid);
            float[] x2 = x0[l + 1];
            linear(par, x2, hq[l], params, lay.w2[l], d, hid);
            for (int i = 0; i < rows * d; i++) {
                x2[i] += x1[i];
            }
        }
        Ops.rmsnorm(par, nf, x0[arch.nLayers()], params, lay.rmsFinal, invf, rows, d, arch.normEps());
        linear(par, logits, nf, params, lay.wcls, V, d);
        Ops.crossEntropy(par, logits, targets, 0, rows, V, rowLoss, null, 0f);
        haveForward = true;
        double sum = 0;
        int n = 0;
        for (int t = 0; t < rows; t++) {
            if (targets[t] >= 0) {
                sum += rowLoss[t];
                n++;
            }
        }
        return n == 0 ? Double.NaN : sum / n;
    }

    /**
     * Distillation: from now on {@link #backward} takes the gradient of the cross-entropy against the target
     * distribution {@code (1 − alpha)·onehot(label) + alpha·probs} instead of the label alone ({@code probs}: one
     * probability row per position, {@code [batch*seqLen, vocab]}, e.g. a teacher's {@link #probabilities}; read, not
     * copied, at each backward pass). {@code probs = null} returns to plain labels. The loss {@link #forward} reports
     * stays the label's cross-entropy. Same as {@link #distill(float[], float, float)} at temperature 1.
     */
    public void distill(float[] probs, float alpha) {
        distill(probs, alpha, 1f);
    }

    /**
     * Distillation at temperature {@code T} (Hinton et al. 2015): the loss whose gradient {@link #backward} takes is
     * <pre>
     *   (1 − α)·CE(label, softmax(z)) + α·T²·CE(probs, softmax(z / T))
     * </pre>
     * per scored position, with {@code probs} the teacher's distribution at the same temperature
     * ({@link #probabilities(Parallel, float[], float)}); the soft part's gradient with respect to the logits is
     * {@code α·T·(softmax(z/T) − probs)}, so {@code T²} keeps its size comparable across temperatures. {@code T = 1}
     * is {@link #distill(float[], float)}.
     */
    public void distill(float[] probs, float alpha, float temperature) {
        if (probs != null && probs.length != rows * arch.vocabSize()) {
            throw new IllegalArgumentException("distillation targets have " + probs.length + " values, not rows x vocab = "
                    + (long) rows * arch.vocabSize());
        }
        if (!(alpha >= 0 && alpha <= 1)) {
            throw new IllegalArgumentException("distillation weight (" + alpha + ") must lie in [0, 1]");
        }
        checkTemperature(temperature);
        this.softTargets = probs;
        this.softWeight = alpha;
        this.softTemperature = temperature;
    }

    /**
     * Hidden-state distillation: from now on {@link #backward} also takes the gradient of
     * <pre>
     *   β · (1/L) · Σ_{l=1..L} Σ_{t,j} (x_l[t,j] − x̂_l[t,j])² / Σ_{t,j} x̂_l[t,j]²
     * </pre>
     * the mean over the {@code L} blocks of the relative squared error between this model's residual stream after
     * block {@code l} ({@code x_l}, the input of block {@code l + 1} or of the final norm) and the target's
     * {@code x̂_l}, over every row of the batch (scored or not); the denominator is the target's, a constant. {@code
     * targets} are the residual streams of another workspace of the same shape ({@link #hiddenStates}, e.g. the
     * float teacher's after its forward pass on the same windows; read, not copied, at each backward pass); null or
     * {@code beta = 0} turns it off. A layer whose target is all zeros adds nothing, nor does a batch with no scored position. The loss {@link #forward}
     * reports stays the label's cross-entropy.
     */
    public void distillHidden(float[][] targets, float beta) {
        if (!(beta >= 0 && beta <= MAX_HIDDEN_WEIGHT)) {
            throw new IllegalArgumentException("hidden-state distillation weight (" + beta + ") must lie in [0, "
                    + MAX_HIDDEN_WEIGHT + "]");
        }
        if (targets != null) {
            if (targets.length != arch.nLayers() + 1) {
                throw new IllegalArgumentException("hidden-state targets have " + targets.length + " layers, not "
                        + (arch.nLayers() + 1));
            }
            for (float[] t : targets) {
                if (t.length != rows * arch.dim()) {
                    throw new IllegalArgumentException("hidden-state targets have " + t.length
                            + " values per layer, not rows x dim = " + (long) rows * arch.dim());
                }
            }
        }
        this.hiddenTargets = beta == 0 ? null : targets;
        this.hiddenWeight = beta;
    }

    /**
     * The residual streams of the last forward pass (a live view; do not modify): entry {@code l} is the input of
     * block {@code l}, {@code [batch*seqLen, dim]}, entry 0 the embedding and entry {@code L} the input of the final
     * norm.
     */
    float[][] hiddenStates() {
        return x0;
    }

    /** Adds the hidden-state term's gradient with respect to {@code x0[j]} ({@link #distillHidden}) to {@code dx}. */
    private void addHiddenGradient(int j, float gradScale) {
        float[] xs = x0[j];
        float[] xt = hiddenTargets[j];
        int n = rows * arch.dim();
        double energy = 0;
        for (int i = 0; i < n; i++) {
            energy += (double) xt[i] * xt[i];
        }
        if (energy == 0) {
            return;
        }
        double coef = 2.0 * hiddenWeight * gradScale / (arch.nLayers() * energy);
        for (int i = 0; i < n; i++) {
            dx[i] += (float) (coef * ((double) xs[i] - xt[i]));
        }
    }

    private float[] softScratch() {
        if (softScratch == null) {
            softScratch = new float[rows * arch.vocabSize()];
        }
        return softScratch;
    }

    static void checkTemperature(float temperature) {
        if (!(temperature > 0 && temperature <= MAX_TEMPERATURE)) {
            throw new IllegalArgumentException("distillation temperature (" + temperature + ") must lie in (0, "
                    + MAX_TEMPERATURE + "]");
        }
    }

    /** Writes the softmax of the last forward pass's logits to {@code out} ({@code [batch*seqLen, vocab]}). */
    public void probabilities(Parallel par, float[] out) {
        probabilities(par, out, 1f);
    }

    /**
     * Writes {@code softmax(logits / T)} of the last forward pass to {@code out} ({@code [batch*seqLen, vocab]});
     * {@code T = 1} gives exactly {@link #probabilities(Parallel, float[])}.
     */
    public void probabilities(Parallel par, float[] out, float temperature) {
        if (!haveForward) {
            throw new IllegalStateException("probabilities need a forward pass first");
        }
        checkTemperature(temperature);
        softmaxRows(par, logits, out, temperature);
    }

    /** {@code out[r] = softmax(z[r] / T)} per row of the vocabulary, sums in double; {@code T = 1} divides by nothing. */
    private void softmaxRows(Parallel par, float[] z, float[] out, float temperature) {
        int V = arch.vocabSize();
        boolean unit = temperature == 1f;
        par.forRange(rows, 2L * V, (from, to) -> {
            for (int t = from; t < to; t++) {
                int r = t * V;
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < V; j++) {
                    max = Math.max(max, z[r + j]);
                }
                double sum = 0;
                for (int j = 0; j < V; j++) {
                    sum += DetMath.exp(unit ? z[r + j] - max : (z[r + j] - max) / temperature);
                }
                double inv = 1.0 / sum;
                for (int j = 0; j < V; j++) {
                    out[r + j] = (float) (DetMath.exp(unit ? z[r + j] - max : (z[r + j] - max) / temperature) * inv);
                }
            }
        });
    }

    /**
     * Backward pass of the last {@link #forward}: adds {@code gradScale · ∂(mean loss)/∂θ} into {@code grad} (the
     * same layout as {@code params}, which must be the array the forward pass used). Gradients reaching a
     * fake-quantized activation pass straight through to its input.
     */
    public void backward(Parallel par, float[] params, float[] grad, float gradScale) {
        if (!haveForward) {
            throw new IllegalStateException("backward needs a forward pass first");
        }
        checkParams(params);
        checkParams(grad);
        int d = arch.dim();
        int kv = arch.kvDim();
        int hid = arch.hiddenDim();
        int hs = arch.headSize();
        int V = arch.vocabSize();
        ParamLayout lay = layout;
        int scored = 0;
        for (int t = 0; t < rows; t++) {
            if (targets[t] >= 0) {
                scored++;
            }
        }
        if (scored == 0) {
            return;
        }
        Ops.crossEntropy(par, logits, targets, 0, rows, V, rowLoss, dlogits, gradScale / scored);
        if (softTargets != null && softTemperature != 1f) {
            // (1 − α)·s·(q − onehot) + α·s·T·(q_T − p): the hard part scaled down, the soft part at temperature T
            float hard = 1 - softWeight;
            float as = softWeight * softTemperature * gradScale / scored;
            float[] p = softTargets;
            float[] qT = softScratch();
            softmaxRows(par, logits, qT, softTemperature);
            par.forRange(rows, V, (from, to) -> {
                for (int t = from; t < to; t++) {
                    if (targets[t] < 0) {
                        continue;
                    }
                    int r = t * V;
                    for (int j = 0; j < V; j++) {
                        dlogits[r + j] = hard * dlogits[r + j] + as * (qT[r + j] - p[r + j]);
                    }
                }
            });
        } else if (softTargets != null) {
            // target distribution (1 − α)·onehot + α·p: add α·s·(onehot − p) to the hard-label gradient s·(q − onehot)
            float as = softWeight * gradScale / scored;
            float[] p = softTargets;
            par.forRange(rows, V, (from, to) -> {
                for (int t = from; t < to; t++) {
                    if (targets[t] < 0) {
                        continue;
                    }
                    int r = t * V;
                    for (int j = 0; j < V; j++) {
                        dlogits[r + j] -= as * p[r + j];
                    }
                    dlogits[r + targets[t]] += as;
                }
            });
        }
        Ops.linearBackwardWeight(par, grad, lay.wcls, dlogits, 0, nf, 0, rows, d, V);
        Arrays.fill(dn, 0f);
        Ops.linearBackwardInput(par, dn, 0, dlogits, 0, params, lay.wcls, rows, d, V);
        Arrays.fill(dx, 0f);
        Ops.rmsnormBackward(par, dx, dn, x0[arch.nLayers()], params, lay.rmsFinal, invf, grad, lay.rmsFinal, rows, d);
        for (int l = arch.nLayers() - 1; l >= 0; l--) {
            if (hiddenTargets != null) {
                addHiddenGradient(l + 1, gradScale); // dx is ∂/∂x0[l + 1] here
            }
            // x2 = xm + W2·hq
            Arrays.fill(dh, 0f);
            Ops.linearBackwardInput(par, dh, 0, dx, 0, params, lay.w2[l], rows, hid, d);
            Ops.linearBackwardWeight(par, grad, lay.w2[l], dx, 0, hq[l], 0, rows, hid, d);
            float[] dSwiglu = dh;
            if (arch.subNorms()) {
                Arrays.fill(dhRaw, 0f);
                Ops.rmsnormBackward(par, dhRaw, dh, hRaw[l], params, lay.subFfn[l], invH[l], grad, lay.subFfn[l], rows, hid);
                dSwiglu = dhRaw;
            }
            Ops.swigluBackward(par, da, dc, dSwiglu, a[l], c[l], sg[l], rows * hid);
            Arrays.fill(dn, 0f);
            Ops.linearBackwardInput(par, dn, 0, da, 0, params, lay.w1[l], rows, d, hid);
            Ops.linearBackwardInput(par, dn, 0, dc, 0, params, lay.w3[l], rows, d, hid);
            Ops.linearBackwardWeight(par, grad, lay.w1[l], da, 0, n2[l], 0, rows, d, hid);
            Ops.linearBackwardWeight(par, grad, lay.w3[l], dc, 0, n2[l], 0, rows, d, hid);
            Ops.rmsnormBackward(par, dx, dn, xm[l], params, lay.rmsFfn[l], inv2[l], grad, lay.rmsFfn[l], rows, d);
            // xm = x0 + Wo·ao
            Arrays.fill(dao, 0f);
            Ops.linearBackwardInput(par, dao, 0, dx, 0, params, lay.wo[l], rows, d, d);
            Ops.linearBackwardWeight(par, grad, lay.wo[l], dx, 0, ao[l], 0, rows, d, d);
            Arrays.fill(dq, 0f);
            Arrays.fill(dk, 0f);
            Arrays.fill(dv, 0f);
            float[] dAttn = dao;
            if (arch.subNorms()) {
                Arrays.fill(daoRaw, 0f);
                Ops.rmsnormBackward(par, daoRaw, dao, aoRaw[l], params, lay.subAtt[l], invA[l], grad, lay.subAtt[l], rows, d);
                dAttn = daoRaw;
            }
            Ops.attentionBackward(par, dq, dk, dv, dAttn, probs[l], q[l], k[l], v[l], batch, seqLen, arch.nHeads(),
                    arch.nKvHeads(), hs);
            Ops.rope(par, dq, rows, d, hs, seqLen, ropeCos, ropeSin, true);
            Ops.rope(par, dk, rows, kv, hs, seqLen, ropeCos, ropeSin, true);
            Arrays.fill(dn, 0f);
            Ops.linearBackwardInput(par, dn, 0, dq, 0, params, lay.wq[l], rows, d, d);
            Ops.linearBackwardInput(par, dn, 0, dk, 0, params, lay.wk[l], rows, d, kv);
            Ops.linearBackwardInput(par, dn, 0, dv, 0, params, lay.wv[l], rows, d, kv);
            Ops.linearBackwardWeight(par, grad, lay.wq[l], dq, 0, n1[l], 0, rows, d, d);
            Ops.linearBackwardWeight(par, grad, lay.wk[l], dk, 0, n1[l], 0, rows, d, kv);
            Ops.linearBackwardWeight(par, grad, lay.wv[l], dv, 0, n1[l], 0, rows, d, kv);
            Ops.rmsnormBackward(par, dx, dn, x0[l], params, lay.rmsAtt[l], inv1[l], grad, lay.rmsAtt[l], rows, d);
        }
        for (int t = 0; t < rows; t++) {
            int er = lay.tokEmb + inputs[t] * d;
            int r = t * d;
            for (int j = 0; j < d; j++) {
                grad[er + j] += dx[r + j];
            }
        }
    }

    private void linear(Parallel par, float[] y, float[] x, float[] params, int wOff, int out, int in) {
        Ops.linear(par, y, 0, x, 0, params, wOff, rows, in, out);
    }

    private void quantizeRows(Parallel par, float[] x, float[] y, int width) {
        if (actQuant == ActivationQuant.NONE) {
            if (x != y) {
                System.arraycopy(x, 0, y, 0, rows * width);
            }
            return;
        }
        par.forRange(rows, width, (from, to) -> {
            for (int t = from; t < to; t++) {
                actQuant.applyRow(x, y, t * width, width);
            }
        });
    }

    private void checkParams(float[] p) {
        if (p.length != layout.size()) {
            throw new IllegalArgumentException("parameter array has " + p.length + " floats but the layout needs "
                    + layout.size());
        }
    }
}
