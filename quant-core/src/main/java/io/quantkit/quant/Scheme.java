package io.quantkit.quant;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * A scheme with its parameters, e.g. {@code int4:group=64,asym} or {@code fp8-e4m3:scale=channel}.
 * Parameters are validated and completed with defaults when parsed; {@link #toString()} gives the
 * canonical spelling (kind name, then only the parameters that differ from their defaults, sorted).
 *
 * <p>Immutable and thread-safe.
 */
public final class Scheme {
    private final SchemeKind kind;
    private final Map<String, String> params; // every parameter of the kind, in declaration order

    private Scheme(SchemeKind kind, Map<String, String> params) {
        this.kind = kind;
        this.params = Collections.unmodifiableMap(params);
    }

    /** The scheme with all parameters at their defaults. */
    public static Scheme of(SchemeKind kind) {
        return withParams(kind, Map.of());
    }

    /**
     * Parses {@code name[:k=v,k=v,flag]}. Throws {@link IllegalArgumentException} with one clear sentence on an
     * unknown scheme, unknown parameter, repeated parameter or bad value.
     */
    public static Scheme parse(String text) {
        Objects.requireNonNull(text, "scheme");
        String t = text.trim();
        int colon = t.indexOf(':');
        SchemeKind kind = SchemeKind.fromCliName(colon < 0 ? t : t.substring(0, colon));
        Map<String, String> given = new LinkedHashMap<>();
        if (colon >= 0) {
            for (String item : t.substring(colon + 1).split(",", -1)) {
                String kv = item.trim();
                if (kv.isEmpty()) {
                    throw new IllegalArgumentException("empty parameter in scheme '" + text + "'");
                }
                if (kv.indexOf('=') < 0) {
                    String expanded = SchemeKind.expandFlag(kv.toLowerCase(java.util.Locale.ROOT));
                    if (expanded == null) {
                        throw new IllegalArgumentException("unknown flag '" + kv + "' in scheme '" + text + "'");
                    }
                    kv = expanded;
                }
                int eq = kv.indexOf('=');
                String key = kv.substring(0, eq).trim().toLowerCase(java.util.Locale.ROOT);
                if (given.put(key, kv.substring(eq + 1)) != null) {
                    throw new IllegalArgumentException("parameter '" + key + "' given twice in scheme '" + text + "'");
                }
            }
        }
        return withParams(kind, given);
    }

    /** A scheme from a kind and explicit parameters (validated; missing ones take their defaults). */
    public static Scheme withParams(SchemeKind kind, Map<String, String> given) {
        Map<String, String> all = new LinkedHashMap<>();
        Map<String, String> rest = new TreeMap<>(given);
        for (SchemeKind.Param p : kind.params()) {
            String v = rest.remove(p.name());
            all.put(p.name(), p.validator().check(v == null ? p.defaultValue() : v));
        }
        if (!rest.isEmpty()) {
            String accepted = kind.params().isEmpty() ? "none"
                    : String.join(", ", kind.params().stream().map(SchemeKind.Param::name).toList());
            throw new IllegalArgumentException("scheme " + kind.cliName() + " has no parameter '"
                    + rest.keySet().iterator().next() + "' (accepted: " + accepted + ")");
        }
        return new Scheme(kind, all);
    }

    public SchemeKind kind() {
        return kind;
    }

    /** Every parameter (defaults included), in the kind's declaration order. */
    public Map<String, String> params() {
        return params;
    }

    public String param(String name) {
        String v = params.get(name);
        if (v == null) {
            throw new IllegalArgumentException("scheme " + kind.cliName() + " has no parameter '" + name + "'");
        }
        return v;
    }

    public int intParam(String name) {
        return Integer.parseInt(param(name));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Scheme s && s.kind == kind && s.params.equals(params);
    }

    @Override
    public int hashCode() {
        return kind.hashCode() * 31 + params.hashCode();
    }

    /** Canonical spelling: {@code int4:group=64,mode=asym}; parameters at their default are left out. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(kind.cliName());
        char sep = ':';
        for (SchemeKind.Param p : kind.params()) {
            String v = params.get(p.name());
            if (!v.equals(p.validator().check(p.defaultValue()))) {
                sb.append(sep).append(p.name()).append('=').append(v);
                sep = ',';
            }
        }
        return sb.toString();
    }
}
