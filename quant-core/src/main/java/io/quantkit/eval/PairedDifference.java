package io.quantkit.eval;

/**
 * Two models scored on the same tokens, compared token by token (model a against model b). Because both see the
 * same text, most of the text's own variability cancels: the standard errors here come from the per-token
 * differences, and are usually far smaller than either perplexity's own standard error.
 *
 * @param meanNllDiff   mean over tokens of {@code nll_a - nll_b}, which is {@code ln(PPL_a / PPL_b)}
 * @param meanNllDiffStderr standard error of {@code meanNllDiff}: {@code sqrt(var(d_i) / (n - 1))} with the
 *                      population variance of the differences (as llama.cpp reports the uncertainty of
 *                      its mean ln(PPL(Q)/PPL(base)))
 * @param deltaPpl      {@code PPL_a - PPL_b}
 * @param deltaPplStderr standard error of {@code deltaPpl} by the delta method with the covariance of the two
 *                      mean losses: {@code sqrt((PPL_a² var_a + PPL_b² var_b − 2 PPL_a PPL_b cov_ab) / (n − 1))}
 * @param tokens        tokens compared
 */
public record PairedDifference(double meanNllDiff, double meanNllDiffStderr, double deltaPpl, double deltaPplStderr,
                               long tokens) {
    /**
     * {@code meanNllDiff / meanNllDiffStderr}: how many standard errors a is above b (negative: a is better);
     * NaN when both are 0 (identical losses).
     */
    public double z() {
        return meanNllDiffStderr > 0 ? meanNllDiff / meanNllDiffStderr : meanNllDiff == 0 ? Double.NaN
                : Math.copySign(Double.POSITIVE_INFINITY, meanNllDiff);
    }
}
