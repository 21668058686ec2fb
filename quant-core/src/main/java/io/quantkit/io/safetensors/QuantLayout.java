package io.quantkit.io.safetensors;

import io.quantkit.quant.QuantizedTensor;
import io.quantkit.tensor.Shape;
import io.quantkit.tensor.StoredArray;
import java.util.ArrayList;
import java.util.List;

/**
 * quantkit's layout for quantized tensors inside a standard safetensors file (docs/formats.md).
 *
 * <pre>
 * array 0 of the codec (codes, blocks, values)  → stored as  NAME            with its own dtype and shape
 * role "scales"                                 → stored as  NAME_scale      (compressed-tensors' weight_scale)
 * role "zeros"                                  → stored as  NAME_zero_point (compressed-tensors' weight_zero_point)
 * any other role R (outlier_offset, ...)        → stored as  NAME_R
 * __metadata__ "quantkit.format"      = "2"   (version 1, read too, differs only in int4-outliers' index array)
 * __metadata__ "quantkit.tensor.NAME" = {"scheme":"int4:group=64","shape":[4096,4096],
 *                                        "arrays":[["codes","NAME"],["scales","NAME_scale"]]}
 * </pre>
 * Dense f32/f16/bf16 tensors are stored plainly and get no quantkit entry. Every stored array is a normal
 * safetensors tensor with a standard dtype, so other tools can open the file; an FP8 weight is an F8_E4M3/F8_E5M2
 * tensor under its own name with its float32 scale beside it as {@code <name>_scale}.
 */
public final class QuantLayout {
    public static final String FORMAT_KEY = "quantkit.format";
    /** The layout version written. */
    public static final String FORMAT_VERSION = "2";
    /** Every layout version read: 1 stored int4-outliers' indexes as one I32 array (its codec reads both). */
    public static final java.util.Set<String> READ_VERSIONS = java.util.Set.of("1", "2");
    public static final String TENSOR_PREFIX = "quantkit.tensor.";

    private QuantLayout() {
    }

    /** The stored name of array {@code index} with {@code role} of tensor {@code name}. */
    public static String storedName(String name, int index, String role) {
        if (index == 0) {
            return name;
        }
        return switch (role) {
            case "scales" -> name + "_scale";
            case "zeros" -> name + "_zero_point";
            default -> name + "_" + role;
        };
    }

    /** One stored array of a quantized tensor. */
    public record Part(String role, String storedName, StoredArray array) {
    }

    /** The parts of {@code q}, named. */
    public static List<Part> parts(String name, QuantizedTensor q) {
        List<Part> out = new ArrayList<>();
        List<StoredArray> arrays = q.arrays();
        for (int i = 0; i < arrays.size(); i++) {
            StoredArray a = arrays.get(i);
            out.add(new Part(a.role(), storedName(name, i, a.role()), a));
        }
        return out;
    }

    /** The JSON text of the quantkit.tensor.NAME entry. */
    static String describe(String scheme, Shape shape, List<String[]> roleAndName) {
        StringBuilder sb = new StringBuilder("{\"scheme\":");
        json(sb, scheme);
        sb.append(",\"shape\":[");
        long[] d = shape.dims();
        for (int i = 0; i < d.length; i++) {
            sb.append(i == 0 ? "" : ",").append(d[i]);
        }
        sb.append("],\"arrays\":[");
        for (int i = 0; i < roleAndName.size(); i++) {
            sb.append(i == 0 ? "[" : ",[");
            json(sb, roleAndName.get(i)[0]);
            sb.append(',');
            json(sb, roleAndName.get(i)[1]);
            sb.append(']');
        }
        return sb.append("]}").toString();
    }

    /** Appends {@code s} as a JSON string literal (escaping quotes, backslashes and control characters). */
    static void json(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c < 0x20) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        sb.append('"');
    }
}
