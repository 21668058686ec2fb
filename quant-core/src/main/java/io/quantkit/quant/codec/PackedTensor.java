package io.quantkit.quant.codec;

import io.quantkit.quant.QuantizedTensor;
import io.quantkit.quant.Scheme;
import io.quantkit.tensor.Shape;
import io.quantkit.tensor.StoredArray;
import java.util.List;

/** Common state of the quantized tensors of this package: scheme, shape and the stored arrays. */
abstract class PackedTensor implements QuantizedTensor {
    private final Scheme scheme;
    private final Shape shape;
    private final List<StoredArray> arrays;

    PackedTensor(Scheme scheme, Shape shape, List<StoredArray> arrays) {
        this.scheme = scheme;
        this.shape = shape;
        this.arrays = List.copyOf(arrays);
    }

    @Override
    public final Scheme scheme() {
        return scheme;
    }

    @Override
    public final Shape shape() {
        return shape;
    }

    @Override
    public final List<StoredArray> arrays() {
        return arrays;
    }

    /** Checks a flat index for {@link #getFloat}. */
    final void checkIndex(long index) {
        if (index < 0 || index >= shape.numel()) {
            throw new IndexOutOfBoundsException("index " + index + " out of range for shape " + shape);
        }
    }

    /** Checks a range for {@link #dequantize}. */
    final void checkRange(long from, float[] dst, int off, int len) {
        if (from < 0 || len < 0 || from + len > shape.numel() || off < 0 || off + len > dst.length) {
            throw new IndexOutOfBoundsException("range [" + from + ", " + (from + len) + ") into dst[" + off
                    + ", " + (off + len) + ") is out of bounds for shape " + shape + " and dst length " + dst.length);
        }
    }
}
