package io.quantkit.eval;

import java.util.Locale;

/** How a text is cut into scored sequences for perplexity. */
public enum Method {
    /**
     * Split the text on blank lines; each document is encoded with BOS and every next token is scored (the
     * first token after BOS included). A document longer than the context is cut into consecutive windows of at
     * most {@code ctx} tokens, each window after the first starting with the previous window's last token.
     */
    DOCUMENTS("documents"),
    /**
     * As llama.cpp's {@code llama-perplexity}: tokenize the whole text once with BOS, cut it into
     * {@code floor(n / ctx)} chunks of {@code ctx} tokens (the remainder is dropped), replace each chunk's first
     * token by BOS, and score only the second half: the logits at positions {@code ctx/2 .. ctx-2} predict the
     * tokens at {@code ctx/2+1 .. ctx-1}.
     */
    LLAMA_CPP("llama-cpp");

    private final String cliName;

    Method(String cliName) {
        this.cliName = cliName;
    }

    public String cliName() {
        return cliName;
    }

    /** The method called {@code name} (case-insensitive), or {@link IllegalArgumentException}. */
    public static Method fromCliName(String name) {
        for (Method m : values()) {
            if (m.cliName.equals(name.toLowerCase(Locale.ROOT))) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown perplexity method '" + name + "' (known: documents, llama-cpp)");
    }
}
