package io.quantkit.quant;

import io.quantkit.quant.codec.DenseCodec;
import io.quantkit.quant.codec.Fp8Codec;
import io.quantkit.quant.codec.IntCodec;
import io.quantkit.quant.codec.Nf4Codec;
import io.quantkit.quant.codec.OutlierCodec;
import io.quantkit.quant.codec.TernaryCodec;

/** The one place that maps a scheme to its codec (an exhaustive switch: a new kind fails to compile here). */
public final class Codecs {
    private Codecs() {
    }

    /** The codec for {@code scheme}. */
    public static Codec forScheme(Scheme scheme) {
        return switch (scheme.kind()) {
            case F32, BF16, F16 -> new DenseCodec(scheme);
            case FP8_E4M3, FP8_E5M2 -> new Fp8Codec(scheme);
            case INT, INT8, INT4 -> new IntCodec(scheme);
            case INT4_OUTLIERS -> new OutlierCodec(scheme);
            case TERNARY -> new TernaryCodec(scheme);
            case MXFP4 -> new io.quantkit.quant.ggml.GgmlCodec(scheme);
            case NF4 -> new Nf4Codec(scheme);
            case Q8_0 -> new io.quantkit.quant.ggml.GgmlCodec(scheme);
            case Q4_0 -> new io.quantkit.quant.ggml.GgmlCodec(scheme);
            case Q4_1 -> new io.quantkit.quant.ggml.GgmlCodec(scheme);
            case TQ1_0 -> new io.quantkit.quant.ggml.GgmlCodec(scheme);
            case TQ2_0 -> new io.quantkit.quant.ggml.GgmlCodec(scheme);
        };
    }
}
