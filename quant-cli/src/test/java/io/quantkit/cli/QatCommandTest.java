package io.quantkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quantkit.train.Architecture;
import io.quantkit.train.Llama2cExport;
import io.quantkit.train.ParamLayout;
import io.quantkit.train.Trainer;
import io.quantkit.train.corpus.BpeVocabulary;
import io.quantkit.train.corpus.StoryGenerator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code quant qat} end to end on a tiny model made on the spot (random weights, BPE trained on generated stories). */
class QatCommandTest {

    static Path[] tinyModel(Path dir) throws IOException {
        String text = new StoryGenerator(9).text(12_000);
        BpeVocabulary v = BpeVocabulary.train(List.of(text.split("\n\n")), 340);
        Architecture a = Architecture.llama(16, 32, 1, 2, 1, v.size(), 64, true);
        Path model = dir.resolve("tiny.bin");
        Path tok = dir.resolve("tok.bin");
        Path data = dir.resolve("data.txt");
        Llama2cExport.write(model, a, Trainer.initialParams(new ParamLayout(a), 1));
        Files.write(tok, v.toTokBin());
        Files.writeString(data, text);
        return new Path[] {model, tok, data};
    }

    @Test
    void reportsTheFourPerplexities(@TempDir Path dir) throws IOException {
        Path[] f = tinyModel(dir);
        Path out = dir.resolve("qat.bin");
        CliRun r = CliRun.of("qat", f[0].toString(), "--tokenizer", f[1].toString(), "--scheme", "int:bits=3,group=8",
                "--data", f[2].toString(), "--out", out.toString(), "--steps", "4", "--batch", "2", "--ctx", "16",
                "--eval-bytes", "3000", "--lr", "1e-2", "--threads", "2", "--json");
        JsonNode j = r.json();
        for (String k : List.of("baseline_ppl", "ptq_ppl", "qat_ppl", "recovered", "f32_ppl")) {
            assertTrue(j.get(k).isNumber(), k);
        }
        assertEquals("int:bits=3,group=8", j.get("scheme").asText());
        assertEquals(4, j.get("steps").asInt());
        assertEquals(4 * 2 * 15, j.get("train_tokens").asInt());
        double rec = (j.get("ptq_ppl").asDouble() - j.get("qat_ppl").asDouble())
                / (j.get("ptq_ppl").asDouble() - j.get("baseline_ppl").asDouble());
        assertEquals(rec, j.get("recovered").asDouble(), 1e-12);
        // an untrained model is close to uniform over the vocabulary
        assertEquals(Math.log(340), Math.log(j.get("f32_ppl").asDouble()), 0.2);
        assertTrue(Files.size(out) == Files.size(f[0]), "same architecture written back");
        assertTrue(r.err().contains("qat: step 4/4"), r.err());
    }

    @Test
    void badInputIsOneLineAndExitTwo(@TempDir Path dir) throws IOException {
        Path[] f = tinyModel(dir);
        String line = CliRun.of("qat", f[0].toString(), "--tokenizer", f[1].toString(), "--scheme", "int17",
                "--data", f[2].toString(), "--out", dir.resolve("x.bin").toString()).assertBadInput();
        assertTrue(line.contains("int17"), line);
        line = CliRun.of("qat", f[0].toString(), "--tokenizer", f[1].toString(), "--scheme", "int4",
                "--data", f[2].toString(), "--out", dir.resolve("x.gguf").toString()).assertBadInput();
        assertTrue(line.contains(".bin"), line);
        line = CliRun.of("qat", f[0].toString(), "--tokenizer", f[1].toString(), "--scheme", "int4",
                "--data", f[2].toString(), "--out", f[0].toString()).assertBadInput();
        assertTrue(line.contains("--force"), line);
    }
}
