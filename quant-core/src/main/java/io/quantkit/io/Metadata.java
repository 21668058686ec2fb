package io.quantkit.io;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A checkpoint's metadata: typed values under string keys, iterated in sorted key order (so anything written
 * from it is deterministic). GGUF metadata keeps its types; safetensors {@code __metadata__} entries are strings;
 * llama2.c checkpoints get llama.cpp's keys ({@code llama.embedding_length}, ...).
 *
 * <p>Immutable and thread-safe. The typed getters throw {@link IllegalArgumentException} naming the key when the
 * value is missing or of another type.
 */
public final class Metadata {
    private static final Metadata EMPTY = new Metadata(new TreeMap<>());

    private final SortedMap<String, MetaValue> values;

    private Metadata(TreeMap<String, MetaValue> values) {
        this.values = Collections.unmodifiableSortedMap(values);
    }

    public static Metadata empty() {
        return EMPTY;
    }

    /** Metadata holding a copy of {@code values}. */
    public static Metadata of(Map<String, ? extends MetaValue> values) {
        TreeMap<String, MetaValue> m = new TreeMap<>();
        for (Map.Entry<String, ? extends MetaValue> e : values.entrySet()) {
            m.put(Objects.requireNonNull(e.getKey()), Objects.requireNonNull(e.getValue(), e.getKey()));
        }
        return new Metadata(m);
    }

    /** All entries in sorted key order (unmodifiable). */
    public SortedMap<String, MetaValue> asMap() {
        return values;
    }

    public int size() {
        return values.size();
    }

    public boolean contains(String key) {
        return values.containsKey(key);
    }

    public Optional<MetaValue> get(String key) {
        return Optional.ofNullable(values.get(key));
    }

    private MetaValue require(String key) {
        MetaValue v = values.get(key);
        if (v == null) {
            throw new IllegalArgumentException("metadata has no key '" + key + "'");
        }
        return v;
    }

    /** The string value of {@code key}. */
    public String getString(String key) {
        if (require(key) instanceof MetaValue.Str s) {
            return s.value();
        }
        throw wrongType(key, "a string");
    }

    /** The integer value of {@code key} (any integer type; UINT64 values above Long.MAX_VALUE come out negative). */
    public long getLong(String key) {
        if (require(key) instanceof MetaValue.Int i) {
            return i.value();
        }
        throw wrongType(key, "an integer");
    }

    /** The integer value of {@code key}, which must fit an int. */
    public int getInt(String key) {
        long v = getLong(key);
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("metadata '" + key + "' (" + v + ") does not fit an int");
        }
        return (int) v;
    }

    /** The float value of {@code key} (FLOAT32 or FLOAT64). */
    public double getDouble(String key) {
        if (require(key) instanceof MetaValue.Real r) {
            return r.value();
        }
        throw wrongType(key, "a float");
    }

    public boolean getBool(String key) {
        if (require(key) instanceof MetaValue.Bool b) {
            return b.value();
        }
        throw wrongType(key, "a bool");
    }

    /** The elements of an array value. */
    public List<MetaValue> getArray(String key) {
        if (require(key) instanceof MetaValue.Arr a) {
            return a.values();
        }
        throw wrongType(key, "an array");
    }

    /** The elements of an array of strings. */
    public List<String> getStrings(String key) {
        List<MetaValue> a = getArray(key);
        List<String> out = new ArrayList<>(a.size());
        for (MetaValue v : a) {
            if (!(v instanceof MetaValue.Str s)) {
                throw wrongType(key, "an array of strings");
            }
            out.add(s.value());
        }
        return Collections.unmodifiableList(out);
    }

    /** The elements of an array of floats, as a new float array. */
    public float[] getFloats(String key) {
        List<MetaValue> a = getArray(key);
        float[] out = new float[a.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(a.get(i) instanceof MetaValue.Real r)) {
                throw wrongType(key, "an array of floats");
            }
            out[i] = (float) r.value();
        }
        return out;
    }

    /** The elements of an array of integers that fit an int, as a new int array. */
    public int[] getInts(String key) {
        List<MetaValue> a = getArray(key);
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(a.get(i) instanceof MetaValue.Int v) || v.value() < Integer.MIN_VALUE
                    || v.value() > Integer.MAX_VALUE) {
                throw wrongType(key, "an array of int32 values");
            }
            out[i] = (int) v.value();
        }
        return out;
    }

    private IllegalArgumentException wrongType(String key, String expected) {
        return new IllegalArgumentException("metadata '" + key + "' is " + values.get(key).type()
                + ", not " + expected);
    }

    /** A copy of this metadata with {@code key} set to {@code value}. */
    public Metadata with(String key, MetaValue value) {
        TreeMap<String, MetaValue> m = new TreeMap<>(values);
        m.put(Objects.requireNonNull(key), Objects.requireNonNull(value));
        return new Metadata(m);
    }

    /** A copy of this metadata without the keys for which {@code drop} is true. */
    public Metadata without(java.util.function.Predicate<String> drop) {
        TreeMap<String, MetaValue> m = new TreeMap<>(values);
        m.keySet().removeIf(drop);
        return new Metadata(m);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Metadata m && m.values.equals(values);
    }

    @Override
    public int hashCode() {
        return values.hashCode();
    }

    @Override
    public String toString() {
        return values.toString();
    }
}
