package io.quantkit.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quantkit.testing.SharedData;
import java.nio.file.Files;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The real stories260K model reproduces llama2.c's greedy generation. */
@Tag("real-data")
class Stories260KTest {
    /** Greedy ids after BOS, from ../shared/data/README.md (llama2.c run.c, PyTorch and llama.cpp agree). */
    static final int[] GREEDY = {403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401,
        396, 267, 337, 410};
    static final String TEXT = "Once upon a time, there was a little girl named Lily. She loved to play outside in "
            + "the park. One day, she saw a big, red ball.";

    @Test
    void greedyGenerationFromBinMatchesReference() throws Exception {
        LlamaModel model = LlamaModel.load(TestOnlyLlama2cLoader.load(SharedData.path("stories260K/stories260K.bin")));
        SentencePieceTokenizer tok = SentencePieceTokenizer.readLlama2c(
                Files.readAllBytes(SharedData.path("stories260K/tok512.bin")), 512);
        int[] ids = Generate.greedy(model, tok.bos(), 64);
        int[] head = java.util.Arrays.copyOf(ids, GREEDY.length);
        assertArrayEquals(GREEDY, head);
        String text = tok.decode(ids);
        assertTrue(text.startsWith(TEXT), text);
    }
}
