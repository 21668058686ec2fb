package io.quantkit.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantkit.tensor.FloatTensor;
import io.quantkit.tensor.Shape;
import io.quantkit.tensor.StoredArray;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Stored bytes and dequantized values of int, int4, int4-outliers, ternary and nf4 against an independent
 * numpy implementation: {@code reference/quant/golden.py}, output committed as
 * {@code src/test/resources/reference/quant/golden.json}. Inputs include ties at ±0.5·scale, an all-zero
 * row, a single huge outlier, a negative maximum, Student-t data and a prime row length.
 */
class GoldenTest {
    private static final String RESOURCE = "/reference/quant/golden.json";

    static Stream<Arguments> cases() throws IOException {
        JsonNode root;
        try (InputStream in = GoldenTest.class.getResourceAsStream(RESOURCE)) {
            assertNotNull(in, RESOURCE);
            root = new ObjectMapper().readTree(in);
        }
        List<Arguments> out = new ArrayList<>();
        for (JsonNode c : root.get("cases")) {
            out.add(Arguments.of(c.get("scheme").asText() + " on " + c.get("input").asText(), c));
        }
        return out.stream();
    }

    @Test
    void everyGoldenSchemeIsCovered() throws IOException {
        List<String> kinds = cases().map(a -> Scheme.parse(((JsonNode) a.get()[1]).get("scheme").asText()).kind().cliName())
                .distinct().sorted().toList();
        assertEquals(List.of("int", "int4", "int4-outliers", "int8", "nf4", "ternary"), kinds);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesReference(String name, JsonNode c) {
        Scheme scheme = Scheme.parse(c.get("scheme").asText());
        long[] dims = new long[c.get("shape").size()];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = c.get("shape").get(i).asLong();
        }
        Shape shape = Shape.of(dims);
        float[] w = floats(c.get("w"));
        QuantizedTensor q = Codecs.forScheme(scheme).quantize(FloatTensor.of(shape, w));
        JsonNode expected = c.get("arrays");
        int checked = 0;
        for (StoredArray a : q.arrays()) {
            JsonNode hex = expected.get(a.role());
            assertNotNull(hex, name + ": reference has no '" + a.role() + "' array");
            assertEquals(hex.asText(), hex(a), name + ": " + a.role());
            checked++;
        }
        int expectedArrays = 0;
        for (var it = expected.fieldNames(); it.hasNext(); ) {
            expectedArrays += it.next().endsWith("_dtype") ? 0 : 1;
        }
        assertEquals(expectedArrays, checked, name + ": number of stored arrays");
        if (expected.has("outlier_value_dtype")) {
            assertEquals(expected.get("outlier_value_dtype").asText(), q.arrays().get(q.arrays().size() - 1).dtype().name());
        }
        float[] d = q.toFloatArray();
        float[] ref = floats(c.get("dequantized"));
        assertEquals(ref.length, d.length);
        for (int i = 0; i < d.length; i++) {
            assertEquals(Float.floatToRawIntBits(ref[i]), Float.floatToRawIntBits(d[i]),
                    name + ": element " + i + " expected " + ref[i] + " got " + d[i]);
        }
        assertTrue(checked >= 2);
    }

    private static float[] floats(JsonNode bits) {
        float[] f = new float[bits.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = Float.intBitsToFloat((int) bits.get(i).asLong());
        }
        return f;
    }

    private static String hex(StoredArray a) {
        ByteBuffer b = a.data();
        byte[] bytes = new byte[b.remaining()];
        b.get(bytes);
        return HexFormat.of().formatHex(bytes);
    }
}
