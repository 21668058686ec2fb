package io.quantkit.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quantkit.eval.EvalPlan;
import io.quantkit.eval.Evaluator;
import io.quantkit.eval.Method;
import io.quantkit.eval.PerplexityResult;
import io.quantkit.eval.Progress;
import io.quantkit.io.Checkpoint;
import io.quantkit.io.Checkpoints;
import io.quantkit.model.LlamaLoader;
import io.quantkit.model.LlamaModel;
import io.quantkit.model.ThreadPool;
import io.quantkit.model.Tokenizer;
import io.quantkit.quant.Scheme;
import io.quantkit.quant.SchemeKind;
import io.quantkit.tensor.Tensor;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model trained here evaluates, after saving and loading through the inference model ({@link LlamaModel}, what
 * {@code quant eval} runs), to the very logits of the training forward pass, and to the training code's held-out
 * perplexity: for BitNet b1.58 (SubLN, ternary weights, 8-bit activations) and for a plain Llama model.
 */
class TrainedModelInferenceTest {
    static final String TEXT = "the cat sat on the mat. a dog ran to the cat. the sun is up and the dog is happy. "
            + "once upon a time a small bird sang a song on a tree near the river. ";
    /** Characters a..z, space, '.', ',' as ids 3..31; BOS = 1. */
    static final Tokenizer CHARS = new Tokenizer() {
        @Override
        public int vocabSize() {
            return 32;
        }

        @Override
        public int bos() {
            return 1;
        }

        @Override
        public int eos() {
            return 2;
        }

        @Override
        public int[] encode(String text, boolean addBos) {
            int[] ids = new int[text.length() + (addBos ? 1 : 0)];
            int i = 0;
            if (addBos) {
                ids[i++] = 1;
            }
            for (char ch : text.toCharArray()) {
                ids[i++] = ch >= 'a' && ch <= 'z' ? 3 + ch - 'a' : ch == '.' ? 30 : ch == ',' ? 31 : 29;
            }
            return ids;
        }

        @Override
        public String decode(int[] ids) {
            throw new UnsupportedOperationException();
        }

        @Override
        public String piece(int id) {
            return Integer.toString(id);
        }
    };

    static final int CTX = 24;

    private static Trainer trained(Architecture arch, FakeQuant fq, ActivationQuant act, int steps, Parallel par)
            throws IOException {
        int[] train = CHARS.encode(TEXT.repeat(6), true);
        TrainOptions opt = new TrainOptions(7, steps, 4, CTX - 1, 1, 1e-2f, 1e-3f, 1, 0.1f, 0.9f, 0.95f, 1e-8f, 1f, 0, 0);
        Trainer t = new Trainer(arch, opt, train, new int[0], null, fq, act);
        t.run(par, steps, null);
        return t;
    }

    @Test
    void bitnetModelEvaluatesToTheTrainingLogitsAndPerplexity(@TempDir Path dir) throws IOException {
        Architecture arch = new Architecture(16, 40, 2, 4, 2, 32, 32, true, 1e-5f, 10000f, true);
        FakeQuant fq = FakeQuant.of(Scheme.parse("ternary"), FakeQuant.Ste.PLAIN);
        try (Parallel par = Parallel.of(2); ThreadPool pool = ThreadPool.create(2)) {
            Trainer t = trained(arch, fq, ActivationQuant.INT8_ABSMAX, 5, par);
            float[] forward = t.forwardWeights();
            float[] master = t.params();
            Path file = dir.resolve("bitnet.safetensors");
            BitNetExport.write(file, arch, master, fq, forward, "tiny", false);
            assertThrows(FileAlreadyExistsException.class,
                    () -> BitNetExport.write(file, arch, master, fq, forward, "tiny", false));
            int[] ids = CHARS.encode(TEXT, true);
            try (Checkpoint ck = Checkpoints.open(file)) {
                assertEquals("bitnet", LlamaLoader.architecture(ck));
                io.quantkit.model.LlamaWeights w = LlamaLoader.weights(ck);
                assertTrue(w.bitnet());
                ParamLayout lay = new ParamLayout(arch);
                for (ParamLayout.Entry e : lay.entries()) {
                    Tensor stored = ck.tensor(LlamaWeights.ggufName(e));
                    float[] got = stored.toFloatArray();
                    float[] used = Arrays.copyOfRange(forward, e.offset(), e.offset() + e.size());
                    assertArrayEquals(used, got, e.name() + " decodes to what training used");
                    if (e.role() == ParamLayout.Role.LINEAR) {
                        assertEquals("ternary", ck.info(LlamaWeights.ggufName(e)).orElseThrow().format());
                        checkAbsmeanTernary(Arrays.copyOfRange(master, e.offset(), e.offset() + e.size()), got, e.name());
                    } else {
                        assertEquals(SchemeKind.F32.name(), ck.info(LlamaWeights.ggufName(e)).orElseThrow().format());
                    }
                }
                LlamaModel m = LlamaModel.load(w);
                assertTrue(m.bitnet());
                // one window, the training forward pass vs the inference model (whole prompt and token by token)
                int n = CTX - 1;
                int[] in = Arrays.copyOf(ids, n);
                int[] tg = Arrays.copyOfRange(ids, 1, n + 1);
                TrainModel tm = new TrainModel(arch, 1, n, ActivationQuant.INT8_ABSMAX);
                tm.forward(par, forward, in, tg);
                float[] trainLogits = tm.logits().clone();
                assertArrayEquals(trainLogits, m.newSession().forward(in, 0, n, 0), "whole-window logits");
                LlamaModel.Session s = m.newSession();
                for (int p = 0; p < n; p++) {
                    float[] row = s.next(in[p]);
                    assertArrayEquals(Arrays.copyOfRange(trainLogits, p * 32, (p + 1) * 32), row, "position " + p);
                }
                // held-out perplexity: the training code's figure and what quant eval computes
                String heldOut = TEXT.repeat(2);
                Perplexity.Result train = Perplexity.llamaCpp(par, arch, forward, ActivationQuant.INT8_ABSMAX,
                        CHARS.encode(heldOut, true), CTX, 3, CHARS.bos());
                PerplexityResult eval = Evaluator.run(m, EvalPlan.of(CHARS, heldOut, Method.LLAMA_CPP, CTX, 0), pool,
                        false, null, Progress.NONE).perplexity();
                assertEquals(train.tokens(), eval.tokens());
                assertEquals(Double.doubleToLongBits(train.nll()), Double.doubleToLongBits(eval.nll()),
                        train.nll() + " vs " + eval.nll());
                assertEquals(Double.doubleToLongBits(train.ppl()), Double.doubleToLongBits(eval.ppl()));
                // without SubLN or without the 8-bit inputs the logits are others (the test can tell them apart)
                TrainModel noAct = new TrainModel(arch, 1, n, ActivationQuant.NONE);
                noAct.forward(par, forward, in, tg);
                assertFalse(Arrays.equals(trainLogits, noAct.logits()));
            }
        }
    }

    /**
     * The stored values are {@code q·s} with {@code s = mean|w|} of the master weights (summed here in plain double)
     * and {@code q = clamp(round_half_even(w/s), −1, 1)}: BitNet b1.58's absmean rule, checked without the codec.
     */
    static void checkAbsmeanTernary(float[] w, float[] stored, String name) {
        double sum = 0;
        for (float v : w) {
            sum += Math.abs(v);
        }
        float s = (float) (sum / w.length);
        float scale = 0;
        for (float v : stored) {
            scale = Math.max(scale, Math.abs(v));
        }
        assertTrue(Math.abs(scale - s) <= Math.ulp(s), name + ": scale " + scale + " vs absmean " + s);
        for (int i = 0; i < w.length; i++) {
            float q = Math.max(-1f, Math.min(1f, (float) Math.rint(w[i] / scale)));
            assertEquals(q * scale, stored[i], 0f, name + " element " + i);
        }
    }

    @Test
    void plainLlamaModelEvaluatesToTheTrainingLogits(@TempDir Path dir) throws IOException {
        Architecture arch = Architecture.llama(16, 40, 2, 4, 2, 32, 32, true);
        try (Parallel par = Parallel.of(2); ThreadPool pool = ThreadPool.create(1)) {
            Trainer t = trained(arch, null, ActivationQuant.NONE, 4, par);
            float[] p = t.params();
            Path bin = dir.resolve("tiny.bin");
            Llama2cExport.write(bin, arch, p);
            int n = CTX - 1;
            int[] ids = CHARS.encode(TEXT, true);
            int[] in = Arrays.copyOf(ids, n);
            int[] tg = Arrays.copyOfRange(ids, 1, n + 1);
            TrainModel tm = new TrainModel(arch, 1, n, ActivationQuant.NONE);
            tm.forward(par, p, in, tg);
            try (Checkpoint ck = Checkpoints.open(bin)) {
                LlamaModel m = LlamaModel.load(LlamaLoader.weights(ck));
                assertFalse(m.bitnet());
                assertArrayEquals(tm.logits(), m.newSession().forward(in, 0, n, 0));
                String heldOut = TEXT.repeat(2);
                Perplexity.Result train = Perplexity.llamaCpp(par, arch, p, ActivationQuant.NONE,
                        CHARS.encode(heldOut, true), CTX, 2, CHARS.bos());
                PerplexityResult eval = Evaluator.run(m, EvalPlan.of(CHARS, heldOut, Method.LLAMA_CPP, CTX, 0), pool,
                        false, null, Progress.NONE).perplexity();
                assertEquals(train.nll(), eval.nll(), 0.0);
            }
        }
    }
}
