package io.quantkit.train;

import io.quantkit.quant.Codec;
import io.quantkit.quant.Codecs;
import io.quantkit.quant.QuantizedTensor;
import io.quantkit.quant.Scheme;
import io.quantkit.quant.SchemeKind;
import io.quantkit.tensor.FloatTensor;
import io.quantkit.tensor.Shape;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Fake quantization of weights for quantization-aware training. Before each forward pass the selected weights are
 * replaced by {@code dequantize(quantize(W))}; the gradient with respect to those values is handed to the float32
 * master weights unchanged (straight-through estimator, STE) or, with {@link Ste#CLIPPED}, zeroed where the quantizer clamps: where the rounded
 * code {@code round_half_even(w/s) + z} lies outside {@code [qmin, qmax]} (PyTorch's fake-quantize convention).
 *
 * <p>Weights are quantized through {@link Codecs} when the scheme has a codec. Until the integer and ternary codecs
 * exist, those schemes use the built-in grids below, which follow the scheme definitions:
 * <ul>
 *   <li>{@code int:bits=b,group=g,sym}: per group of {@code g} weights along the row ({@code g=0}: the whole row),
 *       {@code s = max|w| / (2^(b-1) − 1)}, {@code q = clamp(round_half_even(w/s), −2^(b-1), 2^(b-1)−1)}; a shorter last group when the row length
 *       is not a multiple of {@code g} (as {@code IntCodec});</li>
 *   <li>{@code asym}: {@code s = (max − min) / (2^b − 1)}, {@code z = round_half_even(−min/s)},
 *       {@code q = clamp(round_half_even(w/s) + z, 0, 2^b − 1)} (note: {@code w/s} is rounded before {@code z} is added), value {@code (q − z)·s};</li>
 *   <li>{@code ternary} (BitNet b1.58 absmean, {@code scale=tensor}): {@code s = mean|w|},
 *       {@code q = clamp(round_half_even(w/s), −1, 1)}.</li>
 * </ul>
 * A group of zeros stays zero. Immutable.
 */
public final class FakeQuant {

    /** How the gradient reaches the master weights. */
    public enum Ste {
        /** Passed through unchanged. */
        PLAIN,
        /** Zeroed where the rounded code falls outside the grid, i.e. where the quantizer clamps. */
        CLIPPED
    }

    /** Which tensors are fake-quantized. */
    public enum Target {
        /** The linear layers of the blocks (q, k, v, o, w1, w2, w3): embedding, norms and classifier stay float. */
        LINEAR,
        /** The linear layers and the untied classifier. */
        LINEAR_AND_CLASSIFIER,
        /** Every matrix: embedding, linear layers and classifier (norm gains stay float), as in the bf16 baseline. */
        ALL_MATRICES
    }

    private final Scheme scheme;
    private final Ste ste;
    private final Target target;
    /** Per-tensor schemes by llama.cpp tensor name (null: {@link #scheme} on the {@link #target} tensors). */
    private final Map<String, Scheme> plan;

    private FakeQuant(Scheme scheme, Ste ste, Target target, Map<String, Scheme> plan) {
        this.scheme = scheme;
        this.ste = Objects.requireNonNull(ste);
        this.target = Objects.requireNonNull(target);
        this.plan = plan;
    }

    private FakeQuant(Scheme scheme, Ste ste, Target target) {
        this(scheme, ste, target, null);
    }

    /**
     * Fake quantization that follows a stored model: {@code plan} maps llama.cpp tensor names
     * ({@code blk.0.attn_q.weight}, {@code token_embd.weight}, ...) to the scheme each tensor is stored in, e.g. the
     * formats of a file {@code quant convert} wrote. Tensors stored as f32, or missing from the plan, stay float32.
     * A tied classifier is the embedding: if the plan names {@code output.weight} too, both must have one scheme.
     * {@code scheme} is the requested scheme (for reports).
     */
    public static FakeQuant ofPlan(Scheme scheme, Map<String, Scheme> plan, Ste ste) {
        Map<String, Scheme> p = new TreeMap<>();
        for (Map.Entry<String, Scheme> e : plan.entrySet()) {
            if (e.getValue().kind() != SchemeKind.F32) {
                p.put(e.getKey(), e.getValue());
            }
        }
        return new FakeQuant(Objects.requireNonNull(scheme), ste, Target.ALL_MATRICES, Collections.unmodifiableMap(p));
    }

    /** The scheme tensor {@code e} is fake-quantized with, or null when it stays float32. */
    public Scheme schemeFor(ParamLayout.Entry e) {
        if (plan == null) {
            return covers(e) ? scheme : null;
        }
        if (e.role() == ParamLayout.Role.NORM) {
            return null;
        }
        return plan.get(LlamaWeights.ggufName(e));
    }

    /** Fake quantization of the linear layers with {@code scheme}. */
    public static FakeQuant of(Scheme scheme, Ste ste) {
        return new FakeQuant(Objects.requireNonNull(scheme), ste, Target.LINEAR);
    }

    /** Fake quantization of the chosen tensors with {@code scheme}. */
    public static FakeQuant of(Scheme scheme, Ste ste, Target target) {
        return new FakeQuant(Objects.requireNonNull(scheme), ste, target);
    }

    public Scheme scheme() {
        return scheme;
    }

    public Ste ste() {
        return ste;
    }

    public Target target() {
        return target;
    }

    /** True when this tensor is fake-quantized. */
    public boolean covers(ParamLayout.Entry e) {
        if (plan != null) {
            return schemeFor(e) != null;
        }
        return switch (e.role()) {
            case LINEAR -> true;
            case CLASSIFIER -> target != Target.LINEAR;
            case EMBEDDING -> target == Target.ALL_MATRICES;
            case NORM -> false;
        };
    }

    /**
     * Writes the forward-pass weights to {@code effective} (fake-quantized where {@link #covers}, copied otherwise)
     * and the gradient mask to {@code mask} (1 where the gradient passes, 0 where it is clipped).
     */
    public void apply(ParamLayout layout, float[] master, float[] effective, float[] mask) {
        System.arraycopy(master, 0, effective, 0, master.length);
        java.util.Arrays.fill(mask, 1f);
        if (plan != null && layout.architecture().sharedClassifier() && plan.containsKey("output.weight")
                && !plan.get("output.weight").equals(plan.get("token_embd.weight"))) {
            throw new IllegalArgumentException("the tied classifier is stored as " + plan.get("output.weight")
                    + " but the embedding as " + plan.getOrDefault("token_embd.weight", Scheme.of(SchemeKind.F32))
                    + "; one tensor cannot be trained in two formats");
        }
        for (ParamLayout.Entry e : layout.entries()) {
            Scheme s = schemeFor(e);
            if (s != null) {
                quantizeTensor(s, master, e.offset(), e.rows(), e.cols(), effective, mask, true);
            }
        }
    }

    /**
     * Fake-quantizes one {@code [rows, cols]} tensor at {@code off} of {@code w} into {@code out} (same offset) and
     * sets {@code mask} there (1 passes, 0 clipped; always 1 under {@link Ste#PLAIN}).
     */
    public void quantizeTensor(float[] w, int off, int rows, int cols, float[] out, float[] mask) {
        quantizeTensor(scheme, w, off, rows, cols, out, mask, true);
    }

    /** As {@link #quantizeTensor(float[], int, int, int, float[], float[])}; {@code useCodec = false} forces the built-in grids. */
    void quantizeTensor(float[] w, int off, int rows, int cols, float[] out, float[] mask, boolean useCodec) {
        quantizeTensor(scheme, w, off, rows, cols, out, mask, useCodec);
    }

    private void quantizeTensor(Scheme scheme, float[] w, int off, int rows, int cols, float[] out, float[] mask,
                                boolean useCodec) {
        int n = rows * cols;
        for (int i = off; i < off + n; i++) {
            if (!Float.isFinite(w[i])) {
                throw new IllegalArgumentException("weight " + (i - off) + " of a tensor to fake-quantize is " + w[i]);
            }
        }
        SchemeKind kind = scheme.kind();
        Codec codec = useCodec ? codecOrNull(scheme) : null;
        if (codec != null) {
            float[] src = java.util.Arrays.copyOfRange(w, off, off + n);
            QuantizedTensor qt = codec.quantize(FloatTensor.wrap(Shape.of(rows, cols), src));
            qt.dequantize(0, out, off, n);
        }
        switch (kind) {
            case INT, INT8, INT4 -> {
                int bits = kind == SchemeKind.INT ? scheme.intParam("bits") : kind == SchemeKind.INT8 ? 8 : 4;
                int group = scheme.intParam("group");
                boolean asym = scheme.param("mode").equals("asym");
                intGrid(w, off, rows, cols, bits, group == 0 ? cols : group, asym, codec == null ? out : null, mask);
            }
            case TERNARY -> {
                if (!scheme.param("scale").equals("tensor") && codec == null) {
                    throw new IllegalArgumentException("fake quantization of " + scheme
                            + " needs its codec (only ternary:scale=tensor is built in)");
                }
                ternary(w, off, n, codec == null ? out : null, mask);
            }
            default -> {
                if (codec == null) {
                    throw new IllegalArgumentException("scheme " + scheme + " has no codec yet, so it cannot be fake-quantized");
                }
                if (ste == Ste.CLIPPED) {
                    throw new IllegalArgumentException("clipped STE is available for int and ternary schemes only, not "
                            + scheme);
                }
                java.util.Arrays.fill(mask, off, off + n, 1f);
            }
        }
    }

    private static Codec codecOrNull(Scheme scheme) {
        try {
            return Codecs.forScheme(scheme);
        } catch (UnsupportedOperationException e) {
            return null;
        }
    }

    /** The integer grid; writes values when {@code out} is not null, and the mask. */
    private void intGrid(float[] w, int off, int rows, int cols, int bits, int group, boolean asym, float[] out,
                         float[] mask) {
        for (int row = 0; row < rows; row++) {
            for (int g0 = 0; g0 < cols; g0 += group) {
                int base = off + row * cols + g0;
                int len = Math.min(group, cols - g0); // a shorter last group, as IntCodec allows
                float lo = Float.POSITIVE_INFINITY;
                float hi = Float.NEGATIVE_INFINITY;
                float amax = 0f;
                for (int i = base; i < base + len; i++) {
                    lo = Math.min(lo, w[i]);
                    hi = Math.max(hi, w[i]);
                    amax = Math.max(amax, Math.abs(w[i]));
                }
                float qmin;
                float qmax;
                float s;
                float z;
                if (asym) {
                    qmin = 0;
                    qmax = (1 << bits) - 1;
                    lo = Math.min(lo, 0f);
                    hi = Math.max(hi, 0f);
                    s = (hi - lo) / qmax;
                    z = s == 0f ? 0f : (float) Math.rint(-lo / s);
                } else {
                    qmax = (1 << (bits - 1)) - 1;
                    qmin = -qmax - 1; // the grid's lowest code; s = amax/qmax never reaches it
                    s = amax / qmax;
                    z = 0f;
                }
                for (int i = base; i < base + len; i++) {
                    if (s == 0f) {
                        if (out != null) {
                            out[i] = 0f;
                        }
                        mask[i] = 1f;
                        continue;
                    }
                    float r = (float) Math.rint(w[i] / s) + z;
                    if (out != null) {
                        float q = Math.max(qmin, Math.min(qmax, r));
                        out[i] = (q - z) * s;
                    }
                    mask[i] = ste == Ste.CLIPPED && (r < qmin || r > qmax) ? 0f : 1f;
                }
            }
        }
    }

    private void ternary(float[] w, int off, int n, float[] out, float[] mask) {
        double sum = 0;
        for (int i = off; i < off + n; i++) {
            sum += Math.abs(w[i]);
        }
        float s = (float) (sum / n);
        for (int i = off; i < off + n; i++) {
            if (s == 0f) {
                if (out != null) {
                    out[i] = 0f;
                }
                mask[i] = 1f;
                continue;
            }
            float r = (float) Math.rint(w[i] / s);
            if (out != null) {
                out[i] = Math.max(-1f, Math.min(1f, r)) * s;
            }
            mask[i] = ste == Ste.CLIPPED && (r < -1f || r > 1f) ? 0f : 1f;
        }
    }

    /**
     * The forward weights of a quantization warmup ({@link Trainer#quantWarmup}): {@code effective[i] = w + λ·(q − w)}
     * with {@code w = master[i]} and {@code q} the fake-quantized value {@code effective[i]} holds on entry, and the
     * gradient factor {@code mask[i] = (1 − λ) + λ·mask[i]}, both computed in double and rounded once. Elements where
     * {@code q = w}, or where the mask is 1, are left as they are (so a tensor that stays float is untouched).
     * {@code λ} lies in [0, 1]; at 1 nothing changes.
     */
    static void blend(float[] master, float[] effective, float[] mask, double lambda) {
        if (!(lambda >= 0 && lambda <= 1)) {
            throw new IllegalArgumentException("blend weight (" + lambda + ") must lie in [0, 1]");
        }
        if (lambda == 1) {
            return;
        }
        for (int i = 0; i < master.length; i++) {
            float w = master[i];
            if (effective[i] != w) {
                effective[i] = (float) (w + lambda * ((double) effective[i] - w));
            }
            if (mask[i] != 1f) {
                mask[i] = (float) (1 - lambda + lambda * mask[i]);
            }
        }
    }

    /** {@code grad *= mask}, element by element. */
    public static void maskGradient(float[] grad, float[] mask) {
        for (int i = 0; i < grad.length; i++) {
            grad[i] *= mask[i];
        }
    }

    @Override
    public String toString() {
        return "fake-quant " + scheme + (plan == null ? "" : " as stored") + " (" + ste.name().toLowerCase(java.util.Locale.ROOT) + " STE, "
                + target.name().toLowerCase(java.util.Locale.ROOT) + ")";
    }
}
