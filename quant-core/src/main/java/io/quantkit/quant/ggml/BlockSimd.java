package io.quantkit.quant.ggml;

/**
 * SIMD kernels for the block quantizers and decoders of Q8_0, Q4_0 and Q4_1 (blocks of 32 floats), found through
 * {@link io.quantkit.simd.Simd#provider}; quant-simd implements it with the Vector API. Each method writes the
 * same bytes as the format's {@code quantizeBlockReference} for the blocks it does, in order from the first, and
 * returns how many it did: it stops before the first block the scalar loop must take, which the caller quantizes
 * with it before calling again. Those blocks are the rare ones: a NaN or an infinity, a scale whose reciprocal
 * overflows (ggml's inf/NaN conversions), and for Q4_0 a block where +a and -a are both the largest magnitude (the
 * first one wins), for Q4_1 a zero minimum or maximum (the first zero's sign is kept).
 */
public interface BlockSimd {

    /** Q8_0 blocks of {@code x[xo..]} into {@code y[yo..]} (34 bytes each); returns the number of blocks written. */
    int quantizeQ8_0(float[] x, int xo, byte[] y, int yo, int blocks);

    /** Q4_0 blocks of {@code x[xo..]} into {@code y[yo..]} (18 bytes each); returns the number of blocks written. */
    int quantizeQ4_0(float[] x, int xo, byte[] y, int yo, int blocks);

    /** Q4_1 blocks of {@code x[xo..]} into {@code y[yo..]} (20 bytes each); returns the number of blocks written. */
    int quantizeQ4_1(float[] x, int xo, byte[] y, int yo, int blocks);

    /**
     * Decodes {@code blocks} Q8_0 blocks of {@code y[yo..]} into {@code x[xo..]}: the same floats, bit for bit, as the
     * format's scalar {@code dequantize}, for every block (NaN and infinite scales included; where a NaN scale and a
     * NaN minimum of Q4_1 meet in an addition the result is a NaN, but Java does not fix whose payload it keeps).
     */
    void dequantizeQ8_0(byte[] y, int yo, float[] x, int xo, int blocks);

    /** Decodes {@code blocks} Q4_0 blocks as {@link #dequantizeQ8_0} does Q8_0 blocks. */
    void dequantizeQ4_0(byte[] y, int yo, float[] x, int xo, int blocks);

    /** Decodes {@code blocks} Q4_1 blocks as {@link #dequantizeQ8_0} does Q8_0 blocks. */
    void dequantizeQ4_1(byte[] y, int yo, float[] x, int xo, int blocks);
}
