package io.quantkit.quant;

import io.quantkit.tensor.StoredArray;
import io.quantkit.tensor.Tensor;
import java.util.List;

/**
 * A tensor stored in a quantized scheme. Its stored arrays ({@link #arrays()}) are everything needed to
 * decode it; {@link Tensor#storageBytes()} is the sum of their sizes.
 */
public interface QuantizedTensor extends Tensor {

    Scheme scheme();

    /** The stored arrays, in a fixed order defined by the scheme's codec. */
    List<StoredArray> arrays();

    @Override
    default String format() {
        return scheme().toString();
    }

    @Override
    default long storageBytes() {
        long n = 0;
        for (StoredArray a : arrays()) {
            n += a.byteSize();
        }
        return n;
    }
}
