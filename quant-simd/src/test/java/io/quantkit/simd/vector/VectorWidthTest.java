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
        if (bits >= 256) {
            assertEquals("vector: jdk.incubator.vector, " + bits + "-bit floats", Simd.describe());
            assertInstanceOf(VectorWidth.class, Simd.provider(Simd.VectorInfo.class));
            assertInstanceOf(BlockKernels.class, Simd.provider(io.quantkit.quant.ggml.BlockSimd.class));
        } else {
            assertEquals("scalar: the JVM's vectors have " + bits + " bits (the kernels need 256 or more)",
                    Simd.describe());
            assertNull(Simd.provider(Simd.VectorInfo.class));
            assertNull(Simd.provider(io.quantkit.quant.ggml.BlockSimd.class));
        }
        assertNull(Simd.provider(Runnable.class), "no provider of an interface nobody implements");
    }

    @Test
    void thePropertyForcesTheScalarPath() {
        boolean wide = maxVectorBits() >= 256;
        System.setProperty(Simd.PROPERTY, "false");
        try {
            assertNull(Simd.provider(Simd.VectorInfo.class));
            assertEquals("scalar: -Dquantkit.simd=false", Simd.describe());
        } finally {
            System.clearProperty(Simd.PROPERTY);
        }
        assertEquals(wide, Simd.provider(Simd.VectorInfo.class) != null);
    }
}
