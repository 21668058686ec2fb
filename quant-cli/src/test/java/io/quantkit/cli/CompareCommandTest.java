package io.quantkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quantkit.calibration.DefaultModel;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code quant compare} on the embedded default model (no shared data): paired errors and the pairs table. */
class CompareCommandTest {
    @TempDir
    static Path dir;
    static String model;
    static String tok;
    static String text;

    @BeforeAll
    static void extract() throws Exception {
        model = DefaultModel.extract(DefaultModel.MODEL, dir).toString();
        tok = DefaultModel.extract(DefaultModel.TOKENIZER, dir).toString();
        text = DefaultModel.extract(DefaultModel.EVAL_TEXT, dir).toString();
    }

    private static CliRun compare(String... extra) {
        String[] base = {"compare", model, "--tokenizer", tok, "--data", text, "--max-bytes", "4000"};
        String[] args = new String[base.length + extra.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        return CliRun.of(args);
    }

    @Test
    void pairsAreTheDifferencesOfTheRowsAgainstTheBaseline() {
        JsonNode j = compare("--schemes", "int8,q4_0,ternary,tq2_0", "--json").json();
        JsonNode rows = j.get("rows");
        for (JsonNode r : rows) {
            if (r.get("skipped").isNull()) {
                // ln(PPL/PPL_base) from per-token differences is the difference of the two mean NLLs
                assertEquals(Math.log(r.get("ppl").asDouble()) - j.get("baseline").get("nll").asDouble(),
                        r.get("ln_ppl_ratio").asDouble(), 1e-12, r.toString());
                assertTrue(r.get("delta_ppl_stderr").asDouble() > 0, r.toString());
                if (!r.get("scheme").asText().equals("ternary")) {
                    // same tokens, close models: the paired error is below the baseline's own error
                    assertTrue(r.get("delta_ppl_stderr").asDouble() < j.get("baseline").get("ppl_stderr").asDouble(),
                            r.toString());
                }
            } else {
                assertTrue(r.get("delta_ppl_stderr").isNull() && r.get("ln_ppl_ratio").isNull(), r.toString());
            }
        }
        assertEquals("tq2_0", rows.get(3).get("scheme").asText());
        assertTrue(!rows.get(3).get("skipped").isNull(), "tq2_0 has no 256-blocks on this model");
        JsonNode pairs = j.get("pairs");
        assertEquals(3, pairs.size(), "every two of the three measured rows");
        JsonNode p = pairs.get(1);
        assertEquals("int8", p.get("a").asText());
        assertEquals("ternary", p.get("b").asText());
        assertEquals(0, p.get("a_index").asInt());
        assertEquals(2, p.get("b_index").asInt());
        // ln(PPL_a/PPL_b) = ln(PPL_a/PPL_base) - ln(PPL_b/PPL_base), token by token
        assertEquals(rows.get(0).get("ln_ppl_ratio").asDouble() - rows.get(2).get("ln_ppl_ratio").asDouble(),
                p.get("ln_ppl_ratio").asDouble(), 1e-12);
        assertEquals(rows.get(0).get("ppl").asDouble() - rows.get(2).get("ppl").asDouble(),
                p.get("delta_ppl").asDouble(), 1e-9);
        assertEquals(p.get("ln_ppl_ratio").asDouble() / p.get("ln_ppl_ratio_stderr").asDouble(),
                p.get("z").asDouble(), 1e-12);
        assertTrue(p.get("z").asDouble() < -2, "int8 beats ternary clearly: " + p);
        // int8 against q4_0 on these 756 tokens: not told apart (|z| < 2), which the table must not hide
        assertTrue(Math.abs(pairs.get(0).get("z").asDouble()) < 2, pairs.get(0).toString());
    }

    @Test
    void pairsTableOnRequest() {
        String plain = compare("--schemes", "int8,int4").out();
        assertTrue(plain.contains("ΔPPL") && plain.contains("±") && !plain.contains("paired differences"), plain);
        String out = compare("--schemes", "int8,int4", "--pairs").out();
        assertTrue(out.contains("paired differences"), out);
        assertTrue(out.lines().anyMatch(l -> l.startsWith("int8") && l.contains("int4") && l.contains("-")), out);
    }

    /** The JSON document without its timing fields ("seconds", wherever they are). */
    private static JsonNode untimed(JsonNode j) {
        JsonNode copy = j.deepCopy();
        strip(copy);
        return copy;
    }

    private static void strip(JsonNode n) {
        if (n instanceof com.fasterxml.jackson.databind.node.ObjectNode o) {
            o.remove("seconds");
        }
        n.forEach(CompareCommandTest::strip);
    }

    @Test
    void sameJsonForAnyThreadCountAndParallelRows() {
        String schemes = "int8,q4_0,int4,tq2_0,fp8-e4m3,int4-outliers";
        CliRun one = compare("--schemes", schemes, "--threads", "1", "--json");
        CliRun two = compare("--schemes", schemes, "--threads", "2", "--json");
        CliRun twoSequential = compare("--schemes", schemes, "--threads", "2", "--parallel", "1", "--json");
        JsonNode expected = untimed(one.json());
        assertEquals(expected, untimed(two.json()), "--threads 2 (rows in parallel)");
        assertEquals(expected, untimed(twoSequential.json()), "--threads 2 --parallel 1");
        assertTrue(two.err().contains("compare: 2 rows at a time, 1 thread each"), two.err());
        assertTrue(!one.err().contains("rows at a time") && !twoSequential.err().contains("rows at a time"),
                one.err());
        // every progress line of a row names it, so lines of rows running at once stay readable
        for (String line : two.errLines()) {
            assertTrue(line.startsWith("compare: ") || line.matches("  \\S.*: +\\d+% \\(.*"), line);
        }
        assertTrue(two.err().contains("compare: [3/7] q4_0: PPL "), two.err());
        assertTrue(two.err().contains("compare: [5/7] tq2_0 skipped: "), two.err());
    }

    @Test
    void parallelOutOfRangeIsBadUsage() {
        String line = CliRun.of("compare", "x.gguf", "--data", "t.txt", "--parallel", "-1").assertBadInput();
        assertTrue(line.contains("--parallel (-1) must be between 0 and 256"), line);
    }
}
