package io.quantkit.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quantkit.tensor.FloatTensor;
import io.quantkit.tensor.Shape;
import io.quantkit.tensor.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * The forward pass against an independent float64 numpy implementation (reference/model/tiny_llama.py) on two
 * tiny random models, plus invariants that hold exactly: causality, KV-cache decode = whole-prompt pass, any
 * chunking, any thread count.
 */
class LlamaModelTest {
    static final String GQA = "tiny-gqa-adjacent-tied";
    static final String MHA = "tiny-mha-halfsplit-separate";

    record Case(LlamaModel model, int[] tokens, float[] logits) {
    }

    static LlamaConfig config(String name) {
        return switch (name) {
            case GQA -> new LlamaConfig(16, 40, 2, 4, 2, 37, 32, 1e-5f, 10000f, RopeStyle.ADJACENT_PAIRS);
            case MHA -> new LlamaConfig(18, 52, 3, 3, 3, 29, 32, 1e-5f, 10000f, RopeStyle.HALF_SPLIT);
            default -> throw new IllegalArgumentException(name);
        };
    }

    static float[] floats(String resource) throws IOException {
        try (InputStream in = LlamaModelTest.class.getResourceAsStream("/reference/model/" + resource)) {
            ByteBuffer b = ByteBuffer.wrap(in.readAllBytes()).order(ByteOrder.LITTLE_ENDIAN);
            float[] f = new float[b.remaining() / 4];
            b.asFloatBuffer().get(f);
            return f;
        }
    }

    static LlamaWeights weights(String name) throws IOException {
        LlamaConfig c = config(name);
        boolean separate = name.equals(MHA);
        float[] all = floats(name + ".weights.f32");
        Map<String, Tensor> t = new LinkedHashMap<>();
        int off = 0;
        for (String n : LlamaWeights.expectedNames(c, separate)) {
            Shape s = shapeOf(c, n);
            int len = (int) s.numel();
            t.put(n, FloatTensor.of(s, Arrays.copyOfRange(all, off, off + len)));
            off += len;
        }
        assertEquals(all.length, off, "weight file size");
        return LlamaWeights.of(c, t);
    }

    static Shape shapeOf(LlamaConfig c, String n) {
        if (n.equals(LlamaWeights.TOKEN_EMBD) || n.equals(LlamaWeights.OUTPUT)) {
            return Shape.of(c.vocabSize(), c.dim());
        }
        if (n.equals(LlamaWeights.OUTPUT_NORM)) {
            return Shape.of(c.dim());
        }
        for (LlamaWeights.LayerTensor k : LlamaWeights.LayerTensor.values()) {
            if (n.endsWith("." + k.name(0).split("\\.")[2] + ".weight")) {
                return k.shape(c);
            }
        }
        throw new IllegalArgumentException(n);
    }

    static Case load(String name) throws IOException {
        LlamaModel m = LlamaModel.load(weights(name));
        String toks;
        try (InputStream in = LlamaModelTest.class.getResourceAsStream("/reference/model/" + name + ".tokens.txt")) {
            toks = new String(in.readAllBytes(), StandardCharsets.US_ASCII).trim();
        }
        int[] tokens = Arrays.stream(toks.split(" ")).mapToInt(Integer::parseInt).toArray();
        return new Case(m, tokens, floats(name + ".logits.f32"));
    }

    @ParameterizedTest
    @ValueSource(strings = {GQA, MHA})
    void logitsMatchNumpyReference(String name) throws IOException {
        Case c = load(name);
        float[] got = c.model.newSession().forward(c.tokens, 0, c.tokens.length, 0);
        assertEquals(c.logits.length, got.length);
        for (int i = 0; i < got.length; i++) {
            assertEquals(c.logits[i], got[i], 1e-4 * Math.max(1, Math.abs(c.logits[i])), "logit " + i);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {GQA, MHA})
    void kvCacheDecodeEqualsWholePromptExactly(String name) throws IOException {
        Case c = load(name);
        float[] whole = c.model.newSession().forward(c.tokens, 0, c.tokens.length, 0);
        LlamaModel.Session s = c.model.newSession();
        int v = c.model.config().vocabSize();
        for (int t = 0; t < c.tokens.length; t++) {
            float[] step = s.next(c.tokens[t]);
            assertArrayEquals(Arrays.copyOfRange(whole, t * v, (t + 1) * v), step, "position " + t);
        }
        // uneven chunks (prime sizes) and logits of a suffix only
        LlamaModel.Session chunked = c.model.newSession();
        float[] a = chunked.forward(c.tokens, 0, 3, 0);
        float[] b = chunked.forward(c.tokens, 3, 5, 2);
        float[] d = chunked.forward(c.tokens, 8, 3, 0);
        assertArrayEquals(Arrays.copyOfRange(whole, 0, 3 * v), a);
        assertArrayEquals(Arrays.copyOfRange(whole, 5 * v, 8 * v), b);
        assertArrayEquals(Arrays.copyOfRange(whole, 8 * v, 11 * v), d);
        assertEquals(11, chunked.position());
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3, 5})
    void threadCountDoesNotChangeAnyBit(int threads) throws IOException {
        Case c = load(GQA);
        float[] seq = c.model.newSession().forward(c.tokens, 0, c.tokens.length, 0);
        try (ThreadPool pool = ThreadPool.create(threads)) {
            float[] par = c.model.newSession(32, pool).forward(c.tokens, 0, c.tokens.length, 0);
            assertArrayEquals(seq, par);
            LlamaModel.Session s = c.model.newSession(32, pool);
            int v = c.model.config().vocabSize();
            for (int t = 0; t < c.tokens.length; t++) {
                assertArrayEquals(Arrays.copyOfRange(seq, t * v, (t + 1) * v), s.next(c.tokens[t]));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {GQA, MHA})
    void logitsAtTDoNotDependOnLaterTokens(String name) throws IOException {
        Case c = load(name);
        int v = c.model.config().vocabSize();
        float[] base = c.model.newSession().forward(c.tokens, 0, c.tokens.length, 0);
        for (int t = 0; t < c.tokens.length - 1; t++) {
            int[] changed = c.tokens.clone();
            for (int u = t + 1; u < changed.length; u++) {
                changed[u] = (changed[u] + 1 + u) % v;
            }
            float[] other = c.model.newSession().forward(changed, 0, changed.length, 0);
            assertArrayEquals(Arrays.copyOfRange(base, 0, (t + 1) * v), Arrays.copyOfRange(other, 0, (t + 1) * v),
                    "prefix up to " + t);
            assertNotEquals(Arrays.toString(Arrays.copyOfRange(base, (t + 1) * v, (t + 2) * v)),
                    Arrays.toString(Arrays.copyOfRange(other, (t + 1) * v, (t + 2) * v)), "position " + (t + 1));
        }
    }

    @Test
    void rmsNormHandComputed() {
        // x = [3, 4]: mean of squares 12.5, so x / sqrt(12.5 + 0.5) = x / sqrt(13), times w = [1, 2]
        float[] out = new float[2];
        LlamaModel.rmsNorm(new float[] {3, 4}, 0, out, 0, new float[] {1, 2}, 1, 2, 0.5f);
        assertEquals(3 / Math.sqrt(13), out[0], 1e-6);
        assertEquals(8 / Math.sqrt(13), out[1], 1e-6);
    }

    @Test
    void ropeHandComputed() {
        // head size 4 at position 1, theta 10000: pair 0 turns by 1 rad, pair 1 by 10000^(-1/2) = 0.01 rad
        float[] cos = {(float) Math.cos(1), (float) Math.cos(0.01)};
        float[] sin = {(float) Math.sin(1), (float) Math.sin(0.01)};
        float[] adj = {1, 0, 0, 1};
        LlamaModel.rotate(adj, 0, 4, cos, sin, 0, RopeStyle.ADJACENT_PAIRS);
        assertArrayEquals(new float[] {0.5403023f, 0.84147098f, -0.00999983f, 0.99995f}, adj, 1e-6f);
        float[] half = {1, 0, 0, 1}; // pairs (0, 2) and (1, 3)
        LlamaModel.rotate(half, 0, 4, cos, sin, 0, RopeStyle.HALF_SPLIT);
        assertArrayEquals(new float[] {0.5403023f, -0.00999983f, 0.84147098f, 0.99995f}, half, 1e-6f);
    }

    @Test
    void rejectsBadInput() throws IOException {
        Case c = load(GQA);
        LlamaModel.Session s = c.model.newSession(4, ThreadPool.SEQUENTIAL);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.next(37));
        assertTrue(e.getMessage().contains("outside the vocabulary"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> s.next(-1));
        s.forward(new int[] {1, 2, 3, 4}, 0, 4, 4);
        e = assertThrows(IllegalArgumentException.class, () -> s.next(1));
        assertTrue(e.getMessage().contains("exceeds the KV cache capacity (4)"), e.getMessage());
        s.reset();
        assertEquals(37, s.next(1).length);
    }

    @Test
    void weightsAreValidated() throws IOException {
        LlamaWeights w = weights(GQA);
        Map<String, Tensor> missing = new LinkedHashMap<>(w.tensors());
        missing.remove("blk.1.ffn_up.weight");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LlamaWeights.of(w.config(), missing));
        assertEquals("model has no tensor 'blk.1.ffn_up.weight'", e.getMessage());
        Map<String, Tensor> wrong = new LinkedHashMap<>(w.tensors());
        wrong.put("blk.0.attn_k.weight", FloatTensor.of(Shape.of(16, 16), new float[256]));
        e = assertThrows(IllegalArgumentException.class, () -> LlamaWeights.of(w.config(), wrong));
        assertEquals("tensor 'blk.0.attn_k.weight' has shape [16, 16] but the configuration needs [8, 16]",
                e.getMessage());
        Map<String, Tensor> extra = new LinkedHashMap<>(w.tensors());
        extra.put("rope_freqs.weight", FloatTensor.of(Shape.of(2), new float[2]));
        assertThrows(IllegalArgumentException.class, () -> LlamaWeights.of(w.config(), extra));
        assertTrue(w.tiedClassifier());
        assertEquals(4L * 6048, w.storageBytes());
    }

    @Test
    void configRejectsInconsistentSizes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LlamaConfig.llama2c(16, 40, 2, 4, 3, 37, 32));
        assertEquals("heads (4) is not a multiple of kv_heads (3)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> LlamaConfig.llama2c(15, 40, 2, 5, 5, 37, 32));
        assertEquals("head size (3) must be even for RoPE", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> LlamaConfig.llama2c(16, 40, 2, 4, 2, 37, 1 << 21));
        assertEquals("seq_len (2097152) exceeds the maximum (1048576)", e.getMessage());
    }
}
