package io.quantkit.tensor;

import java.util.Arrays;

/**
 * The sizes of a tensor, outermost first (row-major). Sizes are {@code long}: a 128k x 16k embedding has
 * more than 2^31 elements. For a 2-D weight {@code [out, in]} rows are output channels.
 *
 * <p>Immutable and thread-safe.
 */
public final class Shape {
    private final long[] dims;
    private final long numel;

    private Shape(long[] dims) {
        long n = 1;
        for (long d : dims) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(dims));
            }
            n = Math.multiplyExact(n, d);
        }
        this.dims = dims;
        this.numel = n;
    }

    /** A shape from its sizes; throws {@link IllegalArgumentException} on a negative size or on overflow. */
    public static Shape of(long... dims) {
        try {
            return new Shape(dims.clone());
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("element count of shape " + Arrays.toString(dims) + " overflows a long", e);
        }
    }

    public int rank() {
        return dims.length;
    }

    public long dim(int i) {
        return dims[i];
    }

    public long[] dims() {
        return dims.clone();
    }

    /** Number of elements (1 for a scalar of rank 0). */
    public long numel() {
        return numel;
    }

    /** Length of the innermost dimension (the row length); 1 for a scalar. */
    public long rowLength() {
        return dims.length == 0 ? 1 : dims[dims.length - 1];
    }

    /** Number of rows when every outer dimension is flattened: {@code numel / rowLength} (0 if empty). */
    public long rows() {
        long r = rowLength();
        return r == 0 ? 0 : numel / r;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(dims, s.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    /** {@code [4096, 4096]}. */
    @Override
    public String toString() {
        return Arrays.toString(dims);
    }
}
