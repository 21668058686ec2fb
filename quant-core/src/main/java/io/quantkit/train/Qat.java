package io.quantkit.train;

import io.quantkit.quant.Scheme;
import java.io.IOException;

/**
 * Quantization-aware fine-tuning and its report: the bf16 baseline, post-training quantization (PTQ) with the scheme,
 * then training with the scheme's fake quantization in the loop (QAT) and the same perplexity again.
 *
 * <p>Baseline: every matrix rounded to bf16 and the linear layers' inputs rounded to bf16 (mixed-precision style;
 * RMSNorm gains, sums and softmax stay float32). PTQ and QAT: the linear layers' weights fake-quantized with the
 * scheme (embedding, norms and tied classifier stay float32), activations as chosen. Perplexity is llama.cpp's method
 * ({@link Perplexity#llamaCpp}). {@code recovered = (PTQ − QAT) / (PTQ − baseline)}: 1 means QAT closed the whole gap,
 * 0 means no gain, above 1 means QAT beat the baseline.
 */
public final class Qat {
    private Qat() {
    }

    /** Everything {@code quant qat} reports. */
    public record Report(String scheme, double f32Ppl, double baselinePpl, double ptqPpl, double qatPpl, double recovered,
                         long evalTokens, int steps, long trainTokens, double trainSeconds, float[] qatWeights,
                         float[] qatMasterWeights) {
    }

    /**
     * Runs the whole comparison.
     *
     * @param weights    the starting float32 weights (not modified)
     * @param train      training tokens (documents with BOS)
     * @param eval       evaluation tokens (tokenized once, BOS first)
     * @param ctx        perplexity context ({@code ctx - 1} is also the training window)
     * @param actQuant   activation fake quantization during PTQ, QAT and their evaluation
     */
    public static Report run(Parallel par, Architecture arch, float[] weights, Scheme scheme, FakeQuant.Ste ste,
                             ActivationQuant actQuant, int[] train, int[] eval, int ctx, int bos, TrainOptions opt,
                             Trainer.Listener listener) throws IOException {
        ParamLayout lay = new ParamLayout(arch);
        int evalBatch = 8;
        double f32 = Perplexity.llamaCpp(par, arch, weights, ActivationQuant.NONE, eval, ctx, evalBatch, bos).ppl();
        float[] tmp = new float[weights.length];
        float[] mask = new float[weights.length];
        FakeQuant.of(Scheme.parse("bf16"), FakeQuant.Ste.PLAIN, FakeQuant.Target.ALL_MATRICES).apply(lay, weights, tmp, mask);
        Perplexity.Result base = Perplexity.llamaCpp(par, arch, tmp, ActivationQuant.BF16, eval, ctx, evalBatch, bos);
        FakeQuant fq = FakeQuant.of(scheme, ste);
        fq.apply(lay, weights, tmp, mask);
        double ptq = Perplexity.llamaCpp(par, arch, tmp, actQuant, eval, ctx, evalBatch, bos).ppl();
        Trainer t = new Trainer(arch, opt, train, new int[0], weights, fq, actQuant);
        long t0 = System.nanoTime();
        t.run(par, opt.steps(), listener);
        double seconds = (System.nanoTime() - t0) / 1e9;
        float[] qw = t.forwardWeights();
        double qat = Perplexity.llamaCpp(par, arch, qw, actQuant, eval, ctx, evalBatch, bos).ppl();
        double recovered = (ptq - qat) / (ptq - base.ppl());
        return new Report(scheme.toString(), f32, base.ppl(), ptq, qat, recovered, base.tokens(), opt.steps(),
                (long) opt.steps() * opt.batch() * opt.seqLen() * opt.accumulation(), seconds, qw, t.params());
    }
}
