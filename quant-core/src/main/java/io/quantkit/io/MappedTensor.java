package io.quantkit.io;

import io.quantkit.format.Bf16;
import io.quantkit.format.E8M0;
import io.quantkit.format.Fp8Format;
import io.quantkit.format.Fp16;
import io.quantkit.tensor.DType;
import io.quantkit.tensor.Shape;
import io.quantkit.tensor.Tensor;
import java.util.Objects;

/**
 * A dense tensor read lazily from a memory-mapped file: element {@code i} is decoded from the bytes at
 * {@code offset + i * dtype.bytes()} (little-endian) on each access. No copy is made, so tensors larger than
 * 2 GiB work. Integer and bool elements convert to the nearest float ({@code (float) value}); F8/E8M0 decode
 * exactly with {@link Fp8Format} and {@link E8M0}.
 *
 * <p>Immutable; thread-safe; fails with {@link IllegalStateException} once its checkpoint is closed.
 */
public final class MappedTensor implements Tensor {
    /**
     * Elements per bulk read in {@link #dequantize}: at most 32 KiB, so each read is a zero-copy view inside one
     * of {@link MappedFile}'s overlapping chunks.
     */
    private static final int PIECE = 8192;

    private final MappedFile file;
    private final long offset;
    private final DType dtype;
    private final Shape shape;

    private MappedTensor(MappedFile file, long offset, DType dtype, Shape shape) {
        this.file = Objects.requireNonNull(file);
        this.offset = offset;
        this.dtype = Objects.requireNonNull(dtype);
        this.shape = Objects.requireNonNull(shape);
        long bytes = Math.multiplyExact(shape.numel(), (long) dtype.bytes());
        file.checkRange(offset, bytes, "tensor data");
    }

    /** A view of {@code shape.numel()} elements of {@code dtype} at {@code offset}; checks they lie in the file. */
    public static MappedTensor of(MappedFile file, long offset, DType dtype, Shape shape) {
        return new MappedTensor(file, offset, dtype, shape);
    }

    public DType dtype() {
        return dtype;
    }

    @Override
    public Shape shape() {
        return shape;
    }

    @Override
    public String format() {
        return dtype.name();
    }

    @Override
    public float getFloat(long index) {
        Objects.checkIndex(index, shape.numel());
        long p = offset + index * dtype.bytes();
        return switch (dtype) {
            case F64 -> (float) file.getDouble(p);
            case F32 -> file.getFloat(p);
            case F16 -> Fp16.toFloat(file.getShort(p));
            case BF16 -> Bf16.toFloat(file.getShort(p));
            case F8_E4M3 -> Fp8Format.E4M3.decode(file.get(p));
            case F8_E5M2 -> Fp8Format.E5M2.decode(file.get(p));
            case F8_E8M0 -> E8M0.decode(file.get(p) & 0xff);
            case I64 -> (float) file.getLong(p);
            case I32 -> (float) file.getInt(p);
            case I16 -> (float) file.getShort(p);
            case I8 -> (float) file.get(p);
            case U64 -> unsignedLongToFloat(file.getLong(p));
            case U32 -> (float) (file.getInt(p) & 0xffffffffL);
            case U16 -> (float) (file.getShort(p) & 0xffff);
            case U8 -> (float) (file.get(p) & 0xff);
            case BOOL -> file.get(p) != 0 ? 1f : 0f;
        };
    }

    private static float unsignedLongToFloat(long v) {
        if (v >= 0) {
            return (float) v;
        }
        // exact half then doubled keeps the rounding of the 64-bit value (low bit folded in as sticky)
        return 2f * (float) ((v >>> 1) | (v & 1));
    }

    @Override
    public void dequantize(long from, float[] dst, int off, int len) {
        Objects.checkFromIndexSize(from, len, shape.numel());
        Objects.checkFromIndexSize(off, len, dst.length);
        switch (dtype) {
            case F32 -> {
                for (int i = 0; i < len; i += PIECE) {
                    int n = Math.min(PIECE, len - i);
                    file.slice(offset + 4 * (from + i), 4 * n).asFloatBuffer().get(dst, off + i, n);
                }
            }
            case BF16 -> {
                for (int i = 0; i < len; i += PIECE) {
                    int n = Math.min(PIECE, len - i);
                    java.nio.ShortBuffer b = file.slice(offset + 2 * (from + i), 2 * n).asShortBuffer();
                    for (int j = 0; j < n; j++) {
                        dst[off + i + j] = Bf16.toFloat(b.get(j));
                    }
                }
            }
            case F16 -> {
                for (int i = 0; i < len; i += PIECE) {
                    int n = Math.min(PIECE, len - i);
                    java.nio.ShortBuffer b = file.slice(offset + 2 * (from + i), 2 * n).asShortBuffer();
                    for (int j = 0; j < n; j++) {
                        dst[off + i + j] = Fp16.toFloat(b.get(j));
                    }
                }
            }
            default -> {
                for (int i = 0; i < len; i++) {
                    dst[off + i] = getFloat(from + i);
                }
            }
        }
    }

    @Override
    public boolean copyBf16Bits(long from, short[] dst, int off, int len) {
        if (dtype != DType.BF16) {
            return false;
        }
        Objects.checkFromIndexSize(from, len, shape.numel());
        Objects.checkFromIndexSize(off, len, dst.length);
        for (int i = 0; i < len; i += PIECE) {
            int n = Math.min(PIECE, len - i);
            file.slice(offset + 2 * (from + i), 2 * n).asShortBuffer().get(dst, off + i, n);
        }
        return true;
    }

    @Override
    public java.nio.ByteBuffer bf16Bytes(long from, int len) {
        if (dtype != DType.BF16) {
            return null;
        }
        Objects.checkFromIndexSize(from, len, shape.numel());
        return file.slice(offset + 2 * from, Math.multiplyExact(2, len));
    }

    @Override
    public long storageBytes() {
        return shape.numel() * dtype.bytes();
    }
}
