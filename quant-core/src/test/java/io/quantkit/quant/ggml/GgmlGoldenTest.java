package io.quantkit.quant.ggml;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.quantkit.quant.Codecs;
import io.quantkit.quant.QuantizedTensor;
import io.quantkit.quant.Scheme;
import io.quantkit.quant.SchemeKind;
import io.quantkit.tensor.FloatTensor;
import io.quantkit.tensor.Shape;
import io.quantkit.tensor.Tensor;
import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Golden tests against reference/ggml/gen_golden.py, an independent numpy implementation of ggml's reference
 * quantizers and dequantizers: every byte and every decoded float (bit for bit) must match.
 */
class GgmlGoldenTest {
    private static final List<GgmlType> QUANTIZABLE = List.of(GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1,
            GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.MXFP4, GgmlType.TQ1_0, GgmlType.TQ2_0);
    private static final List<GgmlType> DECODE_ONLY = List.of(GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K,
            GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.Q8_K);

    @TestFactory
    Stream<DynamicTest> quantizeMatchesReferenceBytes() {
        return QUANTIZABLE.stream().flatMap(type -> GoldenFile.load(type.ggmlName()).cases().stream()
                .map(c -> DynamicTest.dynamicTest(type.ggmlName() + " " + c, () -> checkQuantize(type, c))));
    }

    @TestFactory
    Stream<DynamicTest> dequantizeMatchesReferenceFloats() {
        return Stream.concat(QUANTIZABLE.stream(), DECODE_ONLY.stream())
                .flatMap(type -> GoldenFile.load(type.ggmlName()).cases().stream()
                        .map(c -> DynamicTest.dynamicTest(type.ggmlName() + " " + c, () -> checkDequantize(type, c))));
    }

    private static void checkQuantize(GgmlType type, GoldenFile.Case c) {
        int n = c.rows() * c.cols();
        BlockFormat f = GgmlQuants.format(type);
        // the fast loops, through the public row API
        byte[] fast = new byte[c.q().length];
        GgmlQuants.quantize(type, c.x(), 0, fast, 0, n);
        assertBytes(c.q(), fast, type + " fast");
        // the scalar reference, block by block
        byte[] ref = new byte[c.q().length];
        for (int b = 0; b < n / type.blockSize(); b++) {
            f.quantizeBlockReference(c.x(), b * type.blockSize(), ref, b * type.blockBytes());
        }
        assertBytes(c.q(), ref, type + " reference");
        // the codec, for the types that are schemes
        SchemeKind kind = schemeKind(type);
        if (kind != null) {
            Tensor src = FloatTensor.of(Shape.of(c.rows(), c.cols()), c.x());
            QuantizedTensor qt = Codecs.forScheme(Scheme.of(kind)).quantize(src);
            ByteBuffer stored = qt.arrays().get(0).data();
            byte[] got = new byte[stored.remaining()];
            stored.get(got);
            assertBytes(c.q(), got, type + " codec");
            // the codec's caller-buffer path, at offsets into larger arrays
            float[] padded = new float[n + 3];
            System.arraycopy(c.x(), 0, padded, 3, n);
            byte[] into = new byte[c.q().length + 7];
            assertEquals(c.q().length, Codecs.forScheme(Scheme.of(kind)).quantizeInto(padded, 3, n, into, 5));
            assertBytes(c.q(), java.util.Arrays.copyOfRange(into, 5, 5 + c.q().length), type + " quantizeInto");
            assertEquals(Shape.of(c.rows(), (long) c.cols() / type.blockSize() * type.blockBytes()),
                    qt.arrays().get(0).shape());
        }
    }

    private static void checkDequantize(GgmlType type, GoldenFile.Case c) {
        int n = c.y().length;
        float[] fast = new float[n];
        GgmlQuants.dequantize(type, c.q(), 0, fast, 0, n);
        assertFloatsIdentical(c.y(), fast, type + " fast");
        GgmlTensor t = GgmlTensor.of(type, Shape.of(c.rows(), c.cols()), ByteBuffer.wrap(c.q()));
        float[] one = new float[n];
        for (int i = 0; i < n; i++) {
            one[i] = t.getFloat(i);
        }
        assertFloatsIdentical(c.y(), one, type + " getFloat");
        // ranges that start and end inside blocks
        float[] part = new float[n];
        int from = Math.min(n, 7);
        int len = Math.max(0, n - from - 5);
        t.dequantize(from, part, 0, len);
        for (int i = 0; i < len; i++) {
            if (Float.floatToRawIntBits(part[i]) != Float.floatToRawIntBits(c.y()[from + i])) {
                fail(type + " range decode differs at " + (from + i));
            }
        }
    }

    static SchemeKind schemeKind(GgmlType type) {
        return switch (type) {
            case Q8_0 -> SchemeKind.Q8_0;
            case Q4_0 -> SchemeKind.Q4_0;
            case Q4_1 -> SchemeKind.Q4_1;
            case TQ1_0 -> SchemeKind.TQ1_0;
            case TQ2_0 -> SchemeKind.TQ2_0;
            case MXFP4 -> SchemeKind.MXFP4;
            default -> null;
        };
    }

    static void assertBytes(byte[] expected, byte[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            if (expected[i] != actual[i]) {
                int from = Math.max(0, i - 4);
                fail(what + ": first difference at byte " + i + ": expected "
                        + HexFormat.of().formatHex(expected, from, Math.min(expected.length, i + 8)) + " got "
                        + HexFormat.of().formatHex(actual, from, Math.min(actual.length, i + 8)));
            }
        }
        assertArrayEquals(expected, actual);
    }

    static void assertFloatsIdentical(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                fail(what + ": value " + i + " expected " + expected[i] + " got " + actual[i]);
            }
        }
    }
}
