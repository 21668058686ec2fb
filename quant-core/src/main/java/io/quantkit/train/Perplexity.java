package io.quantkit.train;

import io.quantkit.eval.Evaluator;

/**
 * Perplexity with the training model's full-sequence forward pass (the same math as inference without a cache), by
 * llama.cpp's {@code perplexity} method: the text is tokenized once with BOS, cut into consecutive chunks of
 * {@code ctx} tokens, the first token of each chunk replaced by BOS, and only the predictions of the second half of
 * each chunk scored (positions {@code ctx/2 .. ctx-2} predicting the next token: {@code ctx - 1 - ctx/2} per chunk).
 *
 * <p>The training forward pass computes the inference model's logits to the bit, and each token's loss is taken by
 * {@link Evaluator#tokenNll} and summed as {@code quant eval} sums it, so the figure is the one {@code quant eval}
 * prints for the saved model.
 */
public final class Perplexity {
    private Perplexity() {
    }

    /** Mean negative log-likelihood (nats) and count of scored tokens; {@link #ppl()} is {@code e^nll}. */
    public record Result(double nll, long tokens) {
        public double ppl() {
            return Math.exp(nll);
        }
    }

    /**
     * llama.cpp's method over {@code tokens} (which should start with BOS) with chunks of {@code ctx} tokens, evaluated
     * {@code batch} chunks at a time. Throws if the text holds no whole chunk.
     */
    public static Result llamaCpp(Parallel par, Architecture arch, float[] weights, ActivationQuant actQuant, int[] tokens,
                                  int ctx, int batch, int bos) {
        if (ctx < 4 || ctx - 1 > arch.seqLen()) {
            throw new IllegalArgumentException("context (" + ctx + ") must be between 4 and the model's maximum plus one ("
                    + (arch.seqLen() + 1) + ")");
        }
        int chunks = tokens.length / ctx;
        if (chunks == 0) {
            throw new IllegalArgumentException("text of " + tokens.length + " tokens holds no chunk of " + ctx);
        }
        int seq = ctx - 1;
        int first = ctx / 2;
        int b = Math.min(batch, chunks);
        TrainModel m = new TrainModel(arch, b, seq, actQuant);
        int[] in = new int[b * seq];
        int[] tg = new int[b * seq];
        double sum = 0;
        long n = 0;
        for (int c0 = 0; c0 < chunks; c0 += b) {
            int count = Math.min(b, chunks - c0);
            for (int k = 0; k < b; k++) {
                int start = (c0 + Math.min(k, count - 1)) * ctx; // a short last batch repeats its last chunk, unscored
                for (int j = 0; j < seq; j++) {
                    in[k * seq + j] = j == 0 ? bos : tokens[start + j];
                    tg[k * seq + j] = k < count && j >= first ? tokens[start + j + 1] : -1;
                }
            }
            m.forward(par, weights, in, tg);
            float[] logits = m.logits();
            int vocab = arch.vocabSize();
            for (int k = 0; k < count; k++) { // as Evaluator sums: per chunk, then the chunks in order
                double chunk = 0;
                for (int j = first; j < seq; j++) {
                    chunk += Evaluator.tokenNll(logits, (k * seq + j) * vocab, vocab, tg[k * seq + j]);
                }
                sum += chunk;
            }
            n += (long) count * (seq - first);
        }
        return new Result(sum / n, n);
    }
}
