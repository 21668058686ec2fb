package io.quantkit.io.hf;

import com.fasterxml.jackson.databind.JsonNode;
import io.quantkit.io.BadFileException;
import io.quantkit.io.Checkpoint;
import io.quantkit.io.Container;
import io.quantkit.io.MappedSource;
import io.quantkit.io.MetaValue;
import io.quantkit.io.Metadata;
import io.quantkit.io.TensorInfo;
import io.quantkit.io.TokenizerData;
import io.quantkit.io.gguf.GgufMetadata;
import io.quantkit.io.llama2c.TokBinReader;
import io.quantkit.io.safetensors.SafetensorsReader;
import io.quantkit.tensor.DType;
import io.quantkit.tensor.Shape;
import io.quantkit.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Hugging Face Llama folder ({@code config.json} with {@code model_type = "llama"} plus {@code model.safetensors}
 * or shards with {@code model.safetensors.index.json}) seen as a checkpoint in llama.cpp's terms: the tensors get
 * llama.cpp's names, q/k projections are presented in llama.cpp's row order ({@link RopePermutation}) and the
 * metadata holds the {@code llama.*} keys built from config.json, so the model loads, evaluates and converts to a
 * GGUF that llama.cpp runs like any other input.
 *
 * <pre>
 * model.embed_tokens.weight                    token_embd.weight        [vocab, hidden]
 * model.layers.N.input_layernorm.weight        blk.N.attn_norm.weight   [hidden]
 * model.layers.N.self_attn.q_proj.weight       blk.N.attn_q.weight      [hidden, hidden]   rows permuted (heads)
 * model.layers.N.self_attn.k_proj.weight       blk.N.attn_k.weight      [kv_dim, hidden]   rows permuted (kv heads)
 * model.layers.N.self_attn.v_proj.weight       blk.N.attn_v.weight      [kv_dim, hidden]
 * model.layers.N.self_attn.o_proj.weight       blk.N.attn_output.weight [hidden, hidden]
 * model.layers.N.post_attention_layernorm.weight blk.N.ffn_norm.weight  [hidden]
 * model.layers.N.mlp.gate_proj.weight          blk.N.ffn_gate.weight    [intermediate, hidden]
 * model.layers.N.mlp.down_proj.weight          blk.N.ffn_down.weight    [hidden, intermediate]
 * model.layers.N.mlp.up_proj.weight            blk.N.ffn_up.weight      [intermediate, hidden]
 * model.norm.weight                            output_norm.weight       [hidden]
 * lm_head.weight                               output.weight            [vocab, hidden]  (tied: the embedding)
 * </pre>
 * {@code model.layers.N.self_attn.rotary_emb.inv_freq} (older exports) is ignored; any other tensor, a missing
 * one or a shape that disagrees with config.json is a {@link BadFileException}. With
 * {@code tie_word_embeddings} and no {@code lm_head.weight}, {@code output.weight} shares the embedding's bytes
 * (and is written as its own tensor, as llama.cpp's converters do for llama2.c models).
 *
 * <p>Metadata: {@code general.architecture = llama}, {@code general.name} (the folder name),
 * {@code llama.context_length} (max_position_embeddings), {@code llama.embedding_length},
 * {@code llama.feed_forward_length}, {@code llama.block_count}, {@code llama.attention.head_count},
 * {@code llama.attention.head_count_kv}, {@code llama.rope.dimension_count} (head size), {@code llama.rope.freq_base}
 * (rope_theta), {@code llama.attention.layer_norm_rms_epsilon} (rms_norm_eps), {@code llama.vocab_size}. The
 * tokenizer is a llama2.c {@code tok.bin} given by the caller, stored as llama.cpp's converter stores it
 * ({@link GgufMetadata#tokenizerKeys}); without one, the folder's SentencePiece {@code tokenizer.model}
 * ({@link SentencePieceModel}) if there is one, stored as llama.cpp's convert_hf_to_gguf stores it (pieces as
 * they are, {@code tokenizer.ggml.add_space_prefix} from the normalizer).
 */
public final class HfLlama {
    private static final Pattern LAYER = Pattern.compile("model\\.layers\\.(0|[1-9][0-9]{0,8})\\.(.+)");
    private static final String INV_FREQ = "self_attn.rotary_emb.inv_freq";

    private HfLlama() {
    }

    /**
     * True if {@code dir} is a folder whose config.json says {@code model_type = "llama"}; a config.json that is not
     * valid JSON is a {@link BadFileException}.
     */
    public static boolean isHfLlama(Path dir) throws IOException {
        Path cfg = dir.resolve(HfConfig.FILE);
        return Files.isDirectory(dir) && Files.isRegularFile(cfg) && HfConfig.isLlama(HfConfig.readJson(cfg));
    }

    /** Opens the folder {@code dir}; {@code tokenizer} is a llama2.c tok.bin to attach, or null. */
    public static Checkpoint open(Path dir, Path tokenizer) throws IOException {
        Path cfgFile = dir.resolve(HfConfig.FILE);
        JsonNode root = HfConfig.readJson(cfgFile);
        HfConfig c = HfConfig.of(cfgFile, root);
        Checkpoint inner = SafetensorsReader.open(dir);
        try {
            Map<String, Mapped> mapped = map(dir, c, inner);
            List<TensorInfo> infos = new ArrayList<>();
            for (Mapped m : mapped.values()) {
                infos.add(m.outer);
            }
            TokenizerData tok = null;
            Map<String, MetaValue> meta = metadata(c, dir);
            Path spm = dir.resolve(SentencePieceModel.FILE);
            if (tokenizer != null) {
                TokenizerData raw = TokBinReader.read(tokenizer, c.vocabSize());
                meta.putAll(GgufMetadata.tokenizerKeys(raw));
                tok = GgufMetadata.asGguf(raw);
            } else if (Files.isRegularFile(spm)) {
                SentencePieceModel.Vocabulary v = SentencePieceModel.read(spm);
                if (v.data().size() != c.vocabSize()) {
                    throw BadFileException.of(dir, "%s has %d pieces but config.json says vocab_size %d",
                            SentencePieceModel.FILE, v.data().size(), c.vocabSize());
                }
                meta.putAll(GgufMetadata.tokenizerKeysAsIs(v.data()));
                meta.put("tokenizer.ggml.add_space_prefix", MetaValue.bool(v.addDummyPrefix()));
                tok = v.data();
            }
            return Checkpoint.of(Container.SAFETENSORS, dir, infos, Metadata.of(meta), tok, new Source(inner, mapped));
        } catch (IOException | RuntimeException e) {
            inner.close();
            throw e;
        }
    }

    /** One tensor of the llama.cpp view and where it comes from. */
    private record Mapped(TensorInfo outer, TensorInfo inner, RopePermutation perm) {
    }

    private static Map<String, Mapped> map(Path dir, HfConfig c, Checkpoint inner) {
        Map<String, TensorInfo> hf = new LinkedHashMap<>();
        for (TensorInfo t : inner.tensors()) {
            String n = t.name();
            Matcher m = LAYER.matcher(n);
            if (m.matches()) {
                if (Long.parseLong(m.group(1)) >= c.layers()) {
                    throw BadFileException.of(dir, "tensor '%s' is in layer %s but config.json has %d layers", n,
                            m.group(1), c.layers());
                }
                if (m.group(2).equals(INV_FREQ)) {
                    continue;
                }
            }
            hf.put(n, t);
        }
        long d = c.hiddenSize();
        long kv = c.kvDim();
        long ff = c.intermediate();
        long v = c.vocabSize();
        Map<String, Mapped> out = new LinkedHashMap<>();
        take(dir, hf, out, "model.embed_tokens.weight", "token_embd.weight", 0, v, d);
        for (int i = 0; i < c.layers(); i++) {
            String p = "model.layers." + i + ".";
            String b = "blk." + i + ".";
            take(dir, hf, out, p + "input_layernorm.weight", b + "attn_norm.weight", 0, d);
            take(dir, hf, out, p + "self_attn.q_proj.weight", b + "attn_q.weight", c.heads(), d, d);
            take(dir, hf, out, p + "self_attn.k_proj.weight", b + "attn_k.weight", c.kvHeads(), kv, d);
            take(dir, hf, out, p + "self_attn.v_proj.weight", b + "attn_v.weight", 0, kv, d);
            take(dir, hf, out, p + "self_attn.o_proj.weight", b + "attn_output.weight", 0, d, d);
            take(dir, hf, out, p + "post_attention_layernorm.weight", b + "ffn_norm.weight", 0, d);
            take(dir, hf, out, p + "mlp.gate_proj.weight", b + "ffn_gate.weight", 0, ff, d);
            take(dir, hf, out, p + "mlp.down_proj.weight", b + "ffn_down.weight", 0, d, ff);
            take(dir, hf, out, p + "mlp.up_proj.weight", b + "ffn_up.weight", 0, ff, d);
        }
        take(dir, hf, out, "model.norm.weight", "output_norm.weight", 0, d);
        if (hf.containsKey("lm_head.weight") || !c.tied()) {
            if (!hf.containsKey("lm_head.weight")) {
                throw BadFileException.of(dir, "has no tensor 'lm_head.weight' and config.json does not set "
                        + "tie_word_embeddings");
            }
            take(dir, hf, out, "lm_head.weight", "output.weight", 0, v, d);
        } else {
            TensorInfo e = out.get("token_embd.weight").inner;
            out.put("output.weight", new Mapped(new TensorInfo("output.weight", e.format(), e.shape(), e.file(),
                    e.offset(), e.byteLength()), e, null));
        }
        if (!hf.isEmpty()) {
            throw BadFileException.of(dir, "tensor '%s' is not part of a Llama model in the Hugging Face layout",
                    hf.keySet().iterator().next());
        }
        return out;
    }

    private static void take(Path dir, Map<String, TensorInfo> hf, Map<String, Mapped> out, String hfName,
            String name, int permuteHeads, long... dims) {
        TensorInfo t = hf.remove(hfName);
        if (t == null) {
            throw BadFileException.of(dir, "has no tensor '%s' (%s)", hfName, name);
        }
        Shape want = Shape.of(dims);
        if (!t.shape().equals(want)) {
            throw BadFileException.of(dir, "tensor '%s' has shape %s but config.json implies %s", hfName, t.shape(),
                    want);
        }
        RopePermutation perm = null;
        if (permuteHeads > 0) {
            if (MappedSource.denseType(t.format()) == null) {
                throw BadFileException.of(dir, "tensor '%s' is stored as %s; its rows can only be reordered for RoPE "
                        + "in a plain dtype", hfName, t.format());
            }
            perm = RopePermutation.of(dims[0], permuteHeads);
        }
        out.put(name, new Mapped(new TensorInfo(name, t.format(), t.shape(), t.file(), t.offset(), t.byteLength()),
                t, perm));
    }

    private static Map<String, MetaValue> metadata(HfConfig c, Path dir) {
        Map<String, MetaValue> m = new TreeMap<>();
        Path fn = dir.toAbsolutePath().normalize().getFileName();
        m.put("general.architecture", MetaValue.str("llama"));
        m.put("general.name", MetaValue.str(fn == null ? "llama" : fn.toString()));
        m.put("llama.context_length", MetaValue.u32(c.maxPositions()));
        m.put("llama.embedding_length", MetaValue.u32(c.hiddenSize()));
        m.put("llama.feed_forward_length", MetaValue.u32(c.intermediate()));
        m.put("llama.block_count", MetaValue.u32(c.layers()));
        m.put("llama.attention.head_count", MetaValue.u32(c.heads()));
        m.put("llama.attention.head_count_kv", MetaValue.u32(c.kvHeads()));
        m.put("llama.rope.dimension_count", MetaValue.u32(c.headSize()));
        m.put("llama.rope.freq_base", MetaValue.f32((float) c.ropeTheta()));
        m.put("llama.attention.layer_norm_rms_epsilon", MetaValue.f32((float) c.rmsNormEps()));
        m.put("llama.vocab_size", MetaValue.u32(c.vocabSize()));
        return m;
    }

    /** Tensors and bytes of the inner safetensors checkpoint, renamed and (q/k) row-permuted. */
    private static final class Source implements Checkpoint.Source {
        private final Checkpoint inner;
        private final Map<String, Mapped> byName;

        Source(Checkpoint inner, Map<String, Mapped> byName) {
            this.inner = inner;
            this.byName = byName;
        }

        private Mapped of(TensorInfo info) {
            Mapped m = byName.get(info.name());
            if (m == null) {
                throw new IllegalArgumentException("no tensor " + info.name());
            }
            return m;
        }

        @Override
        public Tensor tensor(TensorInfo info) {
            Mapped m = of(info);
            Tensor t = inner.tensor(m.inner);
            return m.perm == null ? t : m.perm.view(t);
        }

        @Override
        public ByteBuffer raw(TensorInfo info) {
            if (info.byteLength() > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("tensor " + info.name() + " (" + info.byteLength()
                        + " bytes) is too large for one buffer; read it in ranges");
            }
            return raw(info, 0, (int) info.byteLength());
        }

        @Override
        public ByteBuffer raw(TensorInfo info, long from, int len) {
            Mapped m = of(info);
            if (m.perm == null) {
                return inner.rawBytes(m.inner, from, len);
            }
            if (from < 0 || len < 0 || from + len > info.byteLength()) {
                throw new IndexOutOfBoundsException("range " + from + "+" + len + " outside tensor " + info.name());
            }
            DType dt = MappedSource.denseType(info.format());
            long rowBytes = info.shape().rowLength() * dt.bytes();
            ByteBuffer out = ByteBuffer.allocate(len).order(ByteOrder.LITTLE_ENDIAN);
            long p = from;
            long end = from + len;
            while (p < end) {
                long row = p / rowBytes;
                long col = p % rowBytes;
                int n = (int) Math.min(rowBytes - col, end - p);
                out.put(inner.rawBytes(m.inner, m.perm.sourceRow(row) * rowBytes + col, n));
                p += n;
            }
            return out.flip().asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
        }

        @Override
        public void close() {
            inner.close();
        }
    }
}
