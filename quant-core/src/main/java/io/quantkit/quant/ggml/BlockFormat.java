package io.quantkit.quant.ggml;

import java.nio.ByteBuffer;

/**
 * One ggml block format: how a block of {@link GgmlType#blockSize()} floats becomes {@link GgmlType#blockBytes()}
 * bytes and back.
 *
 * <p>{@link #decode} (one element, straight from the block bytes) and {@link #quantizeBlockReference} (a literal
 * scalar transcription of ggml's {@code quantize_row_*_ref} for one block) are the specification. {@link #quantize}
 * and {@link #dequantize} are the fast loops; tests check them against the specification.
 */
interface BlockFormat {

    GgmlType type();

    /** True if this format can quantize (not only decode). */
    boolean canQuantize();

    /**
     * Quantizes one block of {@code x[xo .. xo+blockSize)} into {@code y[yo .. yo+blockBytes)}, literally as
     * ggml's reference quantizer does (its C float arithmetic, rounding and x86 conversion behaviour).
     * Input must be finite.
     */
    void quantizeBlockReference(float[] x, int xo, byte[] y, int yo);

    /**
     * Quantizes {@code blocks} consecutive blocks; for finite input the same bytes as
     * {@link #quantizeBlockReference}. The fast loops find a NaN or infinity in the scan they make for the block
     * scale anyway, so the caller needs no separate pass over the input.
     *
     * @return true if every value was finite; false if one was NaN or infinite (the caller finds which, and the
     *         bytes written so far are unspecified)
     */
    default boolean quantize(float[] x, int xo, byte[] y, int yo, int blocks) {
        int bs = type().blockSize();
        int bb = type().blockBytes();
        if (GgmlQuants.firstNonFinite(x, xo, blocks * bs) >= 0) {
            return false;
        }
        for (int b = 0; b < blocks; b++) {
            quantizeBlockReference(x, xo + b * bs, y, yo + b * bb);
        }
        return true;
    }

    /**
     * {@link #quantize} for bf16 input given as bit patterns: value i is the float with bits {@code s[so+i] << 16}.
     * The same bytes and the same result as converting to float and calling {@link #quantize}, which is what this
     * default does, a block at a time through {@code scratch} (at least one block long); formats with a fused loop
     * override it.
     */
    default boolean quantizeBf16(short[] s, int so, float[] scratch, byte[] y, int yo, int blocks) {
        int bs = type().blockSize();
        int bb = type().blockBytes();
        for (int b = 0; b < blocks; b++) {
            bf16ToFloat(s, so + b * bs, scratch, 0, bs);
            if (!quantize(scratch, 0, y, yo + b * bb, 1)) {
                return false;
            }
        }
        return true;
    }

    /** {@code x[xo+i] = } the float with bits {@code s[so+i] << 16}, for i &lt; n. */
    static void bf16ToFloat(short[] s, int so, float[] x, int xo, int n) {
        for (int i = 0; i < n; i++) {
            x[xo + i] = Float.intBitsToFloat(s[so + i] << 16);
        }
    }

    /**
     * Element {@code j} (0 ≤ j &lt; blockSize) of the block starting at byte {@code p} of {@code buf}
     * (little-endian), decoded exactly as ggml's {@code dequantize_row_*} computes it.
     */
    float decode(ByteBuffer buf, int p, int j);

    /** Decodes {@code blocks} consecutive blocks of {@code y} into {@code x}; equal to {@link #decode}. */
    void dequantize(byte[] y, int yo, float[] x, int xo, int blocks);
}
