package io.quantkit.io.gguf;

import io.quantkit.io.MappedFile;
import io.quantkit.io.TensorInfo;
import io.quantkit.tensor.Tensor;

/** Tensor views of ggml block-quantized data; the decoding itself lives in {@code io.quantkit.quant.ggml}. */
final class GgmlBlockViews {
    private GgmlBlockViews() {
    }

    static Tensor view(TensorInfo info, MappedFile file) {
        throw new UnsupportedOperationException("decoding " + info.format() + " tensors (" + info.name()
                + ") needs the ggml block codecs, which are not available yet");
    }
}
