package io.quantkit.quant.ggml;

import java.nio.ByteBuffer;

/**
 * Vector kernels of the fused bf16 → q8_0 / q4_0 loops ({@link BlockFormat#quantizeBf16} of {@link Q8_0Format} and
 * {@link Q4_0Format}), implemented in quant-simd and found through {@link io.quantkit.simd.Simd#provider}; the
 * scalar loops stay the specification.
 *
 * <p>Both methods read {@code 32 * blocks} bf16 values, little-endian, from {@code src} at byte index
 * {@code srcIndex}, and write blocks to {@code dst} from byte index {@code dstIndex} (absolute indexes; neither
 * buffer's position changes). They write blocks in order, each with exactly the bytes of the scalar loop, and return
 * how many they wrote: they stop before a block they leave to the scalar loop, one that holds a NaN or an infinity,
 * whose {@code 1/d} overflows or whose fp16 scale would be infinite. The caller runs that block through
 * {@link BlockFormat#quantizeBf16} (which reports or rejects it) and calls again for the rest.
 */
public interface Bf16BlockSimd {
    /** q8_0 blocks (34 bytes each); see the class comment. */
    int q8_0(ByteBuffer src, int srcIndex, ByteBuffer dst, int dstIndex, int blocks);

    /** q4_0 blocks (18 bytes each); see the class comment. */
    int q4_0(ByteBuffer src, int srcIndex, ByteBuffer dst, int dstIndex, int blocks);
}
