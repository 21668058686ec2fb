package io.quantkit.io.gguf;

import io.quantkit.io.MappedFile;
import io.quantkit.io.TensorInfo;
import io.quantkit.quant.ggml.GgmlTensors;
import io.quantkit.quant.ggml.GgmlType;
import io.quantkit.tensor.Tensor;

/** Tensor views of ggml block-quantized data over the mapped file; decoding is {@link GgmlTensors}'. */
final class GgmlBlockViews {
    private GgmlBlockViews() {
    }

    static Tensor view(TensorInfo info, MappedFile file) {
        GgmlType t = GgmlType.fromName(info.format());
        if (t == null) {
            throw new IllegalArgumentException("tensor " + info.name() + " has unknown format " + info.format());
        }
        if (info.byteLength() > Integer.MAX_VALUE) {
            throw new UnsupportedOperationException("tensor " + info.name() + " (" + info.format() + ", "
                    + info.byteLength() + " bytes) is larger than one 2 GiB view of block data");
        }
        return GgmlTensors.wrap(t, info.shape(),
                file.slice(info.offset(), (int) info.byteLength()));
    }
}
