package io.quantkit.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quantkit.model.LlamaModel;
import io.quantkit.model.LlamaModelTestAccess;
import io.quantkit.model.LlamaWeights;
import io.quantkit.model.ThreadPool;
import io.quantkit.model.Tokenizer;
import io.quantkit.quant.Scheme;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Perplexity plans, statistics and the scheme comparison on a tiny model. */
class EvalTest {
    /** One token per character (id = char code % 50 + 3), BOS 1: lets plans be checked by hand. */
    static final Tokenizer CHARS = new Tokenizer() {
        public int vocabSize() {
            return 53;
        }

        public int bos() {
            return 1;
        }

        public int eos() {
            return 2;
        }

        public int[] encode(String text, boolean addBos) {
            int[] r = new int[text.length() + (addBos ? 1 : 0)];
            int k = 0;
            if (addBos) {
                r[k++] = 1;
            }
            for (char c : text.toCharArray()) {
                r[k++] = c % 50 + 3;
            }
            return r;
        }

        public String decode(int[] ids) {
            return "";
        }

        public String piece(int id) {
            return "";
        }
    };

    @Test
    void llamaCppPlanCutsChunksAndScoresTheSecondHalf() {
        // 1 BOS + 41 characters = 42 tokens; ctx 8 -> 5 chunks, the last 2 tokens dropped
        EvalPlan p = EvalPlan.of(CHARS, "abcdefghijklmnopqrstuvwxyzabcdefghijklmno", Method.LLAMA_CPP, 8, 0);
        assertEquals(5, p.segments().size());
        for (EvalPlan.Segment s : p.segments()) {
            assertEquals(8, s.length());
            assertEquals(1, s.token(0)); // first token replaced by BOS
            assertEquals(4, s.scoreFrom());
            assertEquals(3, s.scored()); // positions 4..6 predict tokens 5..7
        }
        // chunk 1 holds tokens 8..15 ('h'..'o'); 'h' became BOS, 'i' follows
        assertEquals('i' % 50 + 3, p.segments().get(1).token(1));
        assertEquals(15, p.scoredTokens());
        assertThrows(IllegalArgumentException.class, () -> EvalPlan.of(CHARS, "abc", Method.LLAMA_CPP, 8, 0));
    }

    @Test
    void documentsPlanScoresEveryTokenOnceEvenPastTheContext() {
        // documents of 3, 1 and 12 characters; ctx 5 splits the long one into windows overlapping by one token
        EvalPlan p = EvalPlan.of(CHARS, "abc\n\n  \nx\n\r\n" + "abcdefghijkl\n", Method.DOCUMENTS, 5, 0);
        assertEquals(3, p.documents());
        assertEquals(3 + 1 + 12, p.scoredTokens());
        assertEquals(List.of(4, 2, 5, 5, 5), p.segments().stream().map(EvalPlan.Segment::length).toList());
        assertEquals(2, EvalPlan.of(CHARS, "abc\n\nx\n\nyz", Method.DOCUMENTS, 5, 2).documents());
        assertEquals(List.of("a b", "c"), EvalPlan.splitDocuments("\n a b \n\n\n c\n"));
    }

    @Test
    void perplexityAndStandardErrorByHand() {
        // NLLs 1, 2, 3: mean 2, population variance 2/3, stderr of the mean sqrt((2/3)/2)
        PerplexityResult r = Evaluator.perplexity(6, 14, 3);
        assertEquals(2, r.nll(), 1e-15);
        assertEquals(Math.exp(2), r.ppl(), 1e-12);
        assertEquals(Math.exp(2) * Math.sqrt(1.0 / 3), r.pplStderr(), 1e-12);
        assertTrue(Double.isNaN(Evaluator.perplexity(1, 1, 1).pplStderr()));
    }

    @Test
    void divergenceStatistics() {
        Divergence d = Evaluator.divergence(new double[] {0.5, 0.1, 0.3, 0.2}, 3);
        assertEquals(0.275, d.meanKl(), 1e-15);
        assertEquals(0.25, d.medianKl(), 1e-15);
        assertEquals(0.5, d.maxKl());
        assertEquals(0.75, d.top1());
        assertEquals(0.3, Evaluator.divergence(new double[] {0.5, 0.1, 0.3}, 0).medianKl());
    }

    @Test
    void logSoftmaxSumsToOne() {
        double[] out = new double[3];
        Evaluator.logSoftmax(new float[] {9, 1, 2, 3}, 1, 3, out);
        double z = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
        assertEquals(1 - z, out[0], 1e-12);
        assertEquals(3 - z, out[2], 1e-12);
    }

    @Test
    void comparisonOfTheBaselineSchemeWithItselfIsExact() throws Exception {
        LlamaWeights w = LlamaModelTestAccess.tinyWeights();
        EvalPlan plan = EvalPlan.of(CHARS, "the quick brown fox jumps over the lazy dog again and again",
                Method.LLAMA_CPP, 16, 0);
        try (ThreadPool pool = ThreadPool.create(2)) {
            // tiny vocab of 37: remap the char tokenizer's ids into range
            Comparison.Report r = Comparison.run(w, remap(plan, 37), List.of(Scheme.parse("bf16"),
                    Scheme.parse("int8"), Scheme.parse("q4_0")), pool, Comparison.Listener.NONE);
            Comparison.Row same = r.rows().get(0);
            assertEquals(0.0, same.deltaPpl());
            assertEquals(0.0, same.divergence().maxKl());
            assertEquals(1.0, same.divergence().top1());
            assertEquals(r.baseline().bytes(), same.bytes());
            assertEquals(0.0, same.vsBaseline().meanNllDiff());
            assertEquals(0.0, same.vsBaseline().deltaPplStderr());
            Comparison.Row int8 = r.rows().get(1);
            assertNull(int8.skipped());
            // the per-token losses are the perplexity's: their mean is its NLL, and the paired difference of two
            // rows is the difference of their NLLs, with an error far below the unpaired one (same tokens)
            assertEquals(r.baseline().perplexity().nll(), r.baseline().losses().mean(), 1e-12);
            assertEquals(int8.perplexity().nll() - r.baseline().perplexity().nll(), int8.vsBaseline().meanNllDiff(),
                    1e-12);
            assertEquals(int8.deltaPpl(), int8.vsBaseline().deltaPpl(), 1e-9);
            double unpaired = Math.hypot(int8.perplexity().pplStderr(), r.baseline().perplexity().pplStderr());
            assertTrue(int8.vsBaseline().deltaPplStderr() > 0 && int8.vsBaseline().deltaPplStderr() < unpaired / 5,
                    int8.vsBaseline() + " vs unpaired " + unpaired);
            assertEquals(int8.vsBaseline(), Comparison.Report.paired(int8, r.baseline()));
            assertTrue(int8.divergence().meanKl() > 0 && int8.divergence().meanKl() < 0.01, int8.toString());
            assertTrue(int8.sqnrDb() > 30 && int8.sqnrDb() < 50, int8.toString());
            // rows of 16 and 40 cannot hold q4_0 blocks of 32: every weight falls back, so the row is skipped
            String why = r.rows().get(2).skipped();
            assertTrue(why.startsWith("no weight of this model"), why);
            // one line however many tensors: a count per fallback type, not every tensor's name
            assertTrue(why.matches(".*\\(all (\\d+) would fall back: \\1 to f16\\)"), why);
        }
        LlamaModel.load(w); // the original weights are untouched
    }

    @Test
    void activationRowsAreNamedAndEqualisationAloneChangesNothing() throws Exception {
        LlamaWeights w = LlamaModelTestAccess.tinyWeights();
        EvalPlan plan = remap(EvalPlan.of(CHARS, "the quick brown fox jumps over the lazy dog again and again",
                Method.LLAMA_CPP, 16, 0), 37);
        List<int[]> calib = List.of(new int[] {1, 5, 9, 2, 17, 3, 8, 8, 11, 20}, new int[] {1, 4, 4, 27, 6, 13, 0, 2});
        try (ThreadPool pool = ThreadPool.create(2)) {
            Comparison.Report r = Comparison.run(w, plan, List.of(Scheme.parse("f32")),
                    List.of(io.quantkit.calib.ActivationScheme.NONE,
                        io.quantkit.calib.ActivationScheme.parse("none:smooth=0.5"),
                        io.quantkit.calib.ActivationScheme.parse("int8:observer=kl")), calib, pool,
                    Comparison.Listener.NONE);
            assertEquals(3, r.rows().size());
            assertNull(r.rows().get(0).activations());
            assertEquals("none:smooth=0.5", r.rows().get(1).activations());
            assertEquals("int8:observer=kl", r.rows().get(2).activations());
            // f32 weights with float inputs: equalisation alone leaves the perplexity as it was (float rounding)
            assertEquals(r.rows().get(0).perplexity().ppl(), r.rows().get(1).perplexity().ppl(),
                    1e-5 * r.rows().get(0).perplexity().ppl());
            assertTrue(r.rows().get(2).divergence().meanKl() > r.rows().get(0).divergence().meanKl());
        }
    }

    static EvalPlan remap(EvalPlan p, int vocab) {
        return EvalPlan.of(new Tokenizer() {
            public int vocabSize() {
                return vocab;
            }

            public int bos() {
                return 1;
            }

            public int eos() {
                return 2;
            }

            public int[] encode(String text, boolean addBos) {
                return Arrays.stream(CHARS.encode(text, addBos)).map(t -> t % vocab).toArray();
            }

            public String decode(int[] ids) {
                return "";
            }

            public String piece(int id) {
                return "";
            }
        }, "the quick brown fox jumps over the lazy dog again and again", p.method(), p.ctx(), 0);
    }
}
