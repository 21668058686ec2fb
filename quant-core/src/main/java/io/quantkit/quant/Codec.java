package io.quantkit.quant;

import io.quantkit.tensor.Shape;
import io.quantkit.tensor.StoredArray;
import io.quantkit.tensor.Tensor;
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

    /** Rebuilds a tensor from arrays this codec produced (as read back from a file); validates sizes. */
    QuantizedTensor fromArrays(Shape shape, List<StoredArray> arrays);
}
