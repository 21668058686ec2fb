package io.quantkit.eval;

import io.quantkit.calib.ActivationCalibrator;
import io.quantkit.calib.Awq;
import io.quantkit.calib.CalibratedConversion;
import io.quantkit.calib.Calibrator;
import io.quantkit.calib.CalibrationProfile;
import io.quantkit.calib.TensorStats;
import io.quantkit.calib.ActivationQuantizer;
import io.quantkit.calib.ActivationScheme;
import io.quantkit.calib.ActivationStats;
import io.quantkit.calib.SequentialCalibration;
import io.quantkit.calib.Smoothing;
import io.quantkit.io.convert.Converter;
import io.quantkit.io.convert.Recipe;
import io.quantkit.model.LlamaModel;
import io.quantkit.model.LlamaWeights;
import io.quantkit.model.ThreadPool;
import io.quantkit.quant.Codecs;
import io.quantkit.quant.Scheme;
import io.quantkit.quant.SchemeKind;
import io.quantkit.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Quality and size of a model under several quantization schemes, against a baseline of the same weights
 * rounded to bf16 (for a BitNet b1.58 model, {@link LlamaWeights#bitnet()}: the model as stored, its ternary weights
 * and 8-bit inputs being what it was trained as): perplexity, ΔPPL, KL divergence and top-1 agreement of next-token distributions, weight
 * SQNR, bits per weight, stored bytes and time. Tensors are chosen by {@link QuantPolicy}; a row is a scheme
 * applied to every one of them, or a recipe naming a scheme (and method) per tensor ({@link Variant}).
 *
 * <p>Codes come from each scheme's codec (round to nearest, "rtn"), or from a
 * {@link Converter.TensorQuantizer} (e.g. GPTQ with calibration statistics) for the tensors it takes; each
 * tensor's method is reported. Rows with equalised (SmoothQuant) weights always use the codecs: the calibration
 * statistics describe the unequalised model.
 *
 * <p>Weight-and-activation rows: each weight scheme may be measured with fake-quantized linear-layer inputs
 * ({@link ActivationScheme}: dynamic per-token scales, or static per-tensor scales from an observer over
 * calibration sequences, optionally after SmoothQuant equalisation). Static scales and equalisation come from the
 * float32 model (the equalised one for scales after equalisation), not from the quantized weights; the weight
 * SQNR of an equalised row is measured against the equalised weights.
 */
public final class Comparison {
    private Comparison() {
    }

    /** Per-tensor outcome of quantizing one weight. */
    public record TensorRow(String name, String format, double sqnrDb, double relativeError, long bytes,
                            String method) {
    }

    /**
     * One scheme's row. {@code skipped} is null for a measured row, else the reason it was not measured (then the
     * figures are NaN/0).
     *
     * @param bitsPerWeight 8 x bytes / parameters over every tensor of the model (norms included)
     * @param bytes         stored bytes of every tensor (codes, scales, outliers; norms as float32)
     * @param sqnrDb        10 log10(Σx² / Σ(x−q)²) over all quantized weights together
     * @param fallbacks     tensors stored in another scheme than requested, as "name=scheme"
     * @param activations   how the linear inputs were quantized ({@link ActivationScheme#toString()}), or null for
     *                      float32 inputs (weight-only)
     * @param method        how codes were chosen: the tensors' methods, distinct, most used first, joined by "+"
     *                      ("rtn", "gptq", "gptq+mse" ...; empty for a skipped row)
     * @param vsBaseline    this row against the baseline, token by token on the same tokens (ΔPPL and
     *                      ln(PPL/PPL_base) with their paired standard errors); null for the baseline and skipped rows
     * @param losses        every scored token's NLL in plan order; null for a skipped row
     */
    public record Row(String scheme, double bitsPerWeight, long bytes, double sqnrDb, PerplexityResult perplexity,
                      double deltaPpl, Divergence divergence, double seconds, List<String> fallbacks,
                      List<TensorRow> tensors, String skipped, String activations, String method,
                      PairedDifference vsBaseline, TokenLosses losses) {
        public Row {
            fallbacks = List.copyOf(fallbacks);
            tensors = List.copyOf(tensors);
            Objects.requireNonNull(method, "method");
        }
    }

    /**
     * What one row quantizes: {@code scheme} for every weight {@link QuantPolicy} selects, or {@code recipe}'s
     * first matching rule per weight (a weight no rule matches, or a "keep" rule, stays float32). Exactly one of
     * the two is non-null; {@code label} names the row.
     */
    public record Variant(String label, Scheme scheme, Recipe recipe) {
        public Variant {
            Objects.requireNonNull(label, "label");
            if ((scheme == null) == (recipe == null)) {
                throw new IllegalArgumentException("a variant has either a scheme or a recipe");
            }
        }

        public static Variant of(Scheme scheme) {
            return new Variant(scheme.toString(), scheme, null);
        }

        public static Variant ofRecipe(String label, Recipe recipe) {
            return new Variant(label, null, recipe);
        }
    }

    /**
     * Receives progress. With rows in parallel ({@link Parallelism}) several rows run at once, so every method may be
     * called from several threads at the same time; each call names its row.
     */
    public interface Listener {
        Listener NONE = new Listener() {
        };

        /** How the rows will run (called once, after the baseline). */
        default void schedule(Schedule schedule) {
        }

        /**
         * A phase starts: the baseline ({@code index} 0) or row {@code index} of {@code count - 1}; returns where
         * that phase's evaluation progress goes (tokens scored of total).
         */
        default Progress phase(String name, int index, int count) {
            return Progress.NONE;
        }

        /** Row {@code index} (as given to {@link #phase}) is done. */
        default void row(Row row, int index, int count) {
        }
    }

    /**
     * How many rows may run at once: {@code rows} (0 = as many as the threads allow) and the heap they may use
     * ({@code memoryBudget} bytes, the baseline's kept log-probabilities already taken out; {@code -1} = what the
     * JVM has free after the baseline: {@link Runtime#maxMemory()} minus the heap in use).
     */
    public record Parallelism(int rows, long memoryBudget) {
        /** One row after another. */
        public static final Parallelism SEQUENTIAL = new Parallelism(1, -1);
        /** As many rows as the threads allow and the free heap holds. */
        public static final Parallelism AUTO = new Parallelism(0, -1);

        public Parallelism {
            if (rows < 0) {
                throw new IllegalArgumentException("parallel rows (" + rows + ") must not be negative");
            }
            if (memoryBudget < -1) {
                throw new IllegalArgumentException("memory budget (" + memoryBudget + ") must be -1 (free heap) or "
                        + "at least 0");
            }
        }
    }

    /**
     * The rows' schedule: {@code rows} at once, each on its own pool of {@code threadsPerRow} threads.
     * {@code rowBytes} estimates what one row holds while it runs besides its evaluation sessions
     * ({@link #rowBytes}), {@code sessionBytes} what one evaluation thread holds ({@link #sessionBytes}), {@code budget}
     * the heap the rows may use; {@code reason} says what limited {@code rows}: "threads", "requested", "rows"
     * (fewer rows than that) or "memory".
     */
    public record Schedule(int rows, int threadsPerRow, long rowBytes, long sessionBytes, long budget, String reason) {
    }

    /**
     * Rows to run at once: {@code requested} (0: {@code threads}), at most {@code threads} (each row needs a thread),
     * at most {@code variants}, and at most as many as fit in {@code budget}: {@code rows x rowBytes} plus one session
     * per thread ({@code threads x sessionBytes}, the same however the threads are shared out); at least 1.
     */
    static Schedule schedule(int requested, int threads, int variants, long rowBytes, long sessionBytes, long budget) {
        int rows = requested == 0 ? threads : requested;
        String reason = requested == 0 ? "threads" : "requested";
        if (threads < rows) {
            rows = threads;
            reason = "threads";
        }
        if (variants < rows) {
            rows = Math.max(1, variants);
            reason = "rows";
        }
        long fit = (budget - (long) threads * sessionBytes) / Math.max(1, rowBytes);
        if (fit < rows) {
            rows = (int) Math.max(1, fit);
            reason = "memory";
        }
        return new Schedule(rows, Math.max(1, threads / rows), rowBytes, sessionBytes, budget, reason);
    }

    /**
     * What one row holds on the heap while it runs, besides its sessions, in bytes (an estimate on the safe side):
     * its quantized tensors (at most float32 size), the float32 model decoded from them (weights transposed, one
     * array per column), the largest tensor's transient float copies while it is quantized and measured (three),
     * with a calibrated quantizer the Gram matrix, its inverse and a work matrix of the widest weight (doubles), and
     * the row's per-token losses and KL values (and their copies).
     */
    static long rowBytes(LlamaWeights w, EvalPlan plan, boolean calibrated) {
        long params = 0;
        long largest = 0;
        long widest = 0;
        long columns = 0;
        for (Tensor t : w.tensors().values()) {
            long n = t.shape().numel();
            params += n;
            largest = Math.max(largest, n);
            if (t.shape().rank() == 2) {
                widest = Math.max(widest, t.shape().rowLength());
                columns += t.shape().rowLength();
            }
        }
        long weights = 4 * params + 4 * params + 16 * columns + 3 * 4 * largest;
        long gptq = calibrated ? 3 * 8 * widest * widest : 0;
        long perToken = plan.scoredTokens() * (8 + 8 + 8 + 8); // losses, KL rows, their joined copy, sorted copy
        return weights + gptq + perToken;
    }

    /**
     * What sequential calibration adds to a row, in bytes: the float32 model of each stage's pass (weights transposed,
     * one array per column) and the statistics of up to three weights of the widest input (Gram matrix and
     * per-channel arrays, doubles).
     */
    static long sequentialBytes(LlamaWeights w) {
        long params = 0;
        long widest = 0;
        long columns = 0;
        for (Tensor t : w.tensors().values()) {
            params += t.shape().numel();
            if (t.shape().rank() == 2) {
                widest = Math.max(widest, t.shape().rowLength());
                columns += t.shape().rowLength();
            }
        }
        return 4 * params + 16 * columns + 3 * 8 * (widest * widest + 6 * widest);
    }

    /**
     * What one evaluation thread holds, in bytes: its session's KV cache and activations for the longest segment,
     * and that segment's logits and log-probabilities.
     */
    static long sessionBytes(io.quantkit.model.LlamaConfig c, EvalPlan plan) {
        long cap = plan.maxLength();
        long kv = 2L * c.layers() * cap * c.kvDim() * 4;
        long scratch = cap * (6L * c.dim() + 2L * c.kvDim() + 3L * c.hiddenDim()
                + 2L * Math.max(c.dim(), c.hiddenDim()) + c.headSize()) * 4;
        long logits = cap * c.vocabSize() * 4 + 8L * c.vocabSize();
        return kv + scratch + logits;
    }

    /** The whole comparison: the baseline row first ("bf16"), then one row per requested scheme. */
    public record Report(EvalPlan plan, Row baseline, List<Row> rows, long parameters, Schedule schedule) {
        public Report {
            rows = List.copyOf(rows);
        }

        /**
         * Measured row {@code a} against measured row {@code b}, token by token: {@code meanNllDiff < 0} means a
         * scores the text better; {@link PairedDifference#z()} says by how many paired standard errors.
         *
         * @throws IllegalArgumentException when either row was skipped
         */
        public static PairedDifference paired(Row a, Row b) {
            if (a.losses() == null || b.losses() == null) {
                throw new IllegalArgumentException("a skipped row has no losses to compare");
            }
            return TokenLosses.paired(a.losses(), b.losses());
        }
    }

    /** The default list of schemes {@code quant compare} measures. */
    public static List<Scheme> defaultSchemes() {
        List<Scheme> s = new ArrayList<>();
        for (String n : new String[] {"f16", "fp8-e4m3", "fp8-e5m2", "int8", "q8_0", "int4:group=32", "int4",
            "q4_0", "int4-outliers", "ternary", "tq2_0"}) {
            s.add(Scheme.parse(n));
        }
        return Collections.unmodifiableList(s);
    }

    /** Runs the comparison of {@code schemes} (weights only) on {@code plan}. */
    public static Report run(LlamaWeights weights, EvalPlan plan, List<Scheme> schemes, ThreadPool pool,
                             Listener listener) {
        return run(weights, plan, schemes, List.of(ActivationScheme.NONE), List.of(), pool, listener);
    }

    /**
     * Runs the comparison on {@code plan}: one row per weight scheme and activation scheme, the activation schemes
     * varying fastest ({@link ActivationScheme#NONE} gives the weight-only row). {@code calibration} holds the
     * token sequences of the calibration pass that static scales and equalisation need (may be empty otherwise).
     */
    public static Report run(LlamaWeights weights, EvalPlan plan, List<Scheme> schemes,
                             List<ActivationScheme> activations, List<int[]> calibration, ThreadPool pool,
                             Listener listener) {
        List<Variant> v = new ArrayList<>();
        for (Scheme s : schemes) {
            v.add(Variant.of(s));
        }
        return run(weights, plan, v, activations, calibration, pool, listener, null);
    }

    /**
     * As {@link #run(LlamaWeights, EvalPlan, List, List, List, ThreadPool, Listener)} for {@code variants} (schemes
     * or recipes), one row after another; {@code quantizer} (null: none) is asked for every weight before the
     * scheme's codec (not for rows with equalised weights). The baseline is bf16 by its codec, or for a BitNet model
     * the weights as given (row {@code stored}, SQNR infinite).
     */
    public static Report run(LlamaWeights weights, EvalPlan plan, List<Variant> schemes,
                             List<ActivationScheme> activations, List<int[]> calibration, ThreadPool pool,
                             Listener listener, Converter.TensorQuantizer quantizer) {
        return run(weights, plan, schemes, activations, calibration, pool, listener, quantizer, Parallelism.SEQUENTIAL);
    }

    /**
     * As {@link #run(LlamaWeights, EvalPlan, List, List, List, ThreadPool, Listener, Converter.TensorQuantizer)},
     * with up to {@code parallel} rows at once after the baseline ({@link #schedule}: never more than the threads of
     * {@code pool}, nor than the memory budget holds at {@link #rowBytes} each). Each row then runs on a pool of its
     * own with its share of the threads; every figure is the same as in a sequential run (quantization and
     * evaluation give the same bits on any thread count) and rows are reported in the order given, whatever order
     * they finish in. Only the seconds differ.
     */
    public static Report run(LlamaWeights weights, EvalPlan plan, List<Variant> schemes,
                             List<ActivationScheme> activations, List<int[]> calibration, ThreadPool pool,
                             Listener listener, Converter.TensorQuantizer quantizer, Parallelism parallel) {
        Objects.requireNonNull(listener, "listener");
        Objects.requireNonNull(parallel, "parallel");
        if (activations.isEmpty()) {
            throw new IllegalArgumentException("no activation scheme given (use 'none' for weight-only rows)");
        }
        for (ActivationScheme a : activations) {
            if (a.needsCalibration() && calibration.isEmpty()) {
                throw new IllegalArgumentException("activations " + a + " need calibration sequences (static scales "
                        + "or equalisation)");
            }
        }
        Prepared prep = new Prepared(weights, calibration, pool);
        long params = 0;
        for (Tensor t : weights.tensors().values()) {
            params += t.shape().numel();
        }
        int count = schemes.size() * activations.size();
        String baseName = weights.bitnet() ? "stored" : "bf16";
        Progress baseProgress = listener.phase("baseline (" + baseName + ")", 0, count + 1);
        long t0 = System.nanoTime();
        Quantized base = weights.bitnet() ? stored(weights)
                : quantize(weights, Variant.of(Scheme.of(SchemeKind.BF16)), null, pool);
        Evaluator.Run baseRun = Evaluator.run(LlamaModel.load(base.weights), plan, pool, true, null, baseProgress);
        Row baseRow = new Row(baseName, 8.0 * base.bytes / params, base.bytes, base.sqnrDb, baseRun.perplexity(), 0.0,
                null, (System.nanoTime() - t0) / 1e9, base.fallbacks, base.tensors, null, null, base.method, null,
                baseRun.losses());
        base = null; // the baseline's quantized weights are not needed any more: free before measuring the heap
        listener.row(baseRow, 0, count + 1);
        List<Variant> variantOf = new ArrayList<>();
        List<ActivationScheme> actOf = new ArrayList<>();
        for (Variant s : schemes) {
            for (ActivationScheme a : activations) {
                variantOf.add(s);
                actOf.add(a);
            }
        }
        Schedule sched = schedule(parallel.rows(), pool.threads(), count, rowBytes(weights, plan, quantizer != null)
                        + (quantizer instanceof CalibratedConversion c && c.isSequential() ? sequentialBytes(weights) : 0),
                sessionBytes(weights.config(), plan), parallel.memoryBudget() >= 0 ? parallel.memoryBudget()
                        : freeHeap());
        listener.schedule(sched);
        Row[] rows = new Row[count];
        long parameters = params;
        RowTask task = (i, rowPool) -> {
            Variant s = variantOf.get(i);
            ActivationScheme a = actOf.get(i);
            String act = a.equals(ActivationScheme.NONE) ? null : a.toString(); // none:smooth=... is named
            Progress progress = listener.phase(act == null ? s.label() : s.label() + " + activations " + act, i + 1,
                    count + 1);
            return measure(weights, plan, s, a, act, prep, quantizer, baseRun, parameters, progress, rowPool);
        };
        if (sched.rows() == 1) {
            for (int i = 0; i < count; i++) {
                rows[i] = task.run(i, pool);
                listener.row(rows[i], i + 1, count + 1);
            }
        } else {
            runParallel(sched, count, task, rows, listener);
        }
        return new Report(plan, baseRow, List.of(rows), params, sched);
    }

    /** One row's work on a given pool. */
    @FunctionalInterface
    private interface RowTask {
        Row run(int index, ThreadPool pool);
    }

    /**
     * Runs rows {@code 0 .. count-1} on {@code sched.rows()} runner threads (the caller's among them), each with a
     * pool of {@code sched.threadsPerRow()} threads, taking the next row in order as it becomes free; results go
     * to {@code rows[i]}. The first failure stops the runners from starting new rows and is rethrown.
     */
    private static void runParallel(Schedule sched, int count, RowTask task, Row[] rows, Listener listener) {
        java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicReference<Throwable> failure =
                new java.util.concurrent.atomic.AtomicReference<>();
        Runnable runner = () -> {
            try (ThreadPool own = ThreadPool.create(sched.threadsPerRow())) {
                for (int i = next.getAndIncrement(); i < count && failure.get() == null; i = next.getAndIncrement()) {
                    rows[i] = task.run(i, own);
                    listener.row(rows[i], i + 1, count + 1);
                }
            } catch (RuntimeException | Error e) {
                failure.compareAndSet(null, e);
            }
        };
        List<Thread> threads = new ArrayList<>();
        for (int r = 1; r < sched.rows(); r++) {
            Thread t = new Thread(runner, "quantkit-compare-row-" + r);
            t.setDaemon(true);
            t.start();
            threads.add(t);
        }
        runner.run();
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failure.compareAndSet(null, new IllegalStateException("interrupted while waiting for rows", e));
            }
        }
        Throwable f = failure.get();
        if (f instanceof RuntimeException re) {
            throw re;
        }
        if (f instanceof Error er) {
            throw er;
        }
        if (f != null) {
            throw new IllegalStateException(f);
        }
    }

    /** Heap the JVM can still give: its maximum less what is in use now (garbage counted as in use: cautious). */
    static long freeHeap() {
        Runtime rt = Runtime.getRuntime();
        return rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
    }

    /** Quantizes and evaluates one row. */
    private static Row measure(LlamaWeights weights, EvalPlan plan, Variant s, ActivationScheme a, String act,
                               Prepared prep, Converter.TensorQuantizer quantizer, Evaluator.Run baseRun, long params,
                               Progress progress, ThreadPool pool) {
        long start = System.nanoTime();
        Quantized q;
        try {
            boolean equalised = a.smoothed() || a.awq();
            if (s.recipe() != null && equalised) {
                throw new UnsupportedOperationException("equalisation (smooth=) is not applied to recipe rows");
            }
            q = quantize(prep.weights(a, s.scheme()), s, equalised ? null : quantizer, pool);
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            return skipped(s, act, e.getMessage());
        }
        if (q.requestedCount == 0) {
            return skipped(s, act, "no weight of this model has a shape " + s.label() + " can store (all "
                    + q.fallbacks.size() + " would fall back: " + fallbackSummary(q.fallbacks) + ")");
        }
        LlamaModel m = LlamaModel.load(q.weights).withInputQuantizer(prep.quantizer(a, s.scheme()));
        Evaluator.Run r = Evaluator.run(m, plan, pool, false, baseRun.logProbs(), progress);
        return new Row(s.label(), 8.0 * q.bytes / params, q.bytes, q.sqnrDb, r.perplexity(),
                r.perplexity().ppl() - baseRun.perplexity().ppl(), r.divergence(),
                (System.nanoTime() - start) / 1e9, q.fallbacks, q.tensors, null, act, q.method,
                TokenLosses.paired(r.losses(), baseRun.losses()), r.losses());
    }

    private static Row skipped(Variant s, String act, String why) {
        return new Row(s.label(), Double.NaN, 0, Double.NaN, null, Double.NaN, null, 0, List.of(), List.of(), why,
                act, "", null, null);
    }

    /** Distinct methods, the most used first (ties: first seen), joined by "+". */
    static String joinMethods(Map<String, Integer> counts) {
        List<String> names = new ArrayList<>(counts.keySet());
        names.sort((a, b) -> Integer.compare(counts.get(b), counts.get(a))); // stable: ties keep model order
        return String.join("+", names);
    }

    /** The quantizer's method for a weight, null for the codec; a method that cannot apply skips the row. */
    private static String methodFor(Converter.TensorQuantizer quantizer, String name, Tensor t, Scheme scheme,
                                    Recipe.Rule rule) {
        String asked = rule == null ? null : rule.method();
        if (quantizer == null) {
            if (asked != null && !asked.equals("rtn")) {
                throw new UnsupportedOperationException("recipe rule '" + rule + "' asks for " + asked
                        + ", which needs calibration statistics (give a calibration profile)");
            }
            return null;
        }
        try {
            return quantizer.method(name, t.shape(), scheme, asked);
        } catch (IllegalArgumentException e) {
            throw new UnsupportedOperationException("tensor '" + name + "': " + e.getMessage(), e);
        }
    }

    /**
     * The calibration passes activation schemes need, each run once and shared between rows (thread-safe: rows in
     * parallel wait for the one that computes a pass): statistics of the
     * float model (and its Gram matrices for AWQ), the equalised weights (per SmoothQuant α; per weight scheme for
     * AWQ), and the statistics of each equalised model.
     */
    private static final class Prepared {
        private final LlamaWeights weights;
        private final List<int[]> calibration;
        private final ThreadPool pool;
        private Map<String, ActivationStats> floatStats;
        private Map<String, TensorStats> gram;
        private final Map<String, LlamaWeights> equalised = new TreeMap<>();
        private final Map<String, Map<String, ActivationStats>> equalisedStats = new TreeMap<>();

        Prepared(LlamaWeights weights, List<int[]> calibration, ThreadPool pool) {
            this.weights = weights;
            this.calibration = calibration;
            this.pool = pool;
        }

        private Map<String, ActivationStats> floatStats() {
            if (floatStats == null) {
                floatStats = ActivationCalibrator.run(LlamaModel.load(weights), calibration, pool);
            }
            return floatStats;
        }

        private Map<String, TensorStats> gram() {
            if (gram == null) {
                gram = new TreeMap<>();
                for (Map.Entry<String, CalibrationProfile.Entry> e : Calibrator.run(weights, LlamaModel.load(weights),
                        calibration, pool, Progress.NONE).entrySet()) {
                    gram.put(e.getKey(), e.getValue().stats());
                }
            }
            return gram;
        }

        /** The key of the equalised weights a row uses, or null for the weights as given. */
        private static String key(ActivationScheme a, Scheme s) {
            return a.smoothed() ? "smooth=" + a.smooth() : a.awq() ? "awq/" + s : null;
        }

        /** The weights the row quantizes: equalised when the activation scheme asks for it. */
        synchronized LlamaWeights weights(ActivationScheme a, Scheme s) {
            String key = key(a, s);
            if (key == null) {
                return weights;
            }
            return equalised.computeIfAbsent(key, k -> {
                Map<String, double[]> x = new TreeMap<>();
                if (a.awq()) {
                    floatStats().forEach((n, v) -> x.put(n, v.channelMeanAbs()));
                    return Awq.apply(weights, x, gram(), n -> QuantPolicy.target(n, s));
                }
                floatStats().forEach((n, v) -> x.put(n, v.channelAbsmax()));
                return Smoothing.apply(weights, x, a.smooth());
            });
        }

        /** The input quantizer of the row, or null for float32 inputs. */
        synchronized ActivationQuantizer quantizer(ActivationScheme a, Scheme s) {
            if (a.isNone()) {
                return null;
            }
            if (a.dynamic()) {
                return ActivationQuantizer.dynamic(a.format());
            }
            String key = key(a, s);
            Map<String, ActivationStats> stats = key == null ? floatStats()
                    : equalisedStats.computeIfAbsent(key,
                        k -> ActivationCalibrator.run(LlamaModel.load(weights(a, s)), calibration, pool));
            return ActivationQuantizer.fromStats(a, stats);
        }
    }

    private record Quantized(LlamaWeights weights, long bytes, double sqnrDb, List<String> fallbacks,
                             List<TensorRow> tensors, int requestedCount, String method) {
    }

    /** The model as given, each tensor in its stored format (the baseline of a BitNet model). */
    private static Quantized stored(LlamaWeights w) {
        List<TensorRow> rows = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : w.tensors().entrySet()) {
            rows.add(new TensorRow(e.getKey(), e.getValue().format(), Double.POSITIVE_INFINITY, 0.0,
                    e.getValue().storageBytes(), "stored"));
        }
        return new Quantized(w, w.storageBytes(), Double.POSITIVE_INFINITY, List.of(), rows, 0, "stored");
    }

    /**
     * The model with every weight {@link QuantPolicy} selects quantized (the bf16 baseline too: norms stay float32,
     * as in llama.cpp's BF16 files). With a sequential {@link CalibratedConversion} the tensors are quantized in
     * forward order and each staged weight the quantizer takes gets the statistics of its input in the model quantized
     * so far ({@link SequentialCalibration}; one calibration pass on {@code pool} per stage), and with float targets
     * is aimed at the float model's layer output ({@link SequentialCalibration.Paired#target}); reported as
     * {@code <method>-seq} (float targets) or {@code <method>-seqq} (the float weight on the quantized inputs).
     */
    private static Quantized quantize(LlamaWeights w, Variant variant, Converter.TensorQuantizer quantizer,
                                      ThreadPool pool) {
        CalibratedConversion seq = quantizer instanceof CalibratedConversion c && c.isSequential() ? c : null;
        SequentialCalibration.Pass pass = seq == null ? null
                : new SequentialCalibration.Pass(w, seq.sequences(), pool, seq.floatTargets());
        List<String> order = seq == null ? new ArrayList<>(w.tensors().keySet()) : SequentialCalibration.order(w);
        Map<String, Tensor> out = new LinkedHashMap<>();
        Map<String, TensorRow> rowOf = new LinkedHashMap<>();
        Map<String, double[]> errorOf = new LinkedHashMap<>(); // {Σx², Σ(x−q)²} per quantized tensor
        Map<String, String> fallbackOf = new LinkedHashMap<>();
        long bytes = 0;
        double signal = 0;
        double noise = 0;
        int requested = 0;
        Map<String, Integer> methods = new LinkedHashMap<>();
        for (String name : order) {
            Tensor t = w.tensor(name);
            Recipe.Rule rule = variant.recipe() == null ? null : variant.recipe().match(name, t.shape());
            if (!QuantPolicy.quantizes(name, t) || (variant.recipe() != null && (rule == null || rule.scheme() == null))) {
                Tensor dense = io.quantkit.tensor.FloatTensor.wrap(t.shape(), t.toFloatArray());
                out.put(name, dense);
                bytes += dense.storageBytes();
                continue;
            }
            Scheme scheme = rule != null ? rule.scheme() : variant.scheme();
            Scheme target = rule != null ? scheme : QuantPolicy.target(name, scheme);
            Tensor q = null;
            Scheme used = target;
            String firstError = null;
            String method = "rtn";
            while (q == null) {
                try {
                    String m = used.equals(target) ? methodFor(quantizer, name, t, used, rule) : null;
                    if (m != null && pass != null && SequentialCalibration.stage(name) != null && !m.equals("rtn")) {
                        SequentialCalibration.Pass.Fit f = pass.fit(name, t, out);
                        q = seq.quantize(name, f.target(), used, m, f.stats());
                        method = m + (seq.floatTargets() ? "-seq" : "-seqq");
                    } else if (m != null) {
                        q = quantizer.quantize(name, t, used, m);
                        method = m;
                    } else {
                        q = Codecs.forScheme(used).quantize(t);
                        method = "rtn";
                    }
                } catch (IllegalArgumentException ex) {
                    if (firstError == null) {
                        firstError = ex.getMessage();
                    }
                    used = QuantPolicy.fallback(used);
                    if (used == null) {
                        throw new IllegalArgumentException("cannot store tensor '" + name + "': " + firstError, ex);
                    }
                }
            }
            if (!used.equals(target)) {
                fallbackOf.put(name, name + "=" + used);
            }
            if (used.equals(scheme)) {
                requested++;
            }
            float[] x = t.toFloatArray();
            float[] y = q.toFloatArray();
            double s2 = 0;
            double e2 = 0;
            for (int i = 0; i < x.length; i++) {
                double d = (double) x[i] - y[i];
                s2 += (double) x[i] * x[i];
                e2 += d * d;
            }
            errorOf.put(name, new double[] {s2, e2});
            rowOf.put(name, new TensorRow(name, q.format(), 10 * Math.log10(s2 / e2), Math.sqrt(e2 / s2),
                    q.storageBytes(), method));
            bytes += q.storageBytes();
            out.put(name, q);
        }
        // figures summed in model order, whatever order the tensors were quantized in
        List<TensorRow> rows = new ArrayList<>();
        List<String> fallbacks = new ArrayList<>();
        for (String name : w.tensors().keySet()) {
            TensorRow r = rowOf.get(name);
            if (r == null) {
                continue;
            }
            if (fallbackOf.containsKey(name)) {
                fallbacks.add(fallbackOf.get(name));
            }
            signal += errorOf.get(name)[0];
            noise += errorOf.get(name)[1];
            rows.add(r);
            methods.merge(r.method(), 1, Integer::sum);
        }
        return new Quantized(LlamaWeights.of(w.config(), out), bytes, 10 * Math.log10(signal / noise), fallbacks, rows,
                requested, joinMethods(methods));
    }

    /** "31 to q4_0, 5 to f16" for fallbacks written "tensor=type", in order of first appearance. */
    static String fallbackSummary(java.util.List<String> fallbacks) {
        java.util.Map<String, Integer> byType = new java.util.LinkedHashMap<>();
        for (String f : fallbacks) {
            byType.merge(f.substring(f.lastIndexOf('=') + 1), 1, Integer::sum);
        }
        java.util.List<String> parts = new java.util.ArrayList<>();
        byType.forEach((type, n) -> parts.add(n + " to " + type));
        return String.join(", ", parts);
    }
}
