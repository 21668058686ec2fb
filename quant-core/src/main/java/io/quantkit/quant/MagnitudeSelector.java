package io.quantkit.quant;

import io.quantkit.tensor.Shape;

/**
 * Top-k by |w| in linear time: a two-level radix select on the bits of |w| (for finite non-negative floats
 * the raw bit pattern orders like the value), then one pass that keeps every element above the threshold
 * and the lowest-index elements equal to it.
 */
final class MagnitudeSelector implements OutlierSelector {
    static final MagnitudeSelector INSTANCE = new MagnitudeSelector();

    private MagnitudeSelector() {
    }

    @Override
    public int[] select(float[] w, Shape shape, int count) {
        if (count < 0 || count > w.length) {
            throw new IllegalArgumentException("outlier count (" + count + ") must be in 0.." + w.length);
        }
        int[] out = new int[count];
        if (count == 0) {
            return out;
        }
        // level 1: high 16 bits of |w| (sign cleared: 15 bits → 32768 buckets)
        int[] hist = new int[1 << 15];
        for (float v : w) {
            hist[(Float.floatToRawIntBits(v) & 0x7fffffff) >>> 16]++;
        }
        int hi = hist.length - 1;
        int above = 0; // elements in buckets strictly above hi
        while (above + hist[hi] < count) {
            above += hist[hi];
            hi--;
        }
        // level 2: low 16 bits within bucket hi
        int[] hist2 = new int[1 << 16];
        for (float v : w) {
            int key = Float.floatToRawIntBits(v) & 0x7fffffff;
            if ((key >>> 16) == hi) {
                hist2[key & 0xffff]++;
            }
        }
        int lo = hist2.length - 1;
        while (above + hist2[lo] < count) {
            above += hist2[lo];
            lo--;
        }
        int threshold = (hi << 16) | lo;
        int equalNeeded = count - above; // how many elements equal to the threshold to take, lowest index first
        int n = 0;
        for (int i = 0; i < w.length; i++) {
            int key = Float.floatToRawIntBits(w[i]) & 0x7fffffff;
            if (key > threshold) {
                out[n++] = i;
            } else if (key == threshold && equalNeeded > 0) {
                out[n++] = i;
                equalNeeded--;
            }
        }
        return out;
    }
}
