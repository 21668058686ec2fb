package io.quantkit.io.convert;

import io.quantkit.io.AtomicFolder;
import io.quantkit.io.AtomicOutput;
import io.quantkit.io.Checkpoint;
import io.quantkit.io.Checkpoints;
import io.quantkit.io.Container;
import io.quantkit.io.MappedSource;
import io.quantkit.io.MetaValue;
import io.quantkit.io.Metadata;
import io.quantkit.io.TensorInfo;
import io.quantkit.io.gguf.GgufMetadata;
import io.quantkit.quant.ggml.GgmlType;
import io.quantkit.io.gguf.GgufWriter;
import io.quantkit.io.safetensors.SafetensorsWriter;
import io.quantkit.quant.Codecs;
import io.quantkit.quant.QuantizedTensor;
import io.quantkit.quant.Scheme;
import io.quantkit.quant.SchemeKind;
import io.quantkit.tensor.DType;
import io.quantkit.tensor.Shape;
import io.quantkit.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Streams a checkpoint into a GGUF or safetensors file, tensor by tensor, in input order.
 *
 * <p>For each tensor the recipe (the user's rules, then the defaults: 1-D, norm and bias tensors kept, the rest
 * in the target scheme) picks a scheme. A ggml block type whose block does not divide the row falls back
 * (256-value types to q4_0 when 32 divides the row, else f16; 32-value types to f16; in safetensors to bf16),
 * and the fallback is reported on the tensor; with {@code strict} it is an error instead. A tensor already
 * in the chosen format is copied byte for byte.
 *
 * <p>Memory: row-separable schemes (f32, f16, bf16 and the ggml block types) are converted in chunks of about
 * {@link #CHUNK_ELEMENTS} elements, copies in slices of {@link #COPY_CHUNK_BYTES}; other schemes need one whole
 * tensor. The GGUF header is written first (every size is known from the plan); safetensors reserves a header
 * area and fills it at the end. With {@code threads > 1} chunks are converted in parallel and written in order,
 * so the output bytes do not depend on the thread count. The output appears atomically ({@link AtomicOutput});
 * the input is only read.
 */
public final class Converter {
    /** Elements per work chunk of a row-separable scheme. */
    public static final long CHUNK_ELEMENTS = 1L << 22;
    /** Bytes per slice of a plain copy. */
    public static final int COPY_CHUNK_BYTES = 1 << 26;
    /** Largest thread count accepted. */
    public static final int MAX_THREADS = 256;

    private Converter() {
    }

    /** Called after each tensor has been written (from the calling thread). */
    @FunctionalInterface
    public interface Listener {
        void tensorDone(int index, int total, TensorReport report);
    }

    /**
     * Quantizes whole tensors in a way the scheme's codec does not (e.g. with calibration statistics), writing
     * the scheme's ordinary stored layout. Called from worker threads; must be thread-safe and deterministic.
     */
    public interface TensorQuantizer {
        /**
         * The method this quantizer uses for the tensor, or null to leave it to the scheme's codec.
         *
         * @param ruleMethod the method the recipe rule names, or null
         * @throws IllegalArgumentException when the rule's method cannot be applied to this tensor or scheme
         */
        String method(String name, Shape shape, Scheme scheme, String ruleMethod);

        /** Quantizes {@code tensor} (named {@code name}) to {@code scheme} with {@code method}. */
        QuantizedTensor quantize(String name, Tensor tensor, Scheme scheme, String method);
    }

    /**
     * Conversion settings; {@code recipe} holds the user's rules (the defaults are appended); {@code quantizer}
     * is null or the calibrated quantizer consulted for every tensor to quantize. {@code shardBytes} &gt; 0
     * writes a sharded safetensors folder (shards of about that many bytes of tensor data, with
     * {@code model.safetensors.index.json}); 0 writes one file.
     */
    public record Options(Scheme scheme, Recipe recipe, boolean force, boolean strict, int threads,
            Listener listener, TensorQuantizer quantizer, long shardBytes) {
        public Options {
            Objects.requireNonNull(scheme, "scheme");
            recipe = recipe == null ? Recipe.empty() : recipe;
            listener = listener == null ? (i, n, r) -> { } : listener;
            if (threads < 1 || threads > MAX_THREADS) {
                throw new IllegalArgumentException("threads (" + threads + ") must be in 1.." + MAX_THREADS);
            }
            if (shardBytes < 0) {
                throw new IllegalArgumentException("shard size (" + shardBytes + ") must not be negative");
            }
        }

        public static Options of(Scheme scheme) {
            return new Options(scheme, null, false, false, 1, null, null, 0);
        }

        public Options withRecipe(Recipe r) {
            return new Options(scheme, r, force, strict, threads, listener, quantizer, shardBytes);
        }

        public Options withForce(boolean f) {
            return new Options(scheme, recipe, f, strict, threads, listener, quantizer, shardBytes);
        }

        public Options withStrict(boolean s) {
            return new Options(scheme, recipe, force, s, threads, listener, quantizer, shardBytes);
        }

        public Options withThreads(int t) {
            return new Options(scheme, recipe, force, strict, t, listener, quantizer, shardBytes);
        }

        public Options withListener(Listener l) {
            return new Options(scheme, recipe, force, strict, threads, l, quantizer, shardBytes);
        }

        public Options withQuantizer(TensorQuantizer q) {
            return new Options(scheme, recipe, force, strict, threads, listener, q, shardBytes);
        }

        /** Shards of about {@code bytes} bytes of tensor data (0: one file). */
        public Options withShardBytes(long bytes) {
            return new Options(scheme, recipe, force, strict, threads, listener, quantizer, bytes);
        }
    }

    /** The container an output path asks for, by extension. */
    public static Container outputContainer(Path out) {
        String n = String.valueOf(out.getFileName()).toLowerCase(Locale.ROOT);
        if (n.endsWith(".gguf")) {
            return Container.GGUF;
        }
        if (n.endsWith(".safetensors")) {
            return Container.SAFETENSORS;
        }
        throw new IllegalArgumentException("output " + out.getFileName()
                + " must end in .gguf or .safetensors (the extension picks the container)");
    }

    /**
     * The container of a sharded output folder: safetensors. A name ending in {@code .gguf} or {@code .safetensors}
     * is refused (GGUF is one file; a sharded output is a folder of shards).
     */
    public static Container shardedContainer(Path out) {
        String n = String.valueOf(out.getFileName()).toLowerCase(Locale.ROOT);
        if (n.endsWith(".gguf")) {
            throw new IllegalArgumentException("GGUF output is one file; a shard size needs a safetensors output folder");
        }
        if (n.endsWith(".safetensors")) {
            throw new IllegalArgumentException("with a shard size OUT is a folder (for example " + n.substring(0,
                    n.length() - ".safetensors".length()) + "/), not " + out.getFileName());
        }
        return Container.SAFETENSORS;
    }

    /** Opens {@code in} (see {@link Checkpoints#open}) and converts it to {@code out}. */
    public static ConvertSummary convert(Path in, Path out, Options o) throws IOException {
        if (o.shardBytes() > 0) {
            shardedContainer(out);
        } else {
            outputContainer(out);
        }
        try (Checkpoint c = Checkpoints.open(in)) {
            return convert(c, out, o);
        }
    }

    /** Converts an open checkpoint to {@code out} (a folder of shards when {@code o.shardBytes() > 0}). */
    public static ConvertSummary convert(Checkpoint in, Path out, Options o) throws IOException {
        boolean sharded = o.shardBytes() > 0;
        Container container = sharded ? shardedContainer(out) : outputContainer(out);
        if (Files.exists(out) && Files.exists(in.path()) && Files.isSameFile(out, in.path())) {
            throw new IllegalArgumentException("output " + out + " is the input file; choose another path");
        }
        if (sharded && in.path().toAbsolutePath().normalize().startsWith(out.toAbsolutePath().normalize())) {
            throw new IllegalArgumentException("output folder " + out + " holds the input; choose another path");
        }
        Recipe recipe = o.recipe().withDefaults(o.scheme());
        GgmlType target = null;
        if (container == Container.GGUF) {
            target = ggufType(o.scheme());
            if (target == null) {
                throw new IllegalArgumentException("scheme " + o.scheme() + " cannot be stored in GGUF (GGUF takes "
                        + "f32, f16, bf16, q8_0, q4_0, q4_1, tq1_0, tq2_0, mxfp4); write a .safetensors file instead");
            }
        }
        if (container == Container.GGUF && adjacentBitnet(in.metadata())) {
            throw new IllegalArgumentException("a BitNet model trained here cannot be written to GGUF: llama.cpp's "
                    + "bitnet architecture holds its SubLN norms but rotates q/k by halves and evaluates activations "
                    + "in float, not as this model was trained; write a .safetensors file instead");
        }
        List<Step> steps = new ArrayList<>();
        for (TensorInfo t : in.tensors()) {
            Step s = container == Container.GGUF ? planGguf(t, recipe, o.strict()) : planSafetensors(in, t, recipe,
                    o.strict());
            steps.add(withMethod(s, recipe.match(t), o.quantizer()));
        }
        long start = System.nanoTime();
        List<TensorReport> reports;
        long size;
        Path written;
        if (sharded) {
            try (AtomicFolder af = AtomicFolder.create(out, o.force())) {
                ShardedSink sink = new ShardedSink(af.temp(), in, steps, o.shardBytes());
                reports = run(in, steps, sink, o);
                size = sink.finish();
                af.commit();
                written = af.target();
            }
        } else {
            try (AtomicOutput ao = AtomicOutput.create(out, o.force())) {
                Sink sink = container == Container.GGUF ? new GgufSink(ao, in, steps, target)
                        : new SafetensorsSink(ao.directChannel(), SafetensorsSink.metadataOf(in), steps);
                reports = run(in, steps, sink, o);
                size = sink.finish();
                ao.commit();
                written = ao.target();
            }
        }
        long bytesIn = 0;
        long dataOut = 0;
        long params = 0;
        for (int i = 0; i < steps.size(); i++) {
            bytesIn += steps.get(i).info.byteLength();
            dataOut += reports.get(i).bytesOut();
            params += steps.get(i).info.shape().numel();
        }
        double secs = (System.nanoTime() - start) / 1e9;
        return new ConvertSummary(written, container, reports, bytesIn, size, dataOut, params, secs, o.threads());
    }

    /**
     * Whether {@code m} describes a {@code bitnet} model with q/k laid out for adjacent-pair RoPE ({@code
     * bitnet.rope.pairs = adjacent}, as {@code io.quantkit.model.LlamaLoader} reads it).
     */
    static boolean adjacentBitnet(Metadata m) {
        return m.contains("general.architecture") && m.getString("general.architecture").equals("bitnet")
                && m.contains("bitnet.rope.pairs") && m.getString("bitnet.rope.pairs").equals("adjacent");
    }

    // ---------------------------------------------------------------- planning

    enum Kind { COPY, QUANTIZE, REPACK }

    /** What to do with one tensor. */
    static final class Step {
        final TensorInfo info;
        final Kind kind;
        final Scheme scheme; // QUANTIZE (and REPACK: the tensor's own scheme)
        final String outFormat;
        final String rule;
        String fallback;
        final boolean chunked;
        final long rowsPerChunk;
        final String method; // QUANTIZE by a TensorQuantizer: its method; else null
        long bytesOut;

        Step(TensorInfo info, Kind kind, Scheme scheme, String outFormat, String rule, String fallback) {
            this(info, kind, scheme, outFormat, rule, fallback, null);
        }

        Step(TensorInfo info, Kind kind, Scheme scheme, String outFormat, String rule, String fallback,
             String method) {
            this.method = method;
            this.info = info;
            this.kind = kind;
            this.scheme = scheme;
            this.outFormat = outFormat;
            this.rule = rule;
            this.fallback = fallback;
            this.chunked = kind == Kind.COPY || (kind == Kind.QUANTIZE && method == null && rowSeparable(scheme));
            long row = Math.max(1, info.shape().rowLength());
            this.rowsPerChunk = Math.max(1, CHUNK_ELEMENTS / row);
        }

        long rows() {
            Shape s = info.shape();
            return s.rank() == 0 ? 1 : s.rows();
        }
    }

    /** The step with its method decided: the quantizer's (then whole-tensor), else the codec's ("rtn"). */
    static Step withMethod(Step s, Recipe.Rule rule, TensorQuantizer quantizer) {
        if (s.kind != Kind.QUANTIZE) {
            return s;
        }
        String asked = rule == null ? null : rule.method();
        boolean requested = rule != null && s.scheme.equals(rule.scheme()); // not a fallback
        String m = null;
        if (quantizer != null && requested) {
            try {
                m = quantizer.method(s.info.name(), s.info.shape(), s.scheme, asked);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("tensor '" + s.info.name() + "': " + e.getMessage(), e);
            }
        } else if (asked != null && !asked.equals("rtn") && requested) {
            throw new IllegalArgumentException("tensor '" + s.info.name() + "': recipe rule '" + rule + "' asks for "
                    + asked + ", which needs calibration statistics (give a calibration profile)");
        }
        if (m == null) {
            return s;
        }
        Step out = new Step(s.info, Kind.QUANTIZE, s.scheme, s.outFormat, s.rule, s.fallback, m);
        return out;
    }

    static boolean rowSeparable(Scheme s) {
        return switch (s.kind()) {
            case F32, F16, BF16, Q8_0, Q4_0, Q4_1, TQ1_0, TQ2_0, MXFP4 -> true;
            default -> false;
        };
    }

    /** The GGUF type a scheme is written as, or null. */
    public static GgmlType ggufType(Scheme s) {
        return switch (s.kind()) {
            case F32 -> GgmlType.F32;
            case F16 -> GgmlType.F16;
            case BF16 -> GgmlType.BF16;
            case Q8_0 -> GgmlType.Q8_0;
            case Q4_0 -> GgmlType.Q4_0;
            case Q4_1 -> GgmlType.Q4_1;
            case TQ1_0 -> GgmlType.TQ1_0;
            case TQ2_0 -> GgmlType.TQ2_0;
            case MXFP4 -> GgmlType.MXFP4;
            default -> null;
        };
    }

    static Scheme schemeOf(GgmlType t) {
        return Scheme.of(switch (t) {
            case F32 -> SchemeKind.F32;
            case F16 -> SchemeKind.F16;
            case BF16 -> SchemeKind.BF16;
            case Q8_0 -> SchemeKind.Q8_0;
            case Q4_0 -> SchemeKind.Q4_0;
            case Q4_1 -> SchemeKind.Q4_1;
            case TQ1_0 -> SchemeKind.TQ1_0;
            case TQ2_0 -> SchemeKind.TQ2_0;
            case MXFP4 -> SchemeKind.MXFP4;
            default -> throw new IllegalArgumentException("no scheme writes GGUF type " + t);
        });
    }

    static Step planGguf(TensorInfo t, Recipe recipe, boolean strict) {
        Recipe.Rule r = recipe.match(t);
        GgmlType src = GgmlType.fromName(t.format());
        if (r.scheme() == null) {
            if (src != null) {
                return new Step(t, Kind.COPY, null, src.name(), r.toString(), null);
            }
            return new Step(t, Kind.QUANTIZE, Scheme.of(SchemeKind.F32), "F32", r.toString(),
                    t.format() + " has no GGUF type; stored as F32");
        }
        GgmlType want = ggufType(r.scheme());
        if (want == null) {
            throw new IllegalArgumentException("tensor '" + t.name() + "': scheme " + r.scheme()
                    + " (rule '" + r + "') cannot be stored in GGUF");
        }
        GgmlType use = want;
        String fallback = null;
        long row = t.shape().rank() == 0 ? 1 : t.shape().rowLength();
        if (row % want.blockSize() != 0) {
            use = row % 32 == 0 && want.blockSize() > 32 ? GgmlType.Q4_0 : GgmlType.F16;
            fallback = "rows of " + row + " do not fit " + want + " blocks of " + want.blockSize() + "; stored as "
                    + use;
            if (strict) {
                throw new IllegalArgumentException("tensor '" + t.name() + "': rows of " + row + " do not fit "
                        + want + " blocks of " + want.blockSize() + " (strict mode: no fallback)");
            }
        }
        if (src == use) {
            return new Step(t, Kind.COPY, null, use.name(), r.toString(), fallback);
        }
        return new Step(t, Kind.QUANTIZE, schemeOf(use), use.name(), r.toString(), fallback);
    }

    static Step planSafetensors(Checkpoint in, TensorInfo t, Recipe recipe, boolean strict) {
        Recipe.Rule r = recipe.match(t);
        DType plain = MappedSource.denseType(t.format());
        if (r.scheme() == null) {
            if (plain != null) {
                return new Step(t, Kind.COPY, null, plain.name(), r.toString(), null);
            }
            Scheme own = ownScheme(t.format());
            if (own != null) {
                return new Step(t, Kind.REPACK, own, own.toString(), r.toString(), null);
            }
            return new Step(t, Kind.QUANTIZE, Scheme.of(SchemeKind.F32), "f32", r.toString(),
                    t.format() + " has no safetensors layout; stored as f32");
        }
        Scheme s = r.scheme();
        DType dense = switch (s.kind()) {
            case F32 -> DType.F32;
            case F16 -> DType.F16;
            case BF16 -> DType.BF16;
            default -> null;
        };
        if (dense != null && dense == plain) {
            return new Step(t, Kind.COPY, null, dense.name(), r.toString(), null);
        }
        GgmlType g = ggufType(s);
        long row = t.shape().rank() == 0 ? 1 : t.shape().rowLength();
        if (g != null && g.blockSize() > 1 && row % g.blockSize() != 0) {
            if (strict) {
                throw new IllegalArgumentException("tensor '" + t.name() + "': rows of " + row + " do not fit "
                        + s + " blocks of " + g.blockSize() + " (strict mode: no fallback)");
            }
            return new Step(t, Kind.QUANTIZE, Scheme.of(SchemeKind.BF16), "bf16", r.toString(),
                    "rows of " + row + " do not fit " + s + " blocks of " + g.blockSize() + "; stored as bf16");
        }
        return new Step(t, Kind.QUANTIZE, s, s.toString(), r.toString(), null);
    }

    /** The scheme a stored format already is (a quantkit scheme string or a ggml type with a scheme), or null. */
    static Scheme ownScheme(String format) {
        GgmlType g = GgmlType.fromName(format);
        if (g != null) {
            return switch (g) {
                case Q8_0, Q4_0, Q4_1, TQ1_0, TQ2_0, MXFP4 -> schemeOf(g);
                default -> null;
            };
        }
        try {
            return Scheme.parse(format);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    // ---------------------------------------------------------------- execution

    /** One unit of work: a chunk of rows (or bytes) of a step, or a whole step. */
    record Job(int step, long rowFrom, long rowCount, boolean first, boolean last) {
    }

    /** The product of a job: buffers to append, or a whole quantized tensor. */
    record Piece(List<ByteBuffer> buffers, QuantizedTensor whole, String fallback, ByteBuffer pooled) {
        Piece(List<ByteBuffer> buffers, QuantizedTensor whole, String fallback) {
            this(buffers, whole, fallback, null);
        }
    }

    /**
     * Direct buffers that block-quantized chunks are written into and handed to the output channel as they are (a
     * heap buffer would be copied into a temporary direct one by every channel write, and a fresh multi-megabyte
     * array per chunk is a humongous allocation for the collector). A buffer returns to the pool once its chunk is
     * written, so about one per thread is ever allocated.
     */
    static final class BufferPool {
        /** Largest chunk output taken from the pool; a larger one (a single very long row) goes to the heap. */
        static final int MAX_POOLED = 1 << 26;
        private final java.util.concurrent.ConcurrentLinkedQueue<ByteBuffer> free =
                new java.util.concurrent.ConcurrentLinkedQueue<>();

        /** A buffer with position 0 and limit {@code bytes}. */
        ByteBuffer take(int bytes) {
            ByteBuffer b = free.poll();
            if (b == null || b.capacity() < bytes) {
                b = ByteBuffer.allocateDirect(bytes);
            }
            b.clear().limit(bytes);
            return b;
        }

        void give(ByteBuffer b) {
            free.add(b);
        }
    }

    static List<Job> jobs(List<Step> steps) {
        List<Job> out = new ArrayList<>();
        for (int i = 0; i < steps.size(); i++) {
            Step s = steps.get(i);
            if (!s.chunked) {
                out.add(new Job(i, 0, s.rows(), true, true));
                continue;
            }
            long rows = s.rows();
            if (rows == 0) {
                out.add(new Job(i, 0, 0, true, true));
                continue;
            }
            for (long r = 0; r < rows; r += s.rowsPerChunk) {
                long n = Math.min(s.rowsPerChunk, rows - r);
                out.add(new Job(i, r, n, r == 0, r + n >= rows));
            }
        }
        return out;
    }

    static Piece work(Checkpoint in, Step s, Job j, boolean strict, TensorQuantizer quantizer, BufferPool pool) {
        TensorInfo t = s.info;
        try {
            switch (s.kind) {
                case COPY: {
                    long numel = t.shape().numel();
                    long bytesPerRow = numel == 0 ? 0 : t.byteLength() / s.rows();
                    long from = j.rowFrom() * bytesPerRow;
                    long len = j.rowCount() * bytesPerRow;
                    if (s.rows() == 1) {
                        from = 0;
                        len = t.byteLength();
                    }
                    List<ByteBuffer> parts = new ArrayList<>();
                    for (long p = 0; p < len; p += COPY_CHUNK_BYTES) {
                        parts.add(in.rawBytes(t, from + p, (int) Math.min(COPY_CHUNK_BYTES, len - p)));
                    }
                    return new Piece(parts, null, null);
                }
                case REPACK: {
                    Tensor v = in.tensor(t);
                    if (v instanceof QuantizedTensor q) {
                        return new Piece(null, q, null);
                    }
                    return new Piece(null, Codecs.forScheme(Scheme.of(SchemeKind.F32)).quantize(v),
                            t.format() + " cannot be stored as is; stored as f32");
                }
                case QUANTIZE:
                default: {
                    Tensor v = in.tensor(t);
                    if (s.method != null) {
                        return new Piece(null, quantizer.quantize(t.name(), v, s.scheme, s.method), null);
                    }
                    if (s.chunked) {
                        Tensor part = s.rows() == 1 ? v : new RowSlice(v, j.rowFrom(), j.rowCount());
                        GgmlType g = ggufType(s.scheme);
                        // block types: into a pooled direct buffer. Not f32/bf16/f16: through Codec.quantizeInto's
                        // direct-buffer path (a chunk of codes, then a put) bf16 -> f16 took 0.19-0.23 s of CPU for
                        // 268 MB against 0.17-0.20 s through quantize's heap array (ConvertBench, four pairs)
                        if (g != null && g.blockSize() > 1) {
                            long bytes = g.tensorBytes(part.shape().rowLength(), part.shape().numel());
                            if (bytes <= BufferPool.MAX_POOLED) {
                                ByteBuffer b = pool.take((int) bytes);
                                Codecs.forScheme(s.scheme).quantizeInto(part, b);
                                b.flip();
                                return new Piece(List.of(b), null, null, b);
                            }
                        }
                        QuantizedTensor q = Codecs.forScheme(s.scheme).quantize(part);
                        return new Piece(List.of(q.arrays().get(0).data()), null, null);
                    }
                    try {
                        return new Piece(null, Codecs.forScheme(s.scheme).quantize(v), null);
                    } catch (IllegalArgumentException | UnsupportedOperationException e) {
                        if (strict || hasNonFinite(v)) {
                            throw e;
                        }
                        return new Piece(null, Codecs.forScheme(Scheme.of(SchemeKind.BF16)).quantize(v),
                                s.scheme + " cannot store it (" + e.getMessage() + "); stored as bf16");
                    }
                }
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("tensor '" + t.name() + "': " + e.getMessage(), e);
        }
    }

    private static boolean hasNonFinite(Tensor v) {
        long n = v.shape().numel();
        float[] buf = new float[(int) Math.min(n, 1 << 16)];
        for (long p = 0; p < n; p += buf.length) {
            int len = (int) Math.min(buf.length, n - p);
            v.dequantize(p, buf, 0, len);
            for (int i = 0; i < len; i++) {
                if (!Float.isFinite(buf[i])) {
                    return true;
                }
            }
        }
        return false;
    }

    private static List<TensorReport> run(Checkpoint in, List<Step> steps, Sink sink, Options o) throws IOException {
        List<Job> jobs = jobs(steps);
        List<TensorReport> reports = new ArrayList<>();
        BufferPool buffers = new BufferPool();
        ExecutorService pool = o.threads() > 1 ? Executors.newFixedThreadPool(o.threads(), r -> {
            Thread th = new Thread(r, "quantkit-convert");
            th.setDaemon(true);
            return th;
        }) : null;
        try {
            Deque<Future<Piece>> window = new ArrayDeque<>();
            int submitted = 0;
            for (int i = 0; i < jobs.size(); i++) {
                while (submitted < jobs.size() && submitted - i < Math.max(1, o.threads())) {
                    Job j = jobs.get(submitted++);
                    Callable<Piece> c = () -> work(in, steps.get(j.step()), j, o.strict(), o.quantizer(),
                            buffers);
                    if (pool == null) {
                        CompletableFuture<Piece> f = new CompletableFuture<>();
                        try {
                            f.complete(c.call());
                        } catch (Exception e) {
                            f.completeExceptionally(e);
                        }
                        window.add(f);
                    } else {
                        window.add(pool.submit(c));
                    }
                }
                Piece p = await(window.removeFirst());
                Job j = jobs.get(i);
                Step s = steps.get(j.step());
                if (p.fallback() != null) {
                    s.fallback = p.fallback();
                }
                sink.accept(s, j, p);
                if (p.pooled() != null) {
                    buffers.give(p.pooled());
                }
                if (j.last()) {
                    TensorReport r = new TensorReport(s.info.name(), s.info.format(), sink.outFormat(s, p),
                            s.info.shape(), s.info.byteLength(), s.bytesOut, s.rule, s.fallback,
                            s.kind == Kind.COPY ? null : s.method != null ? s.method : "rtn");
                    reports.add(r);
                    o.listener().tensorDone(reports.size() - 1, steps.size(), r);
                }
            }
        } finally {
            if (pool != null) {
                pool.shutdownNow();
            }
        }
        return reports;
    }

    private static Piece await(Future<Piece> f) throws IOException {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException re) {
                throw re;
            }
            if (c instanceof IOException io) {
                throw io;
            }
            if (c instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(c);
        }
    }

    // ---------------------------------------------------------------- output containers

    interface Sink {
        void accept(Step s, Job j, Piece p) throws IOException;

        String outFormat(Step s, Piece p);

        long finish() throws IOException;
    }

    static final class GgufSink implements Sink {
        private final GgufWriter w;

        GgufSink(AtomicOutput ao, Checkpoint in, List<Step> steps, GgmlType target) throws IOException {
            List<GgufWriter.Planned> plan = new ArrayList<>();
            for (Step s : steps) {
                Shape shape = s.info.shape().rank() == 0 ? Shape.of(1) : s.info.shape();
                plan.add(new GgufWriter.Planned(s.info.name(), GgmlType.fromName(s.outFormat), shape));
            }
            Metadata m = GgufMetadata.forOutput(in, GgufMetadata.fileType(target));
            boolean quantized = steps.stream().anyMatch(s -> GgmlType.fromName(s.outFormat).blockSize() > 1);
            if (quantized) {
                m = m.with("general.quantization_version", MetaValue.u32(2));
            }
            this.w = GgufWriter.start(ao.directChannel(), m, plan);
        }

        @Override
        public void accept(Step s, Job j, Piece p) throws IOException {
            if (j.first()) {
                w.begin(s.info.name());
            }
            List<ByteBuffer> bufs = p.buffers() != null ? p.buffers() : List.of(p.whole().arrays().get(0).data());
            for (ByteBuffer b : bufs) {
                s.bytesOut += b.remaining();
                w.append(b);
            }
            if (j.last()) {
                w.end();
            }
        }

        @Override
        public String outFormat(Step s, Piece p) {
            return s.outFormat;
        }

        @Override
        public long finish() {
            return w.finish();
        }
    }

    static final class SafetensorsSink implements Sink {
        private final SafetensorsWriter w;
        private final Map<String, String> metadata;

        /** The input's metadata as safetensors strings (arrays and quantkit layout keys dropped). */
        static Map<String, String> metadataOf(Checkpoint in) {
            Map<String, String> metadata = new TreeMap<>();
            for (Map.Entry<String, MetaValue> e : in.metadata().asMap().entrySet()) {
                if (!(e.getValue() instanceof MetaValue.Arr) && !e.getKey().startsWith("quantkit.")) {
                    metadata.put(e.getKey(), e.getValue().toString());
                }
            }
            return metadata;
        }

        /**
         * A writer on {@code ch} whose header area fits {@code steps}: exactly, when every step's stored arrays
         * follow from the plan ({@link #exactArea}); otherwise a bound, and the rest of the area is padded.
         */
        SafetensorsSink(java.nio.channels.SeekableByteChannel ch, Map<String, String> metadata, List<Step> steps)
                throws IOException {
            this.metadata = metadata;
            long exact = exactArea(metadata, steps);
            if (exact >= 0) {
                this.w = SafetensorsWriter.start(ch, exact);
                return;
            }
            List<String> names = new ArrayList<>();
            List<Shape> shapes = new ArrayList<>();
            List<String> schemes = new ArrayList<>();
            for (Step s : steps) {
                names.add(s.info.name());
                shapes.add(s.info.shape());
                schemes.add(s.kind == Kind.COPY ? null : s.outFormat);
            }
            long area = SafetensorsWriter.headerBound(names, shapes, schemes, metadata);
            this.w = SafetensorsWriter.start(ch, area);
        }

        /**
         * The header bytes of {@code steps} when every one is chunked (a copy, or a dense or ggml block type made
         * chunk by chunk: names, dtypes, shapes and sizes all follow from the plan, as {@link #accept} writes them);
         * -1 when one is quantized whole (its arrays are known only afterwards).
         */
        static long exactArea(Map<String, String> metadata, List<Step> steps) {
            SafetensorsWriter dry = SafetensorsWriter.dryRun();
            for (Step s : steps) {
                if (!s.chunked) {
                    return -1;
                }
                String name = s.info.name();
                GgmlType g = s.kind == Kind.QUANTIZE ? ggufType(s.scheme) : null;
                if (s.kind == Kind.COPY) {
                    dry.begin(name, MappedSource.denseType(s.info.format()), s.info.shape());
                } else if (g != null && g.blockSize() > 1) {
                    dry.begin(name, DType.U8, Shape.of(s.rows(), g.rowBytes(s.info.shape().rowLength())));
                } else {
                    dry.begin(name, MappedSource.denseType(s.scheme.kind().name()), s.info.shape());
                }
                dry.skip(ShardedSink.plannedBytes(s, NO_PIECE));
                dry.end();
                if (g != null && g.blockSize() > 1) {
                    dry.addQuantEntry(name, s.scheme.toString(), s.info.shape(),
                            List.<String[]>of(new String[] {"blocks", name}));
                }
            }
            return dry.exactHeaderBytes(metadata);
        }

        /** A piece of no whole tensor: what {@link ShardedSink#plannedBytes} is asked about for a chunked step. */
        static final Piece NO_PIECE = new Piece(null, null, null);

        /** The stored tensor names written so far. */
        java.util.Set<String> storedNames() {
            return w.storedNames();
        }

        @Override
        public void accept(Step s, Job j, Piece p) throws IOException {
            String name = s.info.name();
            if (p.whole() != null) {
                w.add(name, p.whole());
                s.bytesOut += p.whole().storageBytes();
                return;
            }
            GgmlType g = s.kind == Kind.QUANTIZE ? ggufType(s.scheme) : null;
            boolean blocks = g != null && g.blockSize() > 1;
            if (j.first()) {
                if (s.kind == Kind.COPY) {
                    w.begin(name, MappedSource.denseType(s.info.format()), s.info.shape());
                } else if (blocks) {
                    w.begin(name, DType.U8, Shape.of(s.rows(), g.rowBytes(s.info.shape().rowLength())));
                } else {
                    w.begin(name, MappedSource.denseType(s.scheme.kind().name()), s.info.shape());
                }
            }
            for (ByteBuffer b : p.buffers()) {
                s.bytesOut += b.remaining();
                w.append(b);
            }
            if (j.last()) {
                w.end();
                if (blocks) {
                    w.addQuantEntry(name, s.scheme.toString(), s.info.shape(), List.<String[]>of(new String[] {"blocks", name}));
                }
            }
        }

        @Override
        public String outFormat(Step s, Piece p) {
            if (p.whole() != null) {
                return p.whole().scheme().toString();
            }
            return s.outFormat;
        }

        @Override
        public long finish() throws IOException {
            try {
                return w.finish(metadata);
            } catch (UncheckedIOException e) {
                throw e.getCause();
            }
        }
    }

    /**
     * A sharded safetensors output: tensors in input order; a new shard starts before a tensor that would take the
     * current shard's data past {@code shardBytes} (a tensor larger than that gets a shard of its own). Shards are
     * written as {@code shard-K} files in the temporary folder and renamed to
     * {@code model-0000K-of-0000N.safetensors} at the end, when N is known; then
     * {@code model.safetensors.index.json} ({@code metadata.total_size}, {@code weight_map} of every stored array)
     * is written. Each shard is a complete safetensors file with the input's metadata and the quantkit layout
     * entries of its own tensors. Each shard's header area is bounded over the tensors still to come.
     */
    static final class ShardedSink implements Sink {
        private final Path dir;
        private final Map<String, String> metadata;
        private final List<Step> steps;
        private final long shardBytes;
        private final List<Path> files = new ArrayList<>();
        private final Map<String, Integer> weightMap = new TreeMap<>();
        private java.nio.channels.FileChannel ch;
        private io.quantkit.io.DirectOutput direct;
        private SafetensorsSink cur;
        private long curBytes;
        private int curCount;
        private long totalData;

        ShardedSink(Path dir, Checkpoint in, List<Step> steps, long shardBytes) {
            this.dir = dir;
            this.metadata = SafetensorsSink.metadataOf(in);
            this.steps = steps;
            this.shardBytes = shardBytes;
        }

        /** Bytes this tensor will store: known from the plan for chunked steps, from the tensor for whole ones. */
        static long plannedBytes(Step s, Piece p) {
            if (p.whole() != null) {
                return p.whole().storageBytes();
            }
            if (s.kind == Kind.COPY) {
                return s.info.byteLength();
            }
            GgmlType g = ggufType(s.scheme);
            long numel = s.info.shape().numel();
            if (g != null && g.blockSize() > 1) {
                return Math.multiplyExact(s.rows(), g.rowBytes(s.info.shape().rowLength()));
            }
            return Math.multiplyExact(numel, (long) MappedSource.denseType(s.scheme.kind().name()).bytes());
        }

        private void open(int fromStep) throws IOException {
            Path f = dir.resolve("shard-" + files.size());
            files.add(f);
            ch = java.nio.channels.FileChannel.open(f, java.nio.file.StandardOpenOption.CREATE_NEW,
                    java.nio.file.StandardOpenOption.WRITE, java.nio.file.StandardOpenOption.READ);
            direct = io.quantkit.io.DirectOutput.open(f, ch);
            cur = new SafetensorsSink(direct, metadata, shardSteps(fromStep));
            curBytes = 0;
            curCount = 0;
        }

        /**
         * The steps the shard starting at {@code from} will hold, found as {@link #accept} will split them, when
         * each is chunked (its size follows from the plan); otherwise every step from {@code from} on (a bound).
         */
        List<Step> shardSteps(int from) {
            long bytes = 0;
            int i = from;
            while (i < steps.size()) {
                Step s = steps.get(i);
                if (!s.chunked) {
                    return steps.subList(from, steps.size());
                }
                long size = plannedBytes(s, SafetensorsSink.NO_PIECE);
                if (i > from && bytes + size > shardBytes) {
                    break;
                }
                bytes += size;
                i++;
            }
            return steps.subList(from, i);
        }

        private void close() throws IOException {
            cur.finish();
            for (String n : cur.storedNames()) {
                weightMap.put(n, files.size() - 1);
            }
            direct.finish();
            direct.close();
            ch.close();
            cur = null;
        }

        @Override
        public void accept(Step s, Job j, Piece p) throws IOException {
            if (j.first()) {
                long size = plannedBytes(s, p);
                if (cur != null && curCount > 0 && curBytes + size > shardBytes) {
                    close();
                }
                if (cur == null) {
                    open(j.step());
                }
                curCount++;
            }
            long before = s.bytesOut;
            cur.accept(s, j, p);
            curBytes += s.bytesOut - before;
            totalData += s.bytesOut - before;
        }

        @Override
        public String outFormat(Step s, Piece p) {
            return cur.outFormat(s, p);
        }

        @Override
        public long finish() throws IOException {
            if (cur == null) {
                open(steps.size()); // no tensors: one empty shard
            }
            close();
            int n = files.size();
            List<String> names = new ArrayList<>();
            long size = 0;
            for (int i = 0; i < n; i++) {
                String name = String.format(Locale.ROOT, "model-%05d-of-%05d.safetensors", i + 1, n);
                names.add(name);
                size += Files.size(files.get(i));
                Files.move(files.get(i), dir.resolve(name));
            }
            Map<String, Object> index = new java.util.LinkedHashMap<>();
            index.put("metadata", Map.of("total_size", totalData));
            Map<String, String> wm = new TreeMap<>();
            weightMap.forEach((k, v) -> wm.put(k, names.get(v)));
            index.put("weight_map", wm);
            byte[] json = new com.fasterxml.jackson.databind.ObjectMapper()
                    .writerWithDefaultPrettyPrinter().writeValueAsBytes(index);
            Files.write(dir.resolve(Checkpoints.SAFETENSORS_INDEX), json);
            return size + json.length;
        }
    }
}
