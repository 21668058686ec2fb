package io.quantkit.quant.ggml;

import io.quantkit.quant.Codecs;
import io.quantkit.quant.Scheme;
import io.quantkit.quant.SchemeKind;
import io.quantkit.tensor.DType;
import io.quantkit.tensor.Shape;
import io.quantkit.tensor.StoredArray;
import io.quantkit.tensor.Tensor;
import java.nio.ByteBuffer;
import java.util.List;

/** Turns raw tensor bytes of a GGUF file into a {@link Tensor}, for every type this package can decode. */
public final class GgmlTensors {
    private GgmlTensors() {
    }

    /** True if {@link #wrap} accepts {@code type}. */
    public static boolean canWrap(GgmlType type) {
        return type == GgmlType.F32 || type == GgmlType.F16 || type == GgmlType.BF16
                || GgmlQuants.canDequantize(type);
    }

    /**
     * Wraps {@code bytes} (position..limit; the caller must not change them afterwards) holding a tensor of
     * {@code type} and {@code shape} (GGUF dimensions reversed: outermost first, rows innermost).
     *
     * <p>F32, F16 and BF16 come back as the dense codec's tensors, and q8_0, q4_0, q4_1, tq1_0, tq2_0, mxfp4 as
     * {@link GgmlQuantizedTensor}s: both are {@link io.quantkit.quant.QuantizedTensor}s carrying their scheme.
     * Other decodable types (Q5_0, Q5_1, K-quants, F64, integers) come back as {@link GgmlTensor}s.
     *
     * @throws IllegalArgumentException if the byte count does not match, or rows do not fit the block size
     * @throws UnsupportedOperationException if {@code type} cannot be decoded here (IQ types, Q8_1)
     */
    public static Tensor wrap(GgmlType type, Shape shape, ByteBuffer bytes) {
        SchemeKind dense = switch (type) {
            case F32 -> SchemeKind.F32;
            case F16 -> SchemeKind.F16;
            case BF16 -> SchemeKind.BF16;
            default -> null;
        };
        if (dense != null) {
            DType dtype = DType.valueOf(type.name());
            return Codecs.forScheme(Scheme.of(dense)).fromArrays(shape, List.of(StoredArray.of("values", dtype, shape,
                    bytes)));
        }
        if (!GgmlQuants.canDequantize(type)) {
            throw new UnsupportedOperationException("decoding ggml " + type.ggmlName() + " tensors is not implemented");
        }
        GgmlTensor t = GgmlTensor.of(type, shape, bytes);
        SchemeKind kind = switch (type) {
            case Q8_0 -> SchemeKind.Q8_0;
            case Q4_0 -> SchemeKind.Q4_0;
            case Q4_1 -> SchemeKind.Q4_1;
            case TQ1_0 -> SchemeKind.TQ1_0;
            case TQ2_0 -> SchemeKind.TQ2_0;
            case MXFP4 -> SchemeKind.MXFP4;
            default -> null;
        };
        return kind == null ? t : new GgmlQuantizedTensor(Scheme.of(kind), t);
    }
}
