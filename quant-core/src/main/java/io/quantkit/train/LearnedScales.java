package io.quantkit.train;

import io.quantkit.format.Fp16;
import io.quantkit.quant.Scheme;
import io.quantkit.quant.SchemeKind;
import java.util.ArrayList;
import java.util.List;

/**
 * Learned step sizes (LSQ, Esser et al. 2020) for the symmetric integer tensors of a {@link FakeQuant}: one learnable
 * scale per group of {@code group} weights of a row, started at the scale post-training quantization picks
 * ({@code max|w| / qmax}).
 *
 * <pre>
 * forward, per group (qmax = 2^(b-1) − 1, n weights):
 *   s  ← min(s, max|w| / qmax)          projection: the learned scale may clip the range, never widen it
 *   s' = up16(s)                         the scale as stored (smallest F16 ≥ s), as IntCodec stores it
 *   r  = round_half_even(w / s'),  q = clamp(r, −qmax, qmax),  ŵ = q·s'
 * backward (the straight-through surrogate ŵ(s) = s·clamp(w/s + c, −qmax, qmax), c = r − w/s frozen):
 *   ∂ŵ/∂w = 1 where |r| ≤ qmax, else 0
 *   ∂ŵ/∂s = r − w/s' where |r| ≤ qmax, else ±qmax (the clamped side)
 *   ∂L/∂s = g · Σ ∂L/∂ŵ · ∂ŵ/∂s,   g = 1 / √(n · qmax)   (LSQ's gradient scale)
 * </pre>
 * The code −2^(b-1) is not used, so a group's largest code is ±qmax and the scale {@code up16} stores is exactly
 * {@code s'}: quantizing ŵ with the scheme's codec gives back the same codes and scale, and the trained model can be
 * saved in the scheme's real storage. Only symmetric {@code int}, {@code int8} and {@code int4} tensors learn scales;
 * other covered tensors keep the plain fake quantization. Not thread-safe (holds the scales and their AdamW moments).
 */
final class LearnedScales {
    private record Slot(ParamLayout.Entry entry, int group, int qmax, int first) {
    }

    private final List<Slot> slots;
    final float[] scale;

    private LearnedScales(List<Slot> slots, int count) {
        this.slots = slots;
        this.scale = new float[count];
    }

    /** Scales for every symmetric int tensor {@code fq} covers, initialised from {@code master}. */
    static LearnedScales of(FakeQuant fq, ParamLayout layout, float[] master) {
        List<Slot> slots = new ArrayList<>();
        int count = 0;
        for (ParamLayout.Entry e : layout.entries()) {
            Scheme s = fq.schemeFor(e);
            if (s == null) {
                continue;
            }
            SchemeKind k = s.kind();
            if ((k != SchemeKind.INT && k != SchemeKind.INT4 && k != SchemeKind.INT8) || !s.param("mode").equals("sym")) {
                continue;
            }
            int bits = k == SchemeKind.INT ? s.intParam("bits") : k == SchemeKind.INT8 ? 8 : 4;
            int g = s.intParam("group") == 0 ? e.cols() : s.intParam("group");
            slots.add(new Slot(e, g, (1 << (bits - 1)) - 1, count));
            count += e.rows() * ((e.cols() + g - 1) / g);
        }
        if (slots.isEmpty()) {
            throw new IllegalArgumentException("learned scales need symmetric int tensors; " + fq + " has none");
        }
        LearnedScales ls = new LearnedScales(List.copyOf(slots), count);
        for (Slot sl : ls.slots) {
            ls.forEachGroup(sl, (k, base, len) -> ls.scale[k] = bound(master, base, len, sl.qmax));
        }
        return ls;
    }

    /** Number of learned scales. */
    int size() {
        return scale.length;
    }

    private interface GroupBody {
        void run(int k, int base, int len);
    }

    private void forEachGroup(Slot sl, GroupBody body) {
        ParamLayout.Entry e = sl.entry;
        int perRow = (e.cols() + sl.group - 1) / sl.group;
        for (int row = 0; row < e.rows(); row++) {
            for (int gi = 0; gi < perRow; gi++) {
                int g0 = gi * sl.group;
                body.run(sl.first + row * perRow + gi, e.offset() + row * e.cols() + g0, Math.min(sl.group, e.cols() - g0));
            }
        }
    }

    private static float bound(float[] w, int base, int len, int qmax) {
        float amax = 0f;
        for (int i = base; i < base + len; i++) {
            amax = Math.max(amax, Math.abs(w[i]));
        }
        return amax / qmax;
    }

    /** The smallest F16 value ≥ {@code x} (x ≥ 0, at most F16's largest finite value). */
    static float up16(float x) {
        float r = Fp16.toFloat(Fp16.fromFloat(x));
        if (r < x) {
            r = Fp16.toFloat((short) (Fp16.fromFloat(x) + 1));
        }
        if (!(r >= x) || Float.isInfinite(r)) {
            throw new IllegalArgumentException("scale " + x + " does not fit F16");
        }
        return r;
    }

    /**
     * Projects the scales ({@code s ≤ max|w| / qmax}) and overwrites the learned tensors of {@code effective} with
     * {@code ŵ} and of {@code mask} with the weights' straight-through mask.
     */
    void apply(float[] master, float[] effective, float[] mask) {
        for (Slot sl : slots) {
            forEachGroup(sl, (k, base, len) -> {
                scale[k] = Math.min(scale[k], bound(master, base, len, sl.qmax));
                if (!(scale[k] > 0f)) {
                    scale[k] = Math.max(0f, scale[k]);
                    for (int i = base; i < base + len; i++) {
                        effective[i] = 0f;
                        mask[i] = 1f;
                    }
                    return;
                }
                float s = up16(scale[k]);
                for (int i = base; i < base + len; i++) {
                    float r = (float) Math.rint(master[i] / s);
                    float q = Math.max(-sl.qmax, Math.min(sl.qmax, r));
                    effective[i] = q * s + 0f; // + 0f: a code of −0 decodes to +0, as the codec's does
                    mask[i] = r == q ? 1f : 0f;
                }
            });
        }
    }

    /** Writes {@code ∂L/∂s} for every scale to {@code gradScale}, from {@code gradEffective = ∂L/∂ŵ}. */
    void gradient(float[] master, float[] gradEffective, float[] gradScale) {
        for (Slot sl : slots) {
            forEachGroup(sl, (k, base, len) -> {
                if (!(scale[k] > 0f)) {
                    gradScale[k] = 0f;
                    return;
                }
                float s = up16(scale[k]);
                double sum = 0;
                for (int i = base; i < base + len; i++) {
                    float v = master[i] / s;
                    float r = (float) Math.rint(v);
                    double d = r > sl.qmax ? sl.qmax : r < -sl.qmax ? -sl.qmax : r - v;
                    sum += gradEffective[i] * d;
                }
                gradScale[k] = (float) (sum / Math.sqrt((double) len * sl.qmax));
            });
        }
    }
}
