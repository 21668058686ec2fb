package io.quantkit.train;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Writes trained weights as a llama2.c legacy checkpoint ({@code .bin}, the format of {@code stories260K.bin}):
 * seven little-endian int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size — negative when the
 * classifier is not tied —, seq_len), then float32 arrays: token embedding, rms_att, wq, wk, wv, wo, rms_ffn, w1, w2,
 * w3 (each for all layers), rms_final, the RoPE tables freq_cis_real and freq_cis_imag ({@code [seq_len][head/2]},
 * cos and sin), then the classifier when not tied. RMSNorm eps (1e-5) and RoPE theta (10000) are implied by the
 * format, so only such architectures are accepted. Written atomically.
 */
public final class Llama2cExport {
    private Llama2cExport() {
    }

    /** Writes {@code params} (laid out by {@link ParamLayout}) to {@code file}. */
    public static void write(Path file, Architecture a, float[] params) throws IOException {
        if (a.normEps() != 1e-5f || a.ropeTheta() != 10000f) {
            throw new IllegalArgumentException("llama2.c files imply norm eps 1e-5 and RoPE theta 10000, not "
                    + a.normEps() + " and " + a.ropeTheta());
        }
        if (a.subNorms()) {
            throw new IllegalArgumentException("a llama2.c file has no place for BitNet's SubLN gains");
        }
        ParamLayout layout = new ParamLayout(a);
        if (params.length != layout.size()) {
            throw new IllegalArgumentException("weights have " + params.length + " floats but the layout needs " + layout.size());
        }
        io.quantkit.io.AtomicOutput.write(file, true, out -> {
            ByteBuffer h = ByteBuffer.allocate(28).order(ByteOrder.LITTLE_ENDIAN);
            h.putInt(a.dim()).putInt(a.hiddenDim()).putInt(a.nLayers()).putInt(a.nHeads()).putInt(a.nKvHeads())
                    .putInt(a.sharedClassifier() ? a.vocabSize() : -a.vocabSize()).putInt(a.seqLen());
            out.write(h.array());
            int bodyEnd = a.sharedClassifier() ? layout.size() : layout.wcls;
            Checkpoint.writeFloats(out, Arrays.copyOfRange(params, 0, bodyEnd));
            float[][] rope = Ops.ropeTables(a.seqLen(), a.headSize(), a.ropeTheta());
            Checkpoint.writeFloats(out, rope[0]);
            Checkpoint.writeFloats(out, rope[1]);
            if (!a.sharedClassifier()) {
                Checkpoint.writeFloats(out, Arrays.copyOfRange(params, layout.wcls, layout.size()));
            }
        });
    }
}
