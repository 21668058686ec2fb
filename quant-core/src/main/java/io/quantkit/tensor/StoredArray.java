package io.quantkit.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * One stored array of a tensor: packed codes, scales, zero points, outlier indexes or values. A quantized
 * tensor is a list of these, so any container writer can store it without knowing the scheme.
 *
 * <p>{@code role} names the array's job ({@code "codes"}, {@code "scales"}, {@code "blocks"} for a ggml
 * block stream ...). Bytes are little-endian. Immutable: {@link #data()} returns a read-only view.
 */
public final class StoredArray {
    private final String role;
    private final DType dtype;
    private final Shape shape;
    private final ByteBuffer data;

    private StoredArray(String role, DType dtype, Shape shape, ByteBuffer data) {
        this.role = Objects.requireNonNull(role);
        this.dtype = Objects.requireNonNull(dtype);
        this.shape = Objects.requireNonNull(shape);
        long expected = Math.multiplyExact(shape.numel(), (long) dtype.bytes());
        if (data.remaining() != expected) {
            throw new IllegalArgumentException(role + ": " + dtype + shape + " needs " + expected
                    + " bytes, got " + data.remaining());
        }
        this.data = data.slice().asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Wraps {@code data} (position..limit), which the caller must not modify afterwards. */
    public static StoredArray of(String role, DType dtype, Shape shape, ByteBuffer data) {
        return new StoredArray(role, dtype, shape, data);
    }

    public String role() {
        return role;
    }

    public DType dtype() {
        return dtype;
    }

    public Shape shape() {
        return shape;
    }

    /** A read-only little-endian view positioned at 0. */
    public ByteBuffer data() {
        return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    public long byteSize() {
        return data.remaining();
    }
}
