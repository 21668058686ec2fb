package io.quantkit.io.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quantkit.io.Checkpoint;
import io.quantkit.io.Checkpoints;
import io.quantkit.io.Container;
import io.quantkit.io.MappedFile;
import io.quantkit.io.MetaType;
import io.quantkit.io.MetaValue;
import io.quantkit.io.TokenizerData;
import io.quantkit.tensor.Shape;
import io.quantkit.testing.SharedData;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Expected values come from reference/gguf/ggufdump.py (an independent reader) run on the same files. */
@Tag("real-data")
class GgufRealDataTest {

    @Test
    void stories260KHeader() throws Exception {
        Path p = SharedData.path("stories260K/stories260K-f32.gguf");
        try (MappedFile f = MappedFile.open(p)) {
            GgufReader.Header h = GgufReader.readHeader(p, f);
            assertEquals(3, h.version());
            assertEquals(32, h.alignment());
            assertEquals(14176, h.dataOffset()); // infos end at 14152, padded to 32
            assertEquals(48, h.tensors().size());
            assertEquals(19, h.metadata().size());
        }
        try (Checkpoint c = Checkpoints.open(p)) {
            assertEquals(Container.GGUF, c.container());
            assertEquals("llama", c.metadata().getString("general.architecture"));
            assertEquals(128, c.metadata().getLong("llama.context_length"));
            assertEquals(new MetaValue.Int(MetaType.UINT32, 4294967295L),
                    c.metadata().get("tokenizer.ggml.seperator_token_id").orElseThrow());
            assertEquals(9.999999747378752e-06, c.metadata().getDouble("llama.attention.layer_norm_rms_epsilon"));
            var emb = c.info("token_embd.weight").orElseThrow();
            assertEquals(Shape.of(512, 64), emb.shape());
            assertEquals("F32", emb.format());
            assertEquals(14176, emb.offset());
            var ffn = c.info("blk.4.ffn_norm.weight").orElseThrow();
            assertEquals(14176 + 1170944, ffn.offset());
            assertEquals(256, ffn.byteLength());
            assertEquals(Shape.of(172, 64), c.info("blk.0.ffn_gate.weight").orElseThrow().shape());
            assertEquals("token_embd.weight", c.tensors().get(0).name());
            assertEquals("output_norm.weight", c.tensors().get(1).name());
            TokenizerData t = c.tokenizer().orElseThrow();
            assertEquals(512, t.size());
            assertEquals("\u2581t", t.token(259));
            assertEquals(-1f, t.score(260));
            assertEquals(TokenizerData.TYPE_BYTE, t.tokenType(258));
        }
    }

    @Test
    void gpt2VocabOnly() throws Exception {
        try (Checkpoint c = Checkpoints.open(SharedData.path("gguf-vocab/ggml-vocab-gpt-2.gguf"))) {
            assertEquals(0, c.tensors().size());
            assertEquals(16, c.metadata().size());
            TokenizerData t = c.tokenizer().orElseThrow();
            assertEquals("gpt2", t.model());
            assertEquals(50257, t.size());
            assertEquals("!", t.token(0));
            assertEquals(50000, t.merges().size());
            assertEquals("\u0120 t", t.merges().get(0));
            assertEquals(50256, t.bosId());
            assertTrue(!t.hasScores());
            assertEquals(1, t.tokenType(0));
        }
    }

    @Test
    void llamaSpmVocabOnly() throws Exception {
        try (Checkpoint c = Checkpoints.open(SharedData.path("gguf-vocab/ggml-vocab-llama-spm.gguf"))) {
            assertEquals(0, c.tensors().size());
            assertEquals(22, c.metadata().size());
            assertEquals(true, c.metadata().getBool("tokenizer.ggml.add_bos_token"));
            assertEquals(32000, c.metadata().getLong("llama.vocab_size"));
            TokenizerData t = c.tokenizer().orElseThrow();
            assertEquals(32000, t.size());
            assertEquals("<unk>", t.token(0));
            assertEquals(TokenizerData.TYPE_UNKNOWN, t.tokenType(0));
            assertEquals(TokenizerData.TYPE_CONTROL, t.tokenType(1));
            assertEquals(TokenizerData.TYPE_BYTE, t.tokenType(3));
            assertEquals(0, t.unkId());
        }
    }
}
