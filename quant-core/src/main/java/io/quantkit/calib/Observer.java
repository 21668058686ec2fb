package io.quantkit.calib;

import java.util.Locale;

/**
 * Observers of activation ranges: each turns the {@link ActivationStats} of one linear layer's input into a
 * clipping threshold {@code T} (the static scale is then {@code T / qmax} of the grid). All are symmetric: the
 * grid spans {@code [-T, T]}.
 *
 * <pre>
 * MINMAX      T = max(−min, max) over every value seen (PyTorch MinMaxObserver, symmetric)
 * EMA         min ← min + c·(batch_min − min), max likewise, from the first batch's min/max on (PyTorch
 *             MovingAverageMinMaxObserver, averaging_constant c); T = max(−min, max)
 * PERCENTILE  the upper edge of the first |x|-histogram bin where the cumulative count reaches p/100 of all
 * MSE         the candidate T = k·w (k = 1..BINS, w the bin width) minimising Σ_b n_b·(c_b − fq_T(c_b))², where
 *             c_b is bin b's centre and fq_T the fake quantizer of the target grid with threshold T (int8: scale
 *             T/127, round half even, clamp ±127; fp8-e4m3: scale T/448, E4M3 rounding, saturating)
 * KL          TensorRT's entropy calibration on the |x| histogram (see {@link ActivationStats#klThreshold})
 * </pre>
 * Ties go to the smallest threshold. Not PyTorch's HistogramObserver: its search moves the two ends of a signed
 * histogram greedily and stops at the first increase of an approximate L2 error; MSE here evaluates every
 * candidate of a symmetric grid and takes the global minimum.
 */
public enum Observer {
    MINMAX("minmax"),
    EMA("ema"),
    PERCENTILE("percentile"),
    MSE("mse"),
    KL("kl");

    private final String cliName;

    Observer(String cliName) {
        this.cliName = cliName;
    }

    public String cliName() {
        return cliName;
    }

    /** The observer named {@code name} ({@code minmax}, {@code ema}, {@code percentile}, {@code mse}, {@code kl}). */
    public static Observer fromCliName(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        for (Observer o : values()) {
            if (o.cliName.equals(n)) {
                return o;
            }
        }
        throw new IllegalArgumentException("unknown observer '" + name + "' (accepted: minmax, ema, percentile, mse, kl)");
    }
}
