package io.quantkit.eval;

/**
 * How far a model's next-token distributions are from a baseline's over the same scored positions.
 *
 * @param meanKl    mean of {@code KL(baseline || model)} in nats
 * @param medianKl  median of the per-position KL (the mean of the two middle values for an even count)
 * @param maxKl     largest per-position KL
 * @param top1      fraction of positions where both give the same most likely token (lowest id on ties)
 * @param positions positions compared
 */
public record Divergence(double meanKl, double medianKl, double maxKl, double top1, long positions) {
}
