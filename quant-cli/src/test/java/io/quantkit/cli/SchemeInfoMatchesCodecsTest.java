package io.quantkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.quantkit.quant.Codec;
import io.quantkit.quant.Codecs;
import io.quantkit.quant.QuantizedTensor;
import io.quantkit.quant.Scheme;
import io.quantkit.quant.SchemeInfo;
import io.quantkit.quant.SchemeKind;
import io.quantkit.tensor.FloatTensor;
import io.quantkit.tensor.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The byte accounting {@code quant formats} prints ({@link SchemeInfo#storageBytes}) must equal what each codec
 * really stores ({@link QuantizedTensor#storageBytes}). A scheme without a codec yet is reported as skipped.
 */
class SchemeInfoMatchesCodecsTest {
    private static final long SEED = 20261124L;
    /** Shapes: one element, a prime row, rows of 172 (stories260K), one past a block, a whole ggml super-block. */
    private static final List<Shape> SHAPES = List.of(Shape.of(1, 1), Shape.of(3, 172), Shape.of(2, 257),
            Shape.of(4, 33), Shape.of(2, 256), Shape.of(7, 64), Shape.of(130, 96));
    private static final List<String> VARIANTS = List.of("int4:group=64,asym", "int:bits=3,group=64",
            "int:bits=2,group=0,asym", "int8:group=32", "int4-outliers:budget=1%", "int4-outliers:budget=4.6bpw",
            "int4-outliers:group=32,asym", "fp8-e4m3:scale=channel", "fp8-e5m2:scale=block,block=32",
            "ternary:scale=channel", "ternary:scale=group,group=64,pack=base3", "nf4:block=32");

    @TestFactory
    Stream<DynamicTest> storageBytesEqualsTheCodecs() {
        List<Scheme> schemes = new ArrayList<>();
        for (SchemeKind k : SchemeKind.values()) {
            schemes.add(Scheme.of(k));
        }
        for (String v : VARIANTS) {
            schemes.add(Scheme.parse(v));
        }
        return schemes.stream().map(s -> DynamicTest.dynamicTest(s.toString(), () -> check(s)));
    }

    private static void check(Scheme scheme) {
        Codec codec;
        try {
            codec = Codecs.forScheme(scheme);
        } catch (UnsupportedOperationException e) {
            Assumptions.abort(scheme + " has no codec yet");
            return;
        }
        SchemeInfo info = SchemeInfo.of(scheme);
        SplittableRandom rnd = new SplittableRandom(SEED);
        for (Shape shape : SHAPES) {
            float[] w = new float[(int) shape.numel()];
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) (rnd.nextGaussian() * 0.02);
            }
            FloatTensor t = FloatTensor.wrap(shape, w);
            long expected;
            try {
                expected = info.storageBytes(shape);
            } catch (IllegalArgumentException e) {
                // rows that do not fill a block, or a bits-per-weight budget below the cost of the bare grid
                assertThrows(IllegalArgumentException.class, () -> codec.quantize(t),
                        scheme + " should reject " + shape + " as SchemeInfo does: " + e.getMessage());
                continue;
            }
            QuantizedTensor q = codec.quantize(t);
            assertEquals(q.storageBytes(), expected, scheme + " " + shape + " (seed " + SEED + ")");
        }
    }
}
