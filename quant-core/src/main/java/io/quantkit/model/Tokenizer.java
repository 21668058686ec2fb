package io.quantkit.model;

/** Text to token ids and back. Implementations are immutable and thread-safe. */
public interface Tokenizer {

    int vocabSize();

    /** Beginning-of-sequence id. */
    int bos();

    /** End-of-sequence id. */
    int eos();

    /** Token ids of {@code text}, preceded by {@link #bos()} when {@code addBos}. Special tokens are not parsed. */
    int[] encode(String text, boolean addBos);

    /** The text of {@code ids}; control tokens (BOS, EOS) produce nothing. */
    String decode(int[] ids);

    /** The raw piece of one token as stored in the vocabulary (for display). */
    String piece(int id);
}
