package io.quantkit.simd.vector;

import io.quantkit.simd.Simd;
import jdk.incubator.vector.FloatVector;

/** The width of the kernels' float vectors ({@link FloatVector#SPECIES_PREFERRED}), for {@link Simd#describe()}. */
public final class VectorWidth implements Simd.VectorInfo {
    @Override
    public int floatBits() {
        return FloatVector.SPECIES_PREFERRED.vectorBitSize();
    }
}
