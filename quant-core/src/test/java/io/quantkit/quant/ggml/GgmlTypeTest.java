package io.quantkit.quant.ggml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class GgmlTypeTest {
    /** id, block size, bytes per block: ggml.h's enum and the sizes its static_asserts imply, written out by hand. */
    private static final Object[][] TABLE = {
        {"F32", 0, 1, 4}, {"F16", 1, 1, 2}, {"Q4_0", 2, 32, 18}, {"Q4_1", 3, 32, 20}, {"Q5_0", 6, 32, 22},
        {"Q5_1", 7, 32, 24}, {"Q8_0", 8, 32, 34}, {"Q8_1", 9, 32, 36}, {"Q2_K", 10, 256, 84},
        {"Q3_K", 11, 256, 110}, {"Q4_K", 12, 256, 144}, {"Q5_K", 13, 256, 176}, {"Q6_K", 14, 256, 210},
        {"Q8_K", 15, 256, 292}, {"IQ2_XXS", 16, 256, 66}, {"IQ2_XS", 17, 256, 74}, {"IQ3_XXS", 18, 256, 98},
        {"IQ1_S", 19, 256, 50}, {"IQ4_NL", 20, 32, 18}, {"IQ3_S", 21, 256, 110}, {"IQ2_S", 22, 256, 82},
        {"IQ4_XS", 23, 256, 136}, {"I8", 24, 1, 1}, {"I16", 25, 1, 2}, {"I32", 26, 1, 4}, {"I64", 27, 1, 8},
        {"F64", 28, 1, 8}, {"IQ1_M", 29, 256, 56}, {"BF16", 30, 1, 2}, {"TQ1_0", 34, 256, 54},
        {"TQ2_0", 35, 256, 66}, {"MXFP4", 39, 32, 17},
    };

    @Test
    void everyTypeHasGgmlsIdAndSize() {
        assertEquals(TABLE.length, GgmlType.values().length);
        for (Object[] row : TABLE) {
            GgmlType t = GgmlType.valueOf((String) row[0]);
            assertEquals(row[1], t.id(), t + " id");
            assertEquals(row[2], t.blockSize(), t + " block size");
            assertEquals(row[3], t.blockBytes(), t + " block bytes");
            assertSame(t, GgmlType.byId((Integer) row[1]));
        }
    }

    @Test
    void lookupByNameAndNullableIdAndDenseType() {
        for (Object[] row : TABLE) {
            GgmlType t = GgmlType.valueOf((String) row[0]);
            assertSame(t, GgmlType.fromName(((String) row[0]).toLowerCase(java.util.Locale.ROOT)));
            assertSame(t, GgmlType.fromId((Integer) row[1]));
        }
        for (long id : new long[] {-1, 4, 5, 31, 36, 38, 40, Long.MAX_VALUE}) {
            assertEquals(null, GgmlType.fromId(id), "id " + id);
        }
        assertEquals(null, GgmlType.fromName("Q4_2"));
        assertEquals(null, GgmlType.fromName("int4"));
        assertEquals(io.quantkit.tensor.DType.F32, GgmlType.F32.dense());
        assertEquals(io.quantkit.tensor.DType.BF16, GgmlType.BF16.dense());
        assertEquals(io.quantkit.tensor.DType.I64, GgmlType.I64.dense());
        for (GgmlType t : GgmlType.values()) {
            assertEquals(t.blockSize() == 1, t.dense() != null, t.toString());
        }
    }

    @Test
    void bitsPerWeightOfKnownTypes() {
        Map<GgmlType, Double> bpw = Map.of(GgmlType.Q4_0, 4.5, GgmlType.Q8_0, 8.5, GgmlType.Q4_1, 5.0,
                GgmlType.TQ1_0, 1.6875, GgmlType.TQ2_0, 2.0625, GgmlType.MXFP4, 4.25, GgmlType.Q4_K, 4.5,
                GgmlType.Q6_K, 6.5625);
        bpw.forEach((t, b) -> assertEquals(b, t.bitsPerWeight(), 0.0, t.toString()));
    }

    @Test
    void unknownAndRemovedIdsAreRejectedClearly() {
        for (long id : new long[] {4, 5, 31, 32, 33, 36, 37, 38}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GgmlType.byId(id));
            assertTrue(e.getMessage().contains("removed"), e.getMessage());
        }
        for (long id : new long[] {-1, 40, 41, 1000, Long.MAX_VALUE, Integer.MIN_VALUE}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GgmlType.byId(id));
            assertTrue(e.getMessage().contains("unknown ggml tensor type id " + id), e.getMessage());
        }
    }

    @Test
    void rowAndTensorSizes() {
        assertEquals(4096 / 32 * 18, GgmlType.Q4_0.rowBytes(4096));
        assertEquals(0, GgmlType.Q4_0.rowBytes(0));
        assertEquals(288L * 4 * 2, GgmlType.BF16.tensorBytes(288, 288 * 4));
        assertEquals(3L * 2 * 54, GgmlType.TQ1_0.tensorBytes(512, 3 * 512));
        // a 128k x 16k Q8_0 embedding: beyond 2^31 bytes, sized in long
        assertEquals(131072L * 16384 / 32 * 34, GgmlType.Q8_0.tensorBytes(16384, 131072L * 16384));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GgmlType.Q4_0.rowBytes(33));
        assertTrue(e.getMessage().contains("multiple of 32"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> GgmlType.TQ2_0.rowBytes(32));
        assertThrows(IllegalArgumentException.class, () -> GgmlType.Q8_0.rowBytes(-32));
        assertTrue(GgmlType.Q4_0.isBlockQuantized());
        assertFalse(GgmlType.BF16.isBlockQuantized());
        assertEquals("iq2_xxs", GgmlType.IQ2_XXS.ggmlName());
    }
}
