package io.quantkit.io.safetensors;

import io.quantkit.format.Fp4E2M1;
import io.quantkit.format.Fp6;
import io.quantkit.io.MappedFile;
import io.quantkit.tensor.Shape;
import io.quantkit.tensor.Tensor;
import java.util.Objects;

/**
 * The sub-byte dtypes of safetensors 0.6 ({@code Dtype::F4}, {@code F6_E2M3}, {@code F6_E3M2}: the OCP MX element
 * formats), whose size the reference implementation counts in bits: a tensor holds {@code numel * bits / 8}
 * bytes, and {@code numel * bits} must be a multiple of 8 (its {@code MisalignedSlice} error).
 *
 * <p>Packing. Elements are a little-endian bit stream: element {@code i} occupies bits {@code [i*bits,
 * (i+1)*bits)}, bit 0 being the least significant bit of the first byte. For F4 this is PyTorch's
 * {@code float4_e2m1fn_x2} (the safetensors binding's F4): element {@code 2k} in the low nibble of byte {@code k},
 * element {@code 2k+1} in the high nibble. safetensors defines no layout for F6 and PyTorch has no 6-bit dtype;
 * we read it as the same LSB-first stream (four elements in three bytes), the natural extension of F4, and say so
 * in docs/formats.md.
 */
public enum SubByteType {
    /** FP4 E2M1 ({@link Fp4E2M1}), two per byte. */
    F4(4),
    /** FP6 E2M3 ({@link Fp6#E2M3}), four per three bytes. */
    F6_E2M3(6),
    /** FP6 E3M2 ({@link Fp6#E3M2}), four per three bytes. */
    F6_E3M2(6);

    private final int bits;

    SubByteType(int bits) {
        this.bits = bits;
    }

    /** Bits per element. */
    public int bits() {
        return bits;
    }

    /** The type named {@code dtype} (exact safetensors spelling), or null. */
    public static SubByteType of(String dtype) {
        for (SubByteType t : values()) {
            if (t.name().equals(dtype)) {
                return t;
            }
        }
        return null;
    }

    /** Bytes of {@code numel} elements, or -1 if they are not a whole number of bytes; overflow throws. */
    public long bytes(long numel) {
        long b = Math.multiplyExact(numel, (long) bits);
        return b % 8 == 0 ? b / 8 : -1;
    }

    /** The value of a code (low {@link #bits()} bits). */
    public float decode(int code) {
        return switch (this) {
            case F4 -> Fp4E2M1.decode(code);
            case F6_E2M3 -> Fp6.E2M3.decode(code);
            case F6_E3M2 -> Fp6.E3M2.decode(code);
        };
    }

    /** A lazy view of {@code shape} elements of this type at {@code offset} in {@code file}. */
    public Tensor view(MappedFile file, long offset, Shape shape) {
        return new View(this, file, offset, shape);
    }

    private static final class View implements Tensor {
        private final SubByteType type;
        private final MappedFile file;
        private final long offset;
        private final Shape shape;
        private final long bytes;

        View(SubByteType type, MappedFile file, long offset, Shape shape) {
            this.type = type;
            this.file = Objects.requireNonNull(file);
            this.offset = offset;
            this.shape = Objects.requireNonNull(shape);
            this.bytes = type.bytes(shape.numel());
            if (bytes < 0) {
                throw new IllegalArgumentException(shape.numel() + " " + type + " elements are not a whole number "
                        + "of bytes");
            }
            file.checkRange(offset, bytes, "tensor data");
        }

        @Override
        public Shape shape() {
            return shape;
        }

        @Override
        public String format() {
            return type.name();
        }

        @Override
        public float getFloat(long index) {
            Objects.checkIndex(index, shape.numel());
            long bit = index * type.bits;
            long at = offset + (bit >>> 3);
            int shift = (int) (bit & 7);
            int word = file.get(at) & 0xff;
            if (shift + type.bits > 8) {
                word |= (file.get(at + 1) & 0xff) << 8;
            }
            return type.decode(word >>> shift);
        }

        @Override
        public long storageBytes() {
            return bytes;
        }
    }
}
