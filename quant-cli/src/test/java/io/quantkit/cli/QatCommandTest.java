package io.quantkit.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
import java.util.Arrays;
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
    void savesTheQuantizedModelThatEvalReproduces(@TempDir Path dir) throws IOException {
        Path[] f = tinyModel(dir);
        Path out = dir.resolve("qat.safetensors");
        Path log = dir.resolve("qat.csv");
        Path png = dir.resolve("qat.png");
        CliRun r = CliRun.of("qat", f[0].toString(), "--tokenizer", f[1].toString(), "--scheme", "int:bits=3,group=8",
                "--data", f[2].toString(), "--out", out.toString(), "--steps", "4", "--batch", "2", "--ctx", "16",
                "--eval-bytes", "3000", "--lr", "1e-2", "--threads", "2", "--eval-every", "2", "--log", log.toString(),
                "--plot", png.toString(), "--json");
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
        assertTrue(r.err().contains("qat: step 4/4"), r.err());
        // every 2-D weight is stored in the scheme, norms stay f32
        JsonNode formats = j.get("formats");
        assertEquals("int:bits=3,group=8", formats.get("blk.0.attn_q.weight").asText());
        assertEquals("int:bits=3,group=8", formats.get("token_embd.weight").asText());
        assertEquals("F32", formats.get("blk.0.attn_norm.weight").asText());
        // the saved file is a real quantized model: eval and compare read it, and eval gives exactly the QAT figure
        String[] evalArgs = {"eval", out.toString(), "--tokenizer", f[1].toString(), "--data", f[2].toString(),
            "--max-bytes", "3000", "--ctx", "16", "--json"};
        assertEquals(j.get("qat_ppl").asDouble(), CliRun.of(evalArgs).json().get("ppl").asDouble(), 0.0);
        // and PTQ is what convert + eval give for the starting model
        Path ptq = dir.resolve("ptq.safetensors");
        CliRun.of("convert", f[0].toString(), ptq.toString(), "--tokenizer", f[1].toString(), "-s", "int:bits=3,group=8",
                "--quiet", "--json").json();
        evalArgs[1] = ptq.toString();
        assertEquals(j.get("ptq_ppl").asDouble(), CliRun.of(evalArgs).json().get("ppl").asDouble(), 0.0);
        // log: a header and one line per step, perplexity at the evaluated steps
        List<String> lines = Files.readAllLines(log);
        assertEquals(5, lines.size(), String.join("\n", lines));
        assertTrue(lines.get(0).startsWith("step,lr,loss"), lines.get(0));
        assertEquals("", lines.get(1).split(",", -1)[5], "no evaluation at step 1");
        assertEquals(String.format(java.util.Locale.ROOT, "%.4f", j.get("qat_ppl").asDouble()),
                lines.get(4).split(",", -1)[5], "the curve's last point is the saved model's figure");
        byte[] head = Arrays.copyOf(Files.readAllBytes(png), 4);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, head);
    }

    /**
     * Learned scales (--lsq) travel in the training checkpoint: a run stopped at step 3 and resumed writes the same
     * model bytes as an uninterrupted one, and the checkpoint holds the scales.
     */
    @Test
    void lsqRunStoppedAndResumedWritesTheSameBytes(@TempDir Path dir) throws IOException {
        Path[] f = tinyModel(dir);
        List<String> common = List.of("qat", f[0].toString(), "--tokenizer", f[1].toString(), "--scheme", "int4:group=8",
                "--data", f[2].toString(), "--steps", "6", "--batch", "2", "--ctx", "16", "--eval-bytes", "3000", "--lr",
                "1e-2", "--lsq", "--distill", "0.5", "--eval-every", "2");
        Path whole = dir.resolve("whole.safetensors");
        Path resumed = dir.resolve("resumed.safetensors");
        Path ck = dir.resolve("ck.safetensors");
        JsonNode j = run(common, "--out", whole.toString(), "--threads", "2", "--json").json();
        CliRun stopped = run(common, "--out", resumed.toString(), "--threads", "1", "--checkpoint", ck.toString(),
                "--stop-at", "3");
        assertEquals(0, stopped.exit(), stopped.err());
        assertEquals("", stopped.out());
        assertTrue(stopped.err().contains("qat: stopped after step 3; continue with --resume"), stopped.err());
        assertTrue(!Files.exists(resumed), "no model before the end");
        io.quantkit.train.Checkpoint.State s = io.quantkit.train.Checkpoint.load(ck);
        assertEquals(3, s.step());
        assertTrue(s.scales() != null && s.scales().length > 0, "the learned scales are in the checkpoint");
        JsonNode k = run(common, "--out", resumed.toString(), "--threads", "2", "--resume", ck.toString(), "--json")
                .json();
        assertArrayEquals(Files.readAllBytes(whole), Files.readAllBytes(resumed));
        assertEquals(j.get("qat_ppl").asDouble(), k.get("qat_ppl").asDouble(), 0.0);
        // a checkpoint without learned scales cannot continue an --lsq run
        CliRun plain = run(common.subList(0, common.indexOf("--lsq")), "--out", dir.resolve("p.safetensors").toString(),
                "--checkpoint", dir.resolve("plain.safetensors").toString(), "--stop-at", "2", "--eval-every", "2");
        assertEquals(0, plain.exit(), plain.err());
        String line = run(common, "--out", dir.resolve("q.safetensors").toString(), "--resume",
                dir.resolve("plain.safetensors").toString()).assertBadInput();
        assertTrue(line.contains("learned scales"), line);
    }

    /**
     * The distillation temperature and the AdamW/clipping options reach the training: each changes the saved ternary
     * model, spelling out the defaults changes nothing, the JSON reports them, and bad values are refused in one line.
     */
    @Test
    void temperatureAndOptimizerOptionsChangeTheTraining(@TempDir Path dir) throws IOException {
        Path[] f = tinyModel(dir);
        List<String> common = List.of("qat", f[0].toString(), "--tokenizer", f[1].toString(), "--scheme", "ternary",
                "--data", f[2].toString(), "--steps", "4", "--batch", "2", "--ctx", "16", "--eval-bytes", "3000", "--lr",
                "1e-2", "--distill", "1", "--threads", "1");
        Path plain = dir.resolve("plain.safetensors");
        JsonNode j = run(common, "--out", plain.toString(), "--json").json();
        assertEquals(1.0, j.get("distill_temperature").asDouble(), 0.0);
        assertEquals(0.9f, (float) j.get("beta1").asDouble(), 0f);
        assertEquals(0.95f, (float) j.get("beta2").asDouble(), 0f);
        assertEquals(1.0, j.get("clip").asDouble(), 0.0);
        byte[] base = Files.readAllBytes(plain);
        Path spelled = dir.resolve("spelled.safetensors");
        run(common, "--out", spelled.toString(), "--distill-temperature", "1", "--beta1", "0.9", "--beta2", "0.95",
                "--clip", "1", "--json").json();
        assertArrayEquals(base, Files.readAllBytes(spelled), "the defaults spelled out");
        String[][] changes = {{"--distill-temperature", "2"}, {"--beta1", "0.5"}, {"--beta2", "0.999"}, {"--clip", "0.01"}};
        for (String[] c : changes) {
            Path out = dir.resolve(c[0].substring(2) + ".safetensors");
            JsonNode k = run(common, "--out", out.toString(), c[0], c[1], "--json").json();
            assertEquals(Double.parseDouble(c[1]), k.get(c[0].substring(2).replace('-', '_')).asDouble(), 1e-7, c[0]);
            assertTrue(!Arrays.equals(base, Files.readAllBytes(out)), c[0] + " " + c[1] + " changes the trained model");
        }
        for (String[] bad : new String[][] {{"--distill-temperature", "0"}, {"--beta1", "1"}, {"--beta2", "-0.1"},
            {"--clip", "-1"}}) {
            String line = run(common, "--out", dir.resolve("bad.safetensors").toString(), bad[0], bad[1])
                    .assertBadInput();
            assertTrue(!line.isEmpty(), bad[0]);
        }
        String line = run(common.subList(0, common.indexOf("--distill")), "--out",
                dir.resolve("bad.safetensors").toString(), "--distill", "0", "--distill-temperature", "2")
                .assertBadInput();
        assertTrue(line.contains("--distill"), line);
    }

    /**
     * Ternary runs default to distillation from the float model and a peak learning rate of 3e-3 (the measured
     * recipe); other schemes keep labels only and 5e-4. A ternary run without --lr/--distill writes the same bytes as
     * one that spells them out.
     */
    @Test
    void ternaryDefaultsToDistillationAndAHigherLearningRate(@TempDir Path dir) throws IOException {
        Path[] f = tinyModel(dir);
        List<String> common = List.of("qat", f[0].toString(), "--tokenizer", f[1].toString(), "--data", f[2].toString(),
                "--steps", "3", "--batch", "2", "--ctx", "16", "--eval-bytes", "3000", "--threads", "1", "--json");
        Path implicit = dir.resolve("implicit.safetensors");
        JsonNode t = run(common, "--scheme", "ternary", "--out", implicit.toString()).json();
        assertEquals(3e-3f, (float) t.get("lr").asDouble(), 0f);
        assertEquals(3e-4f, (float) t.get("min_lr").asDouble(), 0f);
        assertEquals(1.0, t.get("distill").asDouble(), 0.0);
        Path explicit = dir.resolve("explicit.safetensors");
        run(common, "--scheme", "ternary", "--out", explicit.toString(), "--lr", "3e-3", "--distill", "1").json();
        assertArrayEquals(Files.readAllBytes(explicit), Files.readAllBytes(implicit));
        JsonNode labels = run(common, "--scheme", "ternary:scale=channel", "--out",
                dir.resolve("labels.safetensors").toString(), "--distill", "0", "--lr", "1e-3").json();
        assertEquals(0.0, labels.get("distill").asDouble(), 0.0);
        assertEquals(1e-3f, (float) labels.get("lr").asDouble(), 0f);
        JsonNode i = run(common, "--scheme", "int4:group=8", "--out", dir.resolve("int4.safetensors").toString()).json();
        assertEquals(5e-4f, (float) i.get("lr").asDouble(), 0f);
        assertEquals(0.0, i.get("distill").asDouble(), 0.0);
    }

    /**
     * --quant-warmup and --distill-hidden reach the training: 0 (the default) spelled out writes the same bytes as
     * leaving them off, other values change the saved model, the JSON reports them, a run with both stopped at step 3
     * and resumed writes the same bytes as an uninterrupted one, and bad values are refused in one line.
     */
    @Test
    void quantWarmupAndHiddenDistillationChangeTheTrainingAndResume(@TempDir Path dir) throws IOException {
        Path[] f = tinyModel(dir);
        List<String> common = List.of("qat", f[0].toString(), "--tokenizer", f[1].toString(), "--scheme", "ternary",
                "--data", f[2].toString(), "--steps", "6", "--batch", "2", "--ctx", "16", "--eval-bytes", "3000", "--lr",
                "1e-2", "--clipped-ste", "--eval-every", "2");
        Path plain = dir.resolve("plain.safetensors");
        JsonNode j = run(common, "--out", plain.toString(), "--threads", "1", "--json").json();
        assertEquals(0, j.get("quant_warmup").asInt());
        assertEquals(0.0, j.get("distill_hidden").asDouble(), 0.0);
        byte[] base = Files.readAllBytes(plain);
        Path zero = dir.resolve("zero.safetensors");
        run(common, "--out", zero.toString(), "--quant-warmup", "0", "--distill-hidden", "0", "--json").json();
        assertArrayEquals(base, Files.readAllBytes(zero), "--quant-warmup 0 --distill-hidden 0 is the plain run");
        Path warm = dir.resolve("warm.safetensors");
        JsonNode w = run(common, "--out", warm.toString(), "--quant-warmup", "4", "--json").json();
        assertEquals(4, w.get("quant_warmup").asInt());
        assertTrue(!Arrays.equals(base, Files.readAllBytes(warm)), "the warmup changes the trained model");
        Path hidden = dir.resolve("hidden.safetensors");
        JsonNode h = run(common, "--out", hidden.toString(), "--distill-hidden", "2", "--json").json();
        assertEquals(2.0, h.get("distill_hidden").asDouble(), 0.0);
        assertTrue(!Arrays.equals(base, Files.readAllBytes(hidden)), "the hidden-state term changes the trained model");
        // both, uninterrupted on 2 threads vs stopped at 3 and resumed on 1: the same bytes
        Path whole = dir.resolve("whole.safetensors");
        Path resumed = dir.resolve("resumed.safetensors");
        Path ck = dir.resolve("ck.safetensors");
        String[] both = {"--quant-warmup", "4", "--distill-hidden", "2"};
        JsonNode a = run(common, concat(both, "--out", whole.toString(), "--threads", "2", "--json")).json();
        CliRun stopped = run(common, concat(both, "--out", resumed.toString(), "--threads", "1", "--checkpoint",
                ck.toString(), "--stop-at", "3"));
        assertEquals(0, stopped.exit(), stopped.err());
        JsonNode b = run(common, concat(both, "--out", resumed.toString(), "--threads", "1", "--resume", ck.toString(),
                "--json")).json();
        assertArrayEquals(Files.readAllBytes(whole), Files.readAllBytes(resumed));
        assertEquals(a.get("qat_ppl").asDouble(), b.get("qat_ppl").asDouble(), 0.0);
        String[][] bad = {{"--quant-warmup", "7"}, {"--quant-warmup", "-1"}, {"--distill-hidden", "-1"},
            {"--distill-hidden", "2", "--distill", "0"}};
        for (String[] x : bad) {
            String line = run(common, concat(x, "--out", dir.resolve("bad.safetensors").toString())).assertBadInput();
            assertTrue(line.contains(x[0]) || line.contains("distillation"), String.join(" ", x) + ": " + line);
        }
        String line = run(common.subList(0, common.indexOf("--scheme")), "--scheme", "int4:group=8", "--data",
                f[2].toString(), "--steps", "6", "--batch", "2", "--ctx", "16", "--eval-bytes", "3000", "--lsq",
                "--quant-warmup", "2", "--out", dir.resolve("bad.safetensors").toString()).assertBadInput();
        assertTrue(line.contains("--lsq"), line);
    }

    static String[] concat(String[] a, String... b) {
        String[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    static CliRun run(List<String> common, String... more) {
        List<String> a = new java.util.ArrayList<>(common);
        a.addAll(Arrays.asList(more));
        return CliRun.of(a.toArray(new String[0]));
    }

    @Test
    void badInputIsOneLineAndExitTwo(@TempDir Path dir) throws IOException {
        Path[] f = tinyModel(dir);
        String line = CliRun.of("qat", f[0].toString(), "--tokenizer", f[1].toString(), "--scheme", "int17",
                "--data", f[2].toString(), "--out", dir.resolve("x.safetensors").toString()).assertBadInput();
        assertTrue(line.contains("int17"), line);
        line = CliRun.of("qat", f[0].toString(), "--tokenizer", f[1].toString(), "--scheme", "int4",
                "--data", f[2].toString(), "--out", dir.resolve("x.bin").toString()).assertBadInput();
        assertTrue(line.contains(".safetensors"), line);
        line = CliRun.of("qat", f[0].toString(), "--tokenizer", f[1].toString(), "--scheme", "int4",
                "--data", f[2].toString(), "--out", dir.resolve("x.gguf").toString()).assertBadInput();
        assertTrue(line.contains("GGUF"), line);
        Path existing = Files.writeString(dir.resolve("old.safetensors"), "keep");
        line = CliRun.of("qat", f[0].toString(), "--tokenizer", f[1].toString(), "--scheme", "int4",
                "--data", f[2].toString(), "--out", existing.toString()).assertBadInput();
        assertTrue(line.contains("--force"), line);
        assertEquals("keep", Files.readString(existing));
    }
}
