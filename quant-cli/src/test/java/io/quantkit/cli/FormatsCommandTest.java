package io.quantkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quantkit.quant.SchemeKind;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * {@code quant formats}. Expected byte counts are worked out by hand from the layouts (ggml's block structs:
 * block_q8_0 = 2 + 32 bytes, block_q4_0 = 2 + 16, block_q4_1 = 2 + 2 + 16, block_tq1_0 = 48 + 4 + 2 per 256,
 * block_tq2_0 = 64 + 2 per 256, block_mxfp4 = 1 + 16), not recomputed with the code under test.
 */
class FormatsCommandTest {
    private static final List<String> SCHEME_KEYS = List.of("bits_per_weight", "bits_per_weight_formula",
            "block_size", "bytes", "gguf_block_type", "layout", "name", "params", "scale_granularity", "scheme",
            "summary");

    @Test
    void jsonListsEverySchemeKindInOrderWithTheDocumentedKeys() {
        JsonNode doc = CliRun.of("formats", "--json").json();
        assertEquals(List.of("schemes", "shapes"), fieldNames(doc));
        assertEquals("[4096,4096]", doc.get("shapes").get("large").toString());
        assertEquals("[64,172]", doc.get("shapes").get("small").toString());
        JsonNode schemes = doc.get("schemes");
        assertEquals(SchemeKind.values().length, schemes.size());
        for (int i = 0; i < schemes.size(); i++) {
            JsonNode s = schemes.get(i);
            assertEquals(SchemeKind.values()[i].cliName(), s.get("name").asText());
            assertEquals(SCHEME_KEYS, fieldNames(s), s.get("name").asText());
            assertEquals(List.of("large", "small"), fieldNames(s.get("bits_per_weight")));
            assertEquals(List.of("large", "small"), fieldNames(s.get("bytes")));
            assertEquals(SchemeKind.values()[i].params().size(), s.get("params").size());
            for (JsonNode p : s.get("params")) {
                assertEquals(List.of("accepted", "default", "name", "value"), fieldNames(p));
            }
        }
    }

    @Test
    void ggmlBlockTypesHaveTheirFixedSizes() {
        JsonNode schemes = CliRun.of("formats", "--json").json().get("schemes");
        // name, bytes for 4096x4096 (16,777,216 values), bits per weight
        Object[][] expected = {
            {"q8_0", 524288L * 34, 8.5}, {"q4_0", 524288L * 18, 4.5}, {"q4_1", 524288L * 20, 5.0},
            {"mxfp4", 524288L * 17, 4.25}, {"tq1_0", 65536L * 54, 1.6875}, {"tq2_0", 65536L * 66, 2.0625},
            {"f32", 67108864L, 32.0}, {"bf16", 33554432L, 16.0}, {"f16", 33554432L, 16.0},
        };
        for (Object[] e : expected) {
            JsonNode s = find(schemes, (String) e[0]);
            assertEquals((long) e[1], s.get("bytes").get("large").asLong(), (String) e[0]);
            assertEquals((double) e[2], s.get("bits_per_weight").get("large").asDouble(), 0.0, (String) e[0]);
            if (s.get("gguf_block_type").asBoolean()) {
                // rows of 172 do not fill a block of 32 or 256
                assertTrue(s.get("bytes").get("small").isNull(), (String) e[0]);
                assertTrue(s.get("bits_per_weight").get("small").isNull(), (String) e[0]);
            }
        }
    }

    @Test
    void int4CountsItsScalesAndOutliers() {
        JsonNode schemes = CliRun.of("formats", "--json").json().get("schemes");
        // int4, group 128: 16,777,216 / 2 code bytes + 4096 rows * 32 groups * 2 bytes of f16 scale
        JsonNode int4 = find(schemes, "int4");
        assertEquals(8388608L + 262144L, int4.get("bytes").get("large").asLong());
        assertEquals(4.125, int4.get("bits_per_weight").get("large").asDouble(), 0.0);
        // 64x172: 11,008 codes = 5,504 bytes; 2 groups per row (128 + 44) * 64 rows * 2 bytes
        assertEquals(5504L + 256L, int4.get("bytes").get("small").asLong());
        // 0.5% of 16,777,216 = 83,886.08 -> 83,886 outliers of 2 (u16 offset) + 2 (value) bytes, and 256 blocks of
        // 65,536 elements with a 4-byte end each
        JsonNode outliers = find(schemes, "int4-outliers");
        assertEquals(8650752L + 83886L * 4 + 256L * 4, outliers.get("bytes").get("large").asLong());
        // 64x172: floor(55.04) = 55 outliers, one block
        assertEquals(5760L + 55L * 4 + 4L, outliers.get("bytes").get("small").asLong());
        JsonNode group = int4.get("params").get(0);
        assertEquals("group", group.get("name").asText());
        assertEquals("128", group.get("default").asText());
        assertEquals("integer 0..1048576", group.get("accepted").asText());
    }

    @Test
    void parameterisedSchemesAreDescribedWithTheirParameters() {
        JsonNode schemes = CliRun.of("formats", "--json", "int4:group=64,asym", "int:bits=3,group=64",
                "fp8-e4m3:scale=block", "int4-outliers:budget=4.6bpw").json().get("schemes");
        assertEquals(4, schemes.size());
        JsonNode asym = schemes.get(0);
        assertEquals("int4:group=64,mode=asym", asym.get("scheme").asText());
        assertEquals(64, asym.get("block_size").asInt());
        // codes 8,388,608 + 4096 * 64 groups * (2 bytes f16 scale + 1 byte u8 zero point)
        assertEquals(8388608L + 786432L, asym.get("bytes").get("large").asLong());
        // 3 bits: 16,777,216 * 3 / 8 = 6,291,456 code bytes + 4096 * 64 * 2 scale bytes
        assertEquals(6291456L + 524288L, schemes.get(1).get("bytes").get("large").asLong());
        // fp8 with 128x128 tiles: one byte per value + 32 * 32 float32 scales
        assertEquals(16777216L + 4096L, schemes.get(2).get("bytes").get("large").asLong());
        // a 4.6 bpw target: base 4.125 bpw leaves 0.475 * 16,777,216 bits = 7,969,177.6; 256 block ends of 32 bits
        // take 8,192 -> 7,960,985.6 bits = 248,780 outliers of 32 bits (u16 offset + 16-bit value)
        JsonNode target = schemes.get(3);
        assertEquals(8650752L + 256L * 4 + 248780L * 4, target.get("bytes").get("large").asLong());
        assertTrue(target.get("bits_per_weight").get("large").asDouble() <= 4.6);
    }

    @Test
    void textTableHasARowPerScheme() {
        CliRun r = CliRun.of("formats");
        assertEquals(0, r.exit(), r.err());
        assertEquals("", r.err());
        Set<String> rows = new TreeSet<>();
        for (String line : r.out().split("\n")) {
            String first = line.split(" ", 2)[0];
            rows.add(first);
        }
        for (SchemeKind k : SchemeKind.values()) {
            assertTrue(rows.contains(k.cliName()), k.cliName() + " missing from:\n" + r.out());
        }
        assertTrue(java.util.regex.Pattern.compile("(?m)^q4_0 +32  block of 32 +4\\.5000 +n/a  8\\*18/32 = 4\\.5$")
                .matcher(r.out()).find(), r.out());
    }

    private static JsonNode find(JsonNode schemes, String name) {
        for (JsonNode s : schemes) {
            if (s.get("name").asText().equals(name)) {
                return s;
            }
        }
        throw new AssertionError("no scheme " + name);
    }

    static List<String> fieldNames(JsonNode n) {
        List<String> out = new ArrayList<>();
        n.fieldNames().forEachRemaining(out::add);
        return out;
    }
}
