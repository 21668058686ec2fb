package io.quantkit.eval;

import io.quantkit.model.LlamaWeights;
import io.quantkit.quant.Scheme;
import io.quantkit.quant.SchemeKind;
import io.quantkit.tensor.Tensor;

/**
 * Which tensors a comparison quantizes, and with what, for a requested scheme. It mirrors what llama.cpp's
 * {@code llama-quantize} does for a file type, so that our figures can be set beside llama.cpp's:
 * <ul>
 *   <li>Only 2-D weights are quantized; 1-D norms stay float32.</li>
 *   <li>The token embedding is quantized with the scheme like any other weight.</li>
 *   <li>For the ggml block types, the classifier ({@code output.weight}) gets llama.cpp's choice: {@code q8_0}
 *       for q8_0 and for every other block type (llama.cpp asks for Q6_K, which falls back to Q8_0 when rows are
 *       not a multiple of 256, as in stories260K; we have no Q6_K quantizer). For our own schemes the
 *       classifier takes the scheme.</li>
 *   <li>A tensor whose rows the scheme cannot store (e.g. q4_0 with rows of 172) falls back as llama.cpp does:
 *       tq1_0/tq2_0 to q4_0, then to f16 when still incompatible.</li>
 * </ul>
 */
public final class QuantPolicy {
    private QuantPolicy() {
    }

    /** Whether a comparison quantizes this tensor at all (2-D weights). */
    public static boolean quantizes(String name, Tensor t) {
        return t.shape().rank() == 2 && name.endsWith(".weight") && !name.endsWith("_norm.weight");
    }

    /** The scheme the tensor {@code name} gets when {@code requested} is compared (before shape fallbacks). */
    public static Scheme target(String name, Scheme requested) {
        if (name.equals(LlamaWeights.OUTPUT) && isGgml(requested.kind())) {
            return Scheme.of(SchemeKind.Q8_0);
        }
        return requested;
    }

    /** The next scheme to try when {@code failed} cannot store a tensor, or null when there is none left. */
    public static Scheme fallback(Scheme failed) {
        return switch (failed.kind()) {
            case TQ1_0, TQ2_0 -> Scheme.of(SchemeKind.Q4_0);
            case F16, F32 -> null;
            default -> Scheme.of(SchemeKind.F16);
        };
    }

    static boolean isGgml(SchemeKind k) {
        return switch (k) {
            case Q8_0, Q4_0, Q4_1, TQ1_0, TQ2_0, MXFP4 -> true;
            default -> false;
        };
    }
}
