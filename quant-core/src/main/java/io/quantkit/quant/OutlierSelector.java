package io.quantkit.quant;

import io.quantkit.tensor.Shape;

/**
 * Chooses which individual weights {@code int4-outliers} keeps exactly in 16-bit instead of on the INT4 grid.
 *
 * <p>Implementations must be deterministic: the same weights and count give the same indexes, with ties
 * broken by the lower flat index. {@link #byMagnitude()} is the calibration-free choice; a
 * calibration-aware one (weighting |w| by activation statistics) plugs in here.
 */
@FunctionalInterface
public interface OutlierSelector {

    /**
     * The flat row-major indexes of the {@code count} weights to keep, strictly ascending.
     *
     * @param weights finite weights, row-major, {@code weights.length == shape.numel()}
     * @param count   how many to choose, {@code 0 ≤ count ≤ weights.length}
     */
    int[] select(float[] weights, Shape shape, int count);

    /** The {@code count} largest |w|; among equal magnitudes the lower index is chosen. Linear time. */
    static OutlierSelector byMagnitude() {
        return MagnitudeSelector.INSTANCE;
    }
}
