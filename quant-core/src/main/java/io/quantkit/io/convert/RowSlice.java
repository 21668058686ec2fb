package io.quantkit.io.convert;

import io.quantkit.tensor.Shape;
import io.quantkit.tensor.Tensor;

/** Rows {@code [from, from + count)} of a tensor flattened to {@code [rows, rowLength]}, as a 2-D tensor view. */
final class RowSlice implements Tensor {
    private final Tensor src;
    private final long base;
    private final Shape shape;

    RowSlice(Tensor src, long fromRow, long count) {
        this.src = src;
        long row = src.shape().rowLength();
        this.base = fromRow * row;
        this.shape = src.shape().rank() <= 1 && fromRow == 0 && count == 1 ? src.shape() : Shape.of(count, row);
    }

    @Override
    public Shape shape() {
        return shape;
    }

    @Override
    public String format() {
        return src.format();
    }

    @Override
    public float getFloat(long index) {
        return src.getFloat(base + index);
    }

    @Override
    public void dequantize(long from, float[] dst, int off, int len) {
        src.dequantize(base + from, dst, off, len);
    }

    @Override
    public boolean copyBf16Bits(long from, short[] dst, int off, int len) {
        return src.copyBf16Bits(base + from, dst, off, len);
    }

    @Override
    public java.nio.ByteBuffer bf16Bytes(long from, int len) {
        return src.bf16Bytes(base + from, len);
    }

    @Override
    public boolean readFloats(long from, int len, FloatRun run) {
        return src.readFloats(base + from, len, run);
    }

    @Override
    public long storageBytes() {
        return shape.numel() * src.storageBytes() / Math.max(1, src.shape().numel());
    }
}
