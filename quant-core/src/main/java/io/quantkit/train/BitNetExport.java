package io.quantkit.train;

import io.quantkit.io.AtomicOutput;
import io.quantkit.io.safetensors.SafetensorsWriter;
import io.quantkit.model.LlamaLoader;
import io.quantkit.quant.Codecs;
import io.quantkit.quant.QuantizedTensor;
import io.quantkit.quant.Scheme;
import io.quantkit.quant.SchemeKind;
import io.quantkit.tensor.FloatTensor;
import io.quantkit.tensor.Shape;
import java.io.IOException;
import java.nio.file.Path;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes a trained BitNet b1.58 model ({@link Architecture#subNorms()}) as a model file that {@code quant eval},
 * {@code compare}, {@code convert} and {@code inspect} read: quantkit safetensors with llama.cpp's {@code bitnet}
 * names and keys.
 *
 * <pre>
 * metadata  general.architecture = bitnet, general.name, bitnet.context_length, bitnet.embedding_length,
 *           bitnet.feed_forward_length, bitnet.block_count, bitnet.attention.head_count,
 *           bitnet.attention.head_count_kv, bitnet.rope.dimension_count, bitnet.attention.layer_norm_rms_epsilon,
 *           bitnet.rope.freq_base, bitnet.vocab_size, bitnet.rope.pairs = adjacent (q/k rows as trained)
 * tensors   blk.N.attn_q/k/v/output, ffn_gate/down/up: each weight fake-quantized in training, stored in its
 *           scheme (ternary: 2-bit codes + one F32 absmean scale) from the float32 master weights, so it decodes
 *           to exactly the values the training forward pass used (checked before the file is committed);
 *           token_embd, the norms (attn_norm, attn_sub_norm, ffn_norm, ffn_sub_norm, output_norm): F32;
 *           a tied classifier is the embedding (no output.weight), as llama.cpp's bitnet graph expects
 * </pre>
 * The 8-bit activations are part of what a {@code bitnet} model is ({@link io.quantkit.model.BitNet}), so they need
 * no tensor. Written atomically.
 */
public final class BitNetExport {
    private BitNetExport() {
    }

    /**
     * Writes the model to {@code out} ({@code .safetensors}; replaced only with {@code force}).
     *
     * @param master  the float32 master weights ({@link Trainer#params()})
     * @param fq      the weight fake quantization training used
     * @param forward the weights the training forward pass used ({@link Trainer#forwardWeights()}), which every
     *                stored tensor must decode to bit for bit
     */
    public static void write(Path out, Architecture arch, float[] master, FakeQuant fq, float[] forward, String name,
                             boolean force) throws IOException {
        if (!arch.subNorms()) {
            throw new IllegalArgumentException("a BitNet model needs SubLN (Architecture.subNorms)");
        }
        ParamLayout lay = new ParamLayout(arch);
        List<Map.Entry<String, QuantizedTensor>> tensors = new ArrayList<>();
        for (ParamLayout.Entry e : lay.entries()) {
            Shape shape = e.role() == ParamLayout.Role.NORM ? Shape.of(e.cols()) : Shape.of(e.rows(), e.cols());
            Scheme s = fq.schemeFor(e);
            if (s == null) {
                s = Scheme.of(SchemeKind.F32);
            }
            float[] src = Arrays.copyOfRange(master, e.offset(), e.offset() + e.size());
            QuantizedTensor q = Codecs.forScheme(s).quantize(FloatTensor.wrap(shape, src));
            float[] got = q.toFloatArray();
            for (int i = 0; i < got.length; i++) {
                if (Float.floatToIntBits(got[i]) != Float.floatToIntBits(forward[e.offset() + i])) {
                    throw new IllegalStateException("tensor " + LlamaWeights.ggufName(e) + " element " + i + " stores as "
                            + got[i] + " but training used " + forward[e.offset() + i]);
                }
            }
            tensors.add(new AbstractMap.SimpleImmutableEntry<>(LlamaWeights.ggufName(e), q));
        }
        try (AtomicOutput ao = AtomicOutput.create(out, force)) {
            SafetensorsWriter.writeAll(ao.channel(), metadata(arch, name), tensors);
            ao.commit();
        }
    }

    /** The string metadata of a BitNet model of {@code arch}. */
    static Map<String, String> metadata(Architecture a, String name) {
        Map<String, String> m = new TreeMap<>();
        m.put("general.architecture", "bitnet");
        m.put("general.name", name);
        m.put("bitnet.context_length", Integer.toString(a.seqLen()));
        m.put("bitnet.embedding_length", Integer.toString(a.dim()));
        m.put("bitnet.feed_forward_length", Integer.toString(a.hiddenDim()));
        m.put("bitnet.block_count", Integer.toString(a.nLayers()));
        m.put("bitnet.attention.head_count", Integer.toString(a.nHeads()));
        m.put("bitnet.attention.head_count_kv", Integer.toString(a.nKvHeads()));
        m.put("bitnet.rope.dimension_count", Integer.toString(a.headSize()));
        m.put("bitnet.attention.layer_norm_rms_epsilon", Float.toString(a.normEps()));
        m.put("bitnet.rope.freq_base", Float.toString(a.ropeTheta()));
        m.put("bitnet.vocab_size", Integer.toString(a.vocabSize()));
        m.put(LlamaLoader.BITNET_ROPE_KEY, "adjacent");
        return m;
    }
}
