package io.quantkit.model;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * GPT-2 byte-level BPE, as GGUF's {@code tokenizer.ggml.model = gpt2} vocabularies define it.
 *
 * <p>Encoding: split the text with GPT-2's pre-tokenizer pattern (contractions, optional space + letters,
 * optional space + digits, optional space + other symbols, whitespace runs not followed by a non-space, other
 * whitespace); map each piece's UTF-8 bytes to printable characters (GPT-2's byte-to-unicode table: bytes
 * {@code ! .. ~}, {@code ¡ .. ¬}, {@code ® .. ÿ} stand for themselves, the other 68 bytes map to
 * {@code U+0100..}); then repeatedly merge the adjacent pair with the lowest merge rank (leftmost on ties).
 *
 * <p>Immutable and thread-safe.
 */
public final class Gpt2Tokenizer implements Tokenizer {
    /** GPT-2's pre-tokenizer; {@code (?U)} makes {@code \s} match Unicode whitespace as the original does. */
    private static final Pattern PRE = Pattern.compile(
            "(?U)'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");

    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final Map<Character, Integer> CHAR_TO_BYTE = new HashMap<>();

    static {
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (256 + extra++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE.put(c, b);
        }
    }

    private final List<String> tokens;
    private final Map<String, Integer> ids;
    private final Map<String, Integer> ranks; // "left right" -> rank
    private final int[] types;
    private final int bos;
    private final int eos;

    private Gpt2Tokenizer(List<String> tokens, List<String> merges, int[] types, int bos, int eos) {
        if (tokens.isEmpty() || tokens.size() > SentencePieceTokenizer.MAX_VOCAB) {
            throw new IllegalArgumentException("vocabulary size (" + tokens.size() + ") must be in 1.."
                    + SentencePieceTokenizer.MAX_VOCAB);
        }
        if (types.length != tokens.size()) {
            throw new IllegalArgumentException("vocabulary has " + tokens.size() + " tokens but " + types.length
                    + " types");
        }
        this.tokens = List.copyOf(tokens);
        this.types = types.clone();
        this.bos = bos;
        this.eos = eos;
        this.ids = new HashMap<>(tokens.size() * 2);
        for (int i = 0; i < tokens.size(); i++) {
            ids.putIfAbsent(tokens.get(i), i);
        }
        this.ranks = new HashMap<>(merges.size() * 2);
        for (int i = 0; i < merges.size(); i++) {
            String m = merges.get(i);
            if (m.indexOf(' ', 1) < 0) {
                throw new IllegalArgumentException("merge " + i + " ('" + m + "') is not two tokens separated by a space");
            }
            ranks.putIfAbsent(m, i);
        }
    }

    /** A tokenizer over GGUF's token list, merges and types; {@code bos}/{@code eos} may be -1 when absent. */
    public static Gpt2Tokenizer of(List<String> tokens, List<String> merges, int[] types, int bos, int eos) {
        return new Gpt2Tokenizer(tokens, merges, types, bos, eos);
    }

    @Override
    public int vocabSize() {
        return tokens.size();
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
        return tokens.get(id);
    }

    @Override
    public int[] encode(String text, boolean addBos) {
        List<Integer> out = new ArrayList<>();
        if (addBos) {
            if (bos < 0) {
                throw new IllegalArgumentException("this vocabulary has no BOS token");
            }
            out.add(bos);
        }
        Matcher m = PRE.matcher(text);
        while (m.find()) {
            bpe(m.group(), out);
        }
        int[] r = new int[out.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = out.get(i);
        }
        return r;
    }

    private void bpe(String word, List<Integer> out) {
        byte[] bytes = word.getBytes(StandardCharsets.UTF_8);
        List<String> sym = new ArrayList<>(bytes.length);
        for (byte b : bytes) {
            sym.add(String.valueOf(BYTE_TO_CHAR[b & 0xff]));
        }
        while (sym.size() > 1) {
            int best = -1;
            int bestRank = Integer.MAX_VALUE;
            for (int i = 0; i + 1 < sym.size(); i++) {
                Integer r = ranks.get(sym.get(i) + " " + sym.get(i + 1));
                if (r != null && r < bestRank) {
                    bestRank = r;
                    best = i;
                }
            }
            if (best < 0) {
                break;
            }
            sym.set(best, sym.get(best) + sym.remove(best + 1));
        }
        for (String s : sym) {
            Integer id = ids.get(s);
            if (id != null) {
                out.add(id);
            } else {
                // not in the vocabulary: one token per byte character (every GPT-2 vocabulary has all 256)
                for (int i = 0; i < s.length(); i++) {
                    Integer b = ids.get(String.valueOf(s.charAt(i)));
                    if (b == null) {
                        throw new IllegalArgumentException("vocabulary has no token for byte character '"
                                + s.charAt(i) + "'");
                    }
                    out.add(b);
                }
            }
        }
    }

    @Override
    public String decode(int[] idsToDecode) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int id : idsToDecode) {
            if (id < 0 || id >= tokens.size()) {
                throw new IllegalArgumentException("token id (" + id + ") is outside the vocabulary 0.."
                        + (tokens.size() - 1));
            }
            if (types[id] == SentencePieceTokenizer.TYPE_CONTROL) {
                continue;
            }
            String t = tokens.get(id);
            for (int i = 0; i < t.length(); i++) {
                Integer v = CHAR_TO_BYTE.get(t.charAt(i));
                if (v != null) {
                    b.write(v);
                } else {
                    b.writeBytes(String.valueOf(t.charAt(i)).getBytes(StandardCharsets.UTF_8));
                }
            }
        }
        return b.toString(StandardCharsets.UTF_8);
    }
}
