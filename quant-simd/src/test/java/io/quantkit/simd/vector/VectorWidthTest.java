package io.quantkit.simd.vector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.management.HotSpotDiagnosticMXBean;
import io.quantkit.simd.Simd;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/** The provider lookup with the module present (this module's surefire runs add it), at each vector width. */
class VectorWidthTest {

    /** -XX:MaxVectorSize in bytes, as the JVM was started (64 on AVX-512 by default; the other runs set 32 and 16). */
    private static int maxVectorBits() {
        HotSpotDiagnosticMXBean hs = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        return 8 * Integer.parseInt(hs.getVMOption("MaxVectorSize").getValue());
    }

    @Test
    void theModuleIsThereAndTheProviderIsFound() {
        assertTrue(Simd.enabled());
        assertInstanceOf(VectorWidth.class, Simd.provider(Simd.VectorInfo.class));
        assertNull(Simd.provider(Runnable.class), "no provider of an interface nobody implements");
    }

    @Test
    void describeNamesTheWidthTheJvmWasGiven() {
        int bits = Math.min(512, maxVectorBits());
        assertTrue(bits >= 128, "MaxVectorSize " + bits + " bits");
        assertEquals("vector: jdk.incubator.vector, " + bits + "-bit floats", Simd.describe());
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
