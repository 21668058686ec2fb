package io.quantkit.train.corpus;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A small BPE vocabulary trained by the project on its own text, stored in llama2.c's {@code tok.bin} format and
 * encoded exactly as llama2.c's {@code run.c} encodes (so any llama2.c-compatible tokenizer reads it).
 *
 * <p>Ids: 0 {@code <unk>}, 1 BOS ({@code "\n<s>\n"}), 2 EOS ({@code "\n</s>\n"}), 3..258 the byte fallbacks
 * {@code <0x00>}..{@code <0xFF>}, then every character of the training text (sorted by code point, plus space and
 * newline), then the learned merges in the order they were learned. Score: 0 for all but the merges; merge
 * {@code i} (0-based) scores {@code -i}, so earlier merges win.
 *
 * <p>Encoding (run.c): a space is put in front of non-empty text; each character becomes its piece, or its UTF-8
 * bytes as byte-fallback ids; then, repeatedly, the adjacent pair whose concatenation is a piece with the highest
 * score (leftmost on ties) is merged. Merged pieces never contain a newline nor a space except in first place, so
 * no merge crosses a word start; this class encodes word by word (cached), which gives the same ids.
 *
 * <p>{@code tok.bin}: little-endian int32 {@code max_token_length}, then per token float32 score, int32 byte length,
 * UTF-8 bytes. The pieces are immutable; {@link #encode} keeps a word cache and is synchronized.
 */
public final class BpeVocabulary {
    public static final int UNK = 0;
    public static final int BOS = 1;
    public static final int EOS = 2;
    /** Id of byte fallback {@code <0x00>}. */
    public static final int BYTE0 = 3;
    /** Largest vocabulary accepted. */
    public static final int MAX_VOCAB = 1 << 16;

    private final String[] pieces;
    private final float[] scores;
    private final Map<String, Integer> ids = new HashMap<>();
    private final Map<String, int[]> cache = new HashMap<>();
    private final boolean wordSafe;

    private BpeVocabulary(String[] pieces, float[] scores) {
        this.pieces = pieces;
        this.scores = scores;
        boolean safe = true;
        for (int i = 0; i < pieces.length; i++) {
            ids.putIfAbsent(pieces[i], i);
            String p = pieces[i];
            boolean special = i <= EOS || (p.length() == 6 && p.startsWith("<0x") && p.endsWith(">"));
            if (!special && p.length() > 1 && (p.indexOf(' ', 1) >= 0 || p.indexOf('\n') >= 0)) {
                safe = false;
            }
        }
        this.wordSafe = safe;
    }

    public int size() {
        return pieces.length;
    }

    public String piece(int id) {
        return pieces[id];
    }

    public float score(int id) {
        return scores[id];
    }

    /** Splits text into run.c merge units: a new word starts at every space and at and after every newline. */
    static List<String> words(String text) {
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < text.length(); i++) {
            char ch = text.charAt(i);
            if ((ch == ' ' || ch == '\n') && i > start) {
                out.add(text.substring(start, i));
                start = i;
            }
            if (ch == '\n') {
                out.add("\n");
                start = i + 1;
            }
        }
        if (start < text.length()) {
            out.add(text.substring(start));
        }
        return out;
    }

    /**
     * Learns a vocabulary of {@code vocabSize} pieces from {@code documents} (each encoded as run.c would, with its
     * leading space). Pairs are counted inside words; the most frequent pair is merged next (ties: the smaller
     * concatenation in code-point order, then the smaller left piece). Stops early when no pair occurs twice.
     */
    public static BpeVocabulary train(List<String> documents, int vocabSize) {
        if (vocabSize > MAX_VOCAB) {
            throw new IllegalArgumentException("vocabulary size (" + vocabSize + ") exceeds the maximum (" + MAX_VOCAB + ")");
        }
        List<String> pieces = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        pieces.add("<unk>");
        pieces.add("\n<s>\n");
        pieces.add("\n</s>\n");
        for (int b = 0; b < 256; b++) {
            pieces.add(String.format("<0x%02X>", b));
        }
        TreeSet<Integer> chars = new TreeSet<>(List.of((int) ' ', (int) '\n'));
        Map<String, Integer> wordCounts = new TreeMap<>();
        for (String doc : documents) {
            doc.codePoints().forEach(chars::add);
            for (String w : words(doc.isEmpty() ? doc : " " + doc)) {
                if (!w.equals("\n")) {
                    wordCounts.merge(w, 1, Integer::sum);
                }
            }
        }
        for (int cp : chars) {
            pieces.add(new String(Character.toChars(cp)));
        }
        for (int i = 0; i < pieces.size(); i++) {
            scores.add(0f);
        }
        if (pieces.size() > vocabSize) {
            throw new IllegalArgumentException("vocabulary size (" + vocabSize + ") is smaller than the " + pieces.size()
                    + " special, byte and character pieces");
        }
        // words as symbol lists with counts
        List<List<String>> syms = new ArrayList<>();
        List<Integer> counts = new ArrayList<>();
        for (Map.Entry<String, Integer> e : wordCounts.entrySet()) {
            List<String> s = new ArrayList<>();
            e.getKey().codePoints().forEach(cp -> s.add(new String(Character.toChars(cp))));
            syms.add(s);
            counts.add(e.getValue());
        }
        java.util.Set<String> known = new java.util.HashSet<>(pieces);
        int merge = 0;
        while (pieces.size() < vocabSize) {
            Map<String, long[]> pairCount = new HashMap<>();
            Map<String, String[]> pairParts = new HashMap<>();
            for (int w = 0; w < syms.size(); w++) {
                List<String> s = syms.get(w);
                for (int i = 0; i + 1 < s.size(); i++) {
                    String key = s.get(i) + "\u0000" + s.get(i + 1);
                    pairCount.computeIfAbsent(key, k -> new long[1])[0] += counts.get(w);
                    pairParts.putIfAbsent(key, new String[] {s.get(i), s.get(i + 1)});
                }
            }
            String best = null;
            long bestCount = 1;
            for (Map.Entry<String, long[]> e : pairCount.entrySet()) {
                long c = e.getValue()[0];
                String[] p = pairParts.get(e.getKey());
                String joined = p[0] + p[1];
                if (known.contains(joined)) {
                    continue;
                }
                if (c > bestCount || (c == bestCount && best != null && compare(p, pairParts.get(best)) < 0)) {
                    best = e.getKey();
                    bestCount = c;
                }
            }
            if (best == null) {
                break;
            }
            String[] p = pairParts.get(best);
            String joined = p[0] + p[1];
            pieces.add(joined);
            scores.add((float) -merge);
            known.add(joined);
            merge++;
            for (List<String> s : syms) {
                for (int i = 0; i + 1 < s.size(); i++) {
                    if (s.get(i).equals(p[0]) && s.get(i + 1).equals(p[1])) {
                        s.set(i, joined);
                        s.remove(i + 1);
                    }
                }
            }
        }
        float[] sc = new float[scores.size()];
        for (int i = 0; i < sc.length; i++) {
            sc[i] = scores.get(i);
        }
        return new BpeVocabulary(pieces.toArray(new String[0]), sc);
    }

    private static int compare(String[] a, String[] b) {
        int c = (a[0] + a[1]).compareTo(b[0] + b[1]);
        return c != 0 ? c : a[0].compareTo(b[0]);
    }

    /** Token ids of {@code text} as run.c encodes it, with BOS first when {@code bos}. */
    public synchronized int[] encode(String text, boolean bos) {
        int[] buf = new int[text.length() * 4 + 2];
        int n = 0;
        if (bos) {
            buf[n++] = BOS;
        }
        if (!text.isEmpty() && !wordSafe) {
            int[] ids = encodeWord(" " + text);
            buf = Arrays.copyOf(buf, n + ids.length);
            System.arraycopy(ids, 0, buf, n, ids.length);
            return buf;
        }
        if (!text.isEmpty()) {
            for (String w : words(" " + text)) {
                int[] ids = cache.computeIfAbsent(w, this::encodeWord);
                if (n + ids.length > buf.length) {
                    buf = Arrays.copyOf(buf, Math.max(buf.length * 2, n + ids.length));
                }
                System.arraycopy(ids, 0, buf, n, ids.length);
                n += ids.length;
            }
        }
        return Arrays.copyOf(buf, n);
    }

    private int[] encodeWord(String w) {
        List<Integer> t = new ArrayList<>();
        w.codePoints().forEach(cp -> {
            String s = new String(Character.toChars(cp));
            Integer id = ids.get(s);
            if (id != null) {
                t.add(id);
            } else {
                for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
                    t.add(BYTE0 + (b & 0xff));
                }
            }
        });
        while (true) {
            float bestScore = -1e10f;
            int bestId = -1;
            int bestIdx = -1;
            for (int i = 0; i + 1 < t.size(); i++) {
                Integer id = ids.get(pieces[t.get(i)] + pieces[t.get(i + 1)]);
                if (id != null && scores[id] > bestScore) {
                    bestScore = scores[id];
                    bestId = id;
                    bestIdx = i;
                }
            }
            if (bestIdx < 0) {
                break;
            }
            t.set(bestIdx, bestId);
            t.remove(bestIdx + 1);
        }
        return t.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The text of {@code ids} (BOS and EOS dropped, byte fallbacks decoded, the dummy leading space removed). */
    public String decode(int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        boolean first = true;
        for (int id : ids) {
            if (id < 0 || id >= pieces.length) {
                throw new IllegalArgumentException("token id (" + id + ") is outside the vocabulary [0, " + pieces.length + ")");
            }
            if (id == BOS || id == EOS || id == UNK) {
                first = true;
                continue;
            }
            byte[] b = id >= BYTE0 && id < BYTE0 + 256 ? new byte[] {(byte) (id - BYTE0)}
                    : pieces[id].getBytes(StandardCharsets.UTF_8);
            int from = first && b.length > 0 && b[0] == ' ' ? 1 : 0;
            out.write(b, from, b.length - from);
            first = false;
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** The llama2.c {@code tok.bin} bytes. */
    public byte[] toTokBin() {
        int max = 0;
        for (String p : pieces) {
            max = Math.max(max, p.getBytes(StandardCharsets.UTF_8).length);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        out.write(b.putInt(0, max).array(), 0, 4);
        for (int i = 0; i < pieces.length; i++) {
            byte[] utf = pieces[i].getBytes(StandardCharsets.UTF_8);
            b.putFloat(0, scores[i]).putInt(4, utf.length);
            out.write(b.array(), 0, 8);
            out.write(utf, 0, utf.length);
        }
        return out.toByteArray();
    }

    /**
     * A vocabulary from pieces and scores (e.g. a model's tokenizer as read by io); SentencePiece's space mark
     * {@code U+2581} is read as a space. Encoding follows run.c; it is exact for vocabularies whose merged pieces hold a
     * space only in first place and no newline (true of llama2.c's and SentencePiece's), and word-by-word encoding is
     * only used then: otherwise the whole text is merged at once (slower, same result).
     */
    public static BpeVocabulary of(List<String> pieces, float[] scores) {
        if (pieces.size() != scores.length || pieces.isEmpty() || pieces.size() > MAX_VOCAB) {
            throw new IllegalArgumentException("a vocabulary needs 1 to " + MAX_VOCAB + " pieces with one score each, not "
                    + pieces.size() + " pieces and " + scores.length + " scores");
        }
        String[] p = new String[pieces.size()];
        for (int i = 0; i < p.length; i++) {
            p[i] = pieces.get(i).replace('\u2581', ' ');
        }
        return new BpeVocabulary(p, scores.clone());
    }

    /** Reads {@code vocabSize} tokens of a llama2.c {@code tok.bin}. */
    public static BpeVocabulary fromTokBin(byte[] data, int vocabSize) throws IOException {
        if (vocabSize < 1 || vocabSize > MAX_VOCAB) {
            throw new IllegalArgumentException("vocabulary size (" + vocabSize + ") must be between 1 and " + MAX_VOCAB);
        }
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        String[] p = new String[vocabSize];
        float[] s = new float[vocabSize];
        if (b.remaining() < 4) {
            throw new IOException("tok.bin is shorter than its header");
        }
        b.getInt();
        for (int i = 0; i < vocabSize; i++) {
            if (b.remaining() < 8) {
                throw new IOException("tok.bin ends at token " + i + " of " + vocabSize);
            }
            s[i] = b.getFloat();
            int len = b.getInt();
            if (len < 0 || len > b.remaining()) {
                throw new IOException("token " + i + " of tok.bin has length " + len + " but " + b.remaining()
                        + " bytes remain");
            }
            byte[] utf = new byte[len];
            b.get(utf);
            p[i] = new String(utf, StandardCharsets.UTF_8);
        }
        return new BpeVocabulary(p, s);
    }
}
