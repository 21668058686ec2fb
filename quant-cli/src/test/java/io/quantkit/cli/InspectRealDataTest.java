package io.quantkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.quantkit.testing.SharedData;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code quant inspect} on stories260K. Expected figures follow from the architecture in shared/data/README.md
 * (dim 64, hidden 172, 5 layers, 4 kv heads of 8 = kv_dim 32, vocab 512): per layer wq 4096 + wk 2048 + wv 2048
 * + wo 4096 + w1/w2/w3 3 * 11008 + two norms 128 = 45,440; plus embedding 32,768, output 32,768, final norm 64
 * = 292,800 parameters.
 */
@Tag("real-data")
class InspectRealDataTest {

    @Test
    void ggufFromLlamaCpp() {
        String file = SharedData.path("stories260K/stories260K-f32.gguf").toString();
        JsonNode doc = CliRun.of("inspect", "--json", file).json();
        assertEquals("gguf", doc.get("container").asText());
        assertEquals(48, doc.get("tensor_count").asInt());
        assertEquals(292_800, doc.get("parameter_count").asLong());
        assertEquals(4 * 292_800, doc.get("data_bytes").asLong());
        assertEquals(1_185_376, doc.get("file_bytes").asLong());
        assertEquals("llama", doc.get("metadata").get("general.architecture").get("value").asText());
        assertEquals(128, doc.get("metadata").get("llama.context_length").get("value").asInt());
        JsonNode tokens = doc.get("metadata").get("tokenizer.ggml.tokens");
        assertEquals(512, tokens.get("length").asInt());
        assertEquals(16, tokens.get("values").size());
        assertEquals("<unk>", tokens.get("values").get(0).asText());
        assertEquals(512, doc.get("tokenizer").get("size").asInt());
        JsonNode down = null;
        for (JsonNode t : doc.get("tensors")) {
            assertEquals("F32", t.get("format").asText());
            if (t.get("name").asText().equals("blk.0.ffn_down.weight")) {
                down = t;
            }
        }
        assertEquals("[64,172]", down.get("shape").toString());
        assertEquals(44_032, down.get("bytes").asLong());
    }

    @Test
    void llama2cCheckpointWithItsTokenizer() {
        String file = SharedData.path("stories260K/stories260K.bin").toString();
        String tok = SharedData.path("stories260K/tok512.bin").toString();
        JsonNode doc = CliRun.of("inspect", "--json", "--tokenizer", tok, file).json();
        assertEquals("llama2c", doc.get("container").asText());
        assertEquals(292_800, doc.get("parameter_count").asLong());
        assertEquals(1_056_540, doc.get("file_bytes").asLong());
        assertEquals(512, doc.get("tokenizer").get("size").asInt());
    }
}
