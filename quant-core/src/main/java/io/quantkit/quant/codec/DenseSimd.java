package io.quantkit.quant.codec;

/**
 * SIMD kernels for the bf16 and f16 encodings of {@link DenseCodec}, found through
 * {@link io.quantkit.simd.Simd#provider}; quant-simd implements them with the Vector API. Same bits as
 * {@link io.quantkit.format.Bf16#fromFloat} and {@link io.quantkit.format.Fp16#fromFloat} for every float.
 */
public interface DenseSimd {

    /** Writes the bf16 codes of {@code x[xo .. xo+n)}, little-endian, to {@code out[oo .. oo+2n)}. */
    void bf16(float[] x, int xo, byte[] out, int oo, int n);

    /** Writes the f16 codes of {@code x[xo .. xo+n)}, little-endian, to {@code out[oo .. oo+2n)}. */
    void f16(float[] x, int xo, byte[] out, int oo, int n);
}
