package io.quantkit.eval;

/**
 * Perplexity over the scored tokens of a plan.
 *
 * @param nll        mean negative log-likelihood (nats per token)
 * @param ppl        {@code exp(nll)}
 * @param pplStderr  standard error of {@code ppl}: {@code ppl * sqrt(var(nll_i) / (n - 1))} (delta method, as
 *                   llama.cpp reports it); NaN for fewer than two tokens
 * @param tokens     scored tokens
 */
public record PerplexityResult(double nll, double ppl, double pplStderr, long tokens) {
}
