package io.quantkit.model;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;

/**
 * SentencePiece-style BPE by score, as llama2.c's {@code run.c} and llama.cpp's "llama" (SPM) vocabulary do.
 *
 * <p>Encoding: optionally prefix a space (the "dummy prefix"), write spaces as the vocabulary does ({@code ' '}
 * in llama2.c's {@code tok.bin}, {@code U+2581} in SentencePiece/GGUF vocabularies), split into UTF-8 characters,
 * then repeatedly merge the adjacent pair whose concatenation is a vocabulary piece with the highest score
 * (leftmost on ties). A final symbol that is not a piece becomes one byte-fallback token {@code <0xXX>} per UTF-8
 * byte (or the unknown token when the vocabulary has no byte tokens).
 *
 * <p>Immutable and thread-safe.
 */
public final class SentencePieceTokenizer implements Tokenizer {
    /** Token types as in GGUF's {@code tokenizer.ggml.token_type}. */
    public static final int TYPE_NORMAL = 1;
    public static final int TYPE_UNKNOWN = 2;
    public static final int TYPE_CONTROL = 3;
    public static final int TYPE_USER_DEFINED = 4;
    public static final int TYPE_UNUSED = 5;
    public static final int TYPE_BYTE = 6;

    /** Largest vocabulary accepted. */
    public static final int MAX_VOCAB = 1 << 22;

    private static final String SPM_SPACE = "\u2581";

    private final String[] pieces;
    private final float[] scores;
    private final int[] types;
    private final Map<String, Integer> ids;
    private final int[] byteTokens; // byte value -> id, or -1
    private final int bos;
    private final int eos;
    private final int unk;
    private final boolean escapeSpaces;
    private final boolean addSpacePrefix;

    private SentencePieceTokenizer(List<String> pieces, float[] scores, int[] types, int bos, int eos, int unk,
                                   boolean escapeSpaces, boolean addSpacePrefix) {
        int n = pieces.size();
        if (n < 1 || n > MAX_VOCAB) {
            throw new IllegalArgumentException("vocabulary size (" + n + ") must be in 1.." + MAX_VOCAB);
        }
        if (scores.length != n || types.length != n) {
            throw new IllegalArgumentException("vocabulary has " + n + " pieces but " + scores.length + " scores and "
                    + types.length + " types");
        }
        for (int id : new int[] {bos, eos}) {
            if (id < 0 || id >= n) {
                throw new IllegalArgumentException("special token id (" + id + ") is outside the vocabulary 0.." + (n - 1));
            }
        }
        this.pieces = pieces.toArray(new String[0]);
        this.scores = scores.clone();
        this.types = types.clone();
        this.bos = bos;
        this.eos = eos;
        this.unk = unk;
        this.escapeSpaces = escapeSpaces;
        this.addSpacePrefix = addSpacePrefix;
        this.ids = new HashMap<>(n * 2);
        this.byteTokens = new int[256];
        java.util.Arrays.fill(byteTokens, -1);
        for (int i = 0; i < n; i++) {
            String p = Objects.requireNonNull(this.pieces[i], "piece");
            if (types[i] == TYPE_BYTE) {
                int b = parseByteToken(p);
                if (b < 0) {
                    throw new IllegalArgumentException("byte token " + i + " is '" + p + "', not <0xXX>");
                }
                byteTokens[b] = i;
            }
            ids.putIfAbsent(p, i);
        }
    }

    /**
     * A llama.cpp-style SPM vocabulary (as embedded in GGUF): pieces with {@code U+2581} for spaces, token types
     * marking byte-fallback tokens.
     */
    public static SentencePieceTokenizer ofGguf(List<String> pieces, float[] scores, int[] types, int bos, int eos,
                                                int unk, boolean addSpacePrefix) {
        return new SentencePieceTokenizer(pieces, scores, types, bos, eos, unk, true, addSpacePrefix);
    }

    /**
     * llama2.c's {@code tok.bin} vocabulary (as {@link io.quantkit.io.llama2c.TokBinReader} reads it): spaces are
     * plain spaces, a dummy space is prefixed.
     */
    public static SentencePieceTokenizer ofLlama2c(List<String> pieces, float[] scores, int[] types, int bos, int eos,
                                                   int unk) {
        return new SentencePieceTokenizer(pieces, scores, types, bos, eos, unk, false, true);
    }

    private static int parseByteToken(String p) {
        if (p.length() != 6 || !p.startsWith("<0x") || p.charAt(5) != '>') {
            return -1;
        }
        int hi = Character.digit(p.charAt(3), 16);
        int lo = Character.digit(p.charAt(4), 16);
        return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
    }

    @Override
    public int vocabSize() {
        return pieces.length;
    }

    @Override
    public int bos() {
        return bos;
    }

    @Override
    public int eos() {
        return eos;
    }

    @Override
    public String piece(int id) {
        return pieces[id];
    }

    public float score(int id) {
        return scores[id];
    }

    @Override
    public int[] encode(String text, boolean addBos) {
        List<Integer> out = new ArrayList<>();
        if (addBos) {
            out.add(bos);
        }
        if (!text.isEmpty()) {
            String t = addSpacePrefix ? " " + text : text;
            if (escapeSpaces) {
                t = t.replace(" ", SPM_SPACE);
            }
            bpe(t, out);
        }
        int[] r = new int[out.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = out.get(i);
        }
        return r;
    }

    private record Bigram(int left, int right, float score, int size) {
    }

    private void bpe(String text, List<Integer> out) {
        // symbols: UTF-8 characters as a doubly linked list over the string
        int n = text.codePointCount(0, text.length());
        int[] start = new int[n];
        int[] end = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0, off = 0; i < n; i++) {
            start[i] = off;
            off += Character.charCount(text.codePointAt(off));
            end[i] = off;
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        PriorityQueue<Bigram> queue = new PriorityQueue<>((a, b) -> a.score != b.score
                ? Float.compare(b.score, a.score) : Integer.compare(a.left, b.left));
        for (int i = 0; i + 1 < n; i++) {
            tryBigram(text, start, end, i, i + 1, queue);
        }
        while (!queue.isEmpty()) {
            Bigram bg = queue.poll();
            int l = bg.left;
            int r = bg.right;
            // stale if either side changed since the bigram was queued
            if (end[l] == start[l] || end[r] == start[r] || end[l] - start[l] + end[r] - start[r] != bg.size
                    || next[l] != r) {
                continue;
            }
            end[l] = end[r];
            end[r] = start[r]; // r is now empty
            next[l] = next[r];
            if (next[r] >= 0) {
                prev[next[r]] = l;
            }
            if (prev[l] >= 0) {
                tryBigram(text, start, end, prev[l], l, queue);
            }
            if (next[l] >= 0) {
                tryBigram(text, start, end, l, next[l], queue);
            }
        }
        for (int i = 0; i >= 0 && n > 0; i = next[i]) {
            Integer id = ids.get(text.substring(start[i], end[i]));
            if (id != null) {
                out.add(id);
            } else {
                for (byte b : text.substring(start[i], end[i]).getBytes(StandardCharsets.UTF_8)) {
                    int bt = byteTokens[b & 0xff];
                    out.add(bt >= 0 ? bt : unk);
                }
            }
        }
    }

    private void tryBigram(String text, int[] start, int[] end, int l, int r, PriorityQueue<Bigram> queue) {
        String merged = text.substring(start[l], end[l]) + text.substring(start[r], end[r]);
        Integer id = ids.get(merged);
        if (id != null) {
            queue.add(new Bigram(l, r, scores[id], merged.length()));
        }
    }

    @Override
    public String decode(int[] ids) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        boolean first = true;
        for (int id : ids) {
            if (id < 0 || id >= pieces.length) {
                throw new IllegalArgumentException("token id (" + id + ") is outside the vocabulary 0.."
                        + (pieces.length - 1));
            }
            int type = types[id];
            if (type == TYPE_CONTROL || type == TYPE_UNKNOWN || type == TYPE_UNUSED) {
                continue;
            }
            if (type == TYPE_BYTE) {
                bytes.write(parseByteToken(pieces[id]));
            } else {
                String p = escapeSpaces ? pieces[id].replace(SPM_SPACE, " ") : pieces[id];
                if (first && addSpacePrefix && p.startsWith(" ")) {
                    p = p.substring(1); // the dummy prefix
                }
                bytes.writeBytes(p.getBytes(StandardCharsets.UTF_8));
            }
            first = false;
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }
}
