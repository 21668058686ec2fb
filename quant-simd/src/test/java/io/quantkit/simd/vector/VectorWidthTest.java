package io.quantkit.simd.vector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.management.HotSpotDiagnosticMXBean;
import io.quantkit.simd.Simd;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * The provider lookup with the module present (this module's surefire runs add it), at each vector width the runs
 * set: 512 bits (the CPU's own on this machine), 256 and 128 ({@code -XX:MaxVectorSize=32, 16}).
 */
class VectorWidthTest {

    /** The widest vector the JVM was allowed (-XX:MaxVectorSize, in bytes), in bits, at most 512. */
    private static int maxVectorBits() {
        HotSpotDiagnosticMXBean hs = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        return Math.min(512, 8 * Integer.parseInt(hs.getVMOption("MaxVectorSize").getValue()));
    }

    @Test
    void describeNamesTheWidthTheJvmWasGiven() {
        int bits = maxVectorBits();
        assertTrue(Simd.enabled());
        assertEquals("vector: jdk.incubator.vector, " + bits + "-bit floats", Simd.describe());
        assertInstanceOf(VectorWidth.class, Simd.provider(Simd.VectorInfo.class));
        assertNull(Simd.provider(Runnable.class), "no provider of an interface nobody implements");
    }

    @Test
    void aMinimumWidthIsHonoured() {
        int bits = maxVectorBits();
        assertInstanceOf(BlockKernels.class, Simd.provider(io.quantkit.quant.ggml.BlockSimd.class));
        assertInstanceOf(BlockKernels.class, Simd.provider(io.quantkit.quant.ggml.BlockSimd.class, bits));
        assertNull(Simd.provider(io.quantkit.quant.ggml.BlockSimd.class, 2 * bits));
        assertEquals(bits >= 256, Simd.provider(io.quantkit.quant.codec.DenseSimd.class, 256) != null);
    }

    @Test
    void thePropertyForcesTheScalarPath() {
        System.setProperty(Simd.PROPERTY, "false");
        try {
            assertNull(Simd.provider(Simd.VectorInfo.class));
            assertEquals("scalar: -Dquantkit.simd=false", Simd.describe());
        } finally {
            System.clearProperty(Simd.PROPERTY);
        }
        assertInstanceOf(VectorWidth.class, Simd.provider(Simd.VectorInfo.class));
    }
}
