package io.quantkit.quant.ggml;

import io.quantkit.tensor.Shape;
import io.quantkit.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * A tensor held as ggml block bytes, exactly as they lie in a GGUF file: rows along the innermost dimension,
 * each row {@code rowLength / blockSize} consecutive blocks, rows back to back.
 *
 * <p>{@link #getFloat} decodes one element straight from its block (the readable definition);
 * {@link #dequantize} decodes whole blocks with the fast loops. Immutable and thread-safe: the bytes are
 * held through a read-only view the caller must not change.
 */
public final class GgmlTensor implements Tensor {
    private static final int CHUNK_BLOCKS = 1024;

    private final GgmlType type;
    private final Shape shape;
    private final ByteBuffer bytes;
    private final BlockFormat format;

    private GgmlTensor(GgmlType type, Shape shape, ByteBuffer bytes) {
        this.type = type;
        this.shape = shape;
        this.format = GgmlQuants.format(type);
        if (shape.rank() == 0) {
            throw new IllegalArgumentException("a ggml tensor needs at least one dimension");
        }
        long expected = type.tensorBytes(shape.rowLength(), shape.numel());
        if (bytes.remaining() != expected) {
            throw new IllegalArgumentException("ggml " + type.ggmlName() + " tensor of shape " + shape + " needs "
                    + expected + " bytes, got " + bytes.remaining());
        }
        this.bytes = bytes.slice().asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Wraps {@code bytes} (position..limit) holding a tensor of {@code type} and {@code shape}; validates the size. */
    public static GgmlTensor of(GgmlType type, Shape shape, ByteBuffer bytes) {
        return new GgmlTensor(Objects.requireNonNull(type, "type"), Objects.requireNonNull(shape, "shape"),
                Objects.requireNonNull(bytes, "bytes"));
    }

    public GgmlType type() {
        return type;
    }

    @Override
    public Shape shape() {
        return shape;
    }

    /** A read-only little-endian view of the block bytes, positioned at 0. */
    public ByteBuffer bytes() {
        return bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public String format() {
        return type.ggmlName();
    }

    @Override
    public float getFloat(long index) {
        Objects.checkIndex(index, shape.numel());
        int bs = type.blockSize();
        long block = index / bs;
        return format.decode(bytes, Math.toIntExact(block * type.blockBytes()), (int) (index % bs));
    }

    @Override
    public void dequantize(long from, float[] dst, int off, int len) {
        Objects.checkFromIndexSize(from, len, shape.numel());
        Objects.checkFromIndexSize(off, len, dst.length);
        int bs = type.blockSize();
        int bb = type.blockBytes();
        long pos = from;
        long end = from + len;
        float[] one = null;
        byte[] chunk = null;
        while (pos < end) {
            long block = pos / bs;
            int inBlock = (int) (pos % bs);
            long wholeBlocks = (end - pos) / bs;
            if (inBlock != 0 || wholeBlocks == 0) { // a partial block: decode it whole, copy the part asked for
                if (one == null) {
                    one = new float[bs];
                }
                byte[] b = new byte[bb];
                bytes.get(Math.toIntExact(block * bb), b);
                format.dequantize(b, 0, one, 0, 1);
                int n = (int) Math.min(bs - inBlock, end - pos);
                System.arraycopy(one, inBlock, dst, off + (int) (pos - from), n);
                pos += n;
                continue;
            }
            int nb = (int) Math.min(wholeBlocks, CHUNK_BLOCKS);
            if (chunk == null) {
                chunk = new byte[(int) Math.min(wholeBlocks, CHUNK_BLOCKS) * bb];
            }
            bytes.get(Math.toIntExact(block * bb), chunk, 0, nb * bb);
            format.dequantize(chunk, 0, dst, off + (int) (pos - from), nb);
            pos += (long) nb * bs;
        }
    }

    @Override
    public long storageBytes() {
        return bytes.remaining();
    }
}
