package io.quantkit.calibration;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantkit.train.ActivationQuant;
import io.quantkit.train.MakeDefaultModel;
import io.quantkit.train.Parallel;
import io.quantkit.train.Trainer;
import io.quantkit.train.corpus.BpeVocabulary;
import io.quantkit.train.corpus.StoryGenerator;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/**
 * The first training steps of the committed default model, run with the vector kernels, give the weights whose hash
 * the manifest recorded from the scalar run that made the model (as {@code DefaultModelTest} checks on the scalar
 * path): forward, backward, clipping and AdamW, bit for bit.
 */
class VectorTrainingStepsTest {
    @Test
    void firstTrainingStepsGiveTheRecordedWeights() throws IOException {
        String trainText = new StoryGenerator(MakeDefaultModel.TRAIN_SEED).text(MakeDefaultModel.TRAIN_BYTES);
        BpeVocabulary vocab = BpeVocabulary.train(MakeDefaultModel.stories(trainText), MakeDefaultModel.VOCAB);
        int[] train = MakeDefaultModel.tokenize(vocab, trainText);
        Trainer t = new Trainer(MakeDefaultModel.architecture(), MakeDefaultModel.options(MakeDefaultModel.STEPS), train,
                new int[0], null, null, ActivationQuant.NONE);
        try (Parallel par = Parallel.of(2)) {
            t.run(par, MakeDefaultModel.PREFIX_STEPS, null);
        }
        String recorded = new ObjectMapper().readTree(DefaultModel.bytes(DefaultModel.MANIFEST))
                .get("sha256_params_after_" + MakeDefaultModel.PREFIX_STEPS + "_steps").asText();
        assertEquals(recorded, MakeDefaultModel.paramsSha256(t.params()));
    }
}
