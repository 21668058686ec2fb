package io.quantkit.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/** SentencePiece-style BPE on small vocabularies whose results are worked out by hand in the comments. */
class SentencePieceTokenizerTest {
    static final int N = SentencePieceTokenizer.TYPE_NORMAL;
    static final int B = SentencePieceTokenizer.TYPE_BYTE;
    static final int C = SentencePieceTokenizer.TYPE_CONTROL;

    static SentencePieceTokenizer gguf() {
        List<String> pieces = List.of("<unk>", "<s>", "</s>", "<0x0A>", "<0xC3>", "<0xA9>", "\u2581", "a", "b",
                "\u2581a", "ab", "\u2581ab", "c", "ca", "ac");
        float[] scores = {0, 0, 0, 0, 0, 0, -1, -2, -3, -4, -0.5f, -5, -6, -7, -7};
        int[] types = {SentencePieceTokenizer.TYPE_UNKNOWN, C, C, B, B, B, N, N, N, N, N, N, N, N, N};
        return SentencePieceTokenizer.ofGguf(pieces, scores, types, 1, 2, 0, true);
    }

    @Test
    void mergesHighestScoreFirst() {
        // "▁ab": pairs "▁a" (-4) and "ab" (-0.5); "ab" wins, then "▁" + "ab" = "▁ab" (11)
        assertArrayEquals(new int[] {11}, gguf().encode("ab", false));
        assertArrayEquals(new int[] {1, 11}, gguf().encode("ab", true));
    }

    @Test
    void byteFallbackForMissingCharacters() {
        // "▁a\né": "▁a" merges; "\n" and "é" (C3 A9) are not pieces, so they fall back to byte tokens
        int[] ids = gguf().encode("a\n\u00e9", true);
        assertArrayEquals(new int[] {1, 9, 3, 4, 5}, ids);
        assertEquals("a\n\u00e9", gguf().decode(ids));
    }

    @Test
    void spacesAndEmptyText() {
        // " b" -> "▁▁b": neither "▁▁" nor "▁b" is a piece
        assertArrayEquals(new int[] {6, 6, 8}, gguf().encode(" b", false));
        assertArrayEquals(new int[0], gguf().encode("", false));
        assertArrayEquals(new int[] {1}, gguf().encode("", true));
    }

    @Test
    void leftmostPairWinsTies() {
        // "▁cac": pairs "ca" (-7) and "ac" (-7) tie; the leftmost ("ca") merges first -> ▁, ca, c
        assertArrayEquals(new int[] {6, 13, 12}, gguf().encode("cac", false));
    }

    @Test
    void llama2cVocabularyUsesPlainSpaces() {
        List<String> pieces = List.of("<unk>", "\n<s>\n", "\n</s>\n", "<0x0A>", " ", "h", "i", " h", "hi", " hi");
        float[] scores = {0, 0, 0, 0, -1, -2, -3, -4, -5, -6};
        int[] types = {SentencePieceTokenizer.TYPE_UNKNOWN, C, C, B, N, N, N, N, N, N};
        SentencePieceTokenizer t = SentencePieceTokenizer.ofLlama2c(pieces, scores, types, 1, 2, 0);
        // " hi": pairs " h" (-4) and "hi" (-5): " h" merges first, then " h"+"i" = " hi" (9)
        assertArrayEquals(new int[] {1, 9}, t.encode("hi", true));
        // "\n" is not a piece: byte fallback <0x0A> = 3; " " (4) and "i" (6) do not merge (" i" is no piece)
        assertArrayEquals(new int[] {9, 3, 4, 6}, t.encode("hi\n i", false));
        assertEquals("hi\n i", t.decode(new int[] {1, 9, 3, 4, 6, 2}));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SentencePieceTokenizer.ofLlama2c(pieces, scores, types, 1, 10, 0));
        assertEquals("special token id (10) is outside the vocabulary 0..9", e.getMessage());
    }
}
