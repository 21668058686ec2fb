package io.quantkit.io.convert;

import io.quantkit.tensor.Shape;

/**
 * What the converter did with one tensor.
 *
 * @param name      tensor name
 * @param input     stored format in the input (F32, BF16, Q4_0, int4 ...)
 * @param output    stored format in the output (a scheme or ggml type name)
 * @param shape     logical shape
 * @param bytesIn   stored bytes in the input
 * @param bytesOut  stored bytes in the output (all arrays)
 * @param rule      the recipe rule that chose the scheme
 * @param fallback  why the output differs from what the rule asked for, or null
 * @param method    how codes were chosen: "rtn" (the scheme's codec), a calibrated method named by the
 *                  {@link Converter.TensorQuantizer} ("gptq", "imatrix", ...), or null for a copy
 */
public record TensorReport(String name, String input, String output, Shape shape, long bytesIn, long bytesOut,
        String rule, String fallback, String method) {

    /** Bits per weight of the output (NaN for an empty tensor). */
    public double bitsPerWeight() {
        long n = shape.numel();
        return n == 0 ? Double.NaN : 8.0 * bytesOut / n;
    }
}
