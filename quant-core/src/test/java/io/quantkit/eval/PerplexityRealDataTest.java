package io.quantkit.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.quantkit.model.LlamaModel;
import io.quantkit.model.Stories260K;
import io.quantkit.model.Tokenizer;
import io.quantkit.model.ThreadPool;
import io.quantkit.testing.SharedData;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Perplexity of stories260K against the figures in ../shared/data/README.md (run.c, PyTorch, llama.cpp). */
@Tag("real-data")
class PerplexityRealDataTest {
    static LlamaModel model;
    static Tokenizer tok;
    static byte[] corpus;

    @BeforeAll
    static void load() throws Exception {
        Stories260K s = Stories260K.bin();
        model = s.model;
        tok = s.tokenizer;
        corpus = Files.readAllBytes(SharedData.path("corpora/tinystories_val_sample.txt"));
    }

    @Test
    void documentsFirst100Stories() {
        String text = new String(corpus, StandardCharsets.UTF_8);
        EvalPlan plan = EvalPlan.of(tok, text, Method.DOCUMENTS, 512, 100);
        try (ThreadPool pool = ThreadPool.ofAvailableProcessors()) {
            PerplexityResult r = Evaluator.run(model, plan, pool, false, null, Progress.NONE).perplexity();
            assertEquals(9618, r.tokens());
            assertEquals(1.43136, r.nll(), 0.00005);
            assertEquals(4.1844, r.ppl(), 0.0005);
        }
    }

    @Test
    void llamaCppCtx128First200000Bytes() {
        String text = new String(Arrays.copyOf(corpus, 200_000), StandardCharsets.UTF_8);
        EvalPlan plan = EvalPlan.of(tok, text, Method.LLAMA_CPP, 128, 0);
        try (ThreadPool pool = ThreadPool.ofAvailableProcessors()) {
            Evaluator.Run run = Evaluator.run(model, plan, pool, false, null, Progress.NONE);
            System.out.println("llama-cpp ctx 128: " + run.perplexity() + " in " + run.seconds() + " s");
            assertEquals(4.2201, run.perplexity().ppl(), 0.002);
        }
    }
}
