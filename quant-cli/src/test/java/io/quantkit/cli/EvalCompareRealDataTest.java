package io.quantkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quantkit.testing.SharedData;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code quant eval} and {@code quant compare} on stories260K against the figures of shared/data/README.md. */
@Tag("real-data")
class EvalCompareRealDataTest {
    static String bin() {
        return SharedData.path("stories260K/stories260K.bin").toString();
    }

    static String text() {
        return SharedData.path("corpora/tinystories_val_sample.txt").toString();
    }

    @Test
    void evalDocumentsOnFirst100Stories() {
        JsonNode j = CliRun.of("eval", bin(), "--data", text(), "--method", "documents", "--max-documents", "100",
                "--json").json();
        assertEquals(9618, j.get("tokens").asLong());
        assertEquals(4.1844, j.get("ppl").asDouble(), 0.0005);
        assertEquals(1.43136, j.get("nll").asDouble(), 0.00005);
        assertTrue(j.get("ppl_stderr").asDouble() > 0);
    }

    @Test
    void compareReportsEveryRequestedSchemeAndSkipsWhatCannotBeStored(@TempDir Path dir) throws Exception {
        Path png = dir.resolve("c.png");
        CliRun run = CliRun.of("compare", bin(), "--data", text(), "--max-bytes", "20000", "--schemes",
                "q8_0,tq2_0,int8", "--plot", png.toString(), "--json");
        JsonNode j = run.json();
        assertTrue(run.err().contains("[1/4] baseline"), run.err());
        JsonNode rows = j.get("rows");
        assertEquals(3, rows.size());
        assertEquals("q8_0", rows.get(0).get("scheme").asText());
        assertTrue(rows.get(0).get("skipped").isNull());
        // q8_0 is within a few thousandths of the baseline, and far above it in SQNR terms of noise
        assertEquals(0, rows.get(0).get("delta_ppl").asDouble(), 0.02);
        assertTrue(rows.get(0).get("top1").asDouble() > 95, rows.get(0).toString());
        // ffn_down rows (172) do not fit q8_0 blocks of 32: they fall back to f16
        assertEquals(5, rows.get(0).get("fallbacks").size());
        // tq2_0 needs rows of 256: no stories260K weight fits, so the row is skipped with its reason
        assertEquals("tq2_0", rows.get(1).get("scheme").asText());
        assertTrue(rows.get(1).get("skipped").asText().contains("no weight"), rows.get(1).toString());
        assertEquals("int8", rows.get(2).get("scheme").asText());
        assertTrue(rows.get(2).get("kld").asDouble() > 0);
        assertTrue(Files.size(png) > 1000);
    }

    @Test
    void compareMeasuresWeightAndActivationSchemes(@TempDir Path dir) throws Exception {
        // calibration on the text after the first 200,000 bytes, evaluation on the first 20,000
        byte[] all = Files.readAllBytes(Path.of(text()));
        Path cal = Files.write(dir.resolve("cal.txt"), java.util.Arrays.copyOfRange(all, 200_000, 260_000));
        CliRun run = CliRun.of("compare", bin(), "--data", text(), "--max-bytes", "20000", "--schemes", "int8",
                "--activations", "none", "--activations", "int8", "--activations", "int8:observer=minmax",
                "--activations", "int8:observer=kl,smooth=0.5", "--calibration-data", cal.toString(),
                "--samples", "8", "--json");
        JsonNode j = run.json();
        JsonNode rows = j.get("rows");
        assertEquals(4, rows.size());
        assertTrue(rows.get(0).get("activations").isNull());
        assertEquals("int8:dynamic", rows.get(1).get("activations").asText());
        assertEquals("int8:observer=minmax", rows.get(2).get("activations").asText());
        assertEquals("int8:observer=kl,smooth=0.5", rows.get(3).get("activations").asText());
        assertEquals(8, j.get("calibration").get("samples").asInt());
        for (JsonNode r : rows) {
            assertEquals("int8", r.get("scheme").asText());
            assertTrue(r.get("skipped").isNull(), r.toString());
        }
        // quantizing the inputs too costs more than the weights alone; norms are float32 and equalisation does not
        // change what is stored, so every row has the same bytes
        for (int i = 1; i < 4; i++) {
            assertTrue(rows.get(i).get("kld").asDouble() > rows.get(0).get("kld").asDouble(), rows.get(i).toString());
            assertEquals(rows.get(0).get("bytes").asLong(), rows.get(i).get("bytes").asLong());
        }
    }
}
