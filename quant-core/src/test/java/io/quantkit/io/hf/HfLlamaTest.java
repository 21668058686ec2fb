package io.quantkit.io.hf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.quantkit.format.Bf16;
import io.quantkit.io.Checkpoint;
import io.quantkit.io.Checkpoints;
import io.quantkit.io.Container;
import io.quantkit.io.MetaValue;
import io.quantkit.io.TensorInfo;
import io.quantkit.io.convert.ConvertSummary;
import io.quantkit.io.convert.Converter;
import io.quantkit.model.LlamaConfig;
import io.quantkit.model.LlamaLoader;
import io.quantkit.model.LlamaWeights;
import io.quantkit.quant.Scheme;
import io.quantkit.tensor.Shape;
import io.quantkit.tensor.Tensor;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The folders under src/test/resources/hf were written by reference/hf/make_hf_fixture.py (numpy), which permutes
 * q/k exactly as llama2.c's Hugging Face export does. Each weight's values encode its position in the original
 * (llama.cpp) row order, so the expectations below are formulas, not outputs of the code under test.
 */
class HfLlamaTest {
    static final String[] KINDS = {"attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate",
        "ffn_down", "ffn_up"};

    static Path fixture(String name) {
        try {
            return Path.of(HfLlamaTest.class.getResource("/hf/" + name + "/config.json").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** tiny-tied: W[r][c] = (L + 1) * 100000 + kind * 10000 + r * 100 + c (embedding and final norm: L = -1, kind -1). */
    static float coded(int layer, int kind, long r, long c) {
        return (layer + 1) * 100000f + kind * 10000f + r * 100f + c;
    }

    static List<String> llamaCppNames(int layers) {
        List<String> n = new ArrayList<>(List.of("token_embd.weight"));
        for (int i = 0; i < layers; i++) {
            for (String k : KINDS) {
                n.add("blk." + i + "." + k + ".weight");
            }
        }
        n.add("output_norm.weight");
        n.add("output.weight");
        return n;
    }

    static void assertCoded(Tensor t, int layer, int kind, String what) {
        Shape s = t.shape();
        long rows = s.rank() == 2 ? s.dim(0) : 1;
        long cols = s.rowLength();
        float[] all = t.toFloatArray();
        for (long r = 0; r < rows; r++) {
            for (long c = 0; c < cols; c++) {
                float want = coded(layer, kind, s.rank() == 2 ? r : 0, c);
                assertEquals(want, t.getFloat(r * cols + c), what + " [" + r + "][" + c + "]");
                assertEquals(want, all[(int) (r * cols + c)], what + " bulk [" + r + "][" + c + "]");
            }
        }
    }

    @Test
    void tiedF32FolderReadsInLlamaCppNamesAndRowOrder() throws Exception {
        try (Checkpoint c = Checkpoints.open(fixture("tiny-tied"))) {
            assertEquals(Container.SAFETENSORS, c.container());
            assertEquals(llamaCppNames(2), c.names());
            assertCoded(c.tensor("token_embd.weight"), -1, -1, "embedding");
            assertCoded(c.tensor("output.weight"), -1, -1, "tied classifier");
            assertCoded(c.tensor("output_norm.weight"), -1, -1, "final norm");
            for (int layer = 0; layer < 2; layer++) {
                for (int k = 0; k < KINDS.length; k++) {
                    String n = "blk." + layer + "." + KINDS[k] + ".weight";
                    assertCoded(c.tensor(n), layer, k, n);
                }
            }
            TensorInfo q = c.info("blk.1.attn_q.weight").orElseThrow();
            assertEquals(Shape.of(16, 16), q.shape());
            assertEquals(Shape.of(8, 16), c.info("blk.1.attn_k.weight").orElseThrow().shape());
            // raw bytes in llama.cpp row order, whole and in ranges that start and end inside rows
            ByteBuffer whole = c.rawBytes(q).order(ByteOrder.LITTLE_ENDIAN);
            for (int r = 0; r < 16; r++) {
                for (int col = 0; col < 16; col++) {
                    assertEquals(coded(1, 1, r, col), whole.getFloat(4 * (r * 16 + col)));
                }
            }
            byte[] all = new byte[(int) q.byteLength()];
            c.rawBytes(q).get(all);
            for (int[] range : new int[][] {{0, 1}, {3, 70}, {60, 200}, {1000, 24}, {0, (int) q.byteLength()}}) {
                byte[] part = new byte[range[1]];
                c.rawBytes(q, range[0], range[1]).get(part);
                assertArrayEquals(java.util.Arrays.copyOfRange(all, range[0], range[0] + range[1]), part,
                        "range " + range[0] + "+" + range[1]);
            }
            assertEquals(MetaValue.str("llama"), c.metadata().get("general.architecture").orElseThrow());
            assertEquals(64, c.metadata().getLong("llama.context_length"));
            assertEquals(4, c.metadata().getLong("llama.rope.dimension_count"));
            assertEquals(2, c.metadata().getLong("llama.attention.head_count_kv"));
            assertEquals(1e-5f, (float) c.metadata().getDouble("llama.attention.layer_norm_rms_epsilon"));
            assertEquals(10000.0, c.metadata().getDouble("llama.rope.freq_base"));
            // the folder's tokenizer.model (written field by field by the script): pieces as they are, scores -i/4
            io.quantkit.io.TokenizerData tok = c.tokenizer().orElseThrow();
            assertEquals(32, tok.size());
            assertEquals(List.of("<unk>", "<s>", "</s>", "<0x41>", "\u2581p4", "p5", "\u2581p6"),
                    tok.tokens().subList(0, 7));
            assertEquals(List.of(2, 3, 3, 6, 1, 1, 1), java.util.Arrays.stream(tok.tokenTypes()).limit(7).boxed().toList());
            for (int i = 0; i < 32; i++) {
                assertEquals(-i / 4f, tok.scores()[i], "score " + i);
            }
            assertEquals(0, tok.unkId());
            assertEquals(1, tok.bosId());
            assertEquals(2, tok.eosId());
            assertEquals(true, c.metadata().getBool("tokenizer.ggml.add_space_prefix"));
            assertEquals(tok.tokens(), c.metadata().getStrings("tokenizer.ggml.tokens"));

            LlamaConfig cfg = LlamaLoader.config(c);
            assertEquals(new LlamaConfig(16, 24, 2, 4, 2, 32, 64, 1e-5f, 10000f, io.quantkit.model.RopeStyle.ADJACENT_PAIRS),
                    cfg);
            LlamaWeights w = LlamaLoader.weights(c);
            assertEquals(cfg, w.config());
        }
    }

    /** BF16 shards with an index and an own lm_head; q/k hold ±(r*16 + c + 1) in original order (+ layer 0, - layer 1). */
    @Test
    void shardedBf16FolderUndoesThePermutationPerKvHead() throws Exception {
        try (Checkpoint c = Checkpoints.open(fixture("tiny-sharded"))) {
            assertEquals(llamaCppNames(2), c.names());
            for (int layer = 0; layer < 2; layer++) {
                for (String k : new String[] {"attn_q", "attn_k"}) {
                    Tensor t = c.tensor("blk." + layer + "." + k + ".weight");
                    assertEquals("BF16", t.format());
                    long rows = t.shape().dim(0);
                    for (long r = 0; r < rows; r++) {
                        for (long col = 0; col < 16; col++) {
                            float want = (layer == 0 ? 1 : -1) * (r * 16 + col + 1);
                            assertEquals(want, t.getFloat(r * 16 + col), k + layer + " [" + r + "][" + col + "]");
                        }
                    }
                    TensorInfo info = c.info("blk." + layer + "." + k + ".weight").orElseThrow();
                    ByteBuffer raw = c.rawBytes(info).order(ByteOrder.LITTLE_ENDIAN);
                    for (int i = 0; i < rows * 16; i++) {
                        assertEquals(t.getFloat(i), Bf16.toFloat(raw.getShort(2 * i)));
                    }
                }
            }
            // own classifier: not the embedding
            assertFalse(c.tensor("output.weight").getFloat(0) == c.tensor("token_embd.weight").getFloat(0));
            assertEquals("model-00002-of-00002.safetensors", c.info("output.weight").orElseThrow().file());
        }
    }

    /** HF folder -> f32 GGUF: llama.cpp names, original row order, llama.* keys; the GGUF reads back to the same values. */
    @Test
    void convertsToGgufWithLlamaCppNamesAndMetadata(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("tiny.gguf");
        ConvertSummary s = Converter.convert(fixture("tiny-tied"), out, Converter.Options.of(Scheme.parse("f32")));
        assertEquals(21, s.tensors().size());
        try (Checkpoint g = Checkpoints.open(out)) {
            assertEquals(Container.GGUF, g.container());
            assertEquals(llamaCppNames(2), g.names());
            for (int layer = 0; layer < 2; layer++) {
                for (int k = 0; k < KINDS.length; k++) {
                    String n = "blk." + layer + "." + KINDS[k] + ".weight";
                    assertCoded(g.tensor(n), layer, k, n);
                }
            }
            assertCoded(g.tensor("output.weight"), -1, -1, "output");
            assertEquals(16, g.metadata().getLong("llama.embedding_length"));
            assertEquals(24, g.metadata().getLong("llama.feed_forward_length"));
            assertEquals(2, g.metadata().getLong("llama.block_count"));
            assertEquals(4, g.metadata().getLong("llama.attention.head_count"));
            assertEquals(10000.0, g.metadata().getDouble("llama.rope.freq_base"));
            assertEquals(0, g.metadata().getLong("general.file_type"));
        }
    }

    @Test
    void aFolderWithoutALlamaConfigIsPlainSafetensors(@TempDir Path dir) throws Exception {
        java.nio.file.Files.copy(fixture("tiny-tied").resolve("model.safetensors"), dir.resolve("model.safetensors"));
        java.nio.file.Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"mistral\"}");
        try (Checkpoint c = Checkpoints.open(dir)) {
            assertEquals("model.embed_tokens.weight", c.names().get(0));
        }
        java.nio.file.Files.writeString(dir.resolve("config.json"), "{\"model_type\": ");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Checkpoints.open(dir));
        assertEquals(true, e.getMessage().contains("config.json: not valid JSON"), e.getMessage());
    }

    @Test
    void permutationIsTheInverseOfLlama2cExport() {
        // hand-worked: 2 heads of 4 rows; HF row order per head is [0, 2, 1, 3] of the original
        RopePermutation p = RopePermutation.of(8, 2);
        long[] want = {0, 2, 1, 3, 4, 6, 5, 7};
        for (int r = 0; r < 8; r++) {
            assertEquals(want[r], p.sourceRow(r), "row " + r);
        }
        // one head of 6 (not self-inverse): HF row i*3 + j holds original row 2j + i
        RopePermutation p6 = RopePermutation.of(6, 1);
        long[] want6 = {0, 3, 1, 4, 2, 5};
        for (int r = 0; r < 6; r++) {
            assertEquals(want6[r], p6.sourceRow(r), "row " + r);
        }
        assertThrows(IllegalArgumentException.class, () -> RopePermutation.of(6, 2));
    }
}
