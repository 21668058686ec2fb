package io.quantkit.io;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One typed metadata value: an integer of a given width, a float, a bool, a string, or an array (possibly of
 * arrays). Immutable. Unsigned 64-bit values are held in a {@code long} with the same bits.
 */
public sealed interface MetaValue permits MetaValue.Int, MetaValue.Real, MetaValue.Bool, MetaValue.Str, MetaValue.Arr {

    MetaType type();

    /** An integer value of one of the integer types; validated to fit that type. */
    record Int(MetaType type, long value) implements MetaValue {
        public Int {
            Objects.requireNonNull(type);
            boolean ok = switch (type) {
                case UINT8 -> value >= 0 && value <= 0xff;
                case INT8 -> value >= Byte.MIN_VALUE && value <= Byte.MAX_VALUE;
                case UINT16 -> value >= 0 && value <= 0xffff;
                case INT16 -> value >= Short.MIN_VALUE && value <= Short.MAX_VALUE;
                case UINT32 -> value >= 0 && value <= 0xffffffffL;
                case INT32 -> value >= Integer.MIN_VALUE && value <= Integer.MAX_VALUE;
                case UINT64, INT64 -> true;
                default -> throw new IllegalArgumentException(type + " is not an integer type");
            };
            if (!ok) {
                throw new IllegalArgumentException(value + " does not fit " + type);
            }
        }

        @Override
        public String toString() {
            return type == MetaType.UINT64 ? Long.toUnsignedString(value) : Long.toString(value);
        }
    }

    /** A FLOAT32 or FLOAT64 value (a FLOAT32 holds exactly a float). */
    record Real(MetaType type, double value) implements MetaValue {
        public Real {
            if (type != MetaType.FLOAT32 && type != MetaType.FLOAT64) {
                throw new IllegalArgumentException(type + " is not a float type");
            }
            if (type == MetaType.FLOAT32 && !Double.isNaN(value) && (double) (float) value != value) {
                throw new IllegalArgumentException(value + " is not a float32 value");
            }
        }

        @Override
        public String toString() {
            return type == MetaType.FLOAT32 ? Float.toString((float) value) : Double.toString(value);
        }
    }

    record Bool(boolean value) implements MetaValue {
        @Override
        public MetaType type() {
            return MetaType.BOOL;
        }

        @Override
        public String toString() {
            return Boolean.toString(value);
        }
    }

    record Str(String value) implements MetaValue {
        public Str {
            Objects.requireNonNull(value);
        }

        @Override
        public MetaType type() {
            return MetaType.STRING;
        }

        @Override
        public String toString() {
            return value;
        }
    }

    /** An array whose elements all have {@code elementType} (ARRAY for nested arrays). */
    record Arr(MetaType elementType, List<MetaValue> values) implements MetaValue {
        public Arr {
            Objects.requireNonNull(elementType);
            values = List.copyOf(values);
            for (MetaValue v : values) {
                if (v.type() != elementType) {
                    throw new IllegalArgumentException("array of " + elementType + " holds a " + v.type());
                }
            }
        }

        @Override
        public MetaType type() {
            return MetaType.ARRAY;
        }

        public int size() {
            return values.size();
        }

        @Override
        public String toString() {
            return "[" + elementType + " x " + values.size() + "]";
        }
    }

    static Int u32(long v) {
        return new Int(MetaType.UINT32, v);
    }

    static Int i32(int v) {
        return new Int(MetaType.INT32, v);
    }

    static Int u64(long v) {
        return new Int(MetaType.UINT64, v);
    }

    static Real f32(float v) {
        return new Real(MetaType.FLOAT32, v);
    }

    static Str str(String v) {
        return new Str(v);
    }

    static Bool bool(boolean v) {
        return new Bool(v);
    }

    static Arr strings(List<String> v) {
        List<MetaValue> out = new ArrayList<>(v.size());
        for (String s : v) {
            out.add(new Str(s));
        }
        return new Arr(MetaType.STRING, out);
    }

    static Arr floats(float[] v) {
        List<MetaValue> out = new ArrayList<>(v.length);
        for (float f : v) {
            out.add(new Real(MetaType.FLOAT32, f));
        }
        return new Arr(MetaType.FLOAT32, out);
    }

    static Arr ints(MetaType type, int[] v) {
        List<MetaValue> out = new ArrayList<>(v.length);
        for (int x : v) {
            out.add(new Int(type, x));
        }
        return new Arr(type, out);
    }
}
