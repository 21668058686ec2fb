package io.quantkit.io.gguf;

import io.quantkit.quant.ggml.GgmlType;
import io.quantkit.io.Checkpoint;
import io.quantkit.io.MetaType;
import io.quantkit.io.MetaValue;
import io.quantkit.io.Metadata;
import io.quantkit.io.TokenizerData;
import io.quantkit.io.llama2c.TokBinReader;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The metadata a GGUF output carries so that llama.cpp can load it.
 *
 * <ul>
 *   <li>GGUF input: its metadata as is (architecture, hyper-parameters, tokenizer), with general.file_type set
 *       to the output's type when all 2-D weights share one.</li>
 *   <li>llama2.c input: the llama.* keys its reader produces plus the tokenizer.ggml.* keys built from tok.bin
 *       the way llama.cpp's convert-llama2c-to-ggml builds them: a space becomes U+2581, ids 0/1/2 become
 *       {@code <unk>}, {@code <s>}, {@code </s>}, token types as {@link TokBinReader} assigns them, scores as
 *       stored, unk/bos/eos ids 0/1/2 and separator/padding ids 0xFFFFFFFF (none).</li>
 *   <li>safetensors input: the __metadata__ strings (quantkit layout keys dropped).</li>
 * </ul>
 */
public final class GgufMetadata {
    /** llama.cpp's LLAMA_TOKEN_NULL as a UINT32. */
    public static final long NO_TOKEN = 0xffffffffL;

    private GgufMetadata() {
    }

    /** Output metadata for {@code in}; {@code fileType} is llama.cpp's llama_ftype code or -1 to leave it out. */
    public static Metadata forOutput(Checkpoint in, int fileType) {
        Metadata m = in.metadata().without(k -> k.startsWith("quantkit."));
        Map<String, MetaValue> out = new TreeMap<>(m.asMap());
        if (!m.contains("tokenizer.ggml.tokens") && in.tokenizer().isPresent()) {
            out.putAll(tokenizerKeys(in.tokenizer().get()));
        }
        out.remove("general.file_type");
        if (fileType >= 0) {
            out.put("general.file_type", MetaValue.u32(fileType));
        }
        return Metadata.of(out);
    }

    /** tokenizer.ggml.* keys for a SentencePiece-style (llama2.c) vocabulary. */
    public static Map<String, MetaValue> tokenizerKeys(TokenizerData t) {
        return keys(t, true);
    }

    /**
     * tokenizer.ggml.* keys for a vocabulary already in GGUF's spelling (a SentencePiece {@code tokenizer.model}:
     * pieces kept as they are, as llama.cpp's convert_hf_to_gguf keeps them).
     */
    public static Map<String, MetaValue> tokenizerKeysAsIs(TokenizerData t) {
        return keys(t, false);
    }

    private static Map<String, MetaValue> keys(TokenizerData t, boolean fromTokBin) {
        Map<String, MetaValue> m = new TreeMap<>();
        List<String> tokens = new ArrayList<>(t.size());
        for (int i = 0; i < t.size(); i++) {
            String s;
            if (!fromTokBin) {
                s = t.token(i);
            } else if (i == t.unkId()) {
                s = "<unk>";
            } else if (i == t.bosId()) {
                s = "<s>";
            } else if (i == t.eosId()) {
                s = "</s>";
            } else {
                s = t.token(i);
            }
            tokens.add(fromTokBin ? s.replace(' ', '\u2581') : s);
        }
        m.put("tokenizer.ggml.model", MetaValue.str(t.model()));
        m.put("tokenizer.ggml.tokens", MetaValue.strings(tokens));
        if (t.hasScores()) {
            m.put("tokenizer.ggml.scores", MetaValue.floats(t.scores()));
        }
        m.put("tokenizer.ggml.token_type", MetaValue.ints(MetaType.INT32, t.tokenTypes()));
        if (!t.merges().isEmpty()) {
            m.put("tokenizer.ggml.merges", MetaValue.strings(t.merges()));
        }
        m.put("tokenizer.ggml.unknown_token_id", MetaValue.u32(t.unkId() < 0 ? NO_TOKEN : t.unkId()));
        m.put("tokenizer.ggml.bos_token_id", MetaValue.u32(t.bosId() < 0 ? NO_TOKEN : t.bosId()));
        m.put("tokenizer.ggml.eos_token_id", MetaValue.u32(t.eosId() < 0 ? NO_TOKEN : t.eosId()));
        m.put("tokenizer.ggml.seperator_token_id", MetaValue.u32(NO_TOKEN));
        m.put("tokenizer.ggml.padding_token_id", MetaValue.u32(NO_TOKEN));
        return m;
    }

    /**
     * A tok.bin vocabulary as a GGUF reader sees it after {@link #tokenizerKeys} stored it (spaces as U+2581,
     * special tokens renamed): what a llama.cpp-converted file of the same model carries.
     */
    public static TokenizerData asGguf(TokenizerData tokBin) {
        return GgufReader.tokenizer(null, Metadata.of(tokenizerKeys(tokBin)));
    }

    /** llama.cpp's llama_ftype for a file whose weights are mostly {@code t}, or -1 if it has none. */
    public static int fileType(GgmlType t) {
        return switch (t) {
            case F32 -> 0;
            case F16 -> 1;
            case Q4_0 -> 2;
            case Q4_1 -> 3;
            case Q8_0 -> 7;
            case Q5_0 -> 8;
            case Q5_1 -> 9;
            case BF16 -> 32;
            case TQ1_0 -> 36;
            case TQ2_0 -> 37;
            case MXFP4 -> 38;
            default -> -1;
        };
    }
}
