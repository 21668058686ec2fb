package io.quantkit.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quantkit.testing.SharedData;
import io.quantkit.train.corpus.BpeVocabulary;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The training model's forward pass and the run.c-style encoder on the real stories260K: llama.cpp's perplexity tool
 * gives 4.2201 (F32, ctx 128, first 200,000 bytes of the TinyStories sample; ../shared/data/README.md).
 */
@Tag("real-data")
class Stories260kTest {

    static int[] firstBytesTokens(BpeVocabulary v, int bytes) throws IOException {
        byte[] all = Files.readAllBytes(SharedData.path("corpora/tinystories_val_sample.txt"));
        String text = new String(Arrays.copyOf(all, bytes), StandardCharsets.UTF_8);
        return v.encode(text, true);
    }

    @Test
    void llamaCppPerplexityOfStories260k() throws IOException {
        Path bin = SharedData.path("stories260K/stories260K.bin");
        Path tok = SharedData.path("stories260K/tok512.bin");
        LlamaWeights.Loaded m = LlamaWeights.load(bin, tok);
        assertEquals(Architecture.llama(64, 172, 5, 8, 4, 512, 512, true), m.architecture());
        BpeVocabulary v = BpeVocabulary.fromTokBin(Files.readAllBytes(tok), 512);
        int[] greedyStart = {1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401};
        int[] enc = v.encode("Once upon a time, there was a little girl named Lily. She loved", true);
        assertTrue(enc.length >= 8 && enc[1] == 403 && enc[2] == 407, Arrays.toString(enc) + " vs " + Arrays.toString(greedyStart));
        int[] tokens = firstBytesTokens(v, 200_000);
        try (Parallel par = Parallel.ofAvailableProcessors()) {
            Perplexity.Result r = Perplexity.llamaCpp(par, m.architecture(), m.params(), ActivationQuant.NONE, tokens, 128,
                    8, BpeVocabulary.BOS);
            assertEquals(4.2201, r.ppl(), 0.002, "llama.cpp's F32 perplexity");
        }
    }
}
