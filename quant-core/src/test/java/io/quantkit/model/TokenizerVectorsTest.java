package io.quantkit.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.quantkit.io.Checkpoint;
import io.quantkit.io.Checkpoints;
import io.quantkit.testing.SharedData;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * llama.cpp's tokenizer test vectors: every case of {@code gguf-vocab/*.inp} (separated by
 * {@code "\n__ggml_vocab_test__\n"}) gives the ids on the matching line of the {@code .out} file (no BOS, special
 * tokens not parsed, as llama.cpp's test-tokenizer-0).
 */
@Tag("real-data")
class TokenizerVectorsTest {
    static final String SEPARATOR = "\n__ggml_vocab_test__\n";

    @ParameterizedTest
    @ValueSource(strings = {"ggml-vocab-llama-spm.gguf", "ggml-vocab-gpt-2.gguf"})
    void everyCaseMatches(String vocab) throws Exception {
        Path gguf = SharedData.path("gguf-vocab/" + vocab);
        String inp = Files.readString(SharedData.path("gguf-vocab/" + vocab + ".inp"), StandardCharsets.UTF_8);
        List<String> out = Files.readAllLines(SharedData.path("gguf-vocab/" + vocab + ".out"), StandardCharsets.UTF_8);
        List<String> cases = new ArrayList<>(Arrays.asList(inp.split(SEPARATOR, -1)));
        cases.remove(cases.size() - 1); // the file ends with a separator
        assertEquals(46, cases.size());
        assertEquals(cases.size(), out.size());
        try (Checkpoint cp = Checkpoints.open(gguf)) {
            Tokenizer tok = LlamaLoader.tokenizer(cp);
            List<String> failures = new ArrayList<>();
            for (int i = 0; i < cases.size(); i++) {
                String want = out.get(i).trim();
                String got = Arrays.stream(tok.encode(cases.get(i), false)).mapToObj(Integer::toString)
                        .collect(Collectors.joining(" "));
                if (!want.equals(got)) {
                    failures.add("case " + i + " " + escape(cases.get(i)) + ": want [" + want + "] got [" + got + "]");
                }
            }
            assertEquals(List.of(), failures);
        }
    }

    private static String escape(String s) {
        return "'" + s.replace("\n", "\\n").replace("\t", "\\t") + "'";
    }
}
