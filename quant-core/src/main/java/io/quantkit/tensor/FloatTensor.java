package io.quantkit.tensor;

import java.util.Objects;

/**
 * A dense float32 tensor over a heap array. Immutable: the array is copied in ({@link #of}) and handed out only to a
 * {@link Tensor.FloatRun} that reads it ({@link #readFloats}).
 */
public final class FloatTensor implements Tensor {
    private final Shape shape;
    private final float[] data;

    private FloatTensor(Shape shape, float[] data) {
        if (shape.numel() != data.length) {
            throw new IllegalArgumentException("shape " + shape + " holds " + shape.numel()
                    + " elements but " + data.length + " were given");
        }
        this.shape = shape;
        this.data = data;
    }

    /** A tensor holding a copy of {@code data}. */
    public static FloatTensor of(Shape shape, float[] data) {
        return new FloatTensor(Objects.requireNonNull(shape), data.clone());
    }

    /** A tensor that takes ownership of {@code data}: the caller must not change it afterwards. */
    public static FloatTensor wrap(Shape shape, float[] data) {
        return new FloatTensor(Objects.requireNonNull(shape), data);
    }

    @Override
    public Shape shape() {
        return shape;
    }

    @Override
    public String format() {
        return DType.F32.name();
    }

    @Override
    public float getFloat(long index) {
        return data[Math.toIntExact(index)];
    }

    @Override
    public void dequantize(long from, float[] dst, int off, int len) {
        System.arraycopy(data, Math.toIntExact(from), dst, off, len);
    }

    /** Calls {@code run} on this tensor's own array (no copy); the array is not handed out otherwise. */
    @Override
    public boolean readFloats(long from, int len, FloatRun run) {
        Objects.checkFromIndexSize(from, len, data.length);
        run.read(data, (int) from, len);
        return true;
    }

    @Override
    public long storageBytes() {
        return 4L * data.length;
    }
}
