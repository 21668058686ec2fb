package io.quantkit.io;

import java.util.List;
import java.util.Objects;

/**
 * The vocabulary a checkpoint carries: token strings, optional scores (SentencePiece/llama2.c BPE priority),
 * token types (llama.cpp's codes), optional BPE merges and the special token ids. Independent of the
 * container: read from a llama2.c {@code tok.bin} or from GGUF {@code tokenizer.ggml.*} metadata.
 *
 * <p>Tokens read from a {@code tok.bin} are exactly its pieces (a space is a space; BOS is
 * {@code "\n<s>\n"}); tokens read from GGUF are as stored there (llama.cpp writes U+2581 for a space).
 * Immutable: arrays are copied in and out.
 */
public final class TokenizerData {
    /** llama.cpp's token type codes ({@code llama_token_type}). */
    public static final int TYPE_NORMAL = 1;
    public static final int TYPE_UNKNOWN = 2;
    public static final int TYPE_CONTROL = 3;
    public static final int TYPE_USER_DEFINED = 4;
    public static final int TYPE_UNUSED = 5;
    public static final int TYPE_BYTE = 6;

    private final String model;
    private final List<String> tokens;
    private final float[] scores;
    private final int[] types;
    private final List<String> merges;
    private final int bosId;
    private final int eosId;
    private final int unkId;

    private TokenizerData(String model, List<String> tokens, float[] scores, int[] types, List<String> merges,
            int bosId, int eosId, int unkId) {
        this.model = Objects.requireNonNull(model);
        this.tokens = List.copyOf(tokens);
        if (scores != null && scores.length != this.tokens.size()) {
            throw new IllegalArgumentException(scores.length + " scores for " + this.tokens.size() + " tokens");
        }
        if (types.length != this.tokens.size()) {
            throw new IllegalArgumentException(types.length + " token types for " + this.tokens.size() + " tokens");
        }
        this.scores = scores == null ? null : scores.clone();
        this.types = types.clone();
        this.merges = List.copyOf(merges);
        this.bosId = bosId;
        this.eosId = eosId;
        this.unkId = unkId;
    }

    /**
     * @param model  tokenizer kind as GGUF names it: {@code "llama"} (SentencePiece-style, scores) or
     *               {@code "gpt2"} (byte-level BPE, merges)
     * @param scores one per token, or null when the vocabulary has none
     * @param types  one llama.cpp type code per token
     * @param bosId  -1 when absent (likewise eosId, unkId)
     */
    public static TokenizerData of(String model, List<String> tokens, float[] scores, int[] types,
            List<String> merges, int bosId, int eosId, int unkId) {
        return new TokenizerData(model, tokens, scores, types, merges, bosId, eosId, unkId);
    }

    public String model() {
        return model;
    }

    public int size() {
        return tokens.size();
    }

    /** The token strings, by id (unmodifiable). */
    public List<String> tokens() {
        return tokens;
    }

    public String token(int id) {
        return tokens.get(id);
    }

    public boolean hasScores() {
        return scores != null;
    }

    /** The score of token {@code id}; 0 when the vocabulary has no scores. */
    public float score(int id) {
        Objects.checkIndex(id, tokens.size());
        return scores == null ? 0f : scores[id];
    }

    /** All scores (a copy), or an empty array when there are none. */
    public float[] scores() {
        return scores == null ? new float[0] : scores.clone();
    }

    public int tokenType(int id) {
        return types[id];
    }

    /** All token type codes (a copy). */
    public int[] tokenTypes() {
        return types.clone();
    }

    /** BPE merges ("a b" pairs), empty for SentencePiece-style vocabularies. */
    public List<String> merges() {
        return merges;
    }

    public int bosId() {
        return bosId;
    }

    public int eosId() {
        return eosId;
    }

    public int unkId() {
        return unkId;
    }
}
