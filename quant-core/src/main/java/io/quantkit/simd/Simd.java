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
 * scalar code in quant-simd with 512- and 256-bit vectors, and with 128-bit ones, where {@link #provider} does not
 * use them but the tests run them through the Vector API's Java fallback.
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
    /** The narrowest preferred float vector the kernels are used with (a block of 32 floats is 4 of them). */
    public static final int MIN_BITS = 256;

    private Simd() {
    }

    /**
     * The first {@link ServiceLoader} provider of {@code spi}, or null when the vector kernels are off (module not in
     * the boot layer, {@code -Dquantkit.simd=false}, vectors narrower than {@link #MIN_BITS}: on such a CPU the
     * kernels' 256-bit operations would not be compiled to vector instructions), when no provider is on the class
     * path, or when loading one fails (a {@link LinkageError} or {@link ServiceConfigurationError}: the caller then
     * runs its scalar loop).
     */
    public static <T> T provider(Class<T> spi) {
        if (disabledReason() != null) {
            return null;
        }
        VectorInfo info = first(VectorInfo.class);
        if (info == null || widthReason(info) != null) {
            return null;
        }
        return spi == VectorInfo.class ? spi.cast(info) : first(spi);
    }

    private static <T> T first(Class<T> spi) {
        try {
            Iterator<T> it = ServiceLoader.load(spi, Simd.class.getClassLoader()).iterator();
            return it.hasNext() ? it.next() : null;
        } catch (LinkageError | ServiceConfigurationError e) {
            return null;
        }
    }

    /** Why vectors this narrow are not used (null if they are): the kernels work on 256 bits or more. */
    private static String widthReason(VectorInfo info) {
        try {
            int bits = info.floatBits();
            return bits >= MIN_BITS ? null : "the JVM's vectors have " + bits + " bits (the kernels need " + MIN_BITS
                    + " or more)";
        } catch (LinkageError e) {
            return MODULE + " failed to load (" + e + ")";
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
        String narrow = widthReason(info);
        return narrow != null ? "scalar: " + narrow : "vector: " + MODULE + ", " + info.floatBits() + "-bit floats";
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
