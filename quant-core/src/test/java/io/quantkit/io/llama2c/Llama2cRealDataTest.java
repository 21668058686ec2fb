package io.quantkit.io.llama2c;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quantkit.io.Checkpoint;
import io.quantkit.io.Checkpoints;
import io.quantkit.io.Container;
import io.quantkit.io.TensorInfo;
import io.quantkit.io.TokenizerData;
import io.quantkit.tensor.Shape;
import io.quantkit.tensor.Tensor;
import io.quantkit.testing.SharedData;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** stories260K.bin against stories260K-f32.gguf, written by llama.cpp's own llama2.c converter. */
@Tag("real-data")
class Llama2cRealDataTest {

    @Test
    void headerTensorsAndMetadata() throws Exception {
        Path bin = SharedData.path("stories260K/stories260K.bin");
        try (Checkpoint c = Checkpoints.open(bin)) {
            assertEquals(Container.LLAMA2C, c.container());
            // 1 embedding + 5 layers x 9 + output_norm + output
            assertEquals(48, c.tensors().size());
            assertEquals(64, c.metadata().getLong("llama.embedding_length"));
            assertEquals(172, c.metadata().getLong("llama.feed_forward_length"));
            assertEquals(5, c.metadata().getLong("llama.block_count"));
            assertEquals(8, c.metadata().getLong("llama.attention.head_count"));
            assertEquals(4, c.metadata().getLong("llama.attention.head_count_kv"));
            assertEquals(512, c.metadata().getLong("llama.context_length"));
            assertEquals(8, c.metadata().getLong("llama.rope.dimension_count"));
            assertEquals(Shape.of(512, 64), c.info("token_embd.weight").orElseThrow().shape());
            assertEquals(Shape.of(32, 64), c.info("blk.4.attn_k.weight").orElseThrow().shape());
            assertEquals(Shape.of(64, 172), c.info("blk.0.ffn_down.weight").orElseThrow().shape());
            // shared classifier: output.weight is the embedding's bytes
            assertEquals(c.info("token_embd.weight").orElseThrow().offset(), c.info("output.weight").orElseThrow().offset());
            assertEquals(28, c.tensors().get(0).offset());
            assertEquals(260_032L + 64 * 512 /* output aliases the embedding */, c.parameterCount());
        }
    }

    @Test
    void everyTensorEqualsLlamaCppsConversionBitForBit() throws Exception {
        try (Checkpoint bin = Checkpoints.open(SharedData.path("stories260K/stories260K.bin"));
                Checkpoint gguf = Checkpoints.open(SharedData.path("stories260K/stories260K-f32.gguf"))) {
            assertEquals(gguf.tensors().size(), bin.tensors().size());
            for (TensorInfo g : gguf.tensors()) {
                Tensor a = bin.tensor(g.name());
                Tensor b = gguf.tensor(g);
                assertEquals(b.shape(), a.shape(), g.name());
                float[] x = a.toFloatArray();
                float[] y = b.toFloatArray();
                for (int i = 0; i < x.length; i++) {
                    if (Float.floatToRawIntBits(x[i]) != Float.floatToRawIntBits(y[i])) {
                        throw new AssertionError(g.name() + "[" + i + "]: " + x[i] + " != " + y[i]);
                    }
                }
            }
        }
    }

    @Test
    void tokenizerFoundBesideTheModelMatchesTheGgufVocabulary() throws Exception {
        try (Checkpoint bin = Checkpoints.open(SharedData.path("stories260K/stories260K.bin"));
                Checkpoint gguf = Checkpoints.open(SharedData.path("stories260K/stories260K-f32.gguf"))) {
            TokenizerData t = bin.tokenizer().orElseThrow();
            TokenizerData g = gguf.tokenizer().orElseThrow();
            assertEquals(512, t.size());
            assertEquals("\n<s>\n", t.token(1));
            assertEquals("<0x00>", t.token(3));
            assertEquals(" t", t.token(259));
            assertEquals(-252f, t.score(511));
            assertEquals(1, t.bosId());
            assertEquals(2, t.eosId());
            for (int i = 0; i < 512; i++) {
                String expected = g.token(i);
                String ours = i == 1 ? "<s>" : i == 2 ? "</s>" : t.token(i).replace(" ", "\u2581");
                assertEquals(expected, ours, "token " + i);
                assertEquals(Float.floatToRawIntBits(g.score(i)), Float.floatToRawIntBits(t.score(i)), "score " + i);
                assertEquals(g.tokenType(i), t.tokenType(i), "type " + i);
            }
        }
    }

    @Test
    void explicitTokenizerPath() throws Exception {
        Path tok = SharedData.path("stories260K/tok512.bin");
        TokenizerData t = TokBinReader.read(tok);
        assertEquals(512, t.size());
        assertTrue(TokBinReader.isBytePiece(t.token(258)));
        try (Checkpoint c = Checkpoints.open(SharedData.path("stories260K/stories260K.bin"), tok)) {
            assertEquals(List.copyOf(t.tokens()), c.tokenizer().orElseThrow().tokens());
        }
    }
}
