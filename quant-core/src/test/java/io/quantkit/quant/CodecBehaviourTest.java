package io.quantkit.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quantkit.format.Bf16;
import io.quantkit.quant.codec.OutlierCodec;
import io.quantkit.tensor.DType;
import io.quantkit.tensor.FloatTensor;
import io.quantkit.tensor.Shape;
import io.quantkit.tensor.StoredArray;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Behaviour of single codecs that the cross-scheme table does not pin down. */
class CodecBehaviourTest {

    private static QuantizedTensor quantize(String scheme, Shape shape, float[] w) {
        return Codecs.forScheme(Scheme.parse(scheme)).quantize(FloatTensor.of(shape, w));
    }

    @Test
    void int4HandValues() {
        // amax 0.7 → s = up16(0.1) = 0.10003662109375 (f16 0x2E67; nearest-even 0x2E66 = 0.0999755859375 is below 0.1)
        QuantizedTensor q = quantize("int4", Shape.of(1, 4), new float[] {0.7f, -0.35f, 0.1f, 0f});
        StoredArray scales = q.arrays().get(1);
        assertEquals(DType.F16, scales.dtype());
        assertEquals((short) 0x2E67, scales.data().getShort(0));
        // q = rhe(0.7/s)=7, rhe(-0.35/s)=rhe(-3.4987)=-3, rhe(0.1/s)=1, 0 → nibbles 7, D(−3), 1, 0
        ByteBuffer codes = q.arrays().get(0).data();
        assertEquals((byte) 0xD7, codes.get(0));
        assertEquals((byte) 0x01, codes.get(1));
        float s = 0.10003662109375f;
        assertArrayEquals(new float[] {7 * s, -3 * s, s, 0}, q.toFloatArray());
    }

    @Test
    void scalesFallBackToBf16WhenF16Overflows() {
        // int8 row with amax 1e7: scale 1e7/127 ≈ 78740 > 65504
        float[] w = {1e7f, -3e6f, 12345f, 0f, 5e6f};
        QuantizedTensor q = quantize("int8", Shape.of(1, 5), w);
        StoredArray scales = q.arrays().get(1);
        assertEquals(DType.BF16, scales.dtype());
        float s = Bf16.toFloat(scales.data().getShort(0));
        assertTrue(s >= 1e7f / 127 && s < 1e7f / 127 * (1 + 0x1p-7), "bf16 scale rounded up: " + s);
        float[] d = q.toFloatArray();
        for (int i = 0; i < w.length; i++) {
            assertTrue(Math.abs(w[i] - d[i]) <= s / 2, "element " + i);
        }
        // and a value beyond bf16 itself fails clearly
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> quantize("int:bits=2,group=0", Shape.of(2), new float[] {Float.MAX_VALUE, 0}));
        assertTrue(e.getMessage().contains("bf16"), e.getMessage());
    }

    @Test
    void bitsPerWeightCountsEverything() {
        assertEquals(4.125, quantize("int4", Shape.of(8, 256), new float[2048]).bitsPerWeight(), 0);
        assertEquals(4.1875, quantize("int4:asym", Shape.of(8, 256), new float[2048]).bitsPerWeight(), 0);
        assertEquals(8 + 16.0 / 172, quantize("int8", Shape.of(4, 172), new float[688]).bitsPerWeight(), 1e-12);
        // 3-bit codes: ⌈344·3/8⌉ = 129 bytes; scales 2 rows × 3 groups × 2 bytes
        assertEquals(8.0 * (129 + 12) / 344, quantize("int:bits=3,group=64", Shape.of(2, 172), new float[344])
                .bitsPerWeight(), 1e-12);
        assertEquals(8.0 * (100 + 4) / 400, quantize("ternary", Shape.of(4, 100), new float[400]).bitsPerWeight(), 0);
        assertEquals(8.0 * (80 + 4) / 400, quantize("ternary:pack=base3", Shape.of(4, 100), new float[400])
                .bitsPerWeight(), 0);
        assertEquals(4.5, quantize("nf4", Shape.of(2, 64), new float[128]).bitsPerWeight(), 0);
        assertEquals(8.0 * (65536 + 16) / 65536, quantize("fp8-e4m3:scale=block", Shape.of(256, 256),
                new float[65536]).bitsPerWeight(), 0);
    }

    @Test
    void magnitudeSelectorBreaksTiesByIndex() {
        float[] w = {1, -3, 3, 2, -3, 0};
        OutlierSelector sel = OutlierSelector.byMagnitude();
        assertArrayEquals(new int[] {1, 2}, sel.select(w, Shape.of(6), 2));
        assertArrayEquals(new int[] {1, 2, 4}, sel.select(w, Shape.of(6), 3));
        assertArrayEquals(new int[] {1, 2, 3, 4}, sel.select(w, Shape.of(6), 4));
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5}, sel.select(w, Shape.of(6), 6));
        assertArrayEquals(new int[0], sel.select(w, Shape.of(6), 0));
        // agrees with a plain sort on random data with many exact ties
        long seed = 11;
        Random r = new Random(seed);
        float[] v = new float[5000];
        for (int i = 0; i < v.length; i++) {
            v[i] = (r.nextInt(200) - 100) / 8f;
        }
        for (int k : new int[] {1, 7, 100, 2500, 4999}) {
            Integer[] order = new Integer[v.length];
            for (int i = 0; i < v.length; i++) {
                order[i] = i;
            }
            java.util.Arrays.sort(order, (a, b) -> Math.abs(v[a]) != Math.abs(v[b])
                    ? Float.compare(Math.abs(v[b]), Math.abs(v[a])) : Integer.compare(a, b));
            int[] expected = new int[k];
            for (int j = 0; j < k; j++) {
                expected[j] = order[j];
            }
            java.util.Arrays.sort(expected);
            assertArrayEquals(expected, sel.select(v, Shape.of(v.length), k), "k " + k + " seed " + seed);
        }
    }

    @Test
    void outliersAreRemovedBeforeTheGroupScale() {
        float[] w = new float[128];
        for (int i = 0; i < w.length; i++) {
            w[i] = (i % 7 - 3) * 0.01f;
        }
        w[40] = 5f; // one huge weight; budget 1% of 128 → 1 outlier
        QuantizedTensor q = quantize("int4-outliers:budget=1%", Shape.of(1, 128), w);
        float[] d = q.toFloatArray();
        assertEquals(5f, d[40], 0);
        // scale from the bulk: amax 0.03 → s = up16(0.03/7): every bulk element within s/2
        double s = 0.03 / 7 * (1 + 0x1p-10);
        for (int i = 0; i < w.length; i++) {
            assertTrue(Math.abs(w[i] - d[i]) <= s / 2, "element " + i);
        }
        List<StoredArray> a = q.arrays();
        assertEquals(List.of("codes", "scales", "outlier_block_end", "outlier_offset", "outlier_value"),
                a.stream().map(StoredArray::role).toList());
        assertEquals(1, a.get(2).data().getInt(0)); // one block of 65,536 holding the one outlier
        assertEquals(40, a.get(3).data().getShort(0));
        assertEquals(DType.BF16, a.get(4).dtype()); // 5.0 is exact in bf16
    }

    @Test
    void outlierValuesStayExactForBf16Sources() {
        long seed = 5;
        Random r = new Random(seed);
        float[] w = new float[4096];
        for (int i = 0; i < w.length; i++) {
            w[i] = Bf16.round((float) (r.nextGaussian() * 0.02 * (r.nextInt(50) == 0 ? 30 : 1)));
        }
        QuantizedTensor q = quantize("int4-outliers:budget=2%", Shape.of(4, 1024), w);
        assertEquals(DType.BF16, q.arrays().get(4).dtype());
        ByteBuffer idx = q.arrays().get(3).data();
        float[] d = q.toFloatArray();
        for (int j = 0; j < 81; j++) {
            int i = Short.toUnsignedInt(idx.getShort(2 * j)); // 4096 elements: one block, offset = index
            assertEquals(w[i], d[i], 0, "outlier " + i + " seed " + seed);
        }
    }

    @Test
    void budgetAsBitsPerWeight() {
        Scheme s = Scheme.parse("int4-outliers:budget=4.6bpw");
        OutlierCodec c = new OutlierCodec(s);
        // 4096×4096: grid costs 4.125 bpw, 256 blocks of 65,536 cost 32 bits each; an outlier costs 32 bits
        long n = 4096L * 4096;
        assertEquals((long) Math.floor((4.6 * n - 4.125 * n - 256 * 32) / 32), c.outlierCount(Shape.of(4096, 4096)));
        QuantizedTensor q = c.quantize(FloatTensor.of(Shape.of(64, 1024), sampleGauss(64 * 1024, 3)));
        assertTrue(q.bitsPerWeight() <= 4.6 && q.bitsPerWeight() > 4.6 - 32.0 / (64 * 1024), "" + q.bitsPerWeight());
        assertEquals(0, new OutlierCodec(Scheme.parse("int4-outliers:budget=4bpw")).outlierCount(Shape.of(64, 1024)));
    }

    @Test
    void budgetAndSelectErrors() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Codecs.forScheme(Scheme.parse("int4-outliers:select=saliency")));
        assertTrue(e.getMessage().contains("calibration profile"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Codecs.forScheme(Scheme.parse("int4-outliers:budget=lots")));
        assertThrows(IllegalArgumentException.class, () -> Codecs.forScheme(Scheme.parse("int4-outliers:budget=150%")));
        assertThrows(IllegalArgumentException.class, () -> Codecs.forScheme(Scheme.parse("int4-outliers:budget=-1bpw")));
    }

    @Test
    void fromArraysRejectsMalformedArrays() {
        Shape shape = Shape.of(2, 10);
        float[] w = sampleGauss(20, 9);
        Codec int4 = Codecs.forScheme(Scheme.parse("int4"));
        List<StoredArray> good = int4.quantize(FloatTensor.of(shape, w)).arrays();
        assertThrows(IllegalArgumentException.class, () -> int4.fromArrays(Shape.of(2, 11), good));
        assertThrows(IllegalArgumentException.class, () -> int4.fromArrays(shape, good.subList(0, 1)));
        List<StoredArray> renamed = new ArrayList<>(good);
        renamed.set(1, StoredArray.of("scale", good.get(1).dtype(), good.get(1).shape(), good.get(1).data()));
        assertThrows(IllegalArgumentException.class, () -> int4.fromArrays(shape, renamed));

        Codec asym = Codecs.forScheme(Scheme.parse("int4:asym"));
        List<StoredArray> za = new ArrayList<>(asym.quantize(FloatTensor.of(shape, w)).arrays());
        ByteBuffer zb = ByteBuffer.allocate(2).put(new byte[] {3, 16});
        zb.flip();
        za.set(2, StoredArray.of("zeros", DType.U8, za.get(2).shape(), zb));
        IllegalArgumentException ze = assertThrows(IllegalArgumentException.class, () -> asym.fromArrays(shape, za));
        assertTrue(ze.getMessage().contains("zero point 16"), ze.getMessage());

        Codec ternary = Codecs.forScheme(Scheme.parse("ternary"));
        List<StoredArray> t = new ArrayList<>(ternary.quantize(FloatTensor.of(shape, w)).arrays());
        ByteBuffer bad = ByteBuffer.allocate(5).order(ByteOrder.LITTLE_ENDIAN).put(new byte[] {(byte) 0xFF, 0, 0, 0, 0});
        bad.flip();
        t.set(0, StoredArray.of("codes", DType.U8, Shape.of(5), bad));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ternary.fromArrays(shape, t));
        assertTrue(e.getMessage().contains("code 3"), e.getMessage());

        Codec outl = Codecs.forScheme(Scheme.parse("int4-outliers:budget=10%"));
        List<StoredArray> o = new ArrayList<>(outl.quantize(FloatTensor.of(shape, w)).arrays());
        ByteBuffer idx = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putShort((short) 3).putShort((short) 20);
        idx.flip();
        o.set(3, StoredArray.of("outlier_offset", DType.U16, Shape.of(2), idx));
        e = assertThrows(IllegalArgumentException.class, () -> outl.fromArrays(shape, o));
        assertTrue(e.getMessage().contains("20"), e.getMessage());
    }

    @Test
    void ternaryHandValues() {
        // mean|w| = (0.5 + 0.1 + 0.3 + 1.1) / 4 = 0.5: q = rhe(1), rhe(-0.2), rhe(0.6), rhe(2.2)→clip 1
        QuantizedTensor q = quantize("ternary", Shape.of(4), new float[] {0.5f, -0.1f, 0.3f, 1.1f});
        assertArrayEquals(new float[] {0.5f, 0f, 0.5f, 0.5f}, q.toFloatArray());
        // trits 2,1,2,2 → 0b10_10_01_10
        assertEquals((byte) 0b10100110, q.arrays().get(0).data().get(0));
        QuantizedTensor b3 = quantize("ternary:pack=base3", Shape.of(4), new float[] {0.5f, -0.1f, 0.3f, 1.1f});
        assertEquals((byte) (2 + 3 * 1 + 9 * 2 + 27 * 2), b3.arrays().get(0).data().get(0));
        // ties: w/s = ±0.5 → 0 (half-even), ±1.5 → ±2 → clipped to ±1
        QuantizedTensor t = quantize("ternary", Shape.of(4), new float[] {0.5f, -0.5f, 1.5f, -1.5f});
        assertArrayEquals(new float[] {0f, 0f, 1f, -1f}, t.toFloatArray()); // q·s with q = 0 is +0
    }

    @Test
    void fp8HandValues() {
        // amax 896 → s = 2; 3 → 1.5 (E4M3 exact), 100 → 50 (→ 48 or 52: 50 is a tie between 48 and 52 → even mantissa 48)
        QuantizedTensor q = quantize("fp8-e4m3", Shape.of(3), new float[] {896f, 3f, 100f});
        assertEquals(2f, q.arrays().get(1).data().getFloat(0));
        assertArrayEquals(new float[] {896f, 3f, 96f}, q.toFloatArray());
        QuantizedTensor z = quantize("fp8-e5m2:scale=block,block=2", Shape.of(2, 3), new float[] {0, 0, 1, 0, 0, 2});
        assertArrayEquals(new float[] {0, 0, 1, 0, 0, 2}, z.toFloatArray());
        assertEquals(0f, z.arrays().get(1).data().getFloat(0)); // the all-zero 2×2 tile has scale 0
    }

    private static float[] sampleGauss(int n, long seed) {
        Random r = new Random(seed);
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            w[i] = (float) (r.nextGaussian() * 0.02);
        }
        return w;
    }
}
