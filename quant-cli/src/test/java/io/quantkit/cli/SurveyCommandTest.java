package io.quantkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SurveyCommandTest {

    private static JsonNode row(JsonNode rows, String matrix, String scheme) {
        for (JsonNode r : rows) {
            if (r.get("matrix").asText().equals(matrix) && r.get("scheme").asText().equals(scheme)) {
                return r;
            }
        }
        throw new AssertionError("no row " + matrix + " " + scheme);
    }

    @Test
    void jsonHasTheDocumentedKeysAndHonestGaps(@TempDir Path dir) throws IOException {
        Path png = dir.resolve("survey.png");
        CliRun r = CliRun.of("survey", "--size", "64x172", "--schemes", "f32,int4,int4-outliers,q8_0", "--json", "-q",
                "--plot", png.toString());
        JsonNode doc = r.json();
        assertEquals("", r.err());
        assertEquals(List.of("rows", "seed", "shape"), FormatsCommandTest.fieldNames(doc));
        assertEquals("[64,172]", doc.get("shape").toString());
        assertEquals(42, doc.get("seed").asLong());
        assertEquals(8, doc.get("rows").size(), "4 schemes x 2 matrices");
        for (JsonNode x : doc.get("rows")) {
            assertEquals(List.of("available", "bits_per_weight", "bytes", "cosine", "matrix", "max_abs_error", "mse",
                    "note", "relative_frobenius", "rmse", "scheme", "sqnr_db"), FormatsCommandTest.fieldNames(x));
        }
        JsonNode f32 = row(doc.get("rows"), "gaussian", "f32");
        assertTrue(f32.get("sqnr_db").isNull(), "exact reconstruction has no finite SQNR");
        assertEquals(0.0, f32.get("mse").asDouble(), 0.0);
        assertEquals(32.0, f32.get("bits_per_weight").asDouble(), 0.0);
        // int4, group 128, 64 x 172: 5,504 code bytes + 64 rows * 2 groups * 2 scale bytes = 5,760 bytes
        JsonNode int4 = row(doc.get("rows"), "gaussian", "int4");
        assertEquals(5760, int4.get("bytes").asLong());
        assertEquals(8.0 * 5760 / 11008, int4.get("bits_per_weight").asDouble(), 1e-12);
        // q8_0 blocks of 32 do not divide rows of 172: reported, not measured
        JsonNode q8 = row(doc.get("rows"), "student_t3", "q8_0");
        assertFalse(q8.get("available").asBoolean());
        assertEquals("rows of 172 do not fill blocks of 32", q8.get("note").asText());
        assertTrue(q8.get("sqnr_db").isNull());
        assertTrue(Files.size(png) > 1000);
    }

    @Test
    void outliersBeatPlainInt4OnHeavyTails() {
        JsonNode rows = CliRun.of("survey", "--size", "256x512", "--matrix", "t3", "--schemes", "int4,int4-outliers",
                "--json", "-q", "--seed", "7").json().get("rows");
        assertEquals(2, rows.size());
        double plain = row(rows, "student_t3", "int4").get("sqnr_db").asDouble();
        double outliers = row(rows, "student_t3", "int4-outliers").get("sqnr_db").asDouble();
        assertTrue(outliers > plain + 2.0, "seed 7: int4 " + plain + " dB, int4-outliers " + outliers + " dB");
    }

    @Test
    void badArgumentsAreUsageErrors() {
        CliRun.of("survey", "--size", "0x5").assertBadInput();
        CliRun.of("survey", "--size", "abc").assertBadInput();
        CliRun.of("survey", "--matrix", "cauchy").assertBadInput();
        assertTrue(CliRun.of("survey", "--schemes", "int4,int5").assertBadInput().contains("unknown scheme 'int5'"));
    }

    @Test
    void textTableShowsEveryRow() {
        CliRun r = CliRun.of("survey", "--size", "32x64", "--schemes", "q4_0,int8", "-q");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().matches("(?s).*\\nN\\(0, 0\\.02²\\) +q4_0 +4\\.5000 +\\d+\\.\\d\\d .*"), r.out());
        assertTrue(r.out().contains("0.02·t(3)    int8"), r.out());
    }
}
