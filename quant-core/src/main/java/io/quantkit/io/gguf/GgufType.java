package io.quantkit.io.gguf;

import io.quantkit.tensor.DType;

/**
 * The tensor types a GGUF file may declare ({@code ggml_type} ids), with block size (elements per block) and
 * bytes per block. Ids 4, 5, 31-33 and 36-38 were removed from ggml and are rejected. This table is what the
 * container needs to lay out and validate tensor data; decoding block types is the job of
 * {@code io.quantkit.quant.ggml}.
 */
public enum GgufType {
    F32(0, 1, 4), F16(1, 1, 2), Q4_0(2, 32, 18), Q4_1(3, 32, 20), Q5_0(6, 32, 22), Q5_1(7, 32, 24),
    Q8_0(8, 32, 34), Q8_1(9, 32, 36), Q2_K(10, 256, 84), Q3_K(11, 256, 110), Q4_K(12, 256, 144),
    Q5_K(13, 256, 176), Q6_K(14, 256, 210), Q8_K(15, 256, 292), IQ2_XXS(16, 256, 66), IQ2_XS(17, 256, 74),
    IQ3_XXS(18, 256, 98), IQ1_S(19, 256, 50), IQ4_NL(20, 32, 18), IQ3_S(21, 256, 110), IQ2_S(22, 256, 82),
    IQ4_XS(23, 256, 136), I8(24, 1, 1), I16(25, 1, 2), I32(26, 1, 4), I64(27, 1, 8), F64(28, 1, 8),
    IQ1_M(29, 256, 56), BF16(30, 1, 2), TQ1_0(34, 256, 54), TQ2_0(35, 256, 66), MXFP4(39, 32, 17);

    private final int id;
    private final int blockSize;
    private final int typeSize;

    GgufType(int id, int blockSize, int typeSize) {
        this.id = id;
        this.blockSize = blockSize;
        this.typeSize = typeSize;
    }

    public int id() {
        return id;
    }

    /** Elements per block (1 for plain types). */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes per block. */
    public int typeSize() {
        return typeSize;
    }

    /** The plain element type, or null for block-quantized types. */
    public DType dense() {
        return switch (this) {
            case F32 -> DType.F32;
            case F16 -> DType.F16;
            case BF16 -> DType.BF16;
            case F64 -> DType.F64;
            case I8 -> DType.I8;
            case I16 -> DType.I16;
            case I32 -> DType.I32;
            case I64 -> DType.I64;
            default -> null;
        };
    }

    /** Bytes of a row of {@code n} elements; throws if {@code n} is not a whole number of blocks. */
    public long rowBytes(long n) {
        if (n % blockSize != 0) {
            throw new IllegalArgumentException("row of " + n + " elements is not a multiple of the " + name()
                    + " block size " + blockSize);
        }
        return Math.multiplyExact(n / blockSize, (long) typeSize);
    }

    /** The type with ggml id {@code id}, or null if unknown or removed. */
    public static GgufType fromId(long id) {
        for (GgufType t : values()) {
            if (t.id == id) {
                return t;
            }
        }
        return null;
    }

    /** The type named {@code name} (case-insensitive), or null. */
    public static GgufType fromName(String name) {
        for (GgufType t : values()) {
            if (t.name().equalsIgnoreCase(name)) {
                return t;
            }
        }
        return null;
    }
}
