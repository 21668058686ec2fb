package io.quantkit.io.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.quantkit.io.Checkpoint;
import io.quantkit.io.Checkpoints;
import io.quantkit.io.Container;
import io.quantkit.io.TensorInfo;
import io.quantkit.tensor.Shape;
import io.quantkit.testing.SharedData;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * The safetensors project's conformance samples: every file holds [-3, -2, -1, 0, 1, 2] in one dtype (unsigned
 * types wrap: 253, 254, 255 / 65533 ... ) and __metadata__ {"test": "a"}. Values read off the bytes by hand.
 */
@Tag("real-data")
class SafetensorsRealDataTest {

    private static final float[] SIGNED = {-3, -2, -1, 0, 1, 2};

    @ParameterizedTest
    @CsvSource({"b,I8,0", "h,I16,0", "i,I32,0", "e,F16,0", "f,F32,0", "d,F64,0", "B,U8,256", "H,U16,65536",
            "I,U32,4294967296"})
    void eachSample(String name, String dtype, double wrap) throws Exception {
        try (Checkpoint c = Checkpoints.open(SharedData.path("safetensors-samples/" + name + ".safetensors"))) {
            assertEquals(Container.SAFETENSORS, c.container());
            assertEquals(Map.of("test", "a").keySet(), c.metadata().asMap().keySet());
            assertEquals("a", c.metadata().getString("test"));
            TensorInfo t = c.info(name).orElseThrow();
            assertEquals(dtype, t.format());
            assertEquals(Shape.of(6), t.shape());
            float[] expected = SIGNED.clone();
            for (int i = 0; i < 3; i++) {
                expected[i] += (float) wrap;
            }
            assertArrayEquals(expected, c.tensor(name).toFloatArray());
        }
    }

    @Test
    void overall() throws Exception {
        try (Checkpoint c = Checkpoints.open(SharedData.path("safetensors-samples/overall.safetensors"))) {
            assertEquals(List.of("B", "H", "I", "b", "d", "e", "f", "h", "i"), c.names());
            assertEquals(8 + 0x20e + 96, c.info("e").orElseThrow().offset());
            assertEquals(24, c.info("f").orElseThrow().byteLength());
            assertArrayEquals(SIGNED, c.tensor("d").toFloatArray());
            assertArrayEquals(SIGNED, c.tensor("i").toFloatArray());
            assertArrayEquals(new float[] {65533, 65534, 65535, 0, 1, 2}, c.tensor("H").toFloatArray());
        }
    }
}
