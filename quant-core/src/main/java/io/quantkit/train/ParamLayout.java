package io.quantkit.train;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where every parameter tensor of an {@link Architecture} lives in one flat float array. The order is
 * llama2.c's checkpoint order (embedding, per-layer tensors grouped by kind, final norm, then the classifier
 * when it is not tied), so the flat array is also the body of a llama2.c {@code .bin} file minus its RoPE tables.
 * Names follow llama2.c's {@code model.py} ({@code layers.0.attention.wq.weight}). With
 * {@link Architecture#subNorms()} the SubLN gains {@code layers.N.attention_sub_norm.weight} ({@code [dim]}) and
 * {@code layers.N.ffn_sub_norm.weight} ({@code [hidden]}) follow at the end, after the classifier.
 *
 * <p>Immutable and thread-safe.
 */
public final class ParamLayout {

    /** What a parameter tensor is; decides weight decay and fake quantization. */
    public enum Role {
        /** token embedding {@code [vocab, dim]} */
        EMBEDDING,
        /** RMSNorm gain {@code [dim]} */
        NORM,
        /** a linear layer's weight {@code [out, in]} */
        LINEAR,
        /** the untied classifier {@code [vocab, dim]} */
        CLASSIFIER
    }

    /** One tensor: its name, role, layer (-1 outside the blocks), shape and place in the flat array. */
    public record Entry(String name, Role role, int layer, int rows, int cols, int offset) {
        public int size() {
            return rows * cols;
        }
    }

    private final Architecture arch;
    private final List<Entry> entries;
    private final Map<String, Entry> byName;
    private final int total;

    // offsets of the per-layer tensors, indexed by layer
    final int tokEmb;
    final int[] rmsAtt;
    final int[] wq;
    final int[] wk;
    final int[] wv;
    final int[] wo;
    final int[] rmsFfn;
    final int[] w1;
    final int[] w2;
    final int[] w3;
    final int rmsFinal;
    final int wcls;
    /** SubLN gains, or null without {@link Architecture#subNorms()}. */
    final int[] subAtt;
    final int[] subFfn;

    public ParamLayout(Architecture arch) {
        this.arch = arch;
        int L = arch.nLayers();
        int d = arch.dim();
        int kv = arch.kvDim();
        int h = arch.hiddenDim();
        List<Entry> list = new ArrayList<>();
        long[] at = {0};
        tokEmb = add(list, at, "tok_embeddings.weight", Role.EMBEDDING, -1, arch.vocabSize(), d);
        rmsAtt = perLayer(list, at, L, "attention_norm.weight", Role.NORM, 1, d);
        wq = perLayer(list, at, L, "attention.wq.weight", Role.LINEAR, d, d);
        wk = perLayer(list, at, L, "attention.wk.weight", Role.LINEAR, kv, d);
        wv = perLayer(list, at, L, "attention.wv.weight", Role.LINEAR, kv, d);
        wo = perLayer(list, at, L, "attention.wo.weight", Role.LINEAR, d, d);
        rmsFfn = perLayer(list, at, L, "ffn_norm.weight", Role.NORM, 1, d);
        w1 = perLayer(list, at, L, "feed_forward.w1.weight", Role.LINEAR, h, d);
        w2 = perLayer(list, at, L, "feed_forward.w2.weight", Role.LINEAR, d, h);
        w3 = perLayer(list, at, L, "feed_forward.w3.weight", Role.LINEAR, h, d);
        rmsFinal = add(list, at, "norm.weight", Role.NORM, -1, 1, d);
        wcls = arch.sharedClassifier() ? tokEmb : add(list, at, "output.weight", Role.CLASSIFIER, -1, arch.vocabSize(), d);
        subAtt = arch.subNorms() ? perLayer(list, at, L, "attention_sub_norm.weight", Role.NORM, 1, d) : null;
        subFfn = arch.subNorms() ? perLayer(list, at, L, "ffn_sub_norm.weight", Role.NORM, 1, h) : null;
        this.entries = Collections.unmodifiableList(list);
        Map<String, Entry> m = new LinkedHashMap<>();
        for (Entry e : list) {
            m.put(e.name(), e);
        }
        this.byName = Collections.unmodifiableMap(m);
        this.total = (int) at[0];
    }

    private static int add(List<Entry> list, long[] at, String name, Role role, int layer, int rows, int cols) {
        long off = at[0];
        long next = off + (long) rows * cols;
        if (next > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("parameter count (" + next + ") exceeds the maximum ("
                    + (Integer.MAX_VALUE - 8) + ")");
        }
        list.add(new Entry(name, role, layer, rows, cols, (int) off));
        at[0] = next;
        return (int) off;
    }

    private static int[] perLayer(List<Entry> list, long[] at, int layers, String suffix, Role role, int rows, int cols) {
        int[] offs = new int[layers];
        for (int l = 0; l < layers; l++) {
            offs[l] = add(list, at, "layers." + l + "." + suffix, role, l, rows, cols);
        }
        return offs;
    }

    public Architecture architecture() {
        return arch;
    }

    /** Every tensor in flat-array order. */
    public List<Entry> entries() {
        return entries;
    }

    /** The tensor with this name, or throws {@link IllegalArgumentException}. */
    public Entry entry(String name) {
        Entry e = byName.get(name);
        if (e == null) {
            throw new IllegalArgumentException("no parameter named '" + name + "'");
        }
        return e;
    }

    /** Number of floats in the flat array (a tied classifier is counted once). */
    public int size() {
        return total;
    }
}
