package io.quantkit.calib;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantkit.model.Tokenizer;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Calibration text and the token sequences a calibration pass feeds the model.
 *
 * <p>Text: a plain UTF-8 file, or JSON Lines ({@code .jsonl}, or any file whose first non-blank line is a JSON
 * object) with a string field {@code "text"} per line; the texts are joined with blank lines between them.
 *
 * <p>Sequences: the text is tokenized once with BOS and cut into consecutive chunks of {@code ctx} tokens; the
 * first token of each chunk is replaced by BOS (as llama.cpp's perplexity and imatrix tools do). {@code samples}
 * chunks are chosen by a partial Fisher–Yates shuffle driven by {@code SplittableRandom(seed)} and processed in
 * ascending chunk order, so the selection depends only on the text, ctx, samples and seed.
 */
public final class CalibrationData {
    /** Most bytes of calibration text read. */
    public static final long MAX_TEXT_BYTES = 1L << 30;

    private CalibrationData() {
    }

    /** Reads a text or JSONL file (see the class comment). */
    public static String readText(Path file) throws IOException {
        long size = Files.size(file);
        if (size > MAX_TEXT_BYTES) {
            throw new IllegalArgumentException("calibration data (" + size + " bytes) exceeds the maximum ("
                    + MAX_TEXT_BYTES + ")");
        }
        return parseText(Files.readAllBytes(file), file.getFileName().toString());
    }

    /** The calibration text held in {@code bytes}; {@code name} (a file name) marks JSONL by its extension. */
    public static String parseText(byte[] bytes, String name) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(name + " is not UTF-8 text", e);
        }
        if (!name.endsWith(".jsonl") && !text.stripLeading().startsWith("{")) {
            return text;
        }
        ObjectMapper json = new ObjectMapper();
        StringBuilder sb = new StringBuilder();
        String[] lines = text.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].isBlank()) {
                continue;
            }
            JsonNode node;
            try {
                node = json.readTree(lines[i]);
            } catch (IOException e) {
                throw new IllegalArgumentException(name + " line " + (i + 1) + " is not a JSON object", e);
            }
            JsonNode t = node == null ? null : node.get("text");
            if (t == null || !t.isTextual()) {
                throw new IllegalArgumentException(name + " line " + (i + 1) + " has no string field \"text\"");
            }
            if (sb.length() > 0) {
                sb.append("\n\n");
            }
            sb.append(t.asText());
        }
        return sb.toString();
    }

    /** The chosen sequences (each {@code ctx} tokens, BOS first), in ascending chunk order. */
    public static List<int[]> sequences(Tokenizer tokenizer, String text, int samples, int ctx, long seed) {
        if (ctx < 2) {
            throw new IllegalArgumentException("context (" + ctx + ") must be at least 2");
        }
        if (samples < 1) {
            throw new IllegalArgumentException("samples (" + samples + ") must be at least 1");
        }
        int[] ids = tokenizer.encode(text, true);
        int chunks = ids.length / ctx;
        if (samples > chunks) {
            throw new IllegalArgumentException("samples (" + samples + ") exceeds the " + chunks
                    + " chunks of " + ctx + " tokens in the calibration text (" + ids.length + " tokens)");
        }
        int[] order = new int[chunks];
        for (int i = 0; i < chunks; i++) {
            order[i] = i;
        }
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = 0; i < samples; i++) {
            int j = i + rng.nextInt(chunks - i);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        int[] chosen = Arrays.copyOf(order, samples);
        Arrays.sort(chosen);
        List<int[]> out = new ArrayList<>(samples);
        for (int c : chosen) {
            int[] seq = Arrays.copyOfRange(ids, c * ctx, (c + 1) * ctx);
            seq[0] = tokenizer.bos();
            out.add(seq);
        }
        return out;
    }
}
