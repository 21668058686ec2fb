package io.quantkit.quant;

import io.quantkit.tensor.Shape;
import io.quantkit.tensor.StoredArray;
import io.quantkit.tensor.Tensor;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * How one scheme turns float weights into stored arrays and back. One implementation per format.
 *
 * <p>Rows are the innermost dimension ({@link Shape#rowLength()}); for a 2-D weight {@code [out, in]}
 * a row is one output channel and groups run along the input dimension.
 */
public interface Codec {

    Scheme scheme();

    /**
     * Quantizes {@code source}. Throws {@link IllegalArgumentException} for NaN or infinite input (unless
     * the scheme documents saturation) and for shapes the scheme cannot store.
     */
    QuantizedTensor quantize(Tensor source);

    /**
     * Bytes that {@link #quantizeInto(float[], int, int, byte[], int)} writes for {@code count} values: the size of
     * the one stored array of a tensor of {@code count} elements. Defined for the codecs whose storage is one array in
     * element order ({@code f32 bf16 f16} and the ggml block types {@code q8_0 q4_0 q4_1 tq1_0 tq2_0 mxfp4}); the
     * others store scales, zero points or outliers in arrays of their own and throw.
     *
     * @throws IllegalArgumentException if {@code count} is negative, not a whole number of blocks, or too large for
     *         one array
     * @throws UnsupportedOperationException if this codec's storage is not one array in element order
     */
    default int intoBytes(long count) {
        throw notOneArray();
    }

    /**
     * Quantizes {@code count} values of {@code src} from {@code srcOff} into the caller's {@code dst} from
     * {@code dstOff}, without allocating: the bytes {@link #quantize} stores for a tensor holding those values (for
     * the ggml block types, of any shape whose rows are whole blocks: blocks do not cross rows), checked as
     * {@link #quantize} checks them, with the same messages (an index in one counts from {@code srcOff}). This is
     * the counterpart of ggml's {@code quantize_row_*}, which also writes into the caller's buffer. Thread-safe; the
     * caller must not change {@code src} or read {@code dst} during the call.
     *
     * @return the bytes written, {@link #intoBytes intoBytes(count)}
     * @throws IllegalArgumentException for NaN or infinite input (unless the scheme keeps or saturates it, as
     *         {@link #quantize} documents) or a count that is not a whole number of blocks; what was written into
     *         {@code dst} before the error is unspecified
     * @throws IndexOutOfBoundsException if the range of {@code src} or of {@code dst} is out of bounds
     * @throws UnsupportedOperationException if this codec's storage is not one array in element order
     */
    default int quantizeInto(float[] src, int srcOff, int count, byte[] dst, int dstOff) {
        throw notOneArray();
    }

    /**
     * Quantizes {@code source} into {@code dst} from its position on, which advances by the bytes written: the
     * bytes of the one array {@link #quantize} stores, into a heap or a direct buffer, so a streaming writer can
     * hand a reused buffer to its channel without a copy. Checks and throws as {@link #quantize} does (what was
     * written before an error is unspecified).
     *
     * @throws java.nio.BufferOverflowException if {@code dst} has fewer bytes remaining than the array needs
     * @throws UnsupportedOperationException if this codec's storage is not one array in element order
     */
    default void quantizeInto(Tensor source, ByteBuffer dst) {
        throw notOneArray();
    }

    private UnsupportedOperationException notOneArray() {
        return new UnsupportedOperationException(scheme().kind().cliName() + " stores more than one array (codes and"
                + " their scales); quantizing into a caller's buffer needs a scheme stored as one array in element"
                + " order (f32, bf16, f16, q8_0, q4_0, q4_1, tq1_0, tq2_0, mxfp4)");
    }

    /** Rebuilds a tensor from arrays this codec produced (as read back from a file); validates sizes. */
    QuantizedTensor fromArrays(Shape shape, List<StoredArray> arrays);
}
