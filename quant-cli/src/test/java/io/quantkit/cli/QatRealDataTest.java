package io.quantkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quantkit.testing.SharedData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code quant qat} on stories260K, a few steps of ternary QAT (linear layers; embedding and classifier kept f32, as in
 * docs/benchmarks.md) on the TinyStories sample: the training loss falls, QAT beats PTQ, and the saved file evaluates
 * with {@code quant eval} to the QAT perplexity the command printed, to the last bit.
 */
@Tag("real-data")
class QatRealDataTest {
    static final String EVAL_BYTES = "20000";

    @Test
    void ternaryQatLearnsAndTheSavedFileEvaluatesToThePrintedFigure(@TempDir Path dir) throws IOException {
        String bin = SharedData.path("stories260K/stories260K.bin").toString();
        String tok = SharedData.path("stories260K/tok512.bin").toString();
        String text = SharedData.path("corpora/tinystories_val_sample.txt").toString();
        Path recipe = dir.resolve("keep.recipe");
        Files.writeString(recipe, "token_embd.weight keep\noutput.weight keep\n");
        Path out = dir.resolve("ternary-qat.safetensors");
        Path log = dir.resolve("qat.csv");
        JsonNode j = CliRun.of("qat", bin, "--tokenizer", tok, "--scheme", "ternary", "--recipe", recipe.toString(),
                "--data", text, "--eval-bytes", EVAL_BYTES, "--steps", "8", "--batch", "4", "--lr", "1e-3", "--warmup",
                "1", "--distill", "1", "--log", log.toString(), "--out", out.toString(), "--threads", "2", "--json")
                .json();
        List<String> lines = Files.readAllLines(log);
        assertEquals(9, lines.size(), "header and one line per step");
        double first = (loss(lines, 1) + loss(lines, 2)) / 2;
        double last = (loss(lines, 7) + loss(lines, 8)) / 2;
        assertTrue(last < first - 0.5, "training loss falls: " + first + " -> " + last);
        double ptq = j.get("ptq_ppl").asDouble();
        double qat = j.get("qat_ppl").asDouble();
        double base = j.get("baseline_ppl").asDouble();
        assertTrue(ptq > 100 * base, "ternary PTQ of stories260K is far off: " + ptq + " vs " + base);
        assertTrue(qat < ptq / 4, "eight steps of QAT win most of it back: " + ptq + " -> " + qat);
        assertEquals("ternary", j.get("formats").get("blk.0.attn_q.weight").asText());
        assertEquals("F32", j.get("formats").get("token_embd.weight").asText());
        JsonNode e = CliRun.of("eval", out.toString(), "--tokenizer", tok, "--data", text, "--max-bytes", EVAL_BYTES,
                "--ctx", "128", "--json").json();
        assertEquals(j.get("eval_tokens").asLong(), e.get("tokens").asLong());
        assertEquals(qat, e.get("ppl").asDouble(), 0.0, "quant eval of the saved file");
    }

    private static double loss(List<String> csv, int step) {
        String[] cells = csv.get(step).split(",");
        assertEquals(Integer.toString(step), cells[0]);
        return Double.parseDouble(cells[2]);
    }
}
