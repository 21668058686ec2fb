package io.quantkit.calib;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * How the inputs of the linear layers are fake-quantized, spelled like a weight scheme:
 * <pre>
 * none                                   inputs stay float32 (weight-only quantization)
 * int8 | int8:dynamic                    8-bit absmax per token (row), as BitNet b1.58 and LLM.int8() do
 * int8:observer=minmax                   one static scale per tensor, from a calibration pass:
 *      observer=ema[,c=0.01]               moving-average min-max (PyTorch's MovingAverageMinMaxObserver)
 *      observer=percentile[,p=99.99]       percentile of |x|
 *      observer=mse                        the clipping threshold of least squared error on the |x| histogram
 *      observer=kl                         TensorRT's entropy calibration (least KL divergence, 128 levels)
 * fp8-e4m3[:...]                         the same, on the E4M3 grid (max 448) instead of int8's ±127
 * ...,smooth=0.5                         per-channel equalisation first (SmoothQuant, migration strength α)
 * ...,smooth=awq                         per-channel equalisation first, searched for the weight scheme (AWQ)
 * none:smooth=...                        equalisation with float32 inputs (what it costs or gains the weights)
 * </pre>
 * {@link #toString()} is canonical: format, then {@code dynamic} or {@code observer=...} with the parameters
 * that differ from their defaults, then {@code smooth}. Immutable.
 */
public final class ActivationScheme {
    /** The grid activations are rounded to. */
    public enum Format {
        NONE("none", 0f),
        INT8("int8", 127f),
        FP8_E4M3("fp8-e4m3", 448f);

        private final String cliName;
        private final float qmax;

        Format(String cliName, float qmax) {
            this.cliName = cliName;
            this.qmax = qmax;
        }

        public String cliName() {
            return cliName;
        }

        /** Largest magnitude of the grid: a scale maps a threshold T to it (s = T / qmax). */
        public float qmax() {
            return qmax;
        }
    }

    /** Default moving-average constant (PyTorch's {@code averaging_constant}). */
    public static final double DEFAULT_EMA = 0.01;
    /** Default percentile. */
    public static final double DEFAULT_PERCENTILE = 99.99;

    public static final ActivationScheme NONE = new ActivationScheme(Format.NONE, null, 0, Double.NaN, false);

    private final Format format;
    private final Observer observer; // null: dynamic per token
    private final double param;      // c for ema, p for percentile, else 0
    private final double smooth;     // NaN: no SmoothQuant equalisation
    private final boolean awq;

    private ActivationScheme(Format format, Observer observer, double param, double smooth, boolean awq) {
        this.format = format;
        this.observer = observer;
        this.param = param;
        this.smooth = smooth;
        this.awq = awq;
    }

    /** Parses the spelling of the class comment; one clear sentence on a bad name, parameter or value. */
    public static ActivationScheme parse(String text) {
        Objects.requireNonNull(text, "activation scheme");
        String t = text.trim().toLowerCase(Locale.ROOT);
        int colon = t.indexOf(':');
        String name = colon < 0 ? t : t.substring(0, colon);
        Format format = null;
        for (Format f : Format.values()) {
            if (f.cliName.equals(name)) {
                format = f;
            }
        }
        if (format == null) {
            throw new IllegalArgumentException("unknown activation format '" + name + "' in '" + text
                    + "' (accepted: none, int8, fp8-e4m3)");
        }
        Map<String, String> given = new LinkedHashMap<>();
        if (colon >= 0) {
            for (String item : t.substring(colon + 1).split(",", -1)) {
                String kv = item.trim();
                if (kv.isEmpty()) {
                    throw new IllegalArgumentException("empty parameter in activation scheme '" + text + "'");
                }
                int eq = kv.indexOf('=');
                String key = eq < 0 ? kv : kv.substring(0, eq).trim();
                String value = eq < 0 ? "" : kv.substring(eq + 1).trim();
                if (given.put(key, value) != null) {
                    throw new IllegalArgumentException("parameter '" + key + "' given twice in activation scheme '"
                            + text + "'");
                }
            }
        }
        double smooth = Double.NaN;
        boolean awq = false;
        String a = given.remove("smooth");
        if (a != null) {
            if (a.equals("awq")) {
                awq = true;
            } else {
                smooth = number("smooth", a, text);
                if (!(smooth >= 0 && smooth <= 1)) {
                    throw new IllegalArgumentException("smooth (" + a + ") must be awq or in [0, 1] in '" + text + "'");
                }
            }
        }
        if (format == Format.NONE) {
            if (!given.isEmpty()) {
                throw new IllegalArgumentException("activation scheme 'none' takes only smooth=: '" + text + "'");
            }
            return a == null ? NONE : new ActivationScheme(Format.NONE, null, 0, smooth, awq);
        }
        boolean dynamic = given.containsKey("dynamic");
        if (dynamic && !given.remove("dynamic").isEmpty()) {
            throw new IllegalArgumentException("'dynamic' is a flag without a value in '" + text + "'");
        }
        String obs = given.remove("observer");
        if (dynamic && obs != null) {
            throw new IllegalArgumentException("'dynamic' (per-token scales) and 'observer' (static scales) "
                    + "exclude each other in '" + text + "'");
        }
        Observer observer = obs == null ? null : Observer.fromCliName(obs);
        double param = 0;
        if (observer == Observer.EMA) {
            String c = given.remove("c");
            param = c == null ? DEFAULT_EMA : number("c", c, text);
            if (!(param > 0 && param <= 1)) {
                throw new IllegalArgumentException("c (" + c + ") must be in (0, 1] in '" + text + "'");
            }
        } else if (observer == Observer.PERCENTILE) {
            String p = given.remove("p");
            param = p == null ? DEFAULT_PERCENTILE : number("p", p, text);
            if (!(param > 0 && param <= 100)) {
                throw new IllegalArgumentException("p (" + p + ") must be in (0, 100] in '" + text + "'");
            }
        }
        if (!given.isEmpty()) {
            String k = given.keySet().iterator().next();
            throw new IllegalArgumentException("activation scheme '" + text + "' has no parameter '" + k
                    + "' (accepted: dynamic, observer=minmax|ema|percentile|mse|kl, c= with ema, p= with percentile, "
                    + "smooth=)");
        }
        return new ActivationScheme(format, observer, param, smooth, awq);
    }

    private static double number(String key, String v, String text) {
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " (" + v + ") is not a number in '" + text + "'", e);
        }
    }

    public Format format() {
        return format;
    }

    public boolean isNone() {
        return format == Format.NONE;
    }

    /** Whether scales are computed per token at run time (no calibration pass needed for them). */
    public boolean dynamic() {
        return format != Format.NONE && observer == null;
    }

    /** The observer of static per-tensor scales, or null (dynamic, or none). */
    public Observer observer() {
        return observer;
    }

    /** {@code c} of the moving average, {@code p} of the percentile, else 0. */
    public double param() {
        return param;
    }

    /** The SmoothQuant migration strength α, or NaN for no equalisation. */
    public double smooth() {
        return smooth;
    }

    /** Whether SmoothQuant equalisation comes first ({@link #smooth()} is its α). */
    public boolean smoothed() {
        return !Double.isNaN(smooth);
    }

    /** Whether AWQ equalisation (searched for the weight scheme) comes first. */
    public boolean awq() {
        return awq;
    }

    /** Whether this scheme needs a calibration pass (static scales or equalisation). */
    public boolean needsCalibration() {
        return observer != null || smoothed() || awq;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ActivationScheme s && s.format == format && s.observer == observer
                && Double.compare(s.param, param) == 0 && Double.compare(s.smooth, smooth) == 0 && s.awq == awq;
    }

    @Override
    public int hashCode() {
        return Objects.hash(format, observer, param, smooth, awq);
    }

    @Override
    public String toString() {
        if (format == Format.NONE) {
            return awq ? "none:smooth=awq" : smoothed() ? "none:smooth=" + plain(smooth) : "none";
        }
        StringBuilder sb = new StringBuilder(format.cliName).append(':');
        if (observer == null) {
            sb.append("dynamic");
        } else {
            sb.append("observer=").append(observer.cliName());
            if (observer == Observer.EMA && param != DEFAULT_EMA) {
                sb.append(",c=").append(plain(param));
            } else if (observer == Observer.PERCENTILE && param != DEFAULT_PERCENTILE) {
                sb.append(",p=").append(plain(param));
            }
        }
        if (smoothed()) {
            sb.append(",smooth=").append(plain(smooth));
        } else if (awq) {
            sb.append(",smooth=awq");
        }
        return sb.toString();
    }

    private static String plain(double v) {
        return java.math.BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
    }
}
