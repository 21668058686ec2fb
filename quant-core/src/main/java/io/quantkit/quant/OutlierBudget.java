package io.quantkit.quant;

import java.util.Locale;

/**
 * The {@code budget} of {@code int4-outliers}, parsed once for every place that reads it (the scheme's validator, the
 * codec, the size accounting): a fraction of the weights ({@code 0.5%}, {@code 0.005}, in 0..1) or a bits-per-weight
 * target ({@code 4.6bpw}, in (0, 64]).
 *
 * @param text the budget as written
 * @param bitsPerWeight whether {@code value} is a bits-per-weight target rather than a fraction
 * @param value the fraction (0..1) or the target (bits per weight)
 */
public record OutlierBudget(String text, boolean bitsPerWeight, double value) {
    /** Largest bits-per-weight target accepted. */
    public static final int MAX_BPW = 64;

    /** Parses and checks a budget; {@link IllegalArgumentException} with one line saying what is wrong. */
    public static OutlierBudget parse(String text) {
        String shown = text.trim();
        String t = shown.toLowerCase(Locale.ROOT);
        boolean bpw = t.endsWith("bpw");
        boolean percent = !bpw && t.endsWith("%");
        String num = bpw ? t.substring(0, t.length() - 3) : percent ? t.substring(0, t.length() - 1) : t;
        double x;
        try {
            x = Double.parseDouble(num.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("budget '" + shown
                    + "' is neither a fraction (0.5%, 0.005) nor a bits-per-weight target (4.6bpw)");
        }
        if (bpw) {
            if (!(x > 0 && x <= MAX_BPW)) {
                throw new IllegalArgumentException("budget " + shown + " must be in (0, " + MAX_BPW + "] bits per weight");
            }
            return new OutlierBudget(shown, true, x);
        }
        double f = percent ? x / 100.0 : x;
        if (!(f >= 0 && f <= 1)) {
            throw new IllegalArgumentException("budget " + shown + " must be a fraction in 0..1 (0%..100%)");
        }
        return new OutlierBudget(shown, false, f);
    }
}
