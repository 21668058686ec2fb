package io.quantkit.io;

import io.quantkit.tensor.Shape;
import java.util.Objects;

/**
 * Where one tensor of a checkpoint is stored, exactly as the container's header says.
 *
 * @param name       the tensor's name in the file (llama.cpp names for GGUF and llama2.c input)
 * @param format     stored element type: a {@link io.quantkit.tensor.DType} name for dense data ({@code "F32"},
 *                   {@code "BF16"}, {@code "F8_E4M3"}) or a ggml block type name ({@code "Q4_0"})
 * @param shape      sizes, outermost first (GGUF's ne[] reversed: a GGUF {@code [64, 512]} is {@code [512, 64]})
 * @param file       the file holding the data (a shard's name for sharded safetensors)
 * @param offset     absolute byte offset of the data in {@code file}
 * @param byteLength bytes of stored data
 */
public record TensorInfo(String name, String format, Shape shape, String file, long offset, long byteLength) {
    public TensorInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(file, "file");
        if (offset < 0 || byteLength < 0) {
            throw new IllegalArgumentException("negative offset or length for tensor " + name);
        }
    }

    /** Bits of stored data per element (NaN for an empty tensor). */
    public double bitsPerWeight() {
        long n = shape.numel();
        return n == 0 ? Double.NaN : 8.0 * byteLength / n;
    }
}
