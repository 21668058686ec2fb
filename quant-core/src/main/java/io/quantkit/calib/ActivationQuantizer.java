package io.quantkit.calib;

import io.quantkit.format.Fp8Format;
import io.quantkit.format.Overflow;
import io.quantkit.model.InputQuantizer;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Fake quantization of linear-layer inputs for {@link io.quantkit.model.LlamaModel#withInputQuantizer}.
 *
 * <pre>
 * static, per tensor (scale s = T / qmax from an observer's threshold T):
 *   int8      y = clamp(rint(x · (1/s)), −127, 127) · s       (float32 steps, as PyTorch's
 *                                                            fake_quantize_per_tensor_affine with zero point 0)
 *   fp8-e4m3  y = e4m3(x · (1/s)) · s                        (round to nearest even, saturating at ±448)
 * dynamic, per token (row): k = qmax / max|x_row|, y = q(x · k) / k with q as above (rint, or e4m3); a row of
 *   zeros stays zero (BitNet b1.58's and LLM.int8()'s absmax activation quantization)
 * </pre>
 * A static scale of 0 (an input that was all zeros in calibration) maps everything to 0. Immutable, thread-safe.
 */
public final class ActivationQuantizer implements InputQuantizer {
    private final ActivationScheme.Format format;
    private final Map<String, Float> scales; // null: dynamic

    private ActivationQuantizer(ActivationScheme.Format format, Map<String, Float> scales) {
        if (format == ActivationScheme.Format.NONE) {
            throw new IllegalArgumentException("activation format 'none' has no quantizer");
        }
        this.format = format;
        this.scales = scales;
    }

    /** Per-token absmax scales computed at run time. */
    public static ActivationQuantizer dynamic(ActivationScheme.Format format) {
        return new ActivationQuantizer(format, null);
    }

    /** One static scale per tensor name; a tensor without a scale is refused when the model reaches it. */
    public static ActivationQuantizer perTensor(ActivationScheme.Format format, Map<String, Float> scales) {
        return new ActivationQuantizer(format, new TreeMap<>(Objects.requireNonNull(scales, "scales")));
    }

    /**
     * The static scales an observer picks: {@code s = T / qmax} for the threshold of {@code scheme} on each
     * tensor's statistics.
     */
    public static ActivationQuantizer fromStats(ActivationScheme scheme, Map<String, ActivationStats> stats) {
        Map<String, Float> s = new TreeMap<>();
        for (Map.Entry<String, ActivationStats> e : stats.entrySet()) {
            s.put(e.getKey(), (float) (e.getValue().threshold(scheme) / scheme.format().qmax()));
        }
        return perTensor(scheme.format(), s);
    }

    public ActivationScheme.Format format() {
        return format;
    }

    /** The static scales by tensor (empty for dynamic). */
    public Map<String, Float> scales() {
        return scales == null ? Map.of() : java.util.Collections.unmodifiableMap(scales);
    }

    /** One value through the static fake quantizer of {@code format} with scale {@code s}. */
    public static float fakeQuant(float x, float s, ActivationScheme.Format format) {
        if (s == 0f) {
            return 0f;
        }
        float inv = 1f / s;
        return switch (format) {
            case INT8 -> Math.max(-127f, Math.min(127f, (float) Math.rint(x * inv))) * s;
            case FP8_E4M3 -> Fp8Format.E4M3.round(x * inv, Overflow.SATURATE) * s;
            case NONE -> x;
        };
    }

    @Override
    public void quantize(String tensor, float[] x, float[] out, int rows, int width) {
        int n = rows * width;
        if (scales != null) {
            Float s = scales.get(tensor);
            if (s == null) {
                throw new IllegalArgumentException("no activation scale for tensor '" + tensor + "'");
            }
            float sc = s;
            for (int i = 0; i < n; i++) {
                out[i] = fakeQuant(x[i], sc, format);
            }
            return;
        }
        float qmax = format.qmax();
        for (int r = 0; r < rows; r++) {
            int o = r * width;
            float amax = 0f;
            for (int j = 0; j < width; j++) {
                amax = Math.max(amax, Math.abs(x[o + j]));
            }
            if (amax == 0f) {
                System.arraycopy(x, o, out, o, width);
                continue;
            }
            float k = qmax / amax;
            for (int j = 0; j < width; j++) {
                float v = x[o + j] * k;
                float q = format == ActivationScheme.Format.INT8 ? (float) Math.rint(v)
                        : Fp8Format.E4M3.round(v, Overflow.SATURATE);
                out[o + j] = q / k;
            }
        }
    }
}
