package io.quantkit.quant.ggml;

import io.quantkit.tensor.DType;

/**
 * Every tensor type id of the GGUF specification ({@code enum ggml_type} in ggml.h), with its block size and
 * bytes per block written as the formulas of ggml's block structs, so a GGUF reader can size any tensor.
 *
 * <p>Ids that ggml removed (4, 5: Q4_2/Q4_3; 31-33: Q4_0_4_4.., 36-38: IQ4_NL_4_4..) are not listed;
 * {@link #byId} rejects them with a message that says so. This one table serves both the GGUF container (laying
 * out and validating tensor data) and the codecs.
 *
 * <pre>
 * QK_K = 256 (super-block), ggml_half = 2 bytes
 * Q4_0   { half d; u8 qs[16]; }                      32 values, 18 bytes
 * Q8_0   { half d; i8 qs[32]; }                      32 values, 34 bytes
 * TQ1_0  { u8 qs[48]; u8 qh[4]; half d; }            256 values, 54 bytes
 * MXFP4  { u8 e (E8M0); u8 qs[16]; }                 32 values, 17 bytes
 * </pre>
 */
public enum GgmlType {
    F32(0, 1, 4),
    F16(1, 1, Const.HALF),
    Q4_0(2, 32, Const.HALF + 32 / 2),
    Q4_1(3, 32, 2 * Const.HALF + 32 / 2),
    Q5_0(6, 32, Const.HALF + 4 + 32 / 2),
    Q5_1(7, 32, 2 * Const.HALF + 4 + 32 / 2),
    Q8_0(8, 32, Const.HALF + 32),
    Q8_1(9, 32, 2 * Const.HALF + 32),
    Q2_K(10, Const.QK_K, 2 * Const.HALF + Const.QK_K / 16 + Const.QK_K / 4),
    Q3_K(11, Const.QK_K, Const.HALF + Const.QK_K / 4 + Const.QK_K / 8 + 12),
    Q4_K(12, Const.QK_K, 2 * Const.HALF + Const.K_SCALE_SIZE + Const.QK_K / 2),
    Q5_K(13, Const.QK_K, 2 * Const.HALF + Const.K_SCALE_SIZE + Const.QK_K / 2 + Const.QK_K / 8),
    Q6_K(14, Const.QK_K, Const.HALF + Const.QK_K / 16 + 3 * Const.QK_K / 4),
    Q8_K(15, Const.QK_K, 4 + Const.QK_K + Const.QK_K / 16 * 2),
    IQ2_XXS(16, Const.QK_K, Const.HALF + Const.QK_K / 8 * 2),
    IQ2_XS(17, Const.QK_K, Const.HALF + Const.QK_K / 8 * 2 + Const.QK_K / 32),
    IQ3_XXS(18, Const.QK_K, Const.HALF + 3 * (Const.QK_K / 8)),
    IQ1_S(19, Const.QK_K, Const.HALF + Const.QK_K / 8 + Const.QK_K / 16),
    IQ4_NL(20, 32, Const.HALF + 32 / 2),
    IQ3_S(21, Const.QK_K, Const.HALF + 13 * (Const.QK_K / 32) + Const.QK_K / 64),
    IQ2_S(22, Const.QK_K, Const.HALF + Const.QK_K / 4 + Const.QK_K / 16),
    IQ4_XS(23, Const.QK_K, Const.HALF + 2 + Const.QK_K / 64 + Const.QK_K / 2),
    I8(24, 1, 1),
    I16(25, 1, 2),
    I32(26, 1, 4),
    I64(27, 1, 8),
    F64(28, 1, 8),
    IQ1_M(29, Const.QK_K, Const.QK_K / 8 + Const.QK_K / 16 + Const.QK_K / 32),
    BF16(30, 1, 2),
    TQ1_0(34, Const.QK_K, Const.HALF + Const.QK_K / 64 + (Const.QK_K - 4 * Const.QK_K / 64) / 5),
    TQ2_0(35, Const.QK_K, Const.HALF + Const.QK_K / 4),
    MXFP4(39, 32, 1 + 32 / 2);

    /** Constants of ggml-common.h used in the size formulas. */
    static final class Const {
        static final int QK_K = 256;
        static final int K_SCALE_SIZE = 12;
        static final int HALF = 2;

        private Const() {
        }
    }

    /** The largest id the GGUF specification defines (MXFP4). */
    public static final int MAX_ID = 39;

    private static final GgmlType[] BY_ID = new GgmlType[MAX_ID + 1];

    static {
        for (GgmlType t : values()) {
            BY_ID[t.id] = t;
        }
    }

    private final int id;
    private final int blockSize;
    private final int blockBytes;

    GgmlType(int id, int blockSize, int blockBytes) {
        this.id = id;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    /** The type with this id; throws {@link IllegalArgumentException} for an id ggml does not (or no longer) define. */
    public static GgmlType byId(long id) {
        if (id >= 0 && id <= MAX_ID && BY_ID[(int) id] != null) {
            return BY_ID[(int) id];
        }
        String why = id == 4 || id == 5 || (id >= 31 && id <= 33) || (id >= 36 && id <= 38)
                ? " (ggml removed it from GGUF files)" : "";
        throw new IllegalArgumentException("unknown ggml tensor type id " + id + why
                + "; known ids are 0-3, 6-30, 34, 35 and 39");
    }

    /** The type with this id, or null for an id ggml does not (or no longer) define. */
    public static GgmlType fromId(long id) {
        return id >= 0 && id <= MAX_ID ? BY_ID[(int) id] : null;
    }

    /** The type whose constant name is {@code name} (case-insensitive: {@code Q4_0} or {@code q4_0}), or null. */
    public static GgmlType fromName(String name) {
        for (GgmlType t : values()) {
            if (t.name().equalsIgnoreCase(name)) {
                return t;
            }
        }
        return null;
    }

    /** The plain element type ({@code F32, F16, BF16, F64, I8..I64}), or null for block-quantized types. */
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

    /** The id stored in GGUF tensor infos. */
    public int id() {
        return id;
    }

    /** Values per block (1 for plain element types). */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes of one block ({@code sizeof(block_xxx)}), or of one element for plain types. */
    public int blockBytes() {
        return blockBytes;
    }

    /** True for block-quantized types (block size above 1). */
    public boolean isBlockQuantized() {
        return blockSize > 1;
    }

    /** Bits per weight: {@code 8 * blockBytes / blockSize}. */
    public double bitsPerWeight() {
        return 8.0 * blockBytes / blockSize;
    }

    /** ggml's lower-case name ({@code q4_0}, {@code iq2_xxs}, {@code bf16}). */
    public String ggmlName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /**
     * Bytes of one row of {@code n} values ({@code ggml_row_size}); throws {@link IllegalArgumentException} if
     * {@code n} is negative or not a multiple of the block size.
     */
    public long rowBytes(long n) {
        if (n < 0) {
            throw new IllegalArgumentException("row length " + n + " is negative");
        }
        if (n % blockSize != 0) {
            throw new IllegalArgumentException(ggmlName() + " needs rows whose length is a multiple of "
                    + blockSize + ", got " + n);
        }
        return Math.multiplyExact(n / blockSize, (long) blockBytes);
    }

    /**
     * Bytes of a tensor of {@code numel} values whose innermost dimension is {@code rowLength}; throws
     * {@link IllegalArgumentException} if the row length does not fit the block size or the size overflows.
     */
    public long tensorBytes(long rowLength, long numel) {
        long row = rowBytes(rowLength);
        if (rowLength == 0) {
            return 0;
        }
        try {
            return Math.multiplyExact(numel / rowLength, row);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("size of a " + ggmlName() + " tensor of " + numel
                    + " values overflows a long", e);
        }
    }
}
