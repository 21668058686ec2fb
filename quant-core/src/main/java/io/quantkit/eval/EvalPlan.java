package io.quantkit.eval;

import io.quantkit.model.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * The token sequences a perplexity run feeds to the model and which of their next-token predictions it scores.
 *
 * <p>Immutable.
 */
public final class EvalPlan {
    /** Smallest context accepted. */
    public static final int MIN_CTX = 4;

    /**
     * One sequence: positions {@code scoreFrom .. length-2} are scored, each against the token that follows it.
     */
    public static final class Segment {
        private final int[] tokens;
        private final int scoreFrom;

        private Segment(int[] tokens, int scoreFrom) {
            if (tokens.length < 2 || scoreFrom < 0 || scoreFrom > tokens.length - 2) {
                throw new IllegalArgumentException("segment of " + tokens.length + " tokens cannot score from position "
                        + scoreFrom);
            }
            this.tokens = tokens;
            this.scoreFrom = scoreFrom;
        }

        /** A segment over a copy of {@code tokens}. */
        public static Segment of(int[] tokens, int scoreFrom) {
            return new Segment(tokens.clone(), scoreFrom);
        }

        public int length() {
            return tokens.length;
        }

        public int token(int i) {
            return tokens[i];
        }

        int[] tokensUnsafe() {
            return tokens;
        }

        /** First position whose next-token prediction is scored. */
        public int scoreFrom() {
            return scoreFrom;
        }

        /** Number of scored predictions. */
        public int scored() {
            return tokens.length - 1 - scoreFrom;
        }
    }

    private final Method method;
    private final int ctx;
    private final List<Segment> segments;
    private final int documents;

    private EvalPlan(Method method, int ctx, List<Segment> segments, int documents) {
        this.method = method;
        this.ctx = ctx;
        this.segments = Collections.unmodifiableList(segments);
        this.documents = documents;
    }

    /**
     * The plan for {@code text} by {@code method} with context {@code ctx}; {@code maxDocuments} limits the
     * documents read by {@link Method#DOCUMENTS} (0 = all).
     */
    public static EvalPlan of(Tokenizer tokenizer, String text, Method method, int ctx, int maxDocuments) {
        Objects.requireNonNull(tokenizer, "tokenizer");
        if (ctx < MIN_CTX) {
            throw new IllegalArgumentException("context (" + ctx + ") must be at least " + MIN_CTX);
        }
        if (maxDocuments < 0) {
            throw new IllegalArgumentException("document limit (" + maxDocuments + ") must not be negative");
        }
        List<Segment> segs = new ArrayList<>();
        int docs = 0;
        switch (method) {
            case DOCUMENTS -> {
                for (String doc : splitDocuments(text)) {
                    if (maxDocuments > 0 && docs == maxDocuments) {
                        break;
                    }
                    docs++;
                    int[] ids = tokenizer.encode(doc, true);
                    // windows of ctx tokens overlapping by one so every next token is scored exactly once
                    for (int start = 0; start < ids.length - 1; start += ctx - 1) {
                        int end = Math.min(ids.length, start + ctx);
                        segs.add(new Segment(Arrays.copyOfRange(ids, start, end), 0));
                    }
                }
            }
            case LLAMA_CPP -> {
                int[] ids = tokenizer.encode(text, true);
                int chunks = ids.length / ctx;
                for (int c = 0; c < chunks; c++) {
                    int[] chunk = Arrays.copyOfRange(ids, c * ctx, (c + 1) * ctx);
                    chunk[0] = tokenizer.bos();
                    segs.add(new Segment(chunk, ctx / 2));
                }
                docs = 1;
            }
        }
        if (segs.isEmpty()) {
            throw new IllegalArgumentException(method == Method.LLAMA_CPP
                    ? "text is shorter than one context of " + ctx + " tokens"
                    : "text holds no document with at least one token");
        }
        return new EvalPlan(method, ctx, segs, docs);
    }

    /** Paragraphs separated by blank lines (lines holding only whitespace), trimmed; empty ones dropped. */
    public static List<String> splitDocuments(String text) {
        List<String> out = new ArrayList<>();
        for (String p : text.split("\\r?\\n[ \\t\\r]*\\r?\\n")) {
            String t = p.strip();
            if (!t.isEmpty()) {
                out.add(t);
            }
        }
        return out;
    }

    public Method method() {
        return method;
    }

    public int ctx() {
        return ctx;
    }

    public List<Segment> segments() {
        return segments;
    }

    /** Documents read (1 for {@link Method#LLAMA_CPP}). */
    public int documents() {
        return documents;
    }

    /** Total scored predictions. */
    public long scoredTokens() {
        long n = 0;
        for (Segment s : segments) {
            n += s.scored();
        }
        return n;
    }

    /** Longest segment (the KV cache a run needs). */
    public int maxLength() {
        int m = 0;
        for (Segment s : segments) {
            m = Math.max(m, s.length());
        }
        return m;
    }
}
