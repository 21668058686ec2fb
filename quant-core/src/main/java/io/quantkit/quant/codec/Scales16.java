package io.quantkit.quant.codec;

import io.quantkit.format.Bf16;
import io.quantkit.format.Fp16;
import io.quantkit.tensor.DType;
import io.quantkit.tensor.Shape;
import io.quantkit.tensor.StoredArray;
import java.nio.ByteBuffer;

/**
 * 16-bit storage of non-negative scales, rounded <em>up</em> so that a group's largest magnitude still maps
 * inside its integer grid (stored scale ≥ exact scale, so nothing is clipped by the scale's own rounding).
 *
 * <p>The whole tensor uses F16 when every scale is at most {@value #F16_MAX} (the largest finite binary16),
 * else BF16 (8 exponent bits; larger range, 8 significant bits instead of 11). The choice is visible as the
 * dtype of the stored array, and decoding accepts either.
 */
final class Scales16 {
    static final float F16_MAX = 65504f;

    private Scales16() {
    }

    /** F16 if every value fits in binary16, else BF16. */
    static DType choose(float[] raw) {
        for (float s : raw) {
            if (s > F16_MAX) {
                return DType.BF16;
            }
        }
        return DType.F16;
    }

    /** Rounds {@code raw[i] ≥ 0} up to {@code dtype}, in place; throws if a value exceeds BF16's range. */
    static void roundUp(float[] raw, DType dtype) {
        for (int i = 0; i < raw.length; i++) {
            raw[i] = roundUp(raw[i], dtype);
        }
    }

    /** The smallest {@code dtype} value ≥ {@code x} (x finite and ≥ 0). */
    static float roundUp(float x, DType dtype) {
        if (dtype == DType.F16) {
            short h = Fp16.fromFloat(x);
            float v = Fp16.toFloat(h);
            return v >= x ? v : Fp16.toFloat((short) (h + 1));
        }
        short h = Bf16.fromFloat(x);
        float v = Bf16.toFloat(h);
        if (v < x) {
            v = Bf16.toFloat((short) (h + 1));
        }
        if (!Float.isFinite(v)) {
            throw new IllegalArgumentException("scale " + x + " exceeds the largest bf16 value");
        }
        return v;
    }

    /** Stores already-rounded scales. */
    static StoredArray store(String role, float[] scales, DType dtype, Shape shape) {
        ByteBuffer b = CodecSupport.allocate(2L * scales.length);
        for (float s : scales) {
            b.putShort(dtype == DType.F16 ? Fp16.fromFloat(s) : Bf16.fromFloat(s));
        }
        b.flip();
        return StoredArray.of(role, dtype, shape, b);
    }

    /** Decodes a stored F16 or BF16 array. */
    static float[] load(StoredArray a) {
        ByteBuffer b = a.data();
        float[] out = new float[Math.toIntExact(a.shape().numel())];
        boolean f16 = a.dtype() == DType.F16;
        for (int i = 0; i < out.length; i++) {
            short h = b.getShort(2 * i);
            out[i] = f16 ? Fp16.toFloat(h) : Bf16.toFloat(h);
        }
        return out;
    }
}
