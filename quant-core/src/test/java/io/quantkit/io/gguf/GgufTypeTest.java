package io.quantkit.io.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.quantkit.quant.ggml.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The container's type table must agree with the ggml package's, constant for constant. */
class GgufTypeTest {
    @ParameterizedTest
    @EnumSource(GgufType.class)
    void agreesWithGgmlType(GgufType t) {
        GgmlType g = GgmlType.byId(t.id());
        assertEquals(g.name(), t.name());
        assertEquals(g.blockSize(), t.blockSize());
        assertEquals(g.blockBytes(), t.typeSize());
    }

    @Test
    void sameNumberOfTypes() {
        assertEquals(GgmlType.values().length, GgufType.values().length);
    }
}
