package io.quantkit.quant.codec;

import io.quantkit.quant.Scheme;
import io.quantkit.tensor.DType;
import io.quantkit.tensor.Shape;
import io.quantkit.tensor.StoredArray;
import io.quantkit.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/** Input checks, array shapes and stored-array validation shared by the codecs of this package. */
final class CodecSupport {
    /** Largest tensor (elements) a codec of this package quantizes in one piece: one Java float array. */
    static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;
    /** Largest stored array (bytes): one heap buffer. */
    static final long MAX_BUFFER_BYTES = Integer.MAX_VALUE - 8;

    private CodecSupport() {
    }

    /** All elements of {@code source} as floats; throws if any is NaN or infinite, naming the first one. */
    static float[] readFinite(Tensor source, Scheme scheme) {
        long n = source.shape().numel();
        if (n > MAX_ELEMENTS) {
            throw new IllegalArgumentException("tensor of " + n + " elements exceeds the maximum (" + MAX_ELEMENTS
                    + ") that " + scheme.kind().cliName() + " quantizes in one piece");
        }
        float[] w = source.toFloatArray();
        requireFinite(w, source.shape(), scheme);
        return w;
    }

    /** Throws {@link IllegalArgumentException} naming the first NaN or infinite element. */
    static void requireFinite(float[] w, Shape shape, Scheme scheme) {
        for (int i = 0; i < w.length; i++) {
            if (!Float.isFinite(w[i])) {
                long cols = shape.rowLength();
                throw new IllegalArgumentException(scheme.kind().cliName() + " cannot quantize " + w[i]
                        + " (element " + i + ", row " + (i / cols) + ", column " + (i % cols)
                        + "); weights must be finite");
            }
        }
    }

    /**
     * The shape of a per-group array: the outer dimensions of {@code shape} followed by {@code perRow}
     * (for a 2-D weight [out, in] with g groups per row: [out, g]; for rank 0 or 1: [perRow] times the rows).
     */
    static Shape perRowShape(Shape shape, long perRow) {
        if (shape.rank() <= 1) {
            return Shape.of(perRow);
        }
        long[] d = shape.dims();
        d[d.length - 1] = perRow;
        return Shape.of(d);
    }

    /** {@code ⌈a / b⌉} for a ≥ 0, b > 0. */
    static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    static ByteBuffer le(byte[] bytes) {
        return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The values of a stored F32 array (scales), read once into a heap array for fast decoding. */
    static float[] readF32(StoredArray array) {
        ByteBuffer b = array.data();
        float[] out = new float[Math.toIntExact(array.shape().numel())];
        for (int i = 0; i < out.length; i++) {
            out[i] = b.getFloat(4 * i);
        }
        return out;
    }

    static ByteBuffer allocate(long bytes) {
        if (bytes > MAX_BUFFER_BYTES) {
            throw new IllegalArgumentException("stored array of " + bytes + " bytes exceeds the maximum ("
                    + MAX_BUFFER_BYTES + ") of one buffer");
        }
        return ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Checks that {@code arrays.get(i)} has the given role, one of the given dtypes and the given shape;
     * returns it. Messages name the scheme and what was expected.
     */
    static StoredArray expect(Scheme scheme, List<StoredArray> arrays, int i, String role, Shape shape,
                              DType... dtypes) {
        if (i >= arrays.size()) {
            throw new IllegalArgumentException(scheme + " expects a '" + role + "' array at position " + i
                    + " but only " + arrays.size() + " arrays were given");
        }
        StoredArray a = arrays.get(i);
        if (!a.role().equals(role)) {
            throw new IllegalArgumentException(scheme + " expects array " + i + " to be '" + role + "', got '"
                    + a.role() + "'");
        }
        boolean ok = false;
        for (DType t : dtypes) {
            ok |= a.dtype() == t;
        }
        if (!ok) {
            throw new IllegalArgumentException(scheme + " '" + role + "' must be " + List.of(dtypes) + ", got "
                    + a.dtype());
        }
        if (!a.shape().equals(shape)) {
            throw new IllegalArgumentException(scheme + " '" + role + "' must have shape " + shape + ", got "
                    + a.shape());
        }
        return a;
    }

    static void expectCount(Scheme scheme, List<StoredArray> arrays, int count) {
        if (arrays.size() != count) {
            throw new IllegalArgumentException(scheme + " expects " + count + " stored arrays, got " + arrays.size());
        }
    }
}
