package io.quantkit.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A training checkpoint in the safetensors container: every parameter tensor under its {@link ParamLayout} name
 * (F32, shape {@code [rows, cols]} or {@code [cols]} for norms), the AdamW moments as two flat F32 tensors
 * {@code optimizer.adam_m} and {@code optimizer.adam_v} (same layout as the parameters), and in
 * {@code __metadata__}: {@code format = quantkit-train-checkpoint}, {@code format_version = 1}, {@code step} (steps
 * done) and the architecture ({@code dim}, {@code hidden_dim}, {@code n_layers}, {@code n_heads}, {@code n_kv_heads},
 * {@code vocab_size}, {@code seq_len}, {@code shared_classifier}, {@code norm_eps}, {@code rope_theta}, and
 * {@code sub_norms = true} for a BitNet SubLN model). A run with learned quantization scales ({@link Trainer#learnScales})
 * adds them as {@code lsq.scales} and their AdamW moments as {@code optimizer.lsq_m} and {@code optimizer.lsq_v} (flat
 * F32, in {@code LearnedScales} order), with {@code learned_scales} = their count in the metadata.
 *
 * <p>Layout (safetensors): u64 little-endian header length N, N bytes of JSON (keys sorted, padded with spaces to a
 * multiple of 8), then the tensors' little-endian bytes back to back in parameter order. Written to a temporary
 * file in the same folder and moved into place atomically. A tied classifier is stored once (as the embedding).
 */
public final class Checkpoint {
    /** The value of {@code format} in the metadata. */
    public static final String FORMAT = "quantkit-train-checkpoint";
    /** Largest header accepted when reading. */
    public static final int MAX_HEADER_BYTES = 16 << 20;

    private static final ObjectMapper JSON = new ObjectMapper().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);

    /**
     * What a checkpoint holds. {@code scales}, {@code scalesM} and {@code scalesV} (the learned quantization scales and
     * their AdamW moments) are all null for a run without learned scales, or all of one length.
     */
    public record State(Architecture architecture, int step, float[] params, float[] adamM, float[] adamV,
                        float[] scales, float[] scalesM, float[] scalesV) {
        public State {
            boolean none = scales == null;
            if (none != (scalesM == null) || none != (scalesV == null)
                    || (!none && (scalesM.length != scales.length || scalesV.length != scales.length))) {
                throw new IllegalArgumentException("learned scales and their two moments must all be given, of one "
                        + "length, or none of them");
            }
        }

        /** A state without learned scales. */
        public State(Architecture architecture, int step, float[] params, float[] adamM, float[] adamV) {
            this(architecture, step, params, adamM, adamV, null, null, null);
        }
    }

    private Checkpoint() {
    }

    /** Writes {@code state} to {@code file} atomically. */
    public static void save(Path file, State state) throws IOException {
        Architecture a = state.architecture();
        ParamLayout layout = new ParamLayout(a);
        Map<String, Object> header = new TreeMap<>();
        Map<String, String> meta = new TreeMap<>();
        meta.put("format", FORMAT);
        meta.put("format_version", "1");
        meta.put("step", Integer.toString(state.step()));
        meta.put("dim", Integer.toString(a.dim()));
        meta.put("hidden_dim", Integer.toString(a.hiddenDim()));
        meta.put("n_layers", Integer.toString(a.nLayers()));
        meta.put("n_heads", Integer.toString(a.nHeads()));
        meta.put("n_kv_heads", Integer.toString(a.nKvHeads()));
        meta.put("vocab_size", Integer.toString(a.vocabSize()));
        meta.put("seq_len", Integer.toString(a.seqLen()));
        meta.put("shared_classifier", Boolean.toString(a.sharedClassifier()));
        meta.put("norm_eps", Float.toString(a.normEps()));
        meta.put("rope_theta", Float.toString(a.ropeTheta()));
        if (a.subNorms()) {
            meta.put("sub_norms", "true");
        }
        if (state.scales() != null) {
            meta.put("learned_scales", Integer.toString(state.scales().length));
        }
        header.put("__metadata__", meta);
        long at = 0;
        List<float[]> blobs = new ArrayList<>();
        for (ParamLayout.Entry e : layout.entries()) {
            long bytes = 4L * e.size();
            header.put(e.name(), tensorInfo(e.role() == ParamLayout.Role.NORM ? new long[] {e.cols()}
                    : new long[] {e.rows(), e.cols()}, at, at + bytes));
            at += bytes;
        }
        blobs.add(state.params());
        header.put("optimizer.adam_m", tensorInfo(new long[] {layout.size()}, at, at + 4L * layout.size()));
        at += 4L * layout.size();
        header.put("optimizer.adam_v", tensorInfo(new long[] {layout.size()}, at, at + 4L * layout.size()));
        blobs.add(state.adamM());
        blobs.add(state.adamV());
        at += 4L * layout.size();
        if (state.scales() != null) {
            long n = state.scales().length;
            String[] names = {"lsq.scales", "optimizer.lsq_m", "optimizer.lsq_v"};
            float[][] arrays = {state.scales(), state.scalesM(), state.scalesV()};
            for (int i = 0; i < 3; i++) {
                header.put(names[i], tensorInfo(new long[] {n}, at, at + 4 * n));
                at += 4 * n;
                blobs.add(arrays[i]);
            }
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8;
        byte[] head = new byte[8 + padded];
        ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
        System.arraycopy(json, 0, head, 8, json.length);
        for (int i = 8 + json.length; i < head.length; i++) {
            head[i] = ' ';
        }
        io.quantkit.io.AtomicOutput.write(file, true, out -> {
            out.write(head);
            for (float[] b : blobs) {
                writeFloats(out, b);
            }
        });
    }

    private static Map<String, Object> tensorInfo(long[] shape, long from, long to) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("dtype", "F32");
        m.put("shape", shape);
        m.put("data_offsets", new long[] {from, to});
        return m;
    }

    static void writeFloats(OutputStream out, float[] a) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : a) {
            if (buf.remaining() < 4) {
                out.write(buf.array(), 0, buf.position());
                buf.clear();
            }
            buf.putFloat(f);
        }
        out.write(buf.array(), 0, buf.position());
    }

    /** Reads a checkpoint written by {@link #save}; throws {@link IllegalArgumentException} for anything else. */
    public static State load(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        if (all.length < 8) {
            throw new IllegalArgumentException(file + " is too short to be a safetensors file");
        }
        long n = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (n < 2 || n > MAX_HEADER_BYTES || n > all.length - 8) {
            throw new IllegalArgumentException("header length (" + n + ") of " + file + " is outside [2, "
                    + Math.min(MAX_HEADER_BYTES, all.length - 8L) + "]");
        }
        JsonNode h = JSON.readTree(new String(all, 8, (int) n, StandardCharsets.UTF_8));
        JsonNode meta = h.path("__metadata__");
        if (!FORMAT.equals(meta.path("format").asText())) {
            throw new IllegalArgumentException(file + " is not a quantkit training checkpoint (metadata format is '"
                    + meta.path("format").asText() + "')");
        }
        if (!"1".equals(meta.path("format_version").asText())) {
            throw new IllegalArgumentException(file + " has checkpoint format version '" + meta.path("format_version").asText()
                    + "' but only 1 is known");
        }
        Architecture a = new Architecture(intMeta(meta, "dim"), intMeta(meta, "hidden_dim"), intMeta(meta, "n_layers"),
                intMeta(meta, "n_heads"), intMeta(meta, "n_kv_heads"), intMeta(meta, "vocab_size"),
                intMeta(meta, "seq_len"), Boolean.parseBoolean(meta.path("shared_classifier").asText()),
                Float.parseFloat(meta.path("norm_eps").asText()), Float.parseFloat(meta.path("rope_theta").asText()),
                Boolean.parseBoolean(meta.path("sub_norms").asText("false")));
        ParamLayout layout = new ParamLayout(a);
        long dataStart = 8 + n;
        float[] params = new float[layout.size()];
        for (ParamLayout.Entry e : layout.entries()) {
            read(all, dataStart, h, e.name(), params, e.offset(), e.size(), file);
        }
        float[] m = new float[layout.size()];
        float[] v = new float[layout.size()];
        read(all, dataStart, h, "optimizer.adam_m", m, 0, m.length, file);
        read(all, dataStart, h, "optimizer.adam_v", v, 0, v.length, file);
        float[][] lsq = null;
        if (!meta.path("learned_scales").isMissingNode()) {
            int count = intMeta(meta, "learned_scales");
            if (count < 1 || count > layout.size()) {
                throw new IllegalArgumentException("checkpoint metadata 'learned_scales' (" + count + ") is outside [1, "
                        + layout.size() + "]");
            }
            lsq = new float[3][count];
            read(all, dataStart, h, "lsq.scales", lsq[0], 0, count, file);
            read(all, dataStart, h, "optimizer.lsq_m", lsq[1], 0, count, file);
            read(all, dataStart, h, "optimizer.lsq_v", lsq[2], 0, count, file);
        }
        int expected = layout.entries().size() + 2 + (lsq == null ? 0 : 3);
        int seen = 0;
        for (Iterator<String> it = h.fieldNames(); it.hasNext(); ) {
            if (!it.next().equals("__metadata__")) {
                seen++;
            }
        }
        if (seen != expected) {
            throw new IllegalArgumentException(file + " holds " + seen + " tensors but the architecture needs " + expected);
        }
        return lsq == null ? new State(a, intMeta(meta, "step"), params, m, v)
                : new State(a, intMeta(meta, "step"), params, m, v, lsq[0], lsq[1], lsq[2]);
    }

    private static int intMeta(JsonNode meta, String key) {
        String s = meta.path(key).asText("");
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("checkpoint metadata '" + key + "' is not an integer: '" + s + "'", e);
        }
    }

    private static void read(byte[] all, long dataStart, JsonNode h, String name, float[] dst, int off, int count, Path file) {
        JsonNode t = h.get(name);
        if (t == null) {
            throw new IllegalArgumentException(file + " has no tensor '" + name + "'");
        }
        if (!"F32".equals(t.path("dtype").asText())) {
            throw new IllegalArgumentException("tensor '" + name + "' of " + file + " is " + t.path("dtype").asText()
                    + ", expected F32");
        }
        long from = t.path("data_offsets").path(0).asLong(-1);
        long to = t.path("data_offsets").path(1).asLong(-1);
        if (from < 0 || to - from != 4L * count || dataStart + to > all.length) {
            throw new IllegalArgumentException("tensor '" + name + "' of " + file + " has offsets [" + from + ", " + to
                    + ") but needs " + 4L * count + " bytes inside the file");
        }
        ByteBuffer b = ByteBuffer.wrap(all, (int) (dataStart + from), 4 * count).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; i++) {
            dst[off + i] = b.getFloat();
        }
    }
}
