package io.quantkit.tensor;

/**
 * One abstraction for dense and quantized tensors: any element can be read as a float, any range can be
 * dequantized in bulk, and the stored size is known exactly.
 *
 * <p>Indexes are flat row-major element indexes ({@code long}). Implementations are immutable and safe to
 * read from several threads.
 */
public interface Tensor {

    Shape shape();

    /**
     * What the elements are stored as: a {@link DType} name for dense tensors ({@code "F32"}, {@code "BF16"})
     * or a canonical scheme string for quantized ones ({@code "int4:group=128,sym"}, {@code "q4_0"}).
     */
    String format();

    /** The element at a flat row-major index, decoded to float32 exactly as the stored format defines it. */
    float getFloat(long index);

    /**
     * Decodes {@code len} elements starting at flat index {@code from} into {@code dst[off..off+len)}.
     * Equal, element for element, to {@link #getFloat}; implementations override it for speed.
     */
    default void dequantize(long from, float[] dst, int off, int len) {
        for (int i = 0; i < len; i++) {
            dst[off + i] = getFloat(from + i);
        }
    }

    /**
     * If this tensor stores its elements as bf16: copies the raw bit patterns of elements
     * {@code [from, from+len)} into {@code dst[off..off+len)} (element i is the float with bits
     * {@code dst[off+i] << 16}) and returns true. Otherwise copies nothing and returns false. Lets bf16 → block
     * quantizers read their input without a float conversion pass.
     */
    default boolean copyBf16Bits(long from, short[] dst, int off, int len) {
        return false;
    }

    /**
     * If this tensor keeps its bf16 elements in a byte buffer (a memory-mapped file): a read-only little-endian view
     * of the {@code 2 * len} bytes of elements {@code [from, from+len)}, position 0, without a copy; otherwise null.
     * Lets vector kernels read the input in place. Whenever it is non-null, {@link #copyBf16Bits} holds the same
     * patterns.
     */
    default java.nio.ByteBuffer bf16Bytes(long from, int len) {
        return null;
    }

    /** Reads a run of float32 elements where they are stored: {@code a[off .. off+len)}. */
    @FunctionalInterface
    interface FloatRun {
        void read(float[] a, int off, int len);
    }

    /**
     * If this tensor holds elements {@code [from, from+len)} as float32 in a heap array: calls {@code run} once with
     * that array and range, without a copy, and returns true; otherwise calls nothing and returns false. {@code run}
     * must only read the array and not keep it. Lets a codec quantize a float tensor without first copying it out
     * (what {@link #dequantize} does); whatever {@code run} throws propagates.
     */
    default boolean readFloats(long from, int len, FloatRun run) {
        return false;
    }

    /** All elements as a new float array; throws if there are more than {@code Integer.MAX_VALUE - 8}. */
    default float[] toFloatArray() {
        long n = shape().numel();
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("tensor of " + n + " elements does not fit in one float array");
        }
        float[] out = new float[(int) n];
        dequantize(0, out, 0, out.length);
        return out;
    }

    /** Bytes of stored data: codes plus every scale, zero point, index and outlier value. */
    long storageBytes();

    /** {@code 8 * storageBytes / numel}: bits per weight, counting everything stored. NaN for an empty tensor. */
    default double bitsPerWeight() {
        long n = shape().numel();
        return n == 0 ? Double.NaN : 8.0 * storageBytes() / n;
    }
}
