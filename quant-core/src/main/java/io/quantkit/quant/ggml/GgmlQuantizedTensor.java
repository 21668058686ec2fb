package io.quantkit.quant.ggml;

import io.quantkit.quant.QuantizedTensor;
import io.quantkit.quant.Scheme;
import io.quantkit.tensor.DType;
import io.quantkit.tensor.Shape;
import io.quantkit.tensor.StoredArray;
import java.util.List;

/**
 * A tensor in one of our ggml schemes (q8_0, q4_0, q4_1, tq1_0, tq2_0, mxfp4): one stored array, role
 * {@code "blocks"}, dtype U8, shape {@code [rows, bytesPerRow]}, holding ggml's block bytes exactly as in a
 * GGUF file. Immutable and thread-safe.
 */
public final class GgmlQuantizedTensor implements QuantizedTensor {
    /** The role of the single stored array. */
    public static final String ROLE = "blocks";

    private final Scheme scheme;
    private final GgmlTensor tensor;
    private final StoredArray blocks;

    GgmlQuantizedTensor(Scheme scheme, GgmlTensor tensor) {
        this.scheme = scheme;
        this.tensor = tensor;
        Shape s = tensor.shape();
        long rowBytes = tensor.type().rowBytes(s.rowLength());
        this.blocks = StoredArray.of(ROLE, DType.U8, Shape.of(outerRows(s), rowBytes), tensor.bytes());
    }

    /** Rows of a shape: the product of every dimension but the innermost (1 for a vector). */
    static long outerRows(Shape s) {
        long r = 1;
        for (int i = 0; i < s.rank() - 1; i++) {
            r = Math.multiplyExact(r, s.dim(i));
        }
        return r;
    }

    /** The same data as a plain {@link GgmlTensor} (type, bytes). */
    public GgmlTensor ggml() {
        return tensor;
    }

    @Override
    public Scheme scheme() {
        return scheme;
    }

    @Override
    public List<StoredArray> arrays() {
        return List.of(blocks);
    }

    @Override
    public Shape shape() {
        return tensor.shape();
    }

    @Override
    public float getFloat(long index) {
        return tensor.getFloat(index);
    }

    @Override
    public void dequantize(long from, float[] dst, int off, int len) {
        tensor.dequantize(from, dst, off, len);
    }
}
