package io.quantkit.quant.ggml;

import io.quantkit.simd.Simd;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;

/**
 * Row-level access to ggml's block formats: quantize float rows to the exact bytes of ggml's
 * {@code quantize_row_*_ref}, and decode block bytes as ggml's {@code dequantize_row_*} does.
 *
 * <p>Quantizable: Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, MXFP4, TQ1_0, TQ2_0. Decodable: those plus Q2_K, Q3_K, Q4_K, Q5_K,
 * Q6_K, Q8_K and the plain types F64, I8, I16, I32, I64 (F32, F16 and BF16 go through
 * {@link io.quantkit.quant.codec.DenseCodec}). Stateless and thread-safe.
 */
public final class GgmlQuants {
    private static final Map<GgmlType, BlockFormat> FORMATS = new EnumMap<>(GgmlType.class);
    /** The vector kernels of Q8_0, Q4_0 and Q4_1, or null: the formats then run their scalar loops. */
    static final BlockSimd SIMD = Simd.provider(BlockSimd.class, 256);

    /** A {@link BlockSimd} kernel: the blocks it quantized of {@code x[xo..]} into {@code y[yo..]}. */
    @FunctionalInterface
    interface Kernel {
        int run(float[] x, int xo, byte[] y, int yo, int blocks);
    }

    /** A format's scalar block loop: false if a value was NaN or infinite. */
    @FunctionalInterface
    interface ScalarLoop {
        boolean run(float[] x, int xo, byte[] y, int yo, int blocks);
    }

    /**
     * The blocks of {@code x[xo..]} through a {@link BlockSimd} kernel, each block it leaves through the format's
     * scalar loop (which reports a NaN or an infinity by returning false), then the kernel again after it.
     */
    static boolean quantizeWith(Kernel kernel, ScalarLoop scalar, int blockSize, int blockBytes,
            float[] x, int xo, byte[] y, int yo, int blocks) {
        for (int b = 0; b < blocks; b++) {
            b += kernel.run(x, xo + b * blockSize, y, yo + b * blockBytes, blocks - b);
            if (b < blocks && !scalar.run(x, xo + b * blockSize, y, yo + b * blockBytes, 1)) {
                return false;
            }
        }
        return true;
    }

    static {
        for (BlockFormat f : new BlockFormat[] {
            new Q8_0Format(), new Q4_0Format(), new Q4_1Format(), new Q5_0Format(), new Q5_1Format(),
            new Mxfp4Format(), new Tq1_0Format(), new Tq2_0Format(),
            new KQuantFormats.Q2K(), new KQuantFormats.Q3K(), new KQuantFormats.Q4K(), new KQuantFormats.Q5K(),
            new KQuantFormats.Q6K(), new KQuantFormats.Q8K(),
            new KQuantFormats.Plain(GgmlType.F64), new KQuantFormats.Plain(GgmlType.I8),
            new KQuantFormats.Plain(GgmlType.I16), new KQuantFormats.Plain(GgmlType.I32),
            new KQuantFormats.Plain(GgmlType.I64),
        }) {
            FORMATS.put(f.type(), f);
        }
    }

    private GgmlQuants() {
    }

    /** True if rows can be quantized to {@code type} here. */
    public static boolean canQuantize(GgmlType type) {
        BlockFormat f = FORMATS.get(type);
        return f != null && f.canQuantize();
    }

    /** True if block bytes of {@code type} can be decoded here (F32, F16, BF16 are decoded by DenseCodec). */
    public static boolean canDequantize(GgmlType type) {
        return FORMATS.containsKey(type);
    }

    static BlockFormat format(GgmlType type) {
        BlockFormat f = FORMATS.get(Objects.requireNonNull(type, "type"));
        if (f == null) {
            throw new UnsupportedOperationException("decoding ggml " + type.ggmlName() + " is not implemented");
        }
        return f;
    }

    /**
     * Quantizes {@code n} floats of {@code src} from {@code srcOff} into {@code n / blockSize} blocks at
     * {@code dst[dstOff..]}, byte-identical to ggml's reference quantizer. Like it, a block whose scale (or Q4_1
     * minimum) lies beyond the fp16 range is written with an infinite fp16 field; the schemes' {@link GgmlCodec}
     * rejects such a block instead.
     *
     * @throws IllegalArgumentException if {@code n} is not a multiple of the block size, or a value is NaN or
     *         infinite (the message names its index, counted from {@code srcOff})
     * @throws UnsupportedOperationException if {@code type} cannot be quantized here
     */
    public static void quantize(GgmlType type, float[] src, int srcOff, byte[] dst, int dstOff, int n) {
        BlockFormat f = format(type);
        if (!f.canQuantize()) {
            throw new UnsupportedOperationException("quantizing to ggml " + type.ggmlName() + " is not implemented");
        }
        checkRow(type, n);
        Objects.checkFromIndexSize(srcOff, n, src.length);
        Objects.checkFromIndexSize(dstOff, (int) type.rowBytes(n), dst.length);
        if (!f.quantize(src, srcOff, dst, dstOff, n / type.blockSize())) {
            int bad = firstNonFinite(src, srcOff, n);
            throw new IllegalArgumentException(type.ggmlName() + " cannot quantize " + src[srcOff + bad]
                    + " at index " + bad + ": input must be finite");
        }
    }

    /**
     * Decodes {@code n} values ({@code n / blockSize} blocks at {@code src[srcOff..]}) into {@code dst[dstOff..]},
     * equal to ggml's {@code dequantize_row_*}.
     */
    public static void dequantize(GgmlType type, byte[] src, int srcOff, float[] dst, int dstOff, int n) {
        BlockFormat f = format(type);
        checkRow(type, n);
        Objects.checkFromIndexSize(srcOff, (int) type.rowBytes(n), src.length);
        Objects.checkFromIndexSize(dstOff, n, dst.length);
        f.dequantize(src, srcOff, dst, dstOff, n / type.blockSize());
    }

    private static void checkRow(GgmlType type, int n) {
        if (n < 0 || n % type.blockSize() != 0) {
            throw new IllegalArgumentException("ggml " + type.ggmlName() + " works on whole blocks of "
                    + type.blockSize() + " values; " + n + " is not a multiple of " + type.blockSize());
        }
    }

    /** Index (from {@code off}) of the first NaN or infinite value among {@code n}, or -1. */
    static int firstNonFinite(float[] x, int off, int n) {
        int acc = 0;
        for (int i = 0; i < n; i++) {
            // exponent bits all ones <=> NaN or Inf; OR-reduce a flag without branching
            acc |= ((Float.floatToRawIntBits(x[off + i]) & 0x7f800000) + 0x00800000) & 0x80000000;
        }
        if (acc == 0) {
            return -1;
        }
        for (int i = 0; i < n; i++) {
            if (!Float.isFinite(x[off + i])) {
                return i;
            }
        }
        return -1;
    }
}
