package io.quantkit.model;

import io.quantkit.model.LlamaWeights.LayerTensor;
import io.quantkit.tensor.FloatTensor;
import io.quantkit.tensor.Shape;
import io.quantkit.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * TEST-ONLY reader of a llama2.c legacy {@code .bin}, used until the io package's reader lands (then deleted).
 */
public final class TestOnlyLlama2cLoader {
    private TestOnlyLlama2cLoader() {
    }

    public static LlamaWeights load(Path file) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        int dim = b.getInt();
        int hidden = b.getInt();
        int layers = b.getInt();
        int heads = b.getInt();
        int kvHeads = b.getInt();
        int vocab = b.getInt();
        int seqLen = b.getInt();
        boolean shared = vocab > 0;
        vocab = Math.abs(vocab);
        LlamaConfig c = LlamaConfig.llama2c(dim, hidden, layers, heads, kvHeads, vocab, seqLen);
        FloatBuffer f = b.asFloatBuffer();
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put(LlamaWeights.TOKEN_EMBD, read(f, vocab, dim));
        LayerTensor[] order = {LayerTensor.ATTN_NORM, LayerTensor.ATTN_Q, LayerTensor.ATTN_K, LayerTensor.ATTN_V,
            LayerTensor.ATTN_OUTPUT, LayerTensor.FFN_NORM, LayerTensor.FFN_GATE, LayerTensor.FFN_DOWN,
            LayerTensor.FFN_UP};
        for (LayerTensor k : order) {
            Shape s = k.shape(c);
            for (int l = 0; l < layers; l++) {
                t.put(k.name(l), s.rank() == 1 ? read(f, (int) s.dim(0)) : read(f, (int) s.dim(0), (int) s.dim(1)));
            }
        }
        t.put(LlamaWeights.OUTPUT_NORM, read(f, dim));
        f.position(f.position() + seqLen * (dim / heads)); // legacy RoPE tables
        if (!shared) {
            t.put(LlamaWeights.OUTPUT, read(f, vocab, dim));
        }
        Map<String, Tensor> ordered = new LinkedHashMap<>();
        for (String name : LlamaWeights.expectedNames(c, !shared)) {
            ordered.put(name, t.get(name));
        }
        return LlamaWeights.of(c, ordered);
    }

    private static FloatTensor read(FloatBuffer f, int... dims) {
        long n = 1;
        long[] d = new long[dims.length];
        for (int i = 0; i < dims.length; i++) {
            n *= dims[i];
            d[i] = dims[i];
        }
        float[] a = new float[(int) n];
        f.get(a);
        return FloatTensor.wrap(Shape.of(d), a);
    }
}
