package io.quantkit.simd;

import java.util.Iterator;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * Where the SIMD kernels come from: the module {@code quant-simd}, which implements them with the incubating Vector
 * API ({@code jdk.incubator.vector}) behind small service interfaces that live next to their scalar code in
 * quant-core (each kernel family has its own). quant-core itself never refers to a Vector API
 * type, so it compiles and runs without the module.
 *
 * <p>A caller looks its kernel family up once and keeps the scalar loop as the fallback:
 * <pre>
 * private static final BlockSimd SIMD = Simd.provider(BlockSimd.class); // null: use the scalar loop
 * </pre>
 *
 * <p><b>The rule for every kernel</b>: its results are bit-identical to the scalar path for every input, and on any
 * vector width. So no float reduction whose order depends on the lane count (a sum must add in the scalar loop's
 * order; max and min are order-free and fine), no fused multiply-add where the scalar code multiplies and then adds,
 * and a float-to-int conversion only where it is proved exact (the Vector API's {@code F2I} conversion is also not
 * intrinsified on Java 17, so kernels round with the 2^23 magic number instead). Each kernel is tested against the
 * scalar code in quant-simd at 512, 256 and 128 bits ({@code -XX:MaxVectorSize}).
 *
 * <p>Providers are used only if the JVM was started with {@code --add-modules jdk.incubator.vector} (the
 * {@code ./quant} launcher adds it when the runtime has it) and the system property {@code quantkit.simd} is not
 * {@code false}; {@code -Dquantkit.simd=false} forces the scalar path. Thread-safe and stateless: each call
 * looks again, so callers keep what they got in a static final field.
 */
public final class Simd {
    /** The system property that turns the vector kernels off when it is {@code false}. */
    public static final String PROPERTY = "quantkit.simd";
    /** The incubating module the kernels need. */
    public static final String MODULE = "jdk.incubator.vector";

    private Simd() {
    }

    /**
     * The first {@link ServiceLoader} provider of {@code spi}, or null when the vector kernels are off (module not in
     * the boot layer, or {@code -Dquantkit.simd=false}), when no provider is on the class path, or when loading one
     * fails (a {@link LinkageError} or {@link ServiceConfigurationError}: the caller then runs its scalar loop).
     */
    public static <T> T provider(Class<T> spi) {
        return provider(spi, 0);
    }

    /**
     * {@link #provider(Class)}, and null also when the JVM's preferred float vectors have fewer than {@code minBits}
     * bits: for kernels written for wider vectors, which on such a CPU would not be compiled to vector instructions
     * (the block quantizers need 256: a block of 32 floats is four 8-lane vectors).
     */
    public static <T> T provider(Class<T> spi, int minBits) {
        if (disabledReason() != null) {
            return null;
        }
        if (minBits > 0) {
            VectorInfo info = first(VectorInfo.class);
            if (info == null || vectorBits(info) < minBits) {
                return null;
            }
        }
        return first(spi);
    }

    private static <T> T first(Class<T> spi) {
        try {
            Iterator<T> it = ServiceLoader.load(spi, Simd.class.getClassLoader()).iterator();
            return it.hasNext() ? it.next() : null;
        } catch (LinkageError | ServiceConfigurationError e) {
            return null;
        }
    }

    private static int vectorBits(VectorInfo info) {
        try {
            return info.floatBits();
        } catch (LinkageError e) {
            return 0;
        }
    }

    /**
     * One line saying which path runs: {@code "vector: jdk.incubator.vector, 512-bit floats"} or
     * {@code "scalar: <reason>"}.
     */
    public static String describe() {
        String disabled = disabledReason();
        if (disabled != null) {
            return "scalar: " + disabled;
        }
        VectorInfo info = first(VectorInfo.class);
        if (info == null) {
            return "scalar: quant-simd (the vector kernels) is not on the class path";
        }
        int bits = vectorBits(info);
        return bits == 0 ? "scalar: " + MODULE + " failed to load" : "vector: " + MODULE + ", " + bits + "-bit floats";
    }

    /** True when {@link #provider} looks for providers at all (module present, property not {@code false}). */
    public static boolean enabled() {
        return disabledReason() == null;
    }

    private static String disabledReason() {
        if ("false".equalsIgnoreCase(System.getProperty(PROPERTY, ""))) {
            return "-D" + PROPERTY + "=false";
        }
        if (ModuleLayer.boot().findModule(MODULE).isEmpty()) {
            return "the JVM was started without --add-modules " + MODULE;
        }
        return null;
    }

    /** Implemented by quant-simd: the width of the vectors its kernels use, for {@link #describe()}. */
    public interface VectorInfo {
        /** Bits in the preferred float vector (512 on AVX-512, 256 on AVX2). */
        int floatBits();
    }
}
