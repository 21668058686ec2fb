package io.quantkit.calib;

import io.quantkit.eval.Progress;
import io.quantkit.model.LlamaModel;
import io.quantkit.model.LlamaWeights;
import io.quantkit.model.LlamaWeights.LayerTensor;
import io.quantkit.model.ThreadPool;
import io.quantkit.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * Sequential calibration, as the GPTQ reference implementation quantizes a model: the weights are quantized in the
 * order the forward pass reaches them, and the input statistics of each weight are taken from the model whose
 * earlier weights are already quantized (the rest still float), so each weight's error compensation sees the inputs
 * it will get in the quantized model rather than the float model's. Two targets: the reference's (the float weight
 * applied to those inputs, {@link #stats}), or the float model's layer output on the same token ({@link #paired},
 * {@link Paired#target}: minimising E‖W x − Q x̂‖², x the float model's input and x̂ the quantized model's), which
 * also compensates the error the earlier weights left in x̂. On stories260K the first made every calibrated row
 * worse and the second better (docs/benchmarks.md, "Sequential calibration").
 *
 * <p>Stages (the weights of a stage read the same input and are quantized from one pass; within a block this is the
 * reference's "true sequential" order):
 * <pre>
 * blk.N.attn_q, attn_k, attn_v     (the attention norm's output)
 * blk.N.attn_output                (the attention's output, after q/k/v are quantized)
 * blk.N.ffn_gate, ffn_up           (the FFN norm's output)
 * blk.N.ffn_down                   (silu(gate)·up, after gate and up are quantized)
 * output                           (the final norm's output, after every block is quantized)
 * </pre>
 * The token embedding has no stage: it is the first weight and has no input statistics of its own (a tied
 * classifier keeps the float model's statistics of the classifier input, because the embedding must be quantized
 * before anything downstream of it is measured). One calibration pass per stage over all the sequences; sums in
 * token order, so the statistics, and what is quantized with them, do not depend on the thread count.
 */
public final class SequentialCalibration {
    private SequentialCalibration() {
    }

    /** The stage of a weight ({@code blk.3.ffn_in}, {@code output}), or null for a weight without one. */
    public static String stage(String name) {
        if (name.equals(LlamaWeights.OUTPUT)) {
            return "output";
        }
        if (!name.startsWith("blk.")) {
            return null;
        }
        int dot = name.indexOf('.', 4);
        if (dot < 0) {
            return null;
        }
        String layer = name.substring(0, dot);
        String kind = name.substring(dot + 1);
        return switch (kind) {
            case "attn_q.weight", "attn_k.weight", "attn_v.weight" -> layer + ".attn_in";
            case "attn_output.weight" -> layer + ".attn_output";
            case "ffn_gate.weight", "ffn_up.weight" -> layer + ".ffn_in";
            case "ffn_down.weight" -> layer + ".ffn_down";
            default -> null;
        };
    }

    /**
     * Every tensor of {@code weights} in the order the forward pass reaches it: the model's order
     * ({@link LlamaWeights#tensors()}), except that each block's {@code ffn_up} comes before its {@code ffn_down}.
     */
    public static List<String> order(LlamaWeights weights) {
        List<String> out = new ArrayList<>(weights.tensors().keySet());
        for (int l = 0; l < weights.config().layers(); l++) {
            String down = LayerTensor.FFN_DOWN.name(l);
            String up = LayerTensor.FFN_UP.name(l);
            int d = out.indexOf(down);
            int u = out.indexOf(up);
            if (d >= 0 && u > d) {
                out.remove(u);
                out.add(d, up);
            }
        }
        return out;
    }

    /**
     * The input statistics of the weights named {@code names} in the model made of {@code done} (the tensors
     * quantized so far) and, for every other tensor, {@code original}'s; over {@code sequences}.
     */
    public static Map<String, TensorStats> stats(LlamaWeights original, Map<String, ? extends Tensor> done,
                                                 Set<String> names, List<int[]> sequences, ThreadPool pool) {
        LlamaWeights partial = partial(original, done);
        Map<String, TensorStats> out = new TreeMap<>();
        Calibrator.run(partial, LlamaModel.load(partial), sequences, pool, Progress.NONE, names::contains)
                .forEach((n, e) -> out.put(n, e.stats()));
        return out;
    }

    /** The names of {@code weights}' tensors in {@code stage}, in model order. */
    public static List<String> members(LlamaWeights weights, String stage) {
        List<String> out = new ArrayList<>();
        for (String n : weights.tensors().keySet()) {
            if (stage.equals(stage(n))) {
                out.add(n);
            }
        }
        return out;
    }

    /**
     * A staged weight's statistics for sequential calibration against the float model's outputs: {@code quantized}
     * the input statistics in the model quantized so far (H = E[x̂ x̂ᵀ]), {@code cross} C = E[x x̂ᵀ] (x the float
     * model's input for the same token, x̂ the quantized model's; row-major {@code width × width}, row index of x).
     */
    public static final class Paired {
        private final TensorStats quantized;
        private final double[] cross;

        Paired(TensorStats quantized, double[] cross) {
            if (cross.length != quantized.width() * quantized.width()) {
                throw new IllegalArgumentException("cross moment of " + cross.length + " values for width "
                        + quantized.width());
            }
            this.quantized = quantized;
            this.cross = cross;
        }

        /** The input statistics in the model quantized so far. */
        public TensorStats quantized() {
            return quantized;
        }

        /** E[x x̂ᵀ], row-major (a copy). */
        public double[] cross() {
            return cross.clone();
        }

        /**
         * The weight GPTQ should aim at so that the quantized model's layer output matches the float model's:
         * minimising E‖W x − Q x̂‖² over Q is GPTQ on H = E[x̂ x̂ᵀ] with the target W' = W·C·H⁻¹ (the rest of the
         * error does not depend on Q). With GPTQ's damping λ = {@link Gptq#DAMP}·mean(diag H) on both sides,
         * W' = W·(C + λI)·(H + λI)⁻¹, which is W itself when the inputs agree (C = H). Computed in double,
         * rounded to float32.
         *
         * @throws IllegalArgumentException when {@code w} is not {@code [rows, width]} or H + λI is not positive
         *                                  definite
         */
        public Tensor target(Tensor w) {
            int n = quantized.width();
            if (w.shape().rank() != 2 || w.shape().dim(1) != n) {
                throw new IllegalArgumentException("weight of shape " + w.shape() + " does not fit inputs of width " + n);
            }
            double[] h = quantized.gram();
            if (java.util.Arrays.equals(h, cross)) {
                return w; // the inputs agree: W' = W
            }
            double mean = 0;
            for (int i = 0; i < n; i++) {
                mean += h[i * n + i];
            }
            mean /= n;
            double lambda = Gptq.DAMP * (mean > 0 ? mean : 1);
            double[] a = h.clone();
            for (int i = 0; i < n; i++) {
                a[i * n + i] += lambda;
            }
            double[] l = Gptq.cholesky(a, n);
            if (l == null) {
                throw new IllegalArgumentException("the quantized model's input moment is not positive definite");
            }
            // M = (C + λI)(H + λI)⁻¹, i.e. (H + λI) Mᵀ = (C + λI)ᵀ: solve for each column k of Mᵀ (row k of M)
            double[] m = new double[n * n];
            double[] y = new double[n];
            for (int k = 0; k < n; k++) {
                for (int i = 0; i < n; i++) { // right-hand side: row k of (C + λI)
                    double b = cross[k * n + i] + (i == k ? lambda : 0);
                    for (int j = 0; j < i; j++) {
                        b -= l[i * n + j] * y[j];
                    }
                    y[i] = b / l[i * n + i];
                }
                for (int i = n - 1; i >= 0; i--) {
                    double b = y[i];
                    for (int j = i + 1; j < n; j++) {
                        b -= l[j * n + i] * m[k * n + j];
                    }
                    m[k * n + i] = b / l[i * n + i];
                }
            }
            float[] src = w.toFloatArray();
            int rows = src.length / n;
            float[] out = new float[src.length];
            double[] acc = new double[n];
            for (int r = 0; r < rows; r++) {
                java.util.Arrays.fill(acc, 0);
                for (int k = 0; k < n; k++) {
                    double wk = src[r * n + k];
                    if (wk == 0) {
                        continue;
                    }
                    for (int i = 0; i < n; i++) {
                        acc[i] += wk * m[k * n + i];
                    }
                }
                for (int i = 0; i < n; i++) {
                    out[r * n + i] = (float) acc[i];
                }
            }
            return io.quantkit.tensor.FloatTensor.wrap(w.shape(), out);
        }
    }

    /**
     * As {@link #stats}, with each weight's cross moment E[x x̂ᵀ] between the float model's input ({@code original})
     * and the partly quantized model's, token by token over {@code sequences}.
     */
    public static Map<String, Paired> paired(LlamaWeights original, Map<String, ? extends Tensor> done,
                                             Set<String> names, List<int[]> sequences, ThreadPool pool) {
        Map<String, TensorStats> quantized = stats(original, done, names, sequences, pool);
        LlamaModel floatModel = LlamaModel.load(original);
        LlamaModel partModel = LlamaModel.load(partial(original, done));
        int maxLen = 1;
        for (int[] s : sequences) {
            maxLen = Math.max(maxLen, s.length);
        }
        Map<String, double[]> cross = new TreeMap<>();
        Map<String, Long> rows = new TreeMap<>();
        Map<String, List<float[]>> floatRows = new TreeMap<>();
        Map<String, Integer> cursor = new TreeMap<>();
        LlamaModel.Session fs = floatModel.newSession(maxLen, pool, (tensor, x, n, width) -> {
            if (names.contains(tensor)) {
                List<float[]> list = floatRows.computeIfAbsent(tensor, k -> new ArrayList<>());
                for (int r = 0; r < n; r++) {
                    list.add(java.util.Arrays.copyOfRange(x, r * width, (r + 1) * width));
                }
            }
        });
        LlamaModel.Session ps = partModel.newSession(maxLen, pool, (tensor, x, n, width) -> {
            if (!names.contains(tensor)) {
                return;
            }
            double[] c = cross.computeIfAbsent(tensor, k -> new double[width * width]);
            List<float[]> list = floatRows.get(tensor);
            int at = cursor.getOrDefault(tensor, 0);
            for (int r = 0; r < n; r++) {
                float[] xf = list.get(at + r);
                int off = r * width;
                for (int i = 0; i < width; i++) {
                    double fi = xf[i];
                    if (fi == 0) {
                        continue;
                    }
                    int base = i * width;
                    for (int j = 0; j < width; j++) {
                        c[base + j] += fi * x[off + j];
                    }
                }
            }
            cursor.put(tensor, at + n);
            rows.merge(tensor, (long) n, Long::sum);
        });
        for (int[] seq : sequences) {
            floatRows.clear();
            cursor.clear();
            fs.reset();
            fs.forward(seq, 0, seq.length, 0);
            ps.reset();
            ps.forward(seq, 0, seq.length, 0);
        }
        Map<String, Paired> out = new TreeMap<>();
        for (Map.Entry<String, TensorStats> e : quantized.entrySet()) {
            double[] c = cross.get(e.getKey());
            double inv = 1.0 / rows.get(e.getKey()); // as TensorStats normalises its Gram matrix
            for (int i = 0; i < c.length; i++) {
                c[i] *= inv;
            }
            out.put(e.getKey(), new Paired(e.getValue(), c));
        }
        return out;
    }

    /** {@code original} with the tensors of {@code done} (those quantized so far) in place of its own. */
    private static LlamaWeights partial(LlamaWeights original, Map<String, ? extends Tensor> done) {
        Objects.requireNonNull(done, "done");
        Map<String, Tensor> merged = new LinkedHashMap<>();
        original.tensors().forEach((n, t) -> merged.put(n, done.containsKey(n) ? done.get(n) : t));
        return LlamaWeights.of(original.config(), merged);
    }

    /**
     * One row's sequential pass: a stage's statistics taken once, when its first weight is quantized (from the
     * tensors quantized by then), and per weight what GPTQ fits: with float targets the target W' on the partly
     * quantized model's inputs ({@link Paired#target}), else the weight itself on those inputs.
     */
    public static final class Pass {
        /** What GPTQ fits for one weight: {@code target} on the input statistics {@code stats}. */
        public record Fit(Tensor target, TensorStats stats) {
        }

        private final LlamaWeights original;
        private final List<int[]> sequences;
        private final ThreadPool pool;
        private final boolean floatTargets;
        private String stage;
        private Map<String, TensorStats> stats = Map.of();
        private Map<String, Paired> paired = Map.of();

        public Pass(LlamaWeights original, List<int[]> sequences, ThreadPool pool, boolean floatTargets) {
            this.original = Objects.requireNonNull(original, "original");
            this.sequences = List.copyOf(sequences);
            this.pool = Objects.requireNonNull(pool, "pool");
            this.floatTargets = floatTargets;
        }

        /**
         * The fit of staged weight {@code name} (value {@code w}), given the tensors quantized so far; a new stage
         * runs its calibration pass on {@code done} as it is now.
         */
        public Fit fit(String name, Tensor w, Map<String, ? extends Tensor> done) {
            String s = SequentialCalibration.stage(name);
            if (s == null) {
                throw new IllegalArgumentException(name + " is not a staged weight");
            }
            if (!s.equals(stage)) {
                Set<String> members = new java.util.TreeSet<>(members(original, s));
                if (floatTargets) {
                    paired = paired(original, done, members, sequences, pool);
                } else {
                    stats = stats(original, done, members, sequences, pool);
                }
                stage = s;
            }
            if (floatTargets) {
                Paired p = paired.get(name);
                return new Fit(p.target(w), p.quantized());
            }
            return new Fit(w, stats.get(name));
        }
    }
}
