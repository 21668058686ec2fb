package io.quantkit.quant.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.quantkit.format.Bf16;
import io.quantkit.format.Fp16;
import io.quantkit.quant.QuantizedTensor;
import io.quantkit.quant.Scheme;
import io.quantkit.quant.SchemeKind;
import io.quantkit.tensor.FloatTensor;
import io.quantkit.tensor.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The dense codecs' bulk loops against the scalar conversions in {@code format/} (the specification). */
class DenseCodecTest {
    private static final long SEED = 20261201L;

    /** Every bf16 code as the high half, with the low halves where rounding decides (ties, just above and below). */
    @Test
    void branchFreeBf16RoundingEqualsFromFloat() {
        SplittableRandom rnd = new SplittableRandom(SEED);
        int[] lows = {0, 1, 0x7fff, 0x8000, 0x8001, 0xffff, 0, 0};
        int[] bits = new int[65536 * lows.length];
        for (int h = 0; h < 65536; h++) {
            lows[6] = rnd.nextInt(0x10000);
            lows[7] = rnd.nextInt(0x10000);
            for (int k = 0; k < lows.length; k++) {
                bits[h * lows.length + k] = h << 16 | lows[k];
            }
        }
        int[] got = bits.clone();
        DenseCodec.bf16Bits(got, got.length);
        for (int i = 0; i < bits.length; i++) {
            short want = Bf16.fromFloat(Float.intBitsToFloat(bits[i]));
            if ((short) got[i] != want) {
                assertEquals(want, (short) got[i], String.format("bits %08x (seed %d)", bits[i], SEED));
            }
        }
    }

    enum Half {
        BF16, F16
    }

    /**
     * Lengths that fit no lane or chunk, special values included: the stored codes are the scalar encoder's, and
     * any range decodes bit for bit as the scalar decoder does.
     */
    @ParameterizedTest
    @EnumSource(Half.class)
    void bulkEncodeAndDecodeEqualTheScalarConversions(Half half) {
        SplittableRandom rnd = new SplittableRandom(SEED + half.ordinal());
        float[] special = {Float.NaN, Float.intBitsToFloat(0xffc00001), Float.intBitsToFloat(0x7f800001),
            Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, Float.MIN_VALUE, -Float.MIN_NORMAL,
            Float.MAX_VALUE, Float.intBitsToFloat(0x7f7f8000), Float.intBitsToFloat(0x3f808000), 65504f, 65520f,
            -65519.99f, 0x1p-24f, 0x1p-25f, 1.00048828125f};
        for (int n : new int[] {0, 1, 31, 33, 1021, (1 << 14) + 5, 3 << 14}) {
            float[] x = new float[n];
            for (int i = 0; i < n; i++) {
                x[i] = rnd.nextInt(4) == 0 ? special[rnd.nextInt(special.length)]
                        : (float) (rnd.nextGaussian() * Math.scalb(1.0, rnd.nextInt(-30, 30)));
            }
            DenseCodec c = new DenseCodec(Scheme.of(SchemeKind.valueOf(half.name())));
            QuantizedTensor q = c.quantize(FloatTensor.of(Shape.of(n), x));
            ByteBuffer stored = q.arrays().get(0).data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < n; i++) {
                short want = half == Half.BF16 ? Bf16.fromFloat(x[i]) : Fp16.fromFloat(x[i]);
                short got = stored.getShort(2 * i);
                if (got != want) {
                    assertEquals(want, got, half + " n=" + n + " index " + i + " value " + x[i] + " seed " + SEED);
                }
            }
            int from = n > 3 ? 3 : 0;
            int len = n - from - (n > 7 ? 2 : 0);
            float[] dst = new float[len + 2];
            q.dequantize(from, dst, 1, len);
            for (int i = 0; i < len; i++) {
                short code = stored.getShort(2 * (from + i));
                float want = half == Half.BF16 ? Bf16.toFloat(code) : Fp16.toFloat(code);
                assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(dst[1 + i]),
                        half + " n=" + n + " decode at " + (from + i));
            }
            assertEquals(0, Float.floatToRawIntBits(dst[0]), "wrote before the range");
            assertEquals(0, Float.floatToRawIntBits(dst[len + 1]), "wrote past the range");
        }
    }
}
