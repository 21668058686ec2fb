package io.quantkit.calib;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.quantkit.model.LlamaWeights;
import io.quantkit.tensor.Shape;
import io.quantkit.tensor.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * A calibration profile: the input statistics ({@link TensorStats}) of every linear weight of one model, with
 * where they came from.
 *
 * <pre>
 * JSON, keys sorted at every level, numbers as Java prints doubles (shortest round-trip form):
 * { "format": "quantkit-calibration", "version": 1,
 *   "provenance": { "ctx", "data_file", "data_sha256", "model_file", "model_sha256", "samples", "seed",
 *                   "tokens", "weights_sha256" },
 *   "tensors": { NAME: { "absmax": [in], "gram_upper": [in·(in+1)/2, row-major upper triangle of Σxxᵀ/rows],
 *                        "hist": [HIST_BINS counts], "max": [in], "mean_sq": [in], "min": [in],
 *                        "rows": N, "shape": [out, in] } } }
 * </pre>
 * {@code weights_sha256} fingerprints the model itself (every tensor's name, shape and float32 values, in
 * {@link LlamaWeights#tensors()} order), so a profile made from the {@code .bin} fits the same weights read
 * from a GGUF, while a profile of another model is refused by {@link #checkFits}. Immutable.
 */
public final class CalibrationProfile {
    public static final String FORMAT = "quantkit-calibration";
    public static final int VERSION = 1;
    /** Largest profile file read. */
    public static final long MAX_FILE_BYTES = 1L << 31;

    /** Where the statistics came from. */
    public record Provenance(String modelFile, String modelSha256, String weightsSha256, String dataFile,
                             String dataSha256, int samples, int ctx, long seed, long tokens) {
        public Provenance {
            Objects.requireNonNull(modelFile);
            Objects.requireNonNull(modelSha256);
            Objects.requireNonNull(weightsSha256);
            Objects.requireNonNull(dataFile);
            Objects.requireNonNull(dataSha256);
        }
    }

    /** One tensor's weight shape and input statistics. */
    public record Entry(Shape shape, TensorStats stats) {
    }

    private final Provenance provenance;
    private final Map<String, Entry> tensors;

    private CalibrationProfile(Provenance provenance, Map<String, Entry> tensors) {
        this.provenance = provenance;
        this.tensors = Collections.unmodifiableMap(new TreeMap<>(tensors));
    }

    public static CalibrationProfile of(Provenance provenance, Map<String, Entry> tensors) {
        for (Map.Entry<String, Entry> e : tensors.entrySet()) {
            Shape s = e.getValue().shape();
            if (s.rank() != 2 || s.dim(1) != e.getValue().stats().width()) {
                throw new IllegalArgumentException("tensor '" + e.getKey() + "' of shape " + s
                        + " does not take inputs of width " + e.getValue().stats().width());
            }
        }
        return new CalibrationProfile(Objects.requireNonNull(provenance, "provenance"), tensors);
    }

    public Provenance provenance() {
        return provenance;
    }

    /** Entries by tensor name, sorted. */
    public Map<String, Entry> tensors() {
        return tensors;
    }

    /** The statistics of {@code name}, or null if the profile has none (e.g. the token embedding). */
    public TensorStats stats(String name) {
        Entry e = tensors.get(name);
        return e == null ? null : e.stats();
    }

    /**
     * Refuses ({@link IllegalArgumentException}) a profile made from other weights: a different fingerprint, a
     * tensor the model lacks, or a shape that differs.
     */
    public void checkFits(LlamaWeights weights) {
        for (Map.Entry<String, Entry> e : tensors.entrySet()) {
            Tensor t = weights.tensors().get(e.getKey());
            if (t == null) {
                throw new IllegalArgumentException("calibration profile has tensor '" + e.getKey()
                        + "', which the model lacks: the profile was made for another model");
            }
            if (!t.shape().equals(e.getValue().shape())) {
                throw new IllegalArgumentException("calibration profile has shape " + e.getValue().shape()
                        + " for '" + e.getKey() + "' but the model's is " + t.shape()
                        + ": the profile was made for another model");
            }
        }
        String fp = fingerprint(weights);
        if (!fp.equals(provenance.weightsSha256())) {
            throw new IllegalArgumentException("calibration profile was made from other weights (weights_sha256 "
                    + provenance.weightsSha256().substring(0, 12) + "…, this model's is " + fp.substring(0, 12)
                    + "…); calibrate this model first");
        }
    }

    /** SHA-256 over every tensor's name, shape and float32 values (little-endian), in order. */
    public static String fingerprint(LlamaWeights weights) {
        MessageDigest md = sha256();
        float[] buf = new float[1 << 14];
        byte[] bytes = new byte[buf.length * 4];
        for (Map.Entry<String, Tensor> e : weights.tensors().entrySet()) {
            md.update(e.getKey().getBytes(StandardCharsets.UTF_8));
            md.update((byte) 0);
            md.update(e.getValue().shape().toString().getBytes(StandardCharsets.UTF_8));
            long n = e.getValue().shape().numel();
            for (long pos = 0; pos < n; pos += buf.length) {
                int len = (int) Math.min(buf.length, n - pos);
                e.getValue().dequantize(pos, buf, 0, len);
                for (int i = 0; i < len; i++) {
                    int b = Float.floatToRawIntBits(buf[i]);
                    bytes[4 * i] = (byte) b;
                    bytes[4 * i + 1] = (byte) (b >> 8);
                    bytes[4 * i + 2] = (byte) (b >> 16);
                    bytes[4 * i + 3] = (byte) (b >> 24);
                }
                md.update(bytes, 0, 4 * len);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** SHA-256 of a file's bytes, hex. */
    public static String sha256(Path file) throws IOException {
        MessageDigest md = sha256();
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            int r;
            while ((r = in.read(buf)) > 0) {
                md.update(buf, 0, r);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this Java runtime", e);
        }
    }

    private static ObjectMapper mapper() {
        return new ObjectMapper().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true)
                .configure(JsonGenerator.Feature.AUTO_CLOSE_TARGET, false);
    }

    /** The profile as a JSON tree of sorted maps and lists. */
    Map<String, Object> toTree() {
        Map<String, Object> root = new TreeMap<>();
        root.put("format", FORMAT);
        root.put("version", VERSION);
        Map<String, Object> p = new TreeMap<>();
        p.put("ctx", provenance.ctx());
        p.put("data_file", provenance.dataFile());
        p.put("data_sha256", provenance.dataSha256());
        p.put("model_file", provenance.modelFile());
        p.put("model_sha256", provenance.modelSha256());
        p.put("samples", provenance.samples());
        p.put("seed", provenance.seed());
        p.put("tokens", provenance.tokens());
        p.put("weights_sha256", provenance.weightsSha256());
        root.put("provenance", p);
        Map<String, Object> ts = new TreeMap<>();
        for (Map.Entry<String, Entry> e : tensors.entrySet()) {
            TensorStats s = e.getValue().stats();
            Map<String, Object> m = new TreeMap<>();
            m.put("absmax", s.absmax());
            int w = s.width();
            double[] g = s.gram();
            double[] upper = new double[w * (w + 1) / 2];
            int k = 0;
            for (int i = 0; i < w; i++) {
                for (int j = i; j < w; j++) {
                    upper[k++] = g[i * w + j];
                }
            }
            m.put("gram_upper", upper);
            m.put("hist", s.histogram());
            m.put("max", s.max());
            m.put("mean_sq", s.importance());
            m.put("min", s.min());
            m.put("rows", s.rows());
            m.put("shape", e.getValue().shape().dims());
            ts.put(e.getKey(), m);
        }
        root.put("tensors", ts);
        return root;
    }

    /** Writes the JSON (see the class comment) to {@code out}. */
    public void write(OutputStream out) throws IOException {
        mapper().writeValue(out, toTree());
        out.write('\n');
    }

    /** Writes to {@code file} atomically (a temporary file in the same folder, then a move). */
    public void write(Path file) throws IOException {
        io.quantkit.io.AtomicOutput.write(file, true, this::write);
    }

    /** Reads a profile written by {@link #write}; throws {@link IllegalArgumentException} naming what is wrong. */
    public static CalibrationProfile read(Path file) throws IOException {
        long size = Files.size(file);
        if (size > MAX_FILE_BYTES) {
            throw new IllegalArgumentException("calibration profile (" + size + " bytes) exceeds the maximum ("
                    + MAX_FILE_BYTES + ")");
        }
        JsonNode root;
        try {
            root = mapper().readTree(file.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(file.getFileName() + " is not JSON: " + e.getOriginalMessage(), e);
        }
        return fromTree(root, file.getFileName().toString());
    }

    static CalibrationProfile fromTree(JsonNode root, String name) {
        if (root == null || !FORMAT.equals(root.path("format").asText())) {
            throw new IllegalArgumentException(name + " is not a quantkit calibration profile (format is not '"
                    + FORMAT + "')");
        }
        int version = root.path("version").asInt(-1);
        if (version != VERSION) {
            throw new IllegalArgumentException(name + " has calibration profile version " + version
                    + "; this quantkit reads version " + VERSION);
        }
        JsonNode p = root.path("provenance");
        Provenance prov = new Provenance(text(p, "model_file", name), text(p, "model_sha256", name),
                text(p, "weights_sha256", name), text(p, "data_file", name), text(p, "data_sha256", name),
                p.path("samples").asInt(), p.path("ctx").asInt(), p.path("seed").asLong(), p.path("tokens").asLong());
        Map<String, Entry> out = new LinkedHashMap<>();
        JsonNode ts = root.path("tensors");
        List<String> names = new ArrayList<>();
        ts.fieldNames().forEachRemaining(names::add);
        for (String t : names) {
            JsonNode m = ts.get(t);
            long[] dims = longs(m, "shape", 2, t, name);
            if (dims[0] < 1 || dims[1] < 1 || dims[1] > TensorStats.MAX_WIDTH) {
                throw new IllegalArgumentException(name + ": tensor '" + t + "' has a bad shape");
            }
            int w = (int) dims[1];
            double[] upper = doubles(m, "gram_upper", w * (w + 1) / 2, t, name);
            double[] gram = new double[w * w];
            int k = 0;
            for (int i = 0; i < w; i++) {
                for (int j = i; j < w; j++) {
                    gram[i * w + j] = upper[k];
                    gram[j * w + i] = upper[k];
                    k++;
                }
            }
            TensorStats s = new TensorStats(w, m.path("rows").asLong(), doubles(m, "mean_sq", w, t, name),
                    doubles(m, "absmax", w, t, name), doubles(m, "min", w, t, name), doubles(m, "max", w, t, name),
                    gram, longs(m, "hist", TensorStats.HIST_BINS, t, name));
            out.put(t, new Entry(Shape.of(dims), s));
        }
        return of(prov, out);
    }

    private static String text(JsonNode p, String key, String name) {
        JsonNode v = p.get(key);
        if (v == null || !v.isTextual()) {
            throw new IllegalArgumentException(name + ": provenance has no string '" + key + "'");
        }
        return v.asText();
    }

    private static double[] doubles(JsonNode m, String key, int n, String t, String name) {
        JsonNode a = m.get(key);
        if (a == null || !a.isArray() || a.size() != n) {
            throw new IllegalArgumentException(name + ": tensor '" + t + "' needs an array '" + key + "' of " + n
                    + " numbers");
        }
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            if (!a.get(i).isNumber()) {
                throw new IllegalArgumentException(name + ": tensor '" + t + "' '" + key + "' holds a non-number");
            }
            out[i] = a.get(i).asDouble();
        }
        return out;
    }

    private static long[] longs(JsonNode m, String key, int n, String t, String name) {
        JsonNode a = m == null ? null : m.get(key);
        if (a == null || !a.isArray() || a.size() != n) {
            throw new IllegalArgumentException(name + ": tensor '" + t + "' needs an array '" + key + "' of " + n
                    + " integers");
        }
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            if (!a.get(i).canConvertToLong()) {
                throw new IllegalArgumentException(name + ": tensor '" + t + "' '" + key + "' holds a non-integer");
            }
            out[i] = a.get(i).asLong();
        }
        return out;
    }
}
