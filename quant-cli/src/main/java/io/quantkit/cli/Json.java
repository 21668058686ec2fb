package io.quantkit.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The one way commands print {@code --json}: a tree of maps, lists, strings, numbers and booleans, keys sorted,
 * two-space indentation, NaN and infinities written as {@code null} (JSON has no such numbers).
 */
public final class Json {
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

    private Json() {
    }

    /** Writes {@code tree} as one JSON document followed by a newline, and flushes. */
    public static void print(PrintWriter out, Object tree) {
        out.println(toString(tree));
        out.flush();
    }

    /** {@code tree} as a JSON document (no trailing newline). */
    public static String toString(Object tree) {
        try {
            return MAPPER.writeValueAsString(sanitize(tree));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The shared mapper, for tests and readers of JSON input. */
    public static ObjectMapper mapper() {
        return MAPPER;
    }

    private static Object sanitize(Object o) {
        if (o instanceof Double d && (d.isNaN() || d.isInfinite())) {
            return null;
        }
        if (o instanceof Float f && (f.isNaN() || f.isInfinite())) {
            return null;
        }
        if (o instanceof Map<?, ?> m) {
            Map<String, Object> out = new TreeMap<>();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                out.put(String.valueOf(e.getKey()), sanitize(e.getValue()));
            }
            return out;
        }
        if (o instanceof Collection<?> c) {
            List<Object> out = new ArrayList<>(c.size());
            for (Object x : c) {
                out.add(sanitize(x));
            }
            return out;
        }
        if (o instanceof long[] a) {
            List<Object> out = new ArrayList<>(a.length);
            for (long x : a) {
                out.add(x);
            }
            return out;
        }
        return o;
    }
}
