package io.quantkit.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quantkit.calib.CalibrationProfile;
import io.quantkit.calib.OutputError;
import io.quantkit.calib.TensorStats;
import io.quantkit.calibration.DefaultModel;
import io.quantkit.io.Checkpoint;
import io.quantkit.io.Checkpoints;
import io.quantkit.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code convert --calibration}, {@code compare --calibration/--recipe/--target-bpw} on the embedded default model
 * (no shared data needed): calibrated methods are really used and reported, plans round-trip as recipes, and
 * profiles of other weights or shapes are refused with one line.
 */
class CalibratedCommandsTest {
    @TempDir
    static Path dir;
    static String model;
    static String tok;
    static String text;
    static String profile;

    @BeforeAll
    static void calibrate() throws Exception {
        model = DefaultModel.extract(DefaultModel.MODEL, dir).toString();
        tok = DefaultModel.extract(DefaultModel.TOKENIZER, dir).toString();
        text = DefaultModel.extract(DefaultModel.EVAL_TEXT, dir).toString();
        profile = dir.resolve("p.json").toString();
        CliRun r = CliRun.of("calibrate", model, "--tokenizer", tok, "--data", text, "--out", profile, "--samples", "6",
                "--ctx", "48", "--seed", "3", "--threads", "1", "--json");
        assertEquals(0, r.exit(), r.err());
    }

    @Test
    void convertWithAProfileUsesGptqAndSaysSo() throws Exception {
        Path plain = dir.resolve("rtn.safetensors");
        Path cal = dir.resolve("gptq.safetensors");
        JsonNode a = CliRun.of("convert", model, plain.toString(), "--tokenizer", tok, "--scheme", "int4:group=32",
                "--threads", "2", "--json", "-q").json();
        JsonNode b = CliRun.of("convert", model, cal.toString(), "--tokenizer", tok, "--scheme", "int4:group=32",
                "--calibration", profile, "--threads", "2", "--json", "-q").json();
        assertEquals(a.get("data_bytes_out").asLong(), b.get("data_bytes_out").asLong(), "same layout, same bytes");
        CalibrationProfile p = CalibrationProfile.read(Path.of(profile));
        Map<String, String> methods = new HashMap<>();
        for (JsonNode t : b.get("tensors")) {
            methods.put(t.get("name").asText(), t.get("method").isNull() ? null : t.get("method").asText());
        }
        assertEquals("gptq", methods.get("blk.0.attn_q.weight"));
        assertEquals("gptq", methods.get("blk.2.ffn_down.weight"));
        assertEquals("mse", methods.get("token_embd.weight"), "no input statistics: MSE scale search");
        assertEquals(null, methods.get("blk.0.attn_norm.weight"), "1-D tensors are copied");
        for (JsonNode t : a.get("tensors")) {
            assertTrue(t.get("method").isNull() || t.get("method").asText().equals("rtn"), t.toString());
        }
        // GPTQ lowers the error it minimises on every weight with statistics
        try (Checkpoint orig = Checkpoints.open(Path.of(model), Path.of(tok));
             Checkpoint r = Checkpoints.open(plain); Checkpoint g = Checkpoints.open(cal)) {
            int checked = 0;
            for (Map.Entry<String, CalibrationProfile.Entry> e : p.tensors().entrySet()) {
                if (!r.has(e.getKey())) {
                    continue;
                }
                Tensor w = orig.tensor(e.getKey());
                double er = OutputError.of(w, r.tensor(e.getKey()), e.getValue().stats());
                double eg = OutputError.of(w, g.tensor(e.getKey()), e.getValue().stats());
                assertTrue(eg < er, e.getKey() + ": gptq " + eg + " vs rtn " + er);
                checked++;
            }
            assertTrue(checked >= 35, "checked " + checked);
        }
        // same bytes for any thread count
        Path one = dir.resolve("gptq1.safetensors");
        CliRun.of("convert", model, one.toString(), "--tokenizer", tok, "--scheme", "int4:group=32", "--calibration",
                profile, "--threads", "1", "--json", "-q").json();
        assertEquals(-1L, Files.mismatch(cal, one));
    }

    /**
     * {@code --calibration} with {@code --shard-size}: the sharded folder holds exactly the tensors of the
     * single calibrated file (GPTQ really used, per the report), in several shards, the same bytes for 1 and 2 threads.
     */
    @Test
    void calibratedConversionWritesShards() throws Exception {
        Path single = dir.resolve("gptq-single.safetensors");
        Path folder = dir.resolve("gptq-sharded");
        Path folder1 = dir.resolve("gptq-sharded-1");
        CliRun.of("convert", model, single.toString(), "--tokenizer", tok, "--scheme", "int4:group=32",
                "--calibration", profile, "--threads", "2", "--json", "-q").json();
        JsonNode b = CliRun.of("convert", model, folder.toString(), "--tokenizer", tok, "--scheme", "int4:group=32",
                "--calibration", profile, "--shard-size", "40KB", "--threads", "2", "--json", "-q").json();
        CliRun.of("convert", model, folder1.toString(), "--tokenizer", tok, "--scheme", "int4:group=32",
                "--calibration", profile, "--shard-size", "40KB", "--threads", "1", "--json", "-q").json();
        int gptq = 0;
        for (JsonNode t : b.get("tensors")) {
            gptq += !t.get("method").isNull() && t.get("method").asText().equals("gptq") ? 1 : 0;
        }
        assertTrue(gptq >= 35, gptq + " tensors by gptq");
        assertTrue(Files.exists(folder.resolve("model.safetensors.index.json")));
        List<Path> shards;
        try (Stream<Path> files = Files.list(folder)) {
            shards = files.filter(f -> f.getFileName().toString().endsWith(".safetensors")).sorted().toList();
        }
        assertTrue(shards.size() >= 3, "shards: " + shards);
        for (Path s : shards) {
            assertEquals(-1L, Files.mismatch(s, folder1.resolve(s.getFileName())), s + ": same bytes for 1 and 2 threads");
        }
        try (Checkpoint a = Checkpoints.open(single); Checkpoint c = Checkpoints.open(folder)) {
            assertEquals(a.names(), c.names());
            for (String n : a.names()) {
                assertArrayEquals(a.tensor(n).toFloatArray(), c.tensor(n).toFloatArray(), n);
            }
        }
    }

    /** Σ imp_j·(w_j − q_j)² with imp the profile's per-input-channel mean x². */
    static double weightedError(Tensor w, Tensor q, TensorStats s) {
        float[] a = w.toFloatArray();
        float[] b = q.toFloatArray();
        double[] imp = s.importance();
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            double d = a[i] - (double) b[i];
            sum += imp[i % s.width()] * d * d;
        }
        return sum;
    }

    @Test
    void q4_1WithAProfileIsSearchedAndStaysGgmlQ4_1() throws Exception {
        Path plain = dir.resolve("q41.gguf");
        Path cal = dir.resolve("q41-imatrix.gguf");
        JsonNode a = CliRun.of("convert", model, plain.toString(), "--tokenizer", tok, "--scheme", "q4_1",
                "--threads", "2", "--json", "-q").json();
        JsonNode b = CliRun.of("convert", model, cal.toString(), "--tokenizer", tok, "--scheme", "q4_1",
                "--calibration", profile, "--calib-method", "imatrix", "--threads", "2", "--json", "-q").json();
        assertEquals(a.get("data_bytes_out").asLong(), b.get("data_bytes_out").asLong(), "same layout, same bytes");
        Map<String, String> methods = new HashMap<>();
        for (JsonNode t : b.get("tensors")) {
            methods.put(t.get("name").asText(), t.get("method").isNull() ? null : t.get("method").asText());
        }
        assertEquals("imatrix", methods.get("blk.0.attn_q.weight"));
        CalibrationProfile p = CalibrationProfile.read(Path.of(profile));
        try (Checkpoint orig = Checkpoints.open(Path.of(model), Path.of(tok));
             Checkpoint r = Checkpoints.open(plain); Checkpoint c = Checkpoints.open(cal)) {
            int checked = 0;
            for (Map.Entry<String, CalibrationProfile.Entry> e : p.tensors().entrySet()) {
                if (!"imatrix".equals(methods.get(e.getKey()))) {
                    continue;
                }
                assertEquals("q4_1", c.tensor(e.getKey()).format().toString(), e.getKey());
                Tensor w = orig.tensor(e.getKey());
                double er = weightedError(w, r.tensor(e.getKey()), e.getValue().stats());
                double ei = weightedError(w, c.tensor(e.getKey()), e.getValue().stats());
                assertTrue(ei < er, e.getKey() + ": imatrix " + ei + " vs rtn " + er);
                checked++;
            }
            assertTrue(checked >= 20, "checked " + checked);
        }
        Path one = dir.resolve("q41-gptq1.gguf");
        Path two = dir.resolve("q41-gptq2.gguf");
        CliRun.of("convert", model, one.toString(), "--tokenizer", tok, "--scheme", "q4_1", "--calibration",
                profile, "--threads", "1", "--json", "-q").json();
        CliRun.of("convert", model, two.toString(), "--tokenizer", tok, "--scheme", "q4_1", "--calibration",
                profile, "--threads", "2", "--json", "-q").json();
        assertEquals(-1L, Files.mismatch(one, two), "same bytes for any thread count");
        JsonNode j = CliRun.of("compare", model, "--tokenizer", tok, "--data", text, "--max-bytes", "3000",
                "--schemes", "q4_1", "--calibration", profile, "--threads", "2", "--json").json();
        assertTrue(j.get("rows").get(0).get("method").asText().startsWith("gptq"), j.toString());
    }

    @Test
    void compareShowsTheMethodOfEachRow() throws Exception {
        JsonNode j = CliRun.of("compare", model, "--tokenizer", tok, "--data", text, "--max-bytes", "3000",
                "--schemes", "int4:group=32,fp8-e4m3", "--calibration", profile, "--threads", "2", "--json").json();
        ArrayNode rows = (ArrayNode) j.get("rows");
        assertEquals("gptq+mse", rows.get(0).get("method").asText(), "token embedding without statistics: mse");
        assertEquals("rtn", rows.get(1).get("method").asText(), "fp8 has no calibrated method");
        assertEquals(profile, j.get("profile").asText());
        JsonNode plain = CliRun.of("compare", model, "--tokenizer", tok, "--data", text, "--max-bytes", "3000",
                "--schemes", "int4:group=32", "--threads", "2", "--json").json();
        assertEquals("rtn", plain.get("rows").get(0).get("method").asText());
        assertEquals(plain.get("rows").get(0).get("bytes").asLong(), rows.get(0).get("bytes").asLong());
        assertNotEquals(plain.get("rows").get(0).get("ppl").asDouble(), rows.get(0).get("ppl").asDouble());
        String table = CliRun.of("compare", model, "--tokenizer", tok, "--data", text, "--max-bytes", "3000",
                "--schemes", "int4:group=32", "--calibration", profile, "--calib-method", "imatrix").out();
        assertTrue(table.contains("imatrix+mse"), table);
    }

    @Test
    void targetBpwWritesAPlanThatConvertAndCompareAccept() throws Exception {
        Path plan = dir.resolve("plan.recipe");
        JsonNode j = CliRun.of("compare", model, "--tokenizer", tok, "--data", text, "--max-bytes", "3000",
                "--target-bpw", "5", "--calibration", profile, "--calibration-data", text, "--plan-out",
                plan.toString(), "--threads", "2", "--json").json();
        JsonNode p = j.get("plan");
        long params = j.get("parameters").asLong();
        assertTrue(p.get("bytes").asLong() <= p.get("budget_bytes").asLong());
        assertEquals((long) Math.floor(5.0 * params / 8), p.get("budget_bytes").asLong());
        JsonNode row = j.get("rows").get(0);
        assertEquals("plan 5.00bpw", row.get("scheme").asText());
        assertEquals(p.get("bytes").asLong(), row.get("bytes").asLong(), "the plan's bytes are what compare stores");
        assertTrue(row.get("bits_per_weight").asDouble() <= 5.0);
        assertTrue(Files.readString(plan).contains("blk.0.ffn_down.weight"));
        // compare --recipe on the written plan measures the same row
        JsonNode again = CliRun.of("compare", model, "--tokenizer", tok, "--data", text, "--max-bytes", "3000",
                "--recipe", plan.toString(), "--calibration", profile, "--threads", "1", "--json").json();
        assertEquals(row.get("ppl").asDouble(), again.get("rows").get(0).get("ppl").asDouble(), 0.0);
        assertEquals(row.get("bytes").asLong(), again.get("rows").get(0).get("bytes").asLong());
        // convert accepts it, with the same tensor bytes
        JsonNode c = CliRun.of("convert", model, dir.resolve("plan.safetensors").toString(), "--tokenizer", tok,
                "--scheme", "bf16", "--recipe", plan.toString(), "--calibration", profile, "--json", "-q").json();
        assertEquals(row.get("bytes").asLong(), c.get("data_bytes_out").asLong());
        // without the profile the plan's gptq rules cannot be applied: one line, exit 2
        String e = CliRun.of("convert", model, dir.resolve("x.safetensors").toString(), "--tokenizer", tok,
                "--scheme", "bf16", "--recipe", plan.toString()).assertBadInput();
        assertTrue(e.contains("needs calibration statistics"), e);
        // an existing plan is not overwritten without --force
        e = CliRun.of("compare", model, "--tokenizer", tok, "--data", text, "--target-bpw", "5", "--calibration",
                profile, "--calibration-data", text, "--plan-out", plan.toString()).assertBadInput();
        assertTrue(e.contains("already exists"), e);
        e = CliRun.of("compare", model, "--tokenizer", tok, "--data", text, "--target-bpw", "5").assertBadInput();
        assertTrue(e.contains("--target-bpw needs --calibration"), e);
    }

    @Test
    void aProfileOfAnotherModelOrShapeIsRefused() throws Exception {
        // other weights: the same model rounded to q8_0
        Path other = dir.resolve("other.gguf");
        CliRun.of("convert", model, other.toString(), "--tokenizer", tok, "--scheme", "q8_0", "--json", "-q").json();
        String e = CliRun.of("compare", other.toString(), "--data", text, "--schemes", "int4", "--calibration", profile)
                .assertBadInput();
        assertTrue(e.contains("made from other weights"), e);
        e = CliRun.of("convert", other.toString(), dir.resolve("o.safetensors").toString(), "--scheme", "int4",
                "--calibration", profile).assertBadInput();
        assertTrue(e.contains("made from other weights"), e);
        // a shape that differs from the model's
        ObjectNode root = (ObjectNode) Json.mapper().readTree(Path.of(profile).toFile());
        ArrayNode shape = (ArrayNode) root.get("tensors").get("blk.1.attn_k.weight").get("shape");
        shape.set(0, shape.get(0).asLong() + 1);
        Path bad = dir.resolve("bad.json");
        Json.mapper().writeValue(bad.toFile(), root);
        e = CliRun.of("compare", model, "--tokenizer", tok, "--data", text, "--schemes", "int4", "--calibration",
                bad.toString()).assertBadInput();
        assertTrue(e.contains("shape") && e.contains("another model"), e);
        e = CliRun.of("compare", model, "--tokenizer", tok, "--data", text, "--schemes", "int4", "--calibration",
                profile, "--calib-method", "awq").assertBadInput();
        assertTrue(e.contains("unknown calibration method 'awq'"), e);
    }

    @Test
    void int4OutlierPlansUseOnlyInt4Outliers() throws Exception {
        Path plan = dir.resolve("plan-o.recipe");
        JsonNode j = CliRun.of("compare", model, "--tokenizer", tok, "--data", text, "--max-bytes", "2000",
                "--target-bpw", "4.6", "--plan-candidates", "int4-outliers", "--calibration", profile,
                "--calibration-data", text, "--samples", "4", "--plan-out", plan.toString(), "--threads", "2",
                "--json").json();
        for (JsonNode t : j.get("plan").get("tensors")) {
            assertTrue(t.get("scheme").asText().startsWith("int4-outliers:"), t.toString());
            assertTrue(t.get("scheme").asText().contains("select=error"), t.toString());
        }
        JsonNode row = j.get("rows").get(0);
        assertEquals("plan 4.60bpw int4-outliers", row.get("scheme").asText());
        assertTrue(row.get("bits_per_weight").asDouble() <= 4.6, row.toString());
        String e = CliRun.of("compare", model, "--tokenizer", tok, "--data", text, "--target-bpw", "4.6",
                "--plan-candidates", "int3", "--calibration", profile, "--calibration-data", text, "--plan-out",
                dir.resolve("p3.recipe").toString()).assertBadInput();
        assertTrue(e.contains("unknown plan candidates 'int3'"), e);
    }

    private static JsonNode untimed(JsonNode j) {
        JsonNode copy = j.deepCopy();
        strip(copy);
        return copy;
    }

    private static void strip(JsonNode n) {
        if (n instanceof ObjectNode o) {
            o.remove("seconds");
        }
        n.forEach(CalibratedCommandsTest::strip);
    }

    /**
     * compare with the profile, and with {@code sequential} --sequential on the profile's own sequences (6 of 48
     * tokens, seed 3, from the same text).
     */
    private static CliRun calibratedCompare(boolean sequential, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("compare", model, "--tokenizer", tok, "--data", text,
                "--max-bytes", "3000", "--ctx", "48", "--calibration", profile, "--json"));
        if (sequential) {
            args.addAll(List.of("--sequential", "--calibration-data", text, "--samples", "6", "--seed", "3"));
        }
        args.addAll(List.of(more));
        return CliRun.of(args.toArray(new String[0]));
    }

    @Test
    void sequentialCalibrationTakesEachStagesStatisticsFromTheModelQuantizedSoFar() throws Exception {
        // only the first stage quantized: its input is the float model's, on the profile's sequences, so the row is
        // the ordinary calibrated one, bit for bit
        Path first = dir.resolve("first.recipe");
        Files.writeString(first, "blk.0.attn_*.weight int4:group=32 gptq\n");
        JsonNode seq = calibratedCompare(true, "--recipe", first.toString()).json();
        JsonNode plain = calibratedCompare(false, "--recipe", first.toString()).json();
        JsonNode a = seq.get("rows").get(0);
        JsonNode b = plain.get("rows").get(0);
        assertEquals("gptq-seq", a.get("method").asText(), a.toString());
        assertEquals("gptq", b.get("method").asText(), b.toString());
        assertTrue(seq.get("sequential").asBoolean() && !plain.get("sequential").asBoolean());
        // q, k, v are one stage; attn_output is quantized after them, with their error in its input
        assertEquals(b.get("bytes").asLong(), a.get("bytes").asLong());
        assertNotEquals(b.get("ppl").asDouble(), a.get("ppl").asDouble(), "attn_output saw the quantized q/k/v");
        Path qkv = dir.resolve("qkv.recipe");
        Files.writeString(qkv, "blk.0.attn_q.weight int4:group=32 gptq\nblk.0.attn_k.weight int4:group=32 gptq\n"
                + "blk.0.attn_v.weight int4:group=32 gptq\n");
        JsonNode s1 = calibratedCompare(true, "--recipe", qkv.toString()).json().get("rows").get(0);
        JsonNode p1 = calibratedCompare(false, "--recipe", qkv.toString()).json().get("rows").get(0);
        assertEquals(p1.get("ppl").asDouble(), s1.get("ppl").asDouble(), 0.0, "the first stage: float inputs");
        assertEquals(p1.get("sqnr_db").asDouble(), s1.get("sqnr_db").asDouble(), 0.0);
        assertEquals(p1.get("kld").asDouble(), s1.get("kld").asDouble(), 0.0);
        // every weight: the same bytes, other codes; the same figures on 1 and 2 threads
        CliRun one = calibratedCompare(true, "--schemes", "int4:group=32,q4_0", "--threads", "1");
        CliRun two = calibratedCompare(true, "--schemes", "int4:group=32,q4_0", "--threads", "2");
        assertEquals(untimed(one.json()), untimed(two.json()), "--threads 1 and 2");
        JsonNode all = one.json().get("rows");
        JsonNode ref = calibratedCompare(false, "--schemes", "int4:group=32,q4_0").json().get("rows");
        for (int i = 0; i < 2; i++) {
            assertEquals(ref.get(i).get("bytes").asLong(), all.get(i).get("bytes").asLong());
            assertNotEquals(ref.get(i).get("ppl").asDouble(), all.get(i).get("ppl").asDouble());
            assertTrue(all.get(i).get("method").asText().matches("gptq-seq(\\+.*)?"), all.get(i).toString());
        }
        // the reference's targets (the float weight on the quantized inputs) are another row, reported as gptq-seqq
        JsonNode q = calibratedCompare(true, "--schemes", "int4:group=32", "--sequential-targets", "quantized").json()
                .get("rows").get(0);
        assertEquals("gptq-seqq+mse", q.get("method").asText(), q.toString());
        assertEquals(ref.get(0).get("bytes").asLong(), q.get("bytes").asLong());
        assertNotEquals(all.get(0).get("ppl").asDouble(), q.get("ppl").asDouble());
        // bad usage: one line, exit 2
        String e = CliRun.of("compare", model, "--tokenizer", tok, "--data", text, "--schemes", "int4",
                "--calibration", profile, "--sequential").assertBadInput();
        assertTrue(e.contains("--sequential needs --calibration PROFILE and --calibration-data TEXT"), e);
        e = CliRun.of("compare", model, "--tokenizer", tok, "--data", text, "--schemes", "int4",
                "--calibration-data", text, "--sequential").assertBadInput();
        assertTrue(e.contains("--sequential needs"), e);
        e = calibratedCompare(true, "--schemes", "int4", "--sequential-targets", "both").assertBadInput();
        assertTrue(e.contains("--sequential-targets: unknown 'both' (float, quantized)"), e);
    }
}
