package io.quantkit.calibration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantkit.train.ActivationQuant;
import io.quantkit.train.Architecture;
import io.quantkit.train.MakeDefaultModel;
import io.quantkit.train.ParamLayout;
import io.quantkit.train.Parallel;
import io.quantkit.train.Trainer;
import io.quantkit.train.corpus.BpeVocabulary;
import io.quantkit.train.corpus.StoryGenerator;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The committed default is what {@code MakeDefaultModel} makes: the texts and tokenizer are regenerated and compared
 * byte for byte, the first training steps are rerun and their weights hashed against the manifest, and the committed
 * model's held-out perplexity is recomputed. The full rebuild (about five minutes on two cores) is tagged slow.
 */
class DefaultModelTest {
    static String trainText;
    static String evalText;
    static BpeVocabulary vocab;
    static JsonNode manifest;

    @BeforeAll
    static void regenerate() throws IOException {
        trainText = new StoryGenerator(MakeDefaultModel.TRAIN_SEED).text(MakeDefaultModel.TRAIN_BYTES);
        evalText = new StoryGenerator(MakeDefaultModel.EVAL_SEED).text(MakeDefaultModel.EVAL_BYTES);
        vocab = BpeVocabulary.train(MakeDefaultModel.stories(trainText), MakeDefaultModel.VOCAB);
        manifest = new ObjectMapper().readTree(DefaultModel.bytes(DefaultModel.MANIFEST));
    }

    @Test
    void textsAndTokenizerAreReproduced() {
        assertEquals(trainText, new String(DefaultModel.bytes(DefaultModel.TRAIN_TEXT), StandardCharsets.UTF_8));
        assertEquals(evalText, new String(DefaultModel.bytes(DefaultModel.EVAL_TEXT), StandardCharsets.UTF_8));
        assertArrayEquals(vocab.toTokBin(), DefaultModel.bytes(DefaultModel.TOKENIZER));
    }

    @Test
    void heldOutStoriesAreNotTrainingStories() {
        java.util.Set<String> train = new java.util.HashSet<>(MakeDefaultModel.stories(trainText));
        List<String> eval = MakeDefaultModel.stories(evalText);
        long seen = eval.stream().filter(train::contains).count();
        assertTrue(seen * 50 < eval.size(), seen + " of " + eval.size() + " held-out stories also occur in training");
    }

    @Test
    void tokenizerRoundTripsTheHeldOutText() throws IOException {
        BpeVocabulary fromFile = BpeVocabulary.fromTokBin(DefaultModel.bytes(DefaultModel.TOKENIZER), MakeDefaultModel.VOCAB);
        for (String story : MakeDefaultModel.stories(evalText).subList(0, 50)) {
            int[] ids = fromFile.encode(story, true);
            assertEquals(BpeVocabulary.BOS, ids[0]);
            assertEquals(story, fromFile.decode(ids));
            assertTrue(ids.length < story.length() / 2, "the BPE compresses: " + ids.length + " tokens for "
                    + story.length() + " characters");
        }
    }

    @Test
    void firstTrainingStepsGiveTheRecordedWeights() throws IOException {
        int[] train = MakeDefaultModel.tokenize(vocab, trainText);
        Trainer t = new Trainer(MakeDefaultModel.architecture(), MakeDefaultModel.options(MakeDefaultModel.STEPS), train,
                new int[0], null, null, ActivationQuant.NONE);
        try (Parallel par = Parallel.of(3)) { // another thread count than the recorded run: same bytes
            t.run(par, MakeDefaultModel.PREFIX_STEPS, null);
        }
        assertEquals(manifest.get("sha256_params_after_" + MakeDefaultModel.PREFIX_STEPS + "_steps").asText(),
                MakeDefaultModel.paramsSha256(t.params()));
    }

    /** Reads the committed llama2.c file back into the trainer's layout. */
    static float[] committedWeights(Architecture a) {
        byte[] bin = DefaultModel.bytes(DefaultModel.MODEL);
        ByteBuffer b = ByteBuffer.wrap(bin).order(ByteOrder.LITTLE_ENDIAN);
        int[] header = new int[7];
        for (int i = 0; i < 7; i++) {
            header[i] = b.getInt();
        }
        assertArrayEquals(new int[] {a.dim(), a.hiddenDim(), a.nLayers(), a.nHeads(), a.nKvHeads(), a.vocabSize(),
                a.seqLen()}, header);
        ParamLayout lay = new ParamLayout(a);
        long expected = 28 + 4L * lay.size() + 2L * 4 * a.seqLen() * (a.headSize() / 2);
        assertEquals(expected, bin.length, "header, weights and the two RoPE tables");
        float[] p = new float[lay.size()];
        b.asFloatBuffer().get(p);
        return p;
    }

    @Test
    void committedModelHasTheRecordedHeldOutPerplexity() {
        Architecture a = MakeDefaultModel.architecture();
        float[] p = committedWeights(a);
        int[] eval = MakeDefaultModel.tokenize(vocab, evalText);
        Trainer t = new Trainer(a, MakeDefaultModel.options(MakeDefaultModel.STEPS).withEval(0, 0), eval, eval, p, null,
                ActivationQuant.NONE);
        double ppl;
        try (Parallel par = Parallel.ofAvailableProcessors()) {
            ppl = Math.exp(t.evaluate(par));
        }
        double recorded = Double.parseDouble(manifest.get("eval_ppl").asText());
        assertEquals(recorded, ppl, 1e-4 * recorded);
        assertTrue(ppl < 4, "a trained model: held-out PPL " + ppl + " (uniform would be 512)");
    }

    @Test
    @Tag("slow")
    void fullRebuildIsBitForBit(@TempDir Path dir) throws IOException {
        MakeDefaultModel.make(dir, MakeDefaultModel.STEPS, 2, true);
        for (String f : List.of(DefaultModel.TRAIN_TEXT, DefaultModel.EVAL_TEXT, DefaultModel.TOKENIZER, DefaultModel.MODEL)) {
            assertArrayEquals(DefaultModel.bytes(f), Files.readAllBytes(dir.resolve(f)), f);
        }
    }
}
