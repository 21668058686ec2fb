package io.quantkit.model;

import io.quantkit.model.LlamaWeights.LayerTensor;
import io.quantkit.tensor.Tensor;
import java.util.Objects;

/**
 * A float32 forward pass of a Llama-architecture transformer: token embedding, RMSNorm, RoPE, grouped-query
 * causal attention with a KV cache, SwiGLU feed-forward, tied or separate classifier.
 *
 * <p>Weights are decoded once, through {@link Tensor#dequantize}, so a quantized tensor enters the model exactly
 * as its stored format decodes. Linear weights are kept transposed ({@code [in][out]}) so that the inner loop of
 * a matrix product runs over contiguous outputs, which the JIT vectorizes.
 *
 * <p>A BitNet b1.58 model ({@link LlamaWeights#bitnet()}) also RMS-normalizes the attention output and the SwiGLU
 * output (SubLN, with their own gains) before {@code attn_output} and {@code ffn_down}, and quantizes the input of
 * each block's seven linear layers to 8 bits per token ({@link BitNet#quantizeActivations}); the classifier reads
 * float input.
 *
 * <p>Determinism: every output element is computed by one thread in a fixed order (inputs summed in index
 * order), so logits are bit-identical for any thread count, any chunking of the prompt, and between a
 * token-by-token decode and a whole-prompt pass. The arithmetic is the training model's, operation for operation
 * (RoPE angles from {@link Rope#tables}, {@link DetMath#exp} in the softmax and the SiLU, softmax denominators in
 * double, RMSNorm as {@code (x·inv)·w}, products summed from zero in input order), so a model trained by
 * {@code io.quantkit.train} gives here the logits its training forward pass computed, to the bit.
 *
 * <p>Immutable and thread-safe; the mutable state (KV cache, scratch) lives in a {@link Session}, which one
 * thread uses at a time.
 */
public final class LlamaModel {
    private final LlamaConfig c;
    private final boolean tied;
    private final float[] tokenEmbedding; // [vocab][dim]
    private final float[][] attnNorm;
    private final float[][][] wq; // [layer], transposed: [in][out], one array per input
    private final float[][][] wk;
    private final float[][][] wv;
    private final float[][][] wo;
    private final float[][] ffnNorm;
    private final float[][][] w1;
    private final float[][][] w2;
    private final float[][][] w3;
    private final float[] outputNorm;
    private final float[][] classifier; // transposed: [dim][vocab]
    private final boolean bitnet;
    private final float[][] attnSubNorm; // BitNet SubLN gains, or null
    private final float[][] ffnSubNorm;
    private final String[][] linearNames; // [layer][q, k, v, o, gate, down, up]
    private final String classifierName;
    private final InputQuantizer inputQuantizer; // null: inputs stay float32

    private LlamaModel(LlamaModel m, InputQuantizer q) {
        c = m.c;
        tied = m.tied;
        tokenEmbedding = m.tokenEmbedding;
        attnNorm = m.attnNorm;
        wq = m.wq;
        wk = m.wk;
        wv = m.wv;
        wo = m.wo;
        ffnNorm = m.ffnNorm;
        w1 = m.w1;
        w2 = m.w2;
        w3 = m.w3;
        outputNorm = m.outputNorm;
        classifier = m.classifier;
        bitnet = m.bitnet;
        attnSubNorm = m.attnSubNorm;
        ffnSubNorm = m.ffnSubNorm;
        linearNames = m.linearNames;
        classifierName = m.classifierName;
        inputQuantizer = q;
    }

    private LlamaModel(LlamaWeights w) {
        this.c = w.config();
        int layers = c.layers();
        this.tied = w.tiedClassifier();
        this.tokenEmbedding = w.tensor(LlamaWeights.TOKEN_EMBD).toFloatArray();
        attnNorm = new float[layers][];
        wq = new float[layers][][];
        wk = new float[layers][][];
        wv = new float[layers][][];
        wo = new float[layers][][];
        ffnNorm = new float[layers][];
        w1 = new float[layers][][];
        w2 = new float[layers][][];
        w3 = new float[layers][][];
        for (int l = 0; l < layers; l++) {
            attnNorm[l] = w.tensor(LayerTensor.ATTN_NORM.name(l)).toFloatArray();
            wq[l] = transposed(w.tensor(LayerTensor.ATTN_Q.name(l)));
            wk[l] = transposed(w.tensor(LayerTensor.ATTN_K.name(l)));
            wv[l] = transposed(w.tensor(LayerTensor.ATTN_V.name(l)));
            wo[l] = transposed(w.tensor(LayerTensor.ATTN_OUTPUT.name(l)));
            ffnNorm[l] = w.tensor(LayerTensor.FFN_NORM.name(l)).toFloatArray();
            w1[l] = transposed(w.tensor(LayerTensor.FFN_GATE.name(l)));
            w2[l] = transposed(w.tensor(LayerTensor.FFN_DOWN.name(l)));
            w3[l] = transposed(w.tensor(LayerTensor.FFN_UP.name(l)));
        }
        outputNorm = w.tensor(LlamaWeights.OUTPUT_NORM).toFloatArray();
        classifier = transposed(w.tensor(tied ? LlamaWeights.TOKEN_EMBD : LlamaWeights.OUTPUT));
        linearNames = new String[layers][];
        for (int l = 0; l < layers; l++) {
            linearNames[l] = new String[] {LayerTensor.ATTN_Q.name(l), LayerTensor.ATTN_K.name(l),
                LayerTensor.ATTN_V.name(l), LayerTensor.ATTN_OUTPUT.name(l), LayerTensor.FFN_GATE.name(l),
                LayerTensor.FFN_DOWN.name(l), LayerTensor.FFN_UP.name(l)};
        }
        classifierName = tied ? LlamaWeights.TOKEN_EMBD : LlamaWeights.OUTPUT;
        inputQuantizer = null;
        bitnet = w.bitnet();
        attnSubNorm = bitnet ? new float[layers][] : null;
        ffnSubNorm = bitnet ? new float[layers][] : null;
        for (int l = 0; bitnet && l < layers; l++) {
            attnSubNorm[l] = w.tensor(LayerTensor.ATTN_SUB_NORM.name(l)).toFloatArray();
            ffnSubNorm[l] = w.tensor(LayerTensor.FFN_SUB_NORM.name(l)).toFloatArray();
        }
    }

    /** Builds the model, decoding every tensor of {@code weights} to float32. */
    public static LlamaModel load(LlamaWeights weights) {
        return new LlamaModel(Objects.requireNonNull(weights, "weights"));
    }

    public LlamaConfig config() {
        return c;
    }

    /**
     * The same weights with the input of every linear layer (classifier included) fake-quantized by {@code q}
     * before its product; {@code null} for float32 inputs. The weights are shared, not copied.
     */
    public LlamaModel withInputQuantizer(InputQuantizer q) {
        return new LlamaModel(this, q);
    }

    /** The input quantizer, or null when inputs stay float32. */
    public InputQuantizer inputQuantizer() {
        return inputQuantizer;
    }

    /** Whether this is a BitNet b1.58 model (SubLN, 8-bit inputs of the block's linear layers). */
    public boolean bitnet() {
        return bitnet;
    }

    /** Whether the classifier is the token embedding. */
    public boolean tiedClassifier() {
        return tied;
    }

    /** {@code t [rows][cols]} transposed to one array per column ({@code [cols][rows]}), for {@link Kernels}. */
    private static float[][] transposed(Tensor t) {
        int rows = Math.toIntExact(t.shape().dim(0));
        int cols = Math.toIntExact(t.shape().dim(1));
        float[] src = t.toFloatArray();
        float[][] dst = new float[cols][rows];
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < cols; i++) {
                dst[i][r] = src[r * cols + i];
            }
        }
        return dst;
    }

    /** A session with a KV cache of {@code config().seqLen()} positions, computing on the calling thread. */
    public Session newSession() {
        return new Session(c.seqLen(), ThreadPool.SEQUENTIAL, null);
    }

    /** A session with a KV cache of {@code capacity} positions whose matrix products run on {@code pool}. */
    public Session newSession(int capacity, ThreadPool pool) {
        if (capacity < 1 || capacity > LlamaConfig.MAX_SIZE) {
            throw new IllegalArgumentException("KV cache capacity (" + capacity + ") must be in 1.."
                    + LlamaConfig.MAX_SIZE);
        }
        return new Session(capacity, Objects.requireNonNull(pool, "pool"), null);
    }

    /**
     * As {@link #newSession(int, ThreadPool)}, reporting the input of every linear layer to {@code observer}
     * (on the thread that drives the session).
     */
    public Session newSession(int capacity, ThreadPool pool, ActivationObserver observer) {
        Session s = newSession(capacity, pool);
        s.observer = Objects.requireNonNull(observer, "observer");
        return s;
    }

    /**
     * The KV cache and scratch buffers of one sequence being processed. Not thread-safe: one thread drives a
     * session (its matrix products may use the session's pool).
     */
    public final class Session {
        private final int capacity;
        private final ThreadPool pool;
        private ActivationObserver observer; // null: none (set once, by newSession)
        private final float[][] keys;   // [layer][(kvHead * headSize + i) * capacity + pos], transposed
        private final float[][] values; // same layout as keys
        private int pos;
        private int scratchRows = -1;
        private float[] x;
        private float[] xb;
        private float[] q;
        private float[] k;
        private float[] v;
        private float[] att;
        private float[] h1;
        private float[] h3;
        private float[] tmp;
        private float[] xq; // fake-quantized input of the current product
        private float[] xq2; // BitNet input then fake-quantized by the input quantizer
        private float[] ropeCos;
        private float[] ropeSin;

        private Session(int capacity, ThreadPool pool, ActivationObserver observer) {
            this.capacity = capacity;
            this.pool = pool;
            this.observer = observer;
            keys = new float[c.layers()][capacity * c.kvDim()];
            values = new float[c.layers()][capacity * c.kvDim()];
        }

        /** Number of tokens processed so far (the position of the next token). */
        public int position() {
            return pos;
        }

        public int capacity() {
            return capacity;
        }

        /** Forgets every processed token (the cache is overwritten as new tokens arrive). */
        public void reset() {
            pos = 0;
        }

        /** Processes one token and returns the logits of the next token ({@code vocabSize} floats). */
        public float[] next(int token) {
            return forward(new int[] {token}, 0, 1, 0);
        }

        /**
         * Processes {@code tokens[off .. off+n)} at the next {@code n} positions and returns the next-token logits
         * of positions {@code logitsFrom .. n-1} of the chunk, row after row ({@code (n - logitsFrom) * vocab}
         * floats). Rows before {@code logitsFrom} skip the classifier.
         */
        public float[] forward(int[] tokens, int off, int n, int logitsFrom) {
            Objects.checkFromIndexSize(off, n, tokens.length);
            if (n < 1) {
                throw new IllegalArgumentException("need at least one token, got " + n);
            }
            if (logitsFrom < 0 || logitsFrom > n) {
                throw new IllegalArgumentException("logitsFrom (" + logitsFrom + ") must be in 0.." + n);
            }
            if (pos + n > capacity) {
                throw new IllegalArgumentException("sequence length (" + (pos + n) + ") exceeds the KV cache capacity ("
                        + capacity + ")");
            }
            for (int r = 0; r < n; r++) {
                int t = tokens[off + r];
                if (t < 0 || t >= c.vocabSize()) {
                    throw new IllegalArgumentException("token id (" + t + ") is outside the vocabulary 0.."
                            + (c.vocabSize() - 1));
                }
            }
            ensureScratch(n);
            int dim = c.dim();
            for (int r = 0; r < n; r++) {
                System.arraycopy(tokenEmbedding, tokens[off + r] * dim, x, r * dim, dim);
            }
            ropeTables(n);
            for (int l = 0; l < c.layers(); l++) {
                layer(l, n);
            }
            pos += n;
            int m = n - logitsFrom;
            float[] logits = new float[m * c.vocabSize()];
            if (m > 0) {
                rmsNorm(x, logitsFrom * dim, xb, 0, outputNorm, m, dim, c.normEps());
                matmul(input(classifierName, xb, m, dim), m, dim, classifier, c.vocabSize(), logits);
            }
            return logits;
        }

        private void ensureScratch(int n) {
            if (n <= scratchRows) {
                return;
            }
            int rows = Math.max(n, Math.min(capacity, 16));
            x = new float[rows * c.dim()];
            xb = new float[rows * c.dim()];
            q = new float[rows * c.dim()];
            k = new float[rows * c.kvDim()];
            v = new float[rows * c.kvDim()];
            att = new float[rows * c.dim()];
            h1 = new float[rows * c.hiddenDim()];
            h3 = new float[rows * c.hiddenDim()];
            tmp = new float[rows * Math.max(c.dim(), c.hiddenDim())];
            int wide = rows * Math.max(c.dim(), c.hiddenDim());
            xq = inputQuantizer == null && !bitnet ? null : new float[wide];
            xq2 = inputQuantizer != null && bitnet ? new float[wide] : null;
            ropeCos = new float[rows * (c.headSize() / 2)];
            ropeSin = new float[rows * (c.headSize() / 2)];
            scratchRows = rows;
        }

        private void ropeTables(int n) {
            Rope.tables(pos, n, c.headSize(), c.ropeTheta(), ropeCos, ropeSin);
        }

        private void layer(int l, int n) {
            int dim = c.dim();
            int kvDim = c.kvDim();
            rmsNorm(x, 0, xb, 0, attnNorm[l], n, dim, c.normEps());
            String[] names = linearNames[l];
            matmul(input(names[0], xb, n, dim), n, dim, wq[l], dim, q);
            matmul(input(names[1], xb, n, dim), n, dim, wk[l], kvDim, k);
            matmul(input(names[2], xb, n, dim), n, dim, wv[l], kvDim, v);
            rope(q, n, c.heads());
            rope(k, n, c.kvHeads());
            for (int r = 0; r < n; r++) {
                int p = pos + r;
                for (int j = 0; j < kvDim; j++) {
                    keys[l][j * capacity + p] = k[r * kvDim + j];
                    values[l][j * capacity + p] = v[r * kvDim + j];
                }
            }
            attention(l, n);
            float[] attIn = att;
            if (bitnet) { // SubLN; xb (the normalized block input) is no longer needed
                rmsNorm(att, 0, xb, 0, attnSubNorm[l], n, dim, c.normEps());
                attIn = xb;
            }
            matmul(input(names[3], attIn, n, dim), n, dim, wo[l], dim, tmp);
            addInPlace(x, tmp, n * dim);
            rmsNorm(x, 0, xb, 0, ffnNorm[l], n, dim, c.normEps());
            int hidden = c.hiddenDim();
            matmul(input(names[4], xb, n, dim), n, dim, w1[l], hidden, h1);
            matmul(input(names[6], xb, n, dim), n, dim, w3[l], hidden, h3);
            for (int i = 0; i < n * hidden; i++) {
                float g = h1[i];
                h1[i] = g * DetMath.sigmoid(g) * h3[i];
            }
            float[] downIn = h1;
            if (bitnet) { // SubLN into h3, which the product above has consumed
                rmsNorm(h1, 0, h3, 0, ffnSubNorm[l], n, hidden, c.normEps());
                downIn = h3;
            }
            matmul(input(names[5], downIn, n, hidden), n, hidden, w2[l], dim, tmp);
            addInPlace(x, tmp, n * dim);
        }

        private void rope(float[] a, int n, int heads) {
            int hs = c.headSize();
            int half = hs / 2;
            for (int r = 0; r < n; r++) {
                for (int h = 0; h < heads; h++) {
                    rotate(a, (r * heads + h) * hs, hs, ropeCos, ropeSin, r * half, c.rope());
                }
            }
        }

        private void attention(int l, int n) {
            int heads = c.heads();
            int hs = c.headSize();
            int group = heads / c.kvHeads();
            float scale = (float) (1.0 / Math.sqrt(hs));
            float[] kc = keys[l];
            float[] vc = values[l];
            int dim = c.dim();
            int start = pos;
            int cap = capacity;
            pool.forRange(n * heads, Math.max(1, 4096 / Math.max(1, (start + n) * hs)), (from, to) -> {
                float[] scores = new float[start + n];
                for (int item = from; item < to; item++) {
                    int r = item / heads;
                    int h = item % heads;
                    int qo = r * dim + h * hs;
                    int kvBase = (h / group) * hs;
                    int len = start + r + 1; // causal: attend to positions 0..start+r
                    // scores[t] = q . k_t, summed over i in order; the loop over t is an axpy the JIT vectorizes
                    for (int t = 0; t < len; t++) {
                        scores[t] = 0f;
                    }
                    for (int i = 0; i < hs; i++) {
                        float qi = q[qo + i];
                        int kb = (kvBase + i) * cap;
                        for (int t = 0; t < len; t++) {
                            scores[t] += qi * kc[kb + t];
                        }
                    }
                    float max = Float.NEGATIVE_INFINITY;
                    for (int t = 0; t < len; t++) {
                        float sc = scores[t] * scale;
                        scores[t] = sc;
                        max = Math.max(max, sc);
                    }
                    double sum = 0;
                    for (int t = 0; t < len; t++) {
                        float e = (float) DetMath.exp(scores[t] - max);
                        scores[t] = e;
                        sum += e;
                    }
                    float inv = (float) (1.0 / sum);
                    for (int t = 0; t < len; t++) {
                        scores[t] *= inv;
                    }
                    int ao = r * dim + h * hs;
                    int i = 0;
                    for (; i + 4 <= hs; i += 4) {
                        int v0 = (kvBase + i) * cap;
                        int v1 = v0 + cap;
                        int v2 = v1 + cap;
                        int v3 = v2 + cap;
                        float s0 = 0f;
                        float s1 = 0f;
                        float s2 = 0f;
                        float s3 = 0f;
                        for (int t = 0; t < len; t++) {
                            float p = scores[t];
                            s0 += p * vc[v0 + t];
                            s1 += p * vc[v1 + t];
                            s2 += p * vc[v2 + t];
                            s3 += p * vc[v3 + t];
                        }
                        att[ao + i] = s0;
                        att[ao + i + 1] = s1;
                        att[ao + i + 2] = s2;
                        att[ao + i + 3] = s3;
                    }
                    for (; i < hs; i++) {
                        int vb = (kvBase + i) * cap;
                        float s0 = 0f;
                        for (int t = 0; t < len; t++) {
                            s0 += scores[t] * vc[vb + t];
                        }
                        att[ao + i] = s0;
                    }
                }
            });
        }

        /**
         * Reports a linear layer's input to the observer, then returns it quantized: a BitNet model's 8-bit inputs
         * (block layers only), then the input quantizer's fake quantization, or as it is.
         */
        private float[] input(String tensor, float[] xs, int n, int width) {
            if (observer != null) {
                observer.linearInput(tensor, xs, n, width);
            }
            float[] in = xs;
            if (bitnet && !tensor.equals(classifierName)) {
                for (int r = 0; r < n; r++) {
                    BitNet.quantizeActivations(xs, xq, r * width, width);
                }
                in = xq;
            }
            if (inputQuantizer == null) {
                return in;
            }
            float[] out = in == xq ? xq2 : xq;
            inputQuantizer.quantize(tensor, in, out, n, width);
            return out;
        }

        /** {@code y[r][o] = sum_i x[r][i] * wT[i][o]} for {@code n} rows; parallel over rows or columns. */
        private void matmul(float[] xs, int n, int in, float[][] wT, int out, float[] y) {
            if (n >= pool.threads() || pool.threads() == 1) {
                int minRows = Math.max(1, (1 << 15) / Math.max(1, in * out));
                pool.forRange(n, minRows, (from, to) -> Kernels.matmul(xs, in, wT, out, y, from, to, 0, out));
            } else {
                int minCols = Math.max(16, (1 << 15) / Math.max(1, in * n));
                pool.forRange(out, minCols, (from, to) -> Kernels.matmul(xs, in, wT, out, y, 0, n, from, to));
            }
        }
    }

    private static void addInPlace(float[] dst, float[] src, int len) {
        for (int i = 0; i < len; i++) {
            dst[i] += src[i];
        }
    }

    /**
     * Rotates one head of {@code hs} values at {@code a[base..]} by RoPE: pair {@code j} (chosen by {@code style})
     * turns by the angle whose cosine and sine are {@code cos[csOff + j]}, {@code sin[csOff + j]}.
     */
    static void rotate(float[] a, int base, int hs, float[] cos, float[] sin, int csOff, RopeStyle style) {
        int half = hs / 2;
        for (int j = 0; j < half; j++) {
            float cj = cos[csOff + j];
            float sj = sin[csOff + j];
            int i0 = style == RopeStyle.ADJACENT_PAIRS ? base + 2 * j : base + j;
            int i1 = style == RopeStyle.ADJACENT_PAIRS ? i0 + 1 : i0 + half;
            float a0 = a[i0];
            float a1 = a[i1];
            a[i0] = a0 * cj - a1 * sj;
            a[i1] = a0 * sj + a1 * cj;
        }
    }

    /**
     * RMSNorm of {@code rows} rows of width {@code dim}: {@code out = w * x / sqrt(mean(x^2) + eps)}. The mean of
     * squares is accumulated in double.
     */
    static void rmsNorm(float[] x, int xOff, float[] out, int outOff, float[] w, int rows, int dim, float eps) {
        for (int r = 0; r < rows; r++) {
            int xo = xOff + r * dim;
            int oo = outOff + r * dim;
            double ss = 0;
            for (int i = 0; i < dim; i++) {
                ss += (double) x[xo + i] * x[xo + i];
            }
            float inv = (float) (1.0 / Math.sqrt(ss / dim + eps));
            for (int i = 0; i < dim; i++) {
                out[oo + i] = w[i] * (inv * x[xo + i]);
            }
        }
    }
}
