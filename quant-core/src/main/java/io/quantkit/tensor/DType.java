package io.quantkit.tensor;

/**
 * Element types of plain (not block-quantized) stored arrays, with the names safetensors uses.
 * Block formats (Q4_0, ...) are not element types; they are {@link io.quantkit.quant.SchemeKind schemes}.
 */
public enum DType {
    F64(64), F32(32), F16(16), BF16(16),
    F8_E4M3(8), F8_E5M2(8), F8_E8M0(8),
    I64(64), I32(32), I16(16), I8(8),
    U64(64), U32(32), U16(16), U8(8),
    BOOL(8);

    private final int bits;

    DType(int bits) {
        this.bits = bits;
    }

    public int bits() {
        return bits;
    }

    public int bytes() {
        return bits / 8;
    }

    public boolean isFloatingPoint() {
        return switch (this) {
            case F64, F32, F16, BF16, F8_E4M3, F8_E5M2, F8_E8M0 -> true;
            default -> false;
        };
    }
}
