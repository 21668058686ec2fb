package io.quantkit.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quantkit.train.Checkpoint;
import io.quantkit.train.corpus.StoryGenerator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code quant train} end to end on generated stories and a tiny model (a few steps each): the loss and the held-out
 * perplexity go down, {@code quant eval} of the written model gives the perplexity training reported, the same seed
 * gives the same bytes on any thread count, and a run stopped and resumed from its checkpoint writes the same bytes as
 * an uninterrupted one; the same for {@code --bitnet}.
 */
class TrainCommandTest {
    static final String CONFIG = "dim=16,hidden=32,layers=1,heads=2,kv_heads=1,vocab=360,seq_len=32";
    @TempDir
    static Path shared;
    static Path data;

    @BeforeAll
    static void corpus() throws IOException {
        data = shared.resolve("stories.txt");
        Files.writeString(data, new StoryGenerator(11).text(40_000));
    }

    static List<String> args(Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("train", "--data", data.toString(), "--out", out.toString(), "--config",
                CONFIG, "--batch", "4", "--ctx", "24", "--eval-bytes", "6000", "--lr", "1e-2", "--eval-every", "5"));
        a.addAll(Arrays.asList(more));
        return a;
    }

    static CliRun run(List<String> a) {
        return CliRun.of(a.toArray(new String[0]));
    }

    @Test
    void lossFallsAndEvalReadsTheSameModel(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("m.gguf");
        Path plot = dir.resolve("curve.png");
        Path log = dir.resolve("log.csv");
        JsonNode j = run(args(out, "--steps", "15", "--threads", "2", "--plot", plot.toString(), "--log", log.toString(),
                "--json")).json();
        JsonNode curve = j.get("curve");
        assertEquals(3, curve.size(), "evaluated at steps 5, 10 and 15");
        double first = curve.get(0).get("eval_ppl").asDouble();
        double last = curve.get(2).get("eval_ppl").asDouble();
        assertTrue(last < first, "held-out PPL falls: " + curve);
        assertTrue(first < 360, "better than uniform over the vocabulary after 5 steps: " + first);
        assertEquals(last, j.get("ppl").asDouble(), 1e-9 * last);
        List<String> lines = Files.readAllLines(log);
        assertEquals(16, lines.size(), "header and one line per step");
        double loss1 = Double.parseDouble(lines.get(1).split(",")[3]);
        double loss15 = Double.parseDouble(lines.get(15).split(",")[3]);
        assertTrue(loss15 < loss1 - 0.3, "training loss falls: " + loss1 + " -> " + loss15);
        assertTrue(Files.size(plot) > 1000);
        // the inference model (model/LlamaModel through quant eval) scores the written file as training did
        JsonNode e = CliRun.of("eval", out.toString(), "--data", data.toString(), "--ctx", "24", "--max-bytes", "6000",
                "--json").json();
        assertEquals(j.get("eval_tokens").asLong(), e.get("tokens").asLong());
        assertEquals(j.get("ppl").asDouble(), e.get("ppl").asDouble(), 1e-6 * j.get("ppl").asDouble());
        assertEquals(15L * 4 * 23, j.get("train_tokens").asLong());
    }

    @Test
    void sameSeedSameBytesOnAnyThreadCountAndOtherSeedDiffers(@TempDir Path dir) throws IOException {
        Path a = dir.resolve("a.bin");
        Path b = dir.resolve("sub/b.bin");
        Path c = dir.resolve("other/c.bin");
        assertEquals(0, run(args(a, "--steps", "6", "--threads", "1")).exit());
        assertEquals(0, run(args(b, "--steps", "6", "--threads", "3")).exit());
        assertEquals(0, run(args(c, "--steps", "6", "--threads", "2", "--seed", "2")).exit());
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
        assertTrue(!Arrays.equals(Files.readAllBytes(a), Files.readAllBytes(c)), "another seed, other weights");
        assertTrue(Files.exists(dir.resolve("tok360.bin")), "the tokenizer is written beside a .bin");
        assertArrayEquals(Files.readAllBytes(dir.resolve("tok360.bin")), Files.readAllBytes(dir.resolve("sub/tok360.bin")));
    }

    @Test
    void resumedRunEqualsUninterruptedRun(@TempDir Path dir) throws IOException {
        resume(dir, "bin");
    }

    @Test
    void bitnetResumedRunEqualsUninterruptedRun(@TempDir Path dir) throws IOException {
        resume(dir, "safetensors", "--bitnet");
    }

    static void resume(Path dir, String ext, String... extra) throws IOException {
        Path whole = dir.resolve("whole." + ext);
        Path parts = dir.resolve("parts/resumed." + ext);
        Path ck = dir.resolve("ck.safetensors");
        List<String> a = args(whole, "--steps", "8", "--threads", "2");
        a.addAll(List.of(extra));
        assertEquals(0, run(a).exit());
        List<String> b = args(parts, "--steps", "8", "--threads", "1", "--checkpoint", ck.toString(), "--stop-at", "3");
        b.addAll(List.of(extra));
        CliRun stopped = run(b);
        assertEquals(0, stopped.exit(), stopped.err());
        assertTrue(stopped.err().contains("stopped after step 3"), stopped.err());
        assertTrue(!Files.exists(parts), "no model before the end");
        assertEquals(3, Checkpoint.load(ck).step());
        List<String> c = args(parts, "--steps", "8", "--threads", "2", "--resume", ck.toString());
        c.addAll(List.of(extra));
        assertEquals(0, run(c).exit());
        assertArrayEquals(Files.readAllBytes(whole), Files.readAllBytes(parts));
    }

    @Test
    void bitnetWithBaselineReportsBoth(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("b.safetensors");
        JsonNode j = run(args(out, "--steps", "10", "--threads", "2", "--bitnet", "--baseline", "--json")).json();
        assertEquals("bitnet-b1.58", j.get("precision").asText());
        JsonNode bc = j.get("curve");
        JsonNode fc = j.get("baseline_curve");
        assertEquals(2, bc.size());
        assertEquals(2, fc.size());
        assertTrue(bc.get(1).get("eval_ppl").asDouble() < bc.get(0).get("eval_ppl").asDouble(), "BitNet learns: " + bc);
        assertTrue(fc.get(1).get("eval_ppl").asDouble() < fc.get(0).get("eval_ppl").asDouble(), "bf16 learns: " + fc);
        assertEquals(fc.get(1).get("eval_ppl").asDouble(), j.get("baseline_ppl").asDouble(), 1e-9);
        // one more parameter per SubLN gain: dim + hidden per layer
        int plain = 360 * 16 + 1 * (16 + 16 * 16 + 8 * 16 * 2 + 16 * 16 + 16 + 32 * 16 * 3) + 16;
        assertEquals(plain + 16 + 32, j.get("parameters").asInt());
        assertBitnetModelLoads(dir, out, j.get("ppl").asDouble());
    }

    /**
     * The written BitNet model is a model file: eval gives the held-out PPL training reported (the same double: the
     * inference model computes the training logits to the bit), compare takes it as its own baseline, convert to
     * safetensors keeps it (f32 tensors decode to the same values), convert to GGUF is refused in one line, inspect
     * shows the ternary tensors and the SubLN norms.
     */
    static void assertBitnetModelLoads(Path dir, Path out, double trainPpl) {
        String tok = dir.resolve("tok360.bin").toString();
        String[] evalArgs = {"--tokenizer", tok, "--data", data.toString(), "--ctx", "24", "--max-bytes", "6000"};
        JsonNode e = CliRun.of(concat(new String[] {"eval", out.toString()}, evalArgs, "--json")).json();
        assertEquals(trainPpl, e.get("ppl").asDouble(), 0.0, "quant eval of the saved BitNet model");
        JsonNode c = CliRun.of(concat(new String[] {"compare", out.toString()}, evalArgs, "--schemes", "q8_0",
                "--json")).json();
        assertEquals("stored", c.get("baseline").get("scheme").asText());
        assertEquals(trainPpl, c.get("baseline").get("ppl").asDouble(), 0.0, "compare's baseline is the model as stored");
        Path f32 = dir.resolve("f32.safetensors");
        assertEquals(0, CliRun.of("convert", out.toString(), f32.toString(), "--scheme", "f32").exit());
        JsonNode e2 = CliRun.of(concat(new String[] {"eval", f32.toString()}, evalArgs, "--json")).json();
        assertEquals(trainPpl, e2.get("ppl").asDouble(), 0.0, "the f32 copy is the same BitNet model");
        String line = CliRun.of("convert", out.toString(), dir.resolve("b.gguf").toString(), "--scheme", "f32")
                .assertBadInput();
        assertTrue(line.contains("bitnet") && line.contains(".safetensors"), line);
        CliRun inspect = CliRun.of("inspect", out.toString());
        assertEquals(0, inspect.exit());
        assertTrue(inspect.out().contains("general.architecture = \"bitnet\""), inspect.out());
        assertTrue(inspect.out().matches("(?s).*blk\\.0\\.attn_q\\.weight +ternary.*"), inspect.out());
        assertTrue(inspect.out().contains("blk.0.ffn_sub_norm.weight"), inspect.out());
    }

    static String[] concat(String[] head, String[] mid, String... tail) {
        List<String> l = new ArrayList<>(Arrays.asList(head));
        l.addAll(Arrays.asList(mid));
        l.addAll(Arrays.asList(tail));
        return l.toArray(new String[0]);
    }

    @Test
    void badInputIsOneLineAndExitTwo(@TempDir Path dir) {
        String line = run(args(dir.resolve("x.gguf"), "--bitnet")).assertBadInput();
        assertTrue(line.contains(".safetensors"), line);
        line = CliRun.of("train", "--data", data.toString(), "--out", dir.resolve("x.gguf").toString(), "--config",
                "dim=16,depth=3").assertBadInput();
        assertTrue(line.contains("depth=3"), line);
        line = run(args(dir.resolve("x.txt"))).assertBadInput();
        assertTrue(line.contains(".gguf"), line);
        line = run(args(dir.resolve("x.gguf"), "--stop-at", "3")).assertBadInput();
        assertTrue(line.contains("--checkpoint"), line);
        line = run(args(dir.resolve("x.gguf"), "--precision", "fp8")).assertBadInput();
        assertTrue(line.contains("fp8"), line);
    }
}
