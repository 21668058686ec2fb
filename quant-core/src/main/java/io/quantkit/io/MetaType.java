package io.quantkit.io;

/** The value types of checkpoint metadata; the ids are GGUF's {@code gguf_metadata_value_type}. */
public enum MetaType {
    UINT8(0, 1), INT8(1, 1), UINT16(2, 2), INT16(3, 2), UINT32(4, 4), INT32(5, 4), FLOAT32(6, 4), BOOL(7, 1),
    STRING(8, 8), ARRAY(9, 12), UINT64(10, 8), INT64(11, 8), FLOAT64(12, 8);

    private final int id;
    private final int minBytes;

    MetaType(int id, int minBytes) {
        this.id = id;
        this.minBytes = minBytes;
    }

    /** GGUF type id. */
    public int id() {
        return id;
    }

    /** Fewest bytes one value of this type takes in a GGUF file (a string's length field, an array's header). */
    public int minBytes() {
        return minBytes;
    }

    public boolean isInteger() {
        return switch (this) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> true;
            default -> false;
        };
    }

    /** The type with GGUF id {@code id}, or null. */
    public static MetaType fromId(long id) {
        for (MetaType t : values()) {
            if (t.id == id) {
                return t;
            }
        }
        return null;
    }
}
