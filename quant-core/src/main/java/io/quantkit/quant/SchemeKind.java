package io.quantkit.quant;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The closed family of quantization schemes. Each constant names its CLI spelling, its parameters with
 * defaults, and the bare words accepted as shorthands ({@code asym} means {@code mode=asym}).
 *
 * <p>Adding a format touches one constant here, one codec class (see {@link Codecs}) and one test row.
 */
public enum SchemeKind {
    F32("f32", List.of()),
    BF16("bf16", List.of()),
    F16("f16", List.of()),
    /** OCP E4M3FN values times a float32 scale; scale = amax / 448 per tensor, channel or 2-D block. */
    FP8_E4M3("fp8-e4m3", List.of(Param.choice("scale", "tensor", "tensor", "channel", "block"),
            Param.range("block", 128, 1, 1 << 20), Param.choice("overflow", "saturate", "saturate", "nan"))),
    /** E5M2 values times a float32 scale; scale = amax / 57344. */
    FP8_E5M2("fp8-e5m2", List.of(Param.choice("scale", "tensor", "tensor", "channel", "block"),
            Param.range("block", 128, 1, 1 << 20), Param.choice("overflow", "saturate", "saturate", "inf"))),
    /** Integer grid of 2..8 bits, groups along the row (group=0: one group per row), sym or asym. */
    INT("int", List.of(Param.range("bits", 4, 2, 8), Param.range("group", 0, 0, 1 << 20),
            Param.choice("mode", "sym", "sym", "asym"))),
    /** Preset: int:bits=8,group=0,sym (symmetric per output channel). */
    INT8("int8", List.of(Param.range("group", 0, 0, 1 << 20), Param.choice("mode", "sym", "sym", "asym"))),
    /** Preset: int:bits=4,group=128,sym. */
    INT4("int4", List.of(Param.range("group", 128, 0, 1 << 20), Param.choice("mode", "sym", "sym", "asym"))),
    /** INT4 groups plus a budget of weights kept exactly in 16-bit (sparse index + value). */
    INT4_OUTLIERS("int4-outliers", List.of(Param.range("group", 128, 0, 1 << 20),
            Param.choice("mode", "sym", "sym", "asym"), Param.budget("budget", "0.5%"),
            Param.choice("select", "magnitude", "magnitude", "saliency", "error"))),
    /** BitNet b1.58 absmean ternary: s = mean|W|, q = clip(round_half_even(W/s), -1, 1). */
    TERNARY("ternary", List.of(Param.choice("scale", "tensor", "tensor", "channel", "group"),
            Param.range("group", 128, 1, 1 << 20), Param.choice("pack", "2bit", "2bit", "base3"))),
    /** OCP MX: blocks of 32 E2M1 values sharing an E8M0 scale; GGUF type MXFP4. */
    MXFP4("mxfp4", List.of()),
    /** bitsandbytes NormalFloat4: 16-value table, blocks of 64 with an absmax scale. */
    NF4("nf4", List.of(Param.range("block", 64, 1, 1 << 20))),
    Q8_0("q8_0", List.of()),
    Q4_0("q4_0", List.of()),
    Q4_1("q4_1", List.of()),
    TQ1_0("tq1_0", List.of()),
    TQ2_0("tq2_0", List.of());

    private static final Map<String, String> FLAG_WORDS = Map.of(
            "sym", "mode=sym", "asym", "mode=asym", "saturate", "overflow=saturate");

    private final String cliName;
    private final List<Param> params;

    SchemeKind(String cliName, List<Param> params) {
        this.cliName = cliName;
        this.params = params;
    }

    /** The spelling used on the command line and in files, e.g. {@code int4-outliers}. */
    public String cliName() {
        return cliName;
    }

    public List<Param> params() {
        return params;
    }

    /** Expands a bare word such as {@code asym} to its {@code key=value} form, or returns null. */
    static String expandFlag(String word) {
        return FLAG_WORDS.get(word);
    }

    /** The kind with this CLI name (case-insensitive), or throws {@link IllegalArgumentException} listing them all. */
    public static SchemeKind fromCliName(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        for (SchemeKind k : values()) {
            if (k.cliName.equals(n)) {
                return k;
            }
        }
        StringBuilder known = new StringBuilder();
        for (SchemeKind k : values()) {
            known.append(known.length() == 0 ? "" : " ").append(k.cliName);
        }
        throw new IllegalArgumentException("unknown scheme '" + name + "' (known: " + known + ")");
    }

    /** One parameter of a scheme: name, default value, and what values are accepted. */
    public record Param(String name, String defaultValue, String description, Validator validator) {
        /** Checks a value; returns its canonical spelling or throws {@link IllegalArgumentException}. */
        @FunctionalInterface
        public interface Validator {
            String check(String value);
        }

        static Param range(String name, int def, int min, int max) {
            return new Param(name, Integer.toString(def), "integer " + min + ".." + max, v -> {
                int x;
                try {
                    x = Integer.parseInt(v.trim());
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException(name + " must be an integer, got '" + v + "'");
                }
                if (x < min || x > max) {
                    throw new IllegalArgumentException(name + " (" + x + ") must be in " + min + ".." + max);
                }
                return Integer.toString(x);
            });
        }

        static Param choice(String name, String def, String... allowed) {
            return new Param(name, def, String.join("|", allowed), v -> {
                String lv = v.trim().toLowerCase(Locale.ROOT);
                for (String a : allowed) {
                    if (a.equals(lv)) {
                        return a;
                    }
                }
                throw new IllegalArgumentException(name + " must be one of " + String.join(", ", allowed)
                        + ", got '" + v + "'");
            });
        }

        static Param text(String name, String def) {
            return new Param(name, def, "text", v -> v.trim());
        }

        /**
         * An outlier budget: a fraction of the weights ({@code 0.5%}, {@code 0.005}, in 0..1) or a bits-per-weight
         * target ({@code 4.6bpw}, in (0, 64]). Checked when the scheme is parsed, so a bad budget is one error before
         * any work, not a fallback per tensor.
         */
        static Param budget(String name, String def) {
            return new Param(name, def, "fraction (0.5%, 0.005) or bits-per-weight target (4.6bpw)",
                    v -> OutlierBudget.parse(v).text());
        }
    }
}
