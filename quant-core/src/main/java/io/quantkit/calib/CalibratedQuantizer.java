package io.quantkit.calib;

import io.quantkit.quant.Codecs;
import io.quantkit.quant.QuantizedTensor;
import io.quantkit.quant.Scheme;
import io.quantkit.quant.SchemeKind;
import io.quantkit.quant.codec.OutlierCodec;
import io.quantkit.tensor.Shape;
import io.quantkit.tensor.Tensor;
import java.util.Objects;

/**
 * Quantizes one weight with calibration statistics, writing the ordinary stored layout of the scheme (so files
 * stay readable by every tool that reads the scheme; q4_0 and q4_1 output remain valid ggml blocks).
 *
 * <ul>
 * <li>{@link Method#RTN}: the scheme's own codec (int4-outliers with select=saliency or select=error uses the
 *     profile's importance to choose the outliers, {@link #selector}).</li>
 * <li>{@link Method#IMATRIX}: per group, the scale minimising Σ imp_j·(w_j − q_j·s)² with imp the input
 *     channel's mean x² ({@link GridTarget#searchScale}); for q4_1 the pair (d, m) minimising
 *     Σ imp_j·(w_j − (q_j·d + m))² ({@link GridTarget#searchAffine}).</li>
 * <li>{@link Method#GPTQ}: {@link Gptq} with H = 2·E[x xᵀ], group scales by the weighted search.</li>
 * </ul>
 * int4-outliers: outliers chosen first (by the scheme's select: magnitude, saliency or error), removed (set to
 * 0), the rest quantized by the method, the outliers stored as {@link OutlierCodec} stores them: their own value,
 * or with GPTQ their compensated target when GPTQ reaches them (f16), and the group scales set by the rest
 * (also with act-order).
 * Without statistics (e.g. the token embedding, which has no input activations) IMATRIX and GPTQ fall back to
 * an unweighted (MSE-optimal) scale search, and the outlier choice to uniform importance (select=saliency then
 * orders like magnitude).
 */
public final class CalibratedQuantizer {
    private CalibratedQuantizer() {
    }

    /**
     * The outlier selector the scheme's select names: magnitude (|w|), saliency (imp·w²) or error (the greedy
     * importance-weighted squared grid error removed, {@link io.quantkit.quant.ErrorGainSelector}); without
     * statistics importance is uniform (saliency then orders like magnitude).
     */
    static io.quantkit.quant.OutlierSelector selector(Scheme scheme, TensorStats stats) {
        double[] imp = stats == null ? null : stats.importance();
        return switch (scheme.param("select")) {
            case "saliency" -> imp == null ? io.quantkit.quant.OutlierSelector.byMagnitude() : SaliencySelector.of(imp);
            case "error" -> io.quantkit.quant.ErrorGainSelector.of(imp, scheme.intParam("group"));
            default -> io.quantkit.quant.OutlierSelector.byMagnitude();
        };
    }

    /** Quantizes {@code source} (a 2-D weight {@code [out, in]}); {@code stats} may be null. */
    public static QuantizedTensor quantize(Tensor source, Scheme scheme, Method method, TensorStats stats,
                                           boolean actOrder) {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(method, "method");
        Shape shape = source.shape();
        if (stats != null && (shape.rank() != 2 || shape.dim(1) != stats.width())) {
            throw new IllegalArgumentException("calibration statistics of width " + stats.width()
                    + " do not fit a tensor of shape " + shape);
        }
        boolean outliers = scheme.kind() == SchemeKind.INT4_OUTLIERS;
        io.quantkit.quant.OutlierSelector selector = outliers ? selector(scheme, stats) : null;
        if (method == Method.RTN) {
            if (outliers) {
                return new OutlierCodec(scheme, selector).quantize(source);
            }
            return Codecs.forScheme(scheme).quantize(source);
        }
        GridTarget target = GridTarget.of(scheme);
        float[] w = source.toFloatArray();
        for (float v : w) {
            if (!Float.isFinite(v)) {
                throw new IllegalArgumentException(scheme + " cannot quantize " + v + ": input must be finite");
            }
        }
        int cols = (int) shape.rowLength();
        int rows = cols == 0 ? 0 : (int) (shape.numel() / cols);
        int[] outIdx = null;
        float[] outVal = null;
        if (outliers) {
            int k = new OutlierCodec(scheme, selector).outlierCount(shape); // the budget does not depend on select
            outIdx = selector.select(w, shape, k);
            outVal = new float[k];
            for (int j = 0; j < k; j++) {
                outVal[j] = w[outIdx[j]];
                w[outIdx[j]] = 0;
            }
        }
        int g = target.group(cols);
        int groups = cols == 0 ? 0 : (cols + g - 1) / g;
        int[] q;
        float[] scales;
        float[] offsets = null;
        if (target.affine) {
            q = new int[w.length];
            scales = new float[rows * groups];
            offsets = new float[rows * groups];
            if (method == Method.GPTQ && stats != null) {
                Gptq.Result r = Gptq.run(target, w, rows, cols, stats.gram(), actOrder, true, null);
                q = r.q();
                scales = r.scales();
                offsets = r.offsets();
            } else {
                double[] imp = stats == null ? null : stats.importance();
                for (int r = 0; r < rows; r++) {
                    for (int k = 0; k < groups; k++) {
                        int off = r * cols + k * g;
                        float[] dm = target.searchAffine(w, off, g, imp, k * g);
                        scales[r * groups + k] = dm[0];
                        offsets[r * groups + k] = dm[1];
                        for (int j = 0; j < g; j++) {
                            q[off + j] = target.quantizeAffine(w[off + j], dm[0], dm[1]);
                        }
                    }
                }
            }
        } else if (method == Method.GPTQ && stats != null) {
            float[] exact = null;
            if (outIdx != null) {
                exact = new float[w.length];
                java.util.Arrays.fill(exact, Float.NaN);
                for (int j = 0; j < outIdx.length; j++) {
                    exact[outIdx[j]] = outVal[j];
                    w[outIdx[j]] = outVal[j]; // GPTQ starts from the true weight; its residual is spread
                }
            }
            Gptq.Result r = Gptq.run(target, w, rows, cols, stats.gram(), actOrder, true, exact);
            q = r.q();
            scales = r.scales();
            if (outIdx != null) {
                for (int j = 0; j < outIdx.length; j++) {
                    outVal[j] = exact[outIdx[j]]; // the compensated value GPTQ stored
                }
            }
        } else {
            double[] imp = stats == null ? null : stats.importance();
            q = new int[w.length];
            scales = new float[rows * groups];
            for (int r = 0; r < rows; r++) {
                for (int k = 0; k < groups; k++) {
                    int off = r * cols + k * g;
                    int len = Math.min(g, cols - k * g);
                    float s = target.searchScale(w, off, len, imp, k * g);
                    scales[r * groups + k] = s;
                    for (int j = 0; j < len; j++) {
                        q[off + j] = target.quantize(w[off + j], s);
                    }
                }
            }
        }
        if (outIdx != null) {
            for (int idx : outIdx) {
                q[idx] = 0;
            }
        }
        return target.build(shape, q, scales, offsets, outIdx, outVal);
    }
}
