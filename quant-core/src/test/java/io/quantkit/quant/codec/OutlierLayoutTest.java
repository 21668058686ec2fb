package io.quantkit.quant.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quantkit.quant.QuantizedTensor;
import io.quantkit.quant.Scheme;
import io.quantkit.tensor.DType;
import io.quantkit.tensor.FloatTensor;
import io.quantkit.tensor.Shape;
import io.quantkit.tensor.StoredArray;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * int4-outliers' outlier arrays (quantkit.format 2: block ends and u16 offsets) against bytes written out by
 * hand, across more than one block of 65,536 elements and with an empty block; the format-1 layout (one I32
 * index array) still reads to the same tensor; malformed block ends and offsets are refused.
 */
class OutlierLayoutTest {
    /** 2 × 65,537 = 131,074 elements: blocks 0..65535, 65536..131071 (no outlier) and 131072..131073. */
    private static final Shape SHAPE = Shape.of(2, 65537);
    private static final Scheme SCHEME = Scheme.parse("int4-outliers:budget=0.003%"); // k = ⌊3.93⌋ = 3

    private static float[] weights() {
        float[] w = new float[(int) SHAPE.numel()];
        w[5] = 3f;
        w[65535] = -2f;
        w[131073] = 1.5f;
        return w;
    }

    private static String hex(StoredArray a) {
        ByteBuffer b = a.data();
        byte[] bytes = new byte[b.remaining()];
        b.get(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    private static StoredArray array(String role, DType t, String hex) {
        byte[] b = HexFormat.of().parseHex(hex);
        return StoredArray.of(role, t, Shape.of(b.length / (t.bits() / 8)), ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN));
    }

    @Test
    void outliersAcrossBlocksAreStoredAsWrittenByHand() {
        QuantizedTensor q = new OutlierCodec(SCHEME).quantize(FloatTensor.of(SHAPE, weights()));
        List<StoredArray> a = q.arrays();
        assertEquals(List.of("codes", "scales", "outlier_block_end", "outlier_offset", "outlier_value"),
                a.stream().map(StoredArray::role).toList());
        // block ends 2, 2, 3 (i32 little-endian); offsets 5, 65535, 131073 - 131072 = 1 (u16)
        assertEquals("020000000200000003000000", hex(a.get(2)));
        assertEquals(Shape.of(3), a.get(2).shape());
        assertEquals("0500ffff0100", hex(a.get(3)));
        // 3.0, -2.0, 1.5 are exact in bf16: 0x4040, 0xc000, 0x3fc0
        assertEquals(DType.BF16, a.get(4).dtype());
        assertEquals("404000c0c03f", hex(a.get(4)));
        // bytes: 65,537 of codes + 2 rows × 513 groups × 2 of scales + 3 × 4 block ends + 3 × (2 + 2)
        assertEquals(65537 + 2 * 513 * 2 + 12 + 12, q.arrays().stream().mapToLong(s -> s.data().remaining()).sum());
        float[] d = q.toFloatArray();
        assertEquals(3f, d[5]);
        assertEquals(-2f, d[65535]);
        assertEquals(1.5f, d[131073]);
        double rest = 0;
        for (float x : d) {
            rest += Math.abs(x);
        }
        assertEquals(6.5, rest, 0, "the bulk is zero and decodes to zero");
    }

    @Test
    void handBuiltArraysDecodeAndTheFormat1LayoutReadsTheSame() {
        QuantizedTensor q = new OutlierCodec(SCHEME).quantize(FloatTensor.of(SHAPE, weights()));
        List<StoredArray> grid = q.arrays().subList(0, 2);
        StoredArray values = array("outlier_value", DType.BF16, "404000c0c03f");
        List<StoredArray> v2 = new ArrayList<>(grid);
        v2.add(array("outlier_block_end", DType.I32, "020000000200000003000000"));
        v2.add(array("outlier_offset", DType.U16, "0500ffff0100"));
        v2.add(values);
        List<StoredArray> v1 = new ArrayList<>(grid);
        v1.add(array("outlier_index", DType.I32, "05000000ffff000001000200")); // 5, 65535, 131073
        v1.add(values);
        OutlierCodec c = new OutlierCodec(SCHEME);
        float[] want = q.toFloatArray();
        assertArrayEquals(want, c.fromArrays(SHAPE, v2).toFloatArray());
        QuantizedTensor old = c.fromArrays(SHAPE, v1);
        assertArrayEquals(want, old.toFloatArray());
        assertEquals(3f, old.getFloat(5));
        assertEquals(1.5f, old.getFloat(131073));
        assertEquals("outlier_index", old.arrays().get(2).role(), "a format-1 tensor keeps its stored arrays");
    }

    @Test
    void noOutliersStoresNoBlockEnds() {
        QuantizedTensor q = new OutlierCodec(Scheme.parse("int4-outliers:budget=0"))
                .quantize(FloatTensor.of(SHAPE, weights()));
        assertEquals(Shape.of(0), q.arrays().get(2).shape());
        assertEquals(Shape.of(0), q.arrays().get(3).shape());
        assertEquals(Shape.of(0), q.arrays().get(4).shape());
    }

    @Test
    void malformedBlockEndsAndOffsetsAreRefused() {
        QuantizedTensor q = new OutlierCodec(SCHEME).quantize(FloatTensor.of(SHAPE, weights()));
        List<StoredArray> grid = q.arrays().subList(0, 2);
        StoredArray values = array("outlier_value", DType.BF16, "404000c0c03f");
        OutlierCodec c = new OutlierCodec(SCHEME);
        String[][] bad = {
            {"030000000200000003000000", "0500ffff0100", "outlier_block_end[1] = 2"}, // decreasing
            {"020000000200000002000000", "0500ffff0100", "outlier_block_end[2] = 2"}, // last is not k
            {"0200000002000000", "0500ffff0100", "outlier_block_end"}, // two blocks for three
            {"020000000200000003000000", "ffff05000100", "not strictly ascending"}, // offsets out of order
            {"020000000200000003000000", "0500ffff0200", "out of range"}, // 131074 is past the end
        };
        for (String[] b : bad) {
            List<StoredArray> arrays = new ArrayList<>(grid);
            arrays.add(array("outlier_block_end", DType.I32, b[0]));
            arrays.add(array("outlier_offset", DType.U16, b[1]));
            arrays.add(values);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.fromArrays(SHAPE, arrays));
            assertTrue(e.getMessage().contains(b[2]), b[2] + " in: " + e.getMessage());
        }
        List<StoredArray> wide = new ArrayList<>(grid);
        wide.add(array("outlier_block_end", DType.I32, "020000000200000003000000"));
        wide.add(array("outlier_offset", DType.I32, "05000000ffff000001000000"));
        wide.add(values);
        assertThrows(IllegalArgumentException.class, () -> c.fromArrays(SHAPE, wide));
    }
}
