package io.quantkit.io.hf;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.quantkit.io.BadFileException;
import io.quantkit.io.Limits;
import io.quantkit.io.safetensors.SafetensorsReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The fields of a Hugging Face {@code config.json} that a Llama model needs ({@code transformers}' LlamaConfig),
 * validated. Defaults where the file leaves a field out are LlamaConfig's: {@code num_key_value_heads} =
 * {@code num_attention_heads}, {@code rms_norm_eps} 1e-6, {@code rope_theta} 10000, {@code tie_word_embeddings}
 * false, {@code max_position_embeddings} 2048.
 *
 * <p>Refused with a message: a {@code model_type} other than {@code llama}; {@code rope_scaling} (Llama 3.1's
 * frequency scaling is not implemented); a {@code head_dim} other than hidden_size / heads; biases
 * ({@code attention_bias}, {@code mlp_bias}); an activation other than {@code silu}. Sizes are checked against
 * {@link Limits#MAX_CONFIG_SIZE}, counts against {@link Limits#MAX_CONFIG_COUNT}, the vocabulary against
 * {@link Limits#MAX_VOCAB}.
 *
 * @param hiddenSize   model width
 * @param intermediate feed-forward width
 * @param layers       num_hidden_layers
 * @param heads        num_attention_heads
 * @param kvHeads      num_key_value_heads
 * @param vocabSize    vocab_size
 * @param maxPositions max_position_embeddings
 * @param rmsNormEps   rms_norm_eps
 * @param ropeTheta    rope_theta
 * @param tied         tie_word_embeddings
 */
public record HfConfig(int hiddenSize, int intermediate, int layers, int heads, int kvHeads, int vocabSize,
        int maxPositions, double rmsNormEps, double ropeTheta, boolean tied) {

    /** The name of the file in a model folder. */
    public static final String FILE = "config.json";

    /** Head size: hidden_size / num_attention_heads. */
    public int headSize() {
        return hiddenSize / heads;
    }

    /** Rows of k_proj and v_proj: head size times num_key_value_heads. */
    public int kvDim() {
        return headSize() * kvHeads;
    }

    /** The parsed root object of {@code file}, or a BadFileException. */
    static JsonNode readJson(Path file) throws IOException {
        long size = Files.size(file);
        if (size > Limits.MAX_CONFIG_FILE_BYTES) {
            throw bad(file, "%s", Limits.exceeds("file size", size, Limits.MAX_CONFIG_FILE_BYTES));
        }
        JsonNode root;
        try {
            root = SafetensorsReader.mapper().readTree(Files.readAllBytes(file));
        } catch (JsonProcessingException e) {
            throw bad(file, "not valid JSON: %s", e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw bad(file, "is not a JSON object");
        }
        return root;
    }

    /** True if the config describes a Llama model ({@code model_type} "llama"). */
    static boolean isLlama(JsonNode root) {
        return root.path("model_type").isTextual() && root.get("model_type").textValue().equals("llama");
    }

    /** Reads and validates {@code file} (a Llama config.json). */
    public static HfConfig read(Path file) throws IOException {
        return of(file, readJson(file));
    }

    static HfConfig of(Path file, JsonNode root) {
        if (!isLlama(root)) {
            throw bad(file, "model_type is %s, not \"llama\" (only Llama models are read)",
                    root.has("model_type") ? root.get("model_type").toString() : "missing");
        }
        if (root.has("rope_scaling") && !root.get("rope_scaling").isNull()) {
            throw bad(file, "rope_scaling %s is not supported (only plain RoPE)",
                    abbreviate(root.get("rope_scaling").toString()));
        }
        for (String bias : new String[] {"attention_bias", "mlp_bias"}) {
            if (root.path(bias).asBoolean(false)) {
                throw bad(file, "%s = true is not supported (Llama without biases only)", bias);
            }
        }
        if (root.has("hidden_act") && !root.get("hidden_act").asText("").equals("silu")) {
            throw bad(file, "hidden_act %s is not supported (silu only)", root.get("hidden_act"));
        }
        int hidden = size(file, root, "hidden_size", -1, Limits.MAX_CONFIG_SIZE);
        int inter = size(file, root, "intermediate_size", -1, Limits.MAX_CONFIG_SIZE);
        int layers = size(file, root, "num_hidden_layers", -1, Limits.MAX_CONFIG_COUNT);
        int heads = size(file, root, "num_attention_heads", -1, Limits.MAX_CONFIG_COUNT);
        int kv = size(file, root, "num_key_value_heads", heads, Limits.MAX_CONFIG_COUNT);
        int vocab = size(file, root, "vocab_size", -1, Limits.MAX_VOCAB);
        int ctx = size(file, root, "max_position_embeddings", 2048, Limits.MAX_CONFIG_SIZE);
        if (hidden % heads != 0 || (hidden / heads) % 2 != 0) {
            throw bad(file, "hidden_size (%d) is not num_attention_heads (%d) times an even head size",
                    hidden, heads);
        }
        if (heads % kv != 0) {
            throw bad(file, "num_key_value_heads (%d) does not divide num_attention_heads (%d)", kv,
                    heads);
        }
        if (root.has("head_dim") && !root.get("head_dim").isNull()
                && !(root.get("head_dim").isIntegralNumber() && root.get("head_dim").longValue() == hidden / heads)) {
            throw bad(file, "head_dim %s differs from hidden_size / num_attention_heads (%d), which is "
                    + "not supported", root.get("head_dim"), hidden / heads);
        }
        double eps = real(file, root, "rms_norm_eps", 1e-6);
        if (!(eps > 0 && eps < 1)) {
            throw bad(file, "rms_norm_eps (%s) must be in (0, 1)", eps);
        }
        double theta = real(file, root, "rope_theta", 10000);
        if (!(theta > 1 && theta < 1e12)) {
            throw bad(file, "rope_theta (%s) must be in (1, 1e12)", theta);
        }
        JsonNode tie = root.get("tie_word_embeddings");
        if (tie != null && !tie.isBoolean() && !tie.isNull()) {
            throw bad(file, "tie_word_embeddings (%s) is not a boolean", tie);
        }
        return new HfConfig(hidden, inter, layers, heads, kv, vocab, ctx, eps, theta, tie != null && tie.asBoolean());
    }

    private static int size(Path file, JsonNode root, String key, int dflt, long max) {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) {
            if (dflt < 0) {
                throw bad(file, "has no %s", key);
            }
            return dflt;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw bad(file, "%s (%s) is not an integer", key, abbreviate(v.toString()));
        }
        long n = v.longValue();
        if (n <= 0) {
            throw bad(file, "%s (%d) must be positive", key, n);
        }
        if (n > max) {
            throw bad(file, "%s", Limits.exceeds(key, n, max));
        }
        return (int) n;
    }

    private static double real(Path file, JsonNode root, String key, double dflt) {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isNumber()) {
            throw bad(file, "%s (%s) is not a number", key, abbreviate(v.toString()));
        }
        return v.doubleValue();
    }

    /** "folder: config.json: message" - the folder is what the user named. */
    private static BadFileException bad(Path file, String format, Object... args) {
        Path dir = file.toAbsolutePath().getParent();
        return BadFileException.of(dir == null ? file : dir, FILE + ": " + format, args);
    }

    private static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }
}
