package io.quantkit.io.hf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.quantkit.eval.EvalPlan;
import io.quantkit.eval.Evaluator;
import io.quantkit.eval.Method;
import io.quantkit.eval.PerplexityResult;
import io.quantkit.eval.Progress;
import io.quantkit.io.Checkpoint;
import io.quantkit.io.Checkpoints;
import io.quantkit.io.TensorInfo;
import io.quantkit.io.convert.ConvertSummary;
import io.quantkit.io.convert.Converter;
import io.quantkit.model.LlamaLoader;
import io.quantkit.model.LlamaModel;
import io.quantkit.model.ThreadPool;
import io.quantkit.model.Tokenizer;
import io.quantkit.quant.Scheme;
import io.quantkit.testing.SharedData;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * stories260K in the Hugging Face layout, written here from the llama2.c {@code .bin} the way llama2.c's export
 * does it (q/k rows permuted for rotate_half, tied classifier left out, config.json from the header). The bytes
 * are parsed straight from the documented .bin layout, not through our reader. Expectations are independent of
 * the code under test: the reference perplexities in ../shared/data/README.md and llama.cpp's own GGUF.
 */
@Tag("real-data")
class HfRealDataTest {
    @TempDir
    static Path tmp;
    static Path folder;

    @BeforeAll
    static void writeFolder() throws IOException {
        folder = tmp.resolve("stories260K-hf");
        Files.createDirectories(folder);
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(SharedData.path("stories260K/stories260K.bin")))
                .order(ByteOrder.LITTLE_ENDIAN);
        int dim = b.getInt();
        int hidden = b.getInt();
        int layers = b.getInt();
        int heads = b.getInt();
        int kvHeads = b.getInt();
        int vocab = b.getInt();
        int seq = b.getInt();
        int kv = dim / heads * kvHeads;
        float[] emb = floats(b, vocab * dim);
        float[][] attNorm = floats(b, layers, dim);
        float[][] wq = floats(b, layers, dim * dim);
        float[][] wk = floats(b, layers, kv * dim);
        float[][] wv = floats(b, layers, kv * dim);
        float[][] wo = floats(b, layers, dim * dim);
        float[][] ffnNorm = floats(b, layers, dim);
        float[][] w1 = floats(b, layers, hidden * dim);
        float[][] w2 = floats(b, layers, dim * hidden);
        float[][] w3 = floats(b, layers, hidden * dim);
        float[] norm = floats(b, dim);
        Map<String, Object[]> t = new LinkedHashMap<>();
        t.put("model.embed_tokens.weight", new Object[] {emb, new long[] {vocab, dim}});
        for (int l = 0; l < layers; l++) {
            String p = "model.layers." + l + ".";
            t.put(p + "input_layernorm.weight", new Object[] {attNorm[l], new long[] {dim}});
            t.put(p + "self_attn.q_proj.weight", new Object[] {toHf(wq[l], heads, dim, dim), new long[] {dim, dim}});
            t.put(p + "self_attn.k_proj.weight", new Object[] {toHf(wk[l], kvHeads, kv, dim), new long[] {kv, dim}});
            t.put(p + "self_attn.v_proj.weight", new Object[] {wv[l], new long[] {kv, dim}});
            t.put(p + "self_attn.o_proj.weight", new Object[] {wo[l], new long[] {dim, dim}});
            t.put(p + "post_attention_layernorm.weight", new Object[] {ffnNorm[l], new long[] {dim}});
            t.put(p + "mlp.gate_proj.weight", new Object[] {w1[l], new long[] {hidden, dim}});
            t.put(p + "mlp.down_proj.weight", new Object[] {w2[l], new long[] {dim, hidden}});
            t.put(p + "mlp.up_proj.weight", new Object[] {w3[l], new long[] {hidden, dim}});
        }
        t.put("model.norm.weight", new Object[] {norm, new long[] {dim}});
        writeSafetensors(folder.resolve("model.safetensors"), t);
        Files.writeString(folder.resolve("config.json"), String.format(java.util.Locale.ROOT,
                "{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_act\": \"silu\", \"hidden_size\": %d, "
                + "\"intermediate_size\": %d, \"max_position_embeddings\": %d, \"model_type\": \"llama\", "
                + "\"num_attention_heads\": %d, \"num_hidden_layers\": %d, \"num_key_value_heads\": %d, "
                + "\"rms_norm_eps\": 1e-05, \"rope_theta\": 10000.0, \"tie_word_embeddings\": true, "
                + "\"torch_dtype\": \"float32\", \"vocab_size\": %d}", dim, hidden, seq, heads, layers, kvHeads, vocab));
    }

    /**
     * tok512.bin as a SentencePiece tokenizer.model, written here with a minimal protobuf writer (ModelProto field 1
     * pieces {1 piece, 2 score, 3 type}, 2 trainer_spec {3 model_type = 2 BPE, 40/41/42 unk/bos/eos = 0/1/2},
     * 3 normalizer_spec {3 add_dummy_prefix = 1}), with the pieces as Llama's tokenizer.model spells them: a space
     * is U+2581 and ids 0/1/2 are {@code <unk>}, {@code <s>}, {@code </s>}; types unknown / control / byte / normal.
     */
    static void writeTokenizerModel(Path tokBin, Path out) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(tokBin)).order(ByteOrder.LITTLE_ENDIAN);
        b.getInt(); // max_token_length
        java.io.ByteArrayOutputStream model = new java.io.ByteArrayOutputStream();
        for (int i = 0; b.hasRemaining(); i++) {
            float score = b.getFloat();
            byte[] text = new byte[b.getInt()];
            b.get(text);
            String piece = i == 0 ? "<unk>" : i == 1 ? "<s>" : i == 2 ? "</s>"
                    : new String(text, StandardCharsets.UTF_8).replace(' ', '\u2581');
            int type = i == 0 ? 2 : i <= 2 ? 3 : piece.matches("<0x[0-9A-F]{2}>") ? 6 : 1;
            java.io.ByteArrayOutputStream sp = new java.io.ByteArrayOutputStream();
            bytesField(sp, 1, piece.getBytes(StandardCharsets.UTF_8));
            varint(sp, 2 << 3 | 5);
            int bits = Float.floatToIntBits(score);
            for (int k = 0; k < 4; k++) {
                sp.write(bits >>> (8 * k));
            }
            varint(sp, 3 << 3);
            varint(sp, type);
            bytesField(model, 1, sp.toByteArray());
        }
        java.io.ByteArrayOutputStream trainer = new java.io.ByteArrayOutputStream();
        int[][] fields = {{3, 2}, {40, 0}, {41, 1}, {42, 2}};
        for (int[] f : fields) {
            varint(trainer, f[0] << 3);
            varint(trainer, f[1]);
        }
        bytesField(model, 2, trainer.toByteArray());
        bytesField(model, 3, new byte[] {3 << 3, 1});
        Files.write(out, model.toByteArray());
    }

    static void varint(java.io.ByteArrayOutputStream o, long v) {
        while ((v & ~0x7FL) != 0) {
            o.write((int) (v & 0x7F) | 0x80);
            v >>>= 7;
        }
        o.write((int) v);
    }

    static void bytesField(java.io.ByteArrayOutputStream o, int field, byte[] payload) {
        varint(o, (long) field << 3 | 2);
        varint(o, payload.length);
        o.writeBytes(payload);
    }

    /** The folder's own tokenizer.model (no --tokenizer): same reference PPL, and the GGUF carries llama.cpp's vocabulary. */
    @Test
    void tokenizerModelInTheFolderGivesTheReferenceToo() throws IOException {
        Path f = tmp.resolve("with-tokenizer-model");
        Files.createDirectories(f);
        Files.copy(folder.resolve("config.json"), f.resolve("config.json"));
        Files.copy(folder.resolve("model.safetensors"), f.resolve("model.safetensors"));
        writeTokenizerModel(SharedData.path("stories260K/tok512.bin"), f.resolve("tokenizer.model"));
        byte[] corpus = Files.readAllBytes(SharedData.path("corpora/tinystories_val_sample.txt"));
        try (Checkpoint c = Checkpoints.open(f); ThreadPool pool = ThreadPool.ofAvailableProcessors()) {
            EvalPlan plan = EvalPlan.of(LlamaLoader.tokenizer(c), new String(corpus, StandardCharsets.UTF_8),
                    Method.DOCUMENTS, 512, 100);
            PerplexityResult r = Evaluator.run(LlamaModel.load(LlamaLoader.weights(c)), plan, pool, false, null,
                    Progress.NONE).perplexity();
            assertEquals(9618, r.tokens());
            assertEquals(4.1844, r.ppl(), 0.0005);
        }
        Path out = tmp.resolve("from-hf-spm.gguf");
        Converter.convert(f, out, Converter.Options.of(Scheme.parse("f32")));
        try (Checkpoint ours = Checkpoints.open(out);
                Checkpoint ref = Checkpoints.open(SharedData.path("stories260K/stories260K-f32.gguf"))) {
            for (String k : new String[] {"tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type",
                "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.unknown_token_id",
                "tokenizer.ggml.model"}) {
                assertEquals(ref.metadata().get(k), ours.metadata().get(k), k);
            }
        }
    }

    /** llama2.c export.py's permute_original: view(heads, rows/heads/2, 2, cols).transpose(1, 2). */
    static float[] toHf(float[] w, int heads, int rows, int cols) {
        int hs = rows / heads;
        float[] out = new float[w.length];
        for (int h = 0; h < heads; h++) {
            for (int j = 0; j < hs / 2; j++) {
                for (int i = 0; i < 2; i++) {
                    // source index [h][j][i] -> destination index [h][i][j]
                    System.arraycopy(w, (h * hs + j * 2 + i) * cols, out, (h * hs + i * (hs / 2) + j) * cols, cols);
                }
            }
        }
        return out;
    }

    static float[] floats(ByteBuffer b, int n) {
        float[] f = new float[n];
        b.asFloatBuffer().get(f);
        b.position(b.position() + 4 * n);
        return f;
    }

    static float[][] floats(ByteBuffer b, int layers, int n) {
        float[][] f = new float[layers][];
        for (int l = 0; l < layers; l++) {
            f[l] = floats(b, n);
        }
        return f;
    }

    /** A minimal F32 safetensors writer (format: u64 header length, JSON header, data in the order given). */
    static void writeSafetensors(Path file, Map<String, Object[]> tensors) throws IOException {
        StringBuilder h = new StringBuilder("{");
        long off = 0;
        for (Map.Entry<String, Object[]> e : tensors.entrySet()) {
            float[] data = (float[]) e.getValue()[0];
            long[] shape = (long[]) e.getValue()[1];
            h.append(h.length() > 1 ? "," : "").append('"').append(e.getKey()).append("\":{\"dtype\":\"F32\",\"shape\":")
                    .append(Arrays.toString(shape).replace(" ", "")).append(",\"data_offsets\":[").append(off)
                    .append(',').append(off + 4L * data.length).append("]}");
            off += 4L * data.length;
        }
        h.append('}');
        byte[] header = h.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate((int) (8 + header.length + off)).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(header.length).put(header);
        for (Object[] v : tensors.values()) {
            for (float x : (float[]) v[0]) {
                out.putFloat(x);
            }
        }
        Files.write(file, out.array());
    }

    static PerplexityResult eval(Method m, int ctx, int maxDocs, int maxBytes) throws IOException {
        byte[] corpus = Files.readAllBytes(SharedData.path("corpora/tinystories_val_sample.txt"));
        String text = new String(maxBytes > 0 ? Arrays.copyOf(corpus, maxBytes) : corpus, StandardCharsets.UTF_8);
        try (Checkpoint c = Checkpoints.open(folder, SharedData.path("stories260K/tok512.bin"));
                ThreadPool pool = ThreadPool.ofAvailableProcessors()) {
            LlamaModel model = LlamaModel.load(LlamaLoader.weights(c));
            Tokenizer tok = LlamaLoader.tokenizer(c);
            EvalPlan plan = EvalPlan.of(tok, text, m, ctx, maxDocs);
            return Evaluator.run(model, plan, pool, false, null, Progress.NONE).perplexity();
        }
    }

    /** Acceptance (i): the HF folder evaluates to the reference perplexities (documents, first 100 stories). */
    @Test
    void documentsPerplexityIsTheReference() throws IOException {
        PerplexityResult r = eval(Method.DOCUMENTS, 512, 100, 0);
        assertEquals(9618, r.tokens());
        assertEquals(4.1844, r.ppl(), 0.0005);
    }

    /** Acceptance (i): llama.cpp's method, ctx 128, first 200,000 bytes. */
    @Test
    void llamaCppPerplexityIsTheReference() throws IOException {
        assertEquals(4.2201, eval(Method.LLAMA_CPP, 128, 0, 200_000).ppl(), 0.002);
    }

    /** Acceptance (ii): HF folder → f32 GGUF equals llama.cpp's stories260K-f32.gguf tensor by tensor, bit for bit. */
    @Test
    void f32GgufEqualsLlamaCppsConversion() throws IOException {
        Path out = tmp.resolve("from-hf.gguf");
        ConvertSummary s;
        try (Checkpoint in = Checkpoints.open(folder, SharedData.path("stories260K/tok512.bin"))) {
            s = Converter.convert(in, out, Converter.Options.of(Scheme.parse("f32")));
        }
        assertEquals(48, s.tensors().size());
        try (Checkpoint ours = Checkpoints.open(out);
                Checkpoint ref = Checkpoints.open(SharedData.path("stories260K/stories260K-f32.gguf"))) {
            assertEquals(ref.tensors().size(), ours.tensors().size());
            for (TensorInfo r : ref.tensors()) {
                TensorInfo o = ours.info(r.name()).orElseThrow();
                assertEquals(r.shape(), o.shape(), r.name());
                assertEquals("F32", o.format(), r.name());
                byte[] a = new byte[(int) r.byteLength()];
                byte[] b = new byte[(int) o.byteLength()];
                ref.rawBytes(r).get(a);
                ours.rawBytes(o).get(b);
                assertArrayEquals(a, b, r.name());
            }
            // the tokenizer llama.cpp's converter stored, from tok512.bin
            for (String k : new String[] {"tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type",
                "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.model"}) {
                assertEquals(ref.metadata().get(k), ours.metadata().get(k), k);
            }
            for (String k : new String[] {"llama.embedding_length", "llama.feed_forward_length", "llama.block_count",
                "llama.attention.head_count", "llama.attention.head_count_kv", "llama.rope.dimension_count",
                "llama.attention.layer_norm_rms_epsilon", "general.architecture"}) {
                assertEquals(ref.metadata().get(k), ours.metadata().get(k), k);
            }
        }
    }
}
