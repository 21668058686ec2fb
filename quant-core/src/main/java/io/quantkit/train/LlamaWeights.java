package io.quantkit.train;

import io.quantkit.io.Checkpoint;
import io.quantkit.io.Checkpoints;
import io.quantkit.io.Metadata;
import io.quantkit.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Loads a Llama-architecture checkpoint read by {@link Checkpoints} (llama2.c {@code .bin}, GGUF, safetensors with
 * llama.cpp tensor names) into the trainer's flat float32 layout. Tensors use llama.cpp's names
 * ({@code token_embd.weight}, {@code blk.N.attn_q.weight}, {@code ffn_gate} = w1, {@code ffn_down} = w2,
 * {@code ffn_up} = w3, {@code output_norm.weight}, {@code output.weight}). The classifier is tied when there is no
 * {@code output.weight} or when it holds exactly the embedding's values. Quantized tensors enter as what they decode to.
 */
public final class LlamaWeights {
    /** An architecture and its weights in {@link ParamLayout} order. */
    public record Loaded(Architecture architecture, float[] params) {
    }

    private LlamaWeights() {
    }

    /** Opens {@code model} (with a llama2.c tokenizer beside or given) and reads every weight. */
    public static Loaded load(Path model, Path tokenizer) throws IOException {
        try (Checkpoint ck = Checkpoints.open(model, tokenizer)) {
            return from(ck);
        }
    }

    /** Reads every weight of an open checkpoint. */
    public static Loaded from(Checkpoint ck) {
        Metadata m = ck.metadata();
        String archName = m.contains("general.architecture") ? m.getString("general.architecture") : "llama";
        if (!archName.equals("llama")) {
            throw new IllegalArgumentException("architecture '" + archName + "' is not llama");
        }
        Tensor emb = ck.tensor("token_embd.weight");
        int vocab = (int) emb.shape().dim(0);
        int dim = m.getInt("llama.embedding_length");
        int layers = m.getInt("llama.block_count");
        int heads = m.getInt("llama.attention.head_count");
        int kvHeads = m.contains("llama.attention.head_count_kv") ? m.getInt("llama.attention.head_count_kv") : heads;
        int hidden = m.getInt("llama.feed_forward_length");
        int ctx = m.contains("llama.context_length") ? m.getInt("llama.context_length") : 2048;
        float eps = m.contains("llama.attention.layer_norm_rms_epsilon")
                ? (float) m.getDouble("llama.attention.layer_norm_rms_epsilon") : 1e-5f;
        float theta = m.contains("llama.rope.freq_base") ? (float) m.getDouble("llama.rope.freq_base") : 10000f;
        float[] embV = emb.toFloatArray();
        boolean tied = true;
        float[] cls = null;
        if (ck.has("output.weight")) {
            cls = ck.tensor("output.weight").toFloatArray();
            tied = java.util.Arrays.equals(cls, embV);
        }
        Architecture a = new Architecture(dim, hidden, layers, heads, kvHeads, vocab, ctx, tied, eps, theta);
        ParamLayout lay = new ParamLayout(a);
        float[] p = new float[lay.size()];
        for (ParamLayout.Entry e : lay.entries()) {
            String name = ggufName(e);
            float[] v = name.equals("token_embd.weight") ? embV
                    : name.equals("output.weight") ? cls : ck.tensor(name).toFloatArray();
            if (v.length != e.size()) {
                throw new IllegalArgumentException("tensor " + name + " has " + v.length + " values but the architecture "
                        + "needs " + e.size());
            }
            System.arraycopy(v, 0, p, e.offset(), v.length);
        }
        return new Loaded(a, p);
    }

    /** llama.cpp's name of a trainer tensor. */
    static String ggufName(ParamLayout.Entry e) {
        String n = e.name();
        if (e.layer() < 0) {
            return switch (n) {
                case "tok_embeddings.weight" -> "token_embd.weight";
                case "norm.weight" -> "output_norm.weight";
                case "output.weight" -> "output.weight";
                default -> throw new IllegalStateException("unknown tensor " + n);
            };
        }
        String suffix = n.substring(n.indexOf('.', "layers.".length()) + 1);
        String g = switch (suffix) {
            case "attention_norm.weight" -> "attn_norm.weight";
            case "attention.wq.weight" -> "attn_q.weight";
            case "attention.wk.weight" -> "attn_k.weight";
            case "attention.wv.weight" -> "attn_v.weight";
            case "attention.wo.weight" -> "attn_output.weight";
            case "ffn_norm.weight" -> "ffn_norm.weight";
            case "feed_forward.w1.weight" -> "ffn_gate.weight";
            case "feed_forward.w2.weight" -> "ffn_down.weight";
            case "feed_forward.w3.weight" -> "ffn_up.weight";
            case "attention_sub_norm.weight" -> "attn_sub_norm.weight";
            case "ffn_sub_norm.weight" -> "ffn_sub_norm.weight";
            default -> throw new IllegalStateException("unknown tensor " + n);
        };
        return "blk." + e.layer() + "." + g;
    }
}
