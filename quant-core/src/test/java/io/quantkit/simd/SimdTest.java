package io.quantkit.simd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/**
 * quant-core's tests run without {@code jdk.incubator.vector} (and without quant-simd on the class path), so every
 * caller takes its scalar loop; quant-simd's tests check the other side.
 */
class SimdTest {

    @Test
    void withoutTheModuleThereIsNoProviderAndTheReasonIsSaid() {
        assertFalse(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(),
                "quant-core's tests must run without the incubating module");
        assertFalse(Simd.enabled());
        assertNull(Simd.provider(Simd.VectorInfo.class));
        assertNull(Simd.provider(Runnable.class));
        assertEquals("scalar: the JVM was started without --add-modules jdk.incubator.vector", Simd.describe());
    }

    @Test
    void thePropertyIsNamedInTheReason() {
        String old = System.getProperty(Simd.PROPERTY);
        System.setProperty(Simd.PROPERTY, "false");
        try {
            assertEquals("scalar: -Dquantkit.simd=false", Simd.describe());
            assertNull(Simd.provider(Simd.VectorInfo.class));
        } finally {
            if (old == null) {
                System.clearProperty(Simd.PROPERTY);
            } else {
                System.setProperty(Simd.PROPERTY, old);
            }
        }
    }
}
