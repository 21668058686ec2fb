package io.quantkit.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quantkit.quant.Scheme;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The training loop on a tiny model: learning, determinism, resume, schedule, AdamW's first step. */
class TrainerTest {
    static final long SEED = 77;
    static final Architecture TINY = Architecture.llama(16, 24, 2, 4, 2, 13, 16, true);

    /** A learnable stream: BOS (1) then a counting pattern modulo 11 with a random start, repeated. */
    static int[] patternTokens(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] t = new int[n];
        int i = 0;
        while (i < n) {
            t[i++] = 1;
            int start = r.nextInt(11);
            for (int k = 0; k < 9 && i < n; k++) {
                t[i++] = 2 + (start + k) % 11;
            }
        }
        return t;
    }

    static TrainOptions opts(int steps) {
        return new TrainOptions(SEED, steps, 4, 12, 1, 1e-2f, 1e-3f, 3, 0.1f, 0.9f, 0.95f, 1e-8f, 1f, 0, 0);
    }

    @Test
    void lossDecreases() throws IOException {
        int[] data = patternTokens(3000, 1);
        Trainer tr = new Trainer(TINY, opts(40), data, patternTokens(400, 2), null, null, ActivationQuant.NONE);
        List<Trainer.StepLog> logs = new ArrayList<>();
        try (Parallel par = Parallel.of(2)) {
            double before = tr.evaluate(par);
            tr.run(par, 40, logs::add);
            double after = logs.get(39).evalLoss();
            // uniform guessing over 13 tokens costs ln 13 = 2.565; the pattern is nearly deterministic
            assertEquals(Math.log(13), before, 0.15, "an untrained model is close to uniform");
            assertTrue(after < before - 1.0, "held-out loss went from " + before + " to " + after + " (seed " + SEED + ")");
            assertTrue(logs.get(39).loss() < logs.get(0).loss() - 1.0);
        }
    }

    @Test
    void sameSeedSameBytesAnyThreadCount() throws IOException {
        int[] data = patternTokens(2000, 3);
        float[][] results = new float[3][];
        int[] threads = {1, 2, 3};
        for (int k = 0; k < 3; k++) {
            Trainer tr = new Trainer(TINY, opts(5).withAccumulation(2), data, new int[0], null, null, ActivationQuant.NONE);
            try (Parallel par = Parallel.of(threads[k])) {
                tr.run(par, 5, null);
            }
            results[k] = tr.params();
        }
        assertArrayEquals(results[0], results[1]);
        assertArrayEquals(results[0], results[2]);
        Trainer other = new Trainer(TINY, new TrainOptions(SEED + 1, 5, 4, 12, 2, 1e-2f, 1e-3f, 3, 0.1f, 0.9f, 0.95f,
                1e-8f, 1f, 0, 0), data, new int[0], null, null, ActivationQuant.NONE);
        try (Parallel par = Parallel.of(2)) {
            other.run(par, 5, null);
        }
        assertTrue(!java.util.Arrays.equals(results[0], other.params()), "another seed gives other weights");
    }

    @Test
    void resumeEqualsUninterrupted(@TempDir Path dir) throws IOException {
        resume(dir, null, ActivationQuant.NONE);
    }

    @Test
    void resumeEqualsUninterruptedWithFakeQuant(@TempDir Path dir) throws IOException {
        resume(dir, FakeQuant.of(Scheme.parse("int:bits=4,group=8"), FakeQuant.Ste.CLIPPED), ActivationQuant.INT8_ABSMAX);
    }

    @Test
    void resumeEqualsUninterruptedWithLearnedScales(@TempDir Path dir) throws IOException {
        FakeQuant fq = FakeQuant.of(Scheme.parse("int4:group=8"), FakeQuant.Ste.PLAIN);
        resume(dir, fq, ActivationQuant.NONE, true);
        Checkpoint.State s = Checkpoint.load(dir.resolve("ck.safetensors"));
        // 2 layers x (q, k, v, o: 16 + 8 + 8 + 16 rows of 2 groups; w1, w3: 24 rows of 2; w2: 16 rows of 3 groups)
        int groups = 2 * ((16 + 8 + 8 + 16) * 2 + 2 * 24 * 2 + 16 * 3);
        assertEquals(groups, s.scales().length);
        assertEquals(groups, s.scalesM().length);
        assertTrue(java.util.Arrays.stream(toDoubles(s.scalesV())).anyMatch(v -> v > 0), "the scales' moments are stored");
        // a run without --lsq cannot take these scales, nor a run with them a checkpoint without
        Trainer plain = new Trainer(TINY, opts(6).withAccumulation(2), patternTokens(2000, 4), new int[0], null, fq,
                ActivationQuant.NONE);
        assertThrows(IllegalArgumentException.class, () -> plain.restore(s));
        Trainer learning = new Trainer(TINY, opts(6).withAccumulation(2), patternTokens(2000, 4), new int[0], null, fq,
                ActivationQuant.NONE);
        learning.learnScales();
        assertThrows(IllegalArgumentException.class, () -> learning.restore(new Checkpoint.State(s.architecture(),
                s.step(), s.params(), s.adamM(), s.adamV())));
    }

    private static double[] toDoubles(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    private static void resume(Path dir, FakeQuant fq, ActivationQuant aq) throws IOException {
        resume(dir, fq, aq, false);
    }

    /** Six steps at once vs three, a checkpoint, a new trainer restored from it, three more: the same bytes. */
    private static void resume(Path dir, FakeQuant fq, ActivationQuant aq, boolean lsq) throws IOException {
        int[] data = patternTokens(2000, 4);
        TrainOptions o = opts(6).withAccumulation(2);
        Trainer whole = new Trainer(TINY, o, data, new int[0], null, fq, aq);
        Trainer first = new Trainer(TINY, o, data, new int[0], null, fq, aq);
        if (lsq) {
            whole.learnScales();
            first.learnScales();
        }
        try (Parallel par = Parallel.of(2)) {
            whole.run(par, 6, null);
            first.run(par, 3, null);
            first.save(dir.resolve("ck.safetensors"));
            Trainer second = new Trainer(TINY, o, data, new int[0], null, fq, aq);
            if (lsq) {
                second.learnScales();
            }
            second.restore(Checkpoint.load(dir.resolve("ck.safetensors")));
            assertEquals(3, second.step());
            second.run(par, 6, null);
            assertArrayEquals(whole.params(), second.params());
            assertArrayEquals(whole.forwardWeights(), second.forwardWeights());
            assertArrayEquals(whole.exportWeights(), second.exportWeights());
            whole.save(dir.resolve("a.safetensors"));
            second.save(dir.resolve("b.safetensors"));
            assertArrayEquals(Files.readAllBytes(dir.resolve("a.safetensors")), Files.readAllBytes(dir.resolve("b.safetensors")));
        }
    }

    /**
     * Quantization warmup ({@link Trainer#quantWarmup}): at step 0 (λ = 0) the forward pass and the gradient are those
     * of the float model, so the first step gives the same bytes as plain float training; from step K on (λ = 1) it is
     * plain fake-quantized training, so a K = 2 run continued from its step-2 checkpoint without warmup ends with the
     * same bytes, while K = 3 (λ = 2/3 at step 2) differs. K = 0 is the run without the option.
     */
    @Test
    void quantWarmupStartsAtTheFloatModelAndEndsAsPlainFakeQuant(@TempDir Path dir) throws IOException {
        int[] data = patternTokens(2000, 4);
        TrainOptions o = opts(6);
        FakeQuant fq = FakeQuant.of(Scheme.parse("ternary"), FakeQuant.Ste.CLIPPED);
        assertEquals(0.0, Trainer.quantLambda(0, 2), 0.0);
        assertEquals(0.5, Trainer.quantLambda(1, 2), 0.0);
        assertEquals(1.0, Trainer.quantLambda(2, 2), 0.0);
        assertEquals(1.0, Trainer.quantLambda(0, 0), 0.0);
        try (Parallel par = Parallel.of(2)) {
            Trainer flt = new Trainer(TINY, o, data, new int[0], null, null, ActivationQuant.NONE);
            Trainer warm = new Trainer(TINY, o, data, new int[0], null, fq, ActivationQuant.NONE);
            warm.quantWarmup(2);
            List<Trainer.StepLog> a = new ArrayList<>();
            List<Trainer.StepLog> b = new ArrayList<>();
            flt.run(par, 1, a::add);
            warm.run(par, 1, b::add);
            assertArrayEquals(flt.params(), warm.params(), "step 0 of a warmup trains the float weights");
            assertEquals(a.get(0).loss(), b.get(0).loss(), 0.0);
            assertEquals(a.get(0).gradNorm(), b.get(0).gradNorm(), 0.0);
            Trainer quantized = new Trainer(TINY, o, data, new int[0], null, fq, ActivationQuant.NONE);
            List<Trainer.StepLog> c = new ArrayList<>();
            quantized.run(par, 1, c::add);
            assertTrue(c.get(0).loss() > a.get(0).loss() + 1e-3, "fake quantization changes the first step's loss");
            // the evaluation weights are the fake-quantized ones at every λ
            assertArrayEquals(new Trainer(TINY, o, data, new int[0], flt.params(), fq, ActivationQuant.NONE)
                    .forwardWeights(), warm.forwardWeights());
            warm.run(par, 2, null);
            warm.save(dir.resolve("k2.safetensors"));
            warm.run(par, 6, null);
            Trainer cont = new Trainer(TINY, o, data, new int[0], null, fq, ActivationQuant.NONE);
            cont.restore(Checkpoint.load(dir.resolve("k2.safetensors")));
            cont.run(par, 6, null);
            assertArrayEquals(warm.params(), cont.params(), "λ = 1 from step K on");
            Trainer k3 = new Trainer(TINY, o, data, new int[0], null, fq, ActivationQuant.NONE);
            k3.quantWarmup(3);
            k3.restore(Checkpoint.load(dir.resolve("k2.safetensors")));
            k3.run(par, 6, null);
            assertTrue(!java.util.Arrays.equals(warm.params(), k3.params()), "λ = 2/3 at step 2 of a K = 3 warmup");
            Trainer zero = new Trainer(TINY, o, data, new int[0], null, fq, ActivationQuant.NONE);
            zero.quantWarmup(0);
            Trainer none = new Trainer(TINY, o, data, new int[0], null, fq, ActivationQuant.NONE);
            zero.run(par, 6, null);
            none.run(par, 6, null);
            assertArrayEquals(none.params(), zero.params());
        }
        Trainer t = new Trainer(TINY, o, data, new int[0], null, fq, ActivationQuant.NONE);
        assertThrows(IllegalArgumentException.class, () -> t.quantWarmup(7));
        assertThrows(IllegalArgumentException.class, () -> t.quantWarmup(-1));
        assertThrows(IllegalStateException.class,
                () -> new Trainer(TINY, o, data, new int[0], null, null, ActivationQuant.NONE).quantWarmup(2));
        Trainer lsq = new Trainer(TINY, o, data, new int[0], null, FakeQuant.of(Scheme.parse("int4:group=8"),
                FakeQuant.Ste.PLAIN), ActivationQuant.NONE);
        lsq.learnScales();
        assertThrows(IllegalStateException.class, () -> lsq.quantWarmup(2));
    }

    @Test
    void checkpointRejectsOtherFiles(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("x.safetensors");
        Files.write(f, new byte[] {1, 2, 3});
        assertThrows(IllegalArgumentException.class, () -> Checkpoint.load(f));
        Files.write(f, new byte[] {2, 0, 0, 0, 0, 0, 0, 0, '{', '}'});
        assertThrows(IllegalArgumentException.class, () -> Checkpoint.load(f));
    }

    @Test
    void scheduleWarmsUpThenFollowsTheCosine() {
        TrainOptions o = new TrainOptions(1, 110, 1, 1, 1, 1e-3f, 1e-4f, 10, 0f, 0.9f, 0.95f, 1e-8f, 0f, 0, 0);
        // (rates are float options, so expectations hold to float precision, 1e-10 absolute here)
        assertEquals(1e-4, o.learningRate(0), 1e-10);          // 1/10 of the peak
        assertEquals(5e-4, o.learningRate(4), 1e-10);
        assertEquals(1e-3, o.learningRate(10), 1e-10);          // cosine starts at the peak
        assertEquals(5.5e-4, o.learningRate(60), 1e-10);        // halfway: the mean of peak and floor
        assertEquals(1e-4 + 0.5 * (1 + Math.cos(Math.PI * 0.25)) * 9e-4, o.learningRate(35), 1e-10);
        assertEquals(1e-4, o.learningRate(110), 1e-10);        // floor at the end
    }

    @Test
    void firstAdamWStepMovesEachWeightByTheLearningRate() throws IOException {
        // After one step with bias correction, m̂ = g and v̂ = g², so each weight moves by lr·(g/(|g|+eps) + wd·w).
        int[] data = patternTokens(500, 5);
        float lr = 1e-3f;
        float wd = 0.1f;
        TrainOptions o = new TrainOptions(SEED, 1, 4, 12, 1, lr, lr, 0, wd, 0.9f, 0.95f, 1e-30f, 0f, 0, 0); // eps ≪ |g|
        Trainer tr = new Trainer(TINY, o, data, new int[0], null, null, ActivationQuant.NONE);
        float[] before = tr.params();
        try (Parallel par = Parallel.of(1)) {
            tr.run(par, 1, null);
        }
        float[] after = tr.params();
        ParamLayout lay = tr.layout();
        int moved = 0;
        for (ParamLayout.Entry e : lay.entries()) {
            double decay = e.role() == ParamLayout.Role.NORM ? 0 : wd;
            for (int i = e.offset(); i < e.offset() + e.size(); i++) {
                double step = before[i] - after[i] - lr * decay * before[i];
                if (step != 0) {
                    assertEquals(lr, Math.abs(step), lr * 1e-3, e.name());
                    moved++;
                }
            }
        }
        assertTrue(moved > lay.size() / 2, "most weights have a gradient");
    }

    /**
     * {@link Trainer#bosWindows}: on a text without any BOS and with a separate classifier, BOS's embedding row is an
     * input only where a window's first token became BOS. Without the option it keeps its bytes after a step; with
     * it, every weight of the row moves by the learning rate (AdamW's first step, weight decay 0).
     */
    @Test
    void bosWindowsPutBosFirstInEveryWindow() throws IOException {
        Architecture untied = Architecture.llama(16, 24, 2, 4, 2, 13, 16, false);
        int[] data = patternTokens(500, 6);
        for (int i = 0; i < data.length; i++) {
            data[i] = data[i] == 1 ? 7 : data[i]; // no BOS in the text
        }
        float lr = 1e-3f;
        TrainOptions o = new TrainOptions(SEED, 1, 4, 12, 1, lr, lr, 0, 0f, 0.9f, 0.95f, 1e-30f, 0f, 0, 0);
        for (boolean bos : new boolean[] {false, true}) {
            Trainer tr = new Trainer(untied, o, data, new int[0], null, null, ActivationQuant.NONE);
            if (bos) {
                tr.bosWindows(1);
            }
            ParamLayout.Entry emb = tr.layout().entry("tok_embeddings.weight");
            float[] before = tr.params();
            try (Parallel par = Parallel.of(1)) {
                tr.run(par, 1, null);
            }
            float[] after = tr.params();
            int row = emb.offset() + untied.dim();
            for (int i = row; i < row + untied.dim(); i++) {
                if (bos) {
                    assertEquals(lr, Math.abs(before[i] - after[i]), lr * 1e-3, "BOS row, weight " + (i - row));
                } else {
                    assertEquals(before[i], after[i], "BOS row without the option, weight " + (i - row));
                }
            }
        }
        Trainer tr = new Trainer(untied, o, data, new int[0], null, null, ActivationQuant.NONE);
        assertThrows(IllegalArgumentException.class, () -> tr.bosWindows(13));
    }

    @Test
    void csvLogHasOneLinePerStep() throws IOException {
        StringWriter w = new StringWriter();
        Trainer tr = new Trainer(TINY, opts(3).withEval(2, 0), patternTokens(500, 6), patternTokens(200, 7), null, null,
                ActivationQuant.NONE);
        try (Parallel par = Parallel.of(1)) {
            tr.run(par, 3, Trainer.csvLog(w));
        }
        String[] lines = w.toString().split("\n");
        assertEquals(4, lines.length);
        assertEquals(Trainer.StepLog.csvHeader(), lines[0]);
        assertTrue(lines[1].startsWith("1,") && lines[1].contains(",,,"), "no evaluation at step 1: " + lines[1]);
        assertEquals(9, lines[2].split(",", -1).length);
        assertTrue(!lines[2].split(",", -1)[4].isEmpty(), "evaluation at step 2: " + lines[2]);
    }
}
