package io.quantkit.io.convert;

import io.quantkit.io.TensorInfo;
import io.quantkit.quant.Scheme;
import io.quantkit.tensor.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Ordered rules "tensor pattern → scheme"; the first rule that matches a tensor decides its scheme.
 *
 * <pre>
 * # comment
 * PATTERN  SCHEME [METHOD] one rule per line; PATTERN and SCHEME separated by blanks (or " = ", " -&gt; ")
 *   PATTERN  a glob over the whole tensor name: * any run of characters, ? one character
 *            re:REGEX  a Java regular expression over the whole name
 *            {@literal @}1d       any tensor of rank 0 or 1 (norm weights, biases)
 *   SCHEME   any scheme name with parameters (q4_0, int4:group=64,asym), or "keep" (store as it is)
 *   METHOD   optional, how codes are chosen with calibration statistics: rtn, imatrix or gptq (checked by
 *            whoever applies the recipe; a recipe is plain data here)
 * </pre>
 * {@link #withDefaults(Scheme)} appends the default rules after the user's:
 * {@code @1d keep}, {@code *norm* keep}, {@code *.bias keep}, {@code * TARGET}.
 * Immutable.
 */
public final class Recipe {
    /** Lines of a recipe file. */
    public static final int MAX_RULES = 10_000;

    /** One rule; {@code scheme} null means keep; {@code method} null means the applier's default. */
    public record Rule(String pattern, Scheme scheme, String method) {
        public Rule {
            Objects.requireNonNull(pattern);
            if (method != null && !method.matches("[a-z][a-z0-9_-]*")) {
                throw new IllegalArgumentException("method '" + method + "' is not a lower-case word");
            }
            if (method != null && scheme == null) {
                throw new IllegalArgumentException("'keep' takes no method (got '" + method + "')");
            }
        }

        /** A rule without a method. */
        public Rule(String pattern, Scheme scheme) {
            this(pattern, scheme, null);
        }

        boolean matches(String name, Shape shape, Pattern compiled) {
            if (pattern.equals("@1d")) {
                return shape.rank() <= 1;
            }
            return compiled.matcher(name).matches();
        }

        @Override
        public String toString() {
            return pattern + " " + (scheme == null ? "keep" : scheme.toString()) + (method == null ? "" : " " + method);
        }
    }

    private final List<Rule> rules;
    private final List<Pattern> compiled;

    private Recipe(List<Rule> rules) {
        this.rules = List.copyOf(rules);
        this.compiled = new ArrayList<>();
        for (Rule r : this.rules) {
            compiled.add(compile(r.pattern()));
        }
    }

    public static Recipe of(List<Rule> rules) {
        return new Recipe(rules);
    }

    /** A recipe with no rules (add defaults with {@link #withDefaults}). */
    public static Recipe empty() {
        return new Recipe(List.of());
    }

    /** Parses recipe text; throws {@link IllegalArgumentException} naming the line for bad patterns or schemes. */
    public static Recipe parse(String text) {
        List<Rule> out = new ArrayList<>();
        String[] lines = text.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            int hash = line.indexOf('#');
            if (hash >= 0) {
                line = line.substring(0, hash);
            }
            line = line.trim();
            if (line.isEmpty()) {
                continue;
            }
            String[] parts = line.split("\\s*(=|->)\\s*|\\s+", 2);
            if (parts.length != 2 || parts[1].isBlank()) {
                throw new IllegalArgumentException("recipe line " + (i + 1) + " '" + lines[i].trim()
                        + "' is not 'PATTERN SCHEME'");
            }
            if (out.size() >= MAX_RULES) {
                throw new IllegalArgumentException("recipe rules (" + (out.size() + 1) + ") exceed the maximum ("
                        + MAX_RULES + ")");
            }
            String[] rest = parts[1].trim().split("\\s+");
            if (rest.length > 2) {
                throw new IllegalArgumentException("recipe line " + (i + 1) + " '" + lines[i].trim()
                        + "' is not 'PATTERN SCHEME [METHOD]'");
            }
            String scheme = rest[0];
            try {
                compile(parts[0]);
                out.add(new Rule(parts[0], scheme.equalsIgnoreCase("keep") ? null : Scheme.parse(scheme),
                        rest.length == 2 ? rest[1] : null));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("recipe line " + (i + 1) + ": " + e.getMessage(), e);
            }
        }
        return new Recipe(out);
    }

    /** This recipe's rules followed by the defaults for {@code target}. */
    public Recipe withDefaults(Scheme target) {
        List<Rule> all = new ArrayList<>(rules);
        all.add(new Rule("@1d", null));
        all.add(new Rule("*norm*", null));
        all.add(new Rule("*.bias", null));
        all.add(new Rule("*", Objects.requireNonNull(target)));
        return new Recipe(all);
    }

    public List<Rule> rules() {
        return rules;
    }

    /** The first rule matching {@code t}, or null if none does. */
    public Rule match(TensorInfo t) {
        return match(t.name(), t.shape());
    }

    /** The first rule matching a tensor of this name and shape, or null if none does. */
    public Rule match(String name, Shape shape) {
        for (int i = 0; i < rules.size(); i++) {
            if (rules.get(i).matches(name, shape, compiled.get(i))) {
                return rules.get(i);
            }
        }
        return null;
    }

    static Pattern compile(String pattern) {
        if (pattern.equals("@1d")) {
            return Pattern.compile("(?!)");
        }
        if (pattern.startsWith("re:")) {
            try {
                return Pattern.compile(pattern.substring(3));
            } catch (PatternSyntaxException e) {
                throw new IllegalArgumentException("bad regular expression '" + pattern.substring(3) + "': "
                        + e.getDescription());
            }
        }
        StringBuilder re = new StringBuilder();
        for (int i = 0; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            if (c == '*') {
                re.append(".*");
            } else if (c == '?') {
                re.append('.');
            } else {
                re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(re.toString(), Pattern.DOTALL);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        for (Rule r : rules) {
            sb.append(r).append('\n');
        }
        return sb.toString();
    }
}
