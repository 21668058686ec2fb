package io.quantkit.io.llama2c;

import io.quantkit.io.BadFileException;
import io.quantkit.io.Limits;
import io.quantkit.io.TokenizerData;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a llama2.c tokenizer file ({@code tok512.bin}, {@code tokenizer.bin}).
 *
 * <pre>
 * int32 max_token_length
 * vocab_size times: float32 score, int32 len, len bytes of UTF-8 piece     (all little-endian)
 * </pre>
 * The file does not store vocab_size: it comes from the model header, or, read alone, is "until end of file".
 * Pieces are kept as stored ({@code "\n<s>\n"}, spaces as spaces). Token types follow llama.cpp's llama2.c
 * converter: id 0 unknown, ids 1 and 2 (BOS, EOS) and empty pieces control, {@code <0xHH>} pieces byte,
 * everything else normal.
 */
public final class TokBinReader {
    /** SentencePiece ids llama2.c's tokenizers use. */
    public static final int UNK_ID = 0;
    public static final int BOS_ID = 1;
    public static final int EOS_ID = 2;

    private TokBinReader() {
    }

    /** Reads all tokens up to the end of the file. */
    public static TokenizerData read(Path file) throws IOException {
        return read(file, -1);
    }

    /** Reads exactly {@code vocabSize} tokens (or all, if negative); the file must end after them. */
    public static TokenizerData read(Path file, int vocabSize) throws IOException {
        long size = Files.size(file);
        long maxBytes = 64L * Limits.MAX_VOCAB;
        if (size > maxBytes) {
            throw BadFileException.of(file, Limits.exceeds("tokenizer file size", size, maxBytes));
        }
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        if (b.remaining() < 4) {
            throw BadFileException.of(file, "file ends inside the 4-byte header of a llama2.c tokenizer");
        }
        int maxLen = b.getInt();
        if (maxLen < 0) {
            throw BadFileException.of(file, "max_token_length (%d) is negative", maxLen);
        }
        List<String> tokens = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        var decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        while (vocabSize < 0 ? b.hasRemaining() : tokens.size() < vocabSize) {
            int id = tokens.size();
            if (id >= Limits.MAX_VOCAB) {
                throw BadFileException.of(file, Limits.exceeds("token count", id + 1L, Limits.MAX_VOCAB));
            }
            if (b.remaining() < 8) {
                throw BadFileException.of(file, "file ends inside token %d (after %d tokens%s)", id, id,
                        vocabSize < 0 ? "" : " of " + vocabSize);
            }
            float score = b.getFloat();
            int len = b.getInt();
            if (len < 0 || len > b.remaining()) {
                throw BadFileException.of(file, "token %d claims %d bytes but %d remain in the file", id, len,
                        b.remaining());
            }
            ByteBuffer piece = b.slice();
            piece.limit(len);
            b.position(b.position() + len);
            try {
                tokens.add(decoder.decode(piece).toString());
            } catch (CharacterCodingException e) {
                throw BadFileException.of(file, "token %d is not valid UTF-8", id);
            }
            scores.add(score);
        }
        if (b.hasRemaining()) {
            throw BadFileException.of(file, "%d bytes follow the last of %d tokens", b.remaining(), tokens.size());
        }
        float[] s = new float[scores.size()];
        int[] types = new int[tokens.size()];
        for (int i = 0; i < s.length; i++) {
            s[i] = scores.get(i);
            types[i] = typeOf(i, tokens.get(i));
        }
        return TokenizerData.of("llama", tokens, s, types, List.of(), tokens.size() > BOS_ID ? BOS_ID : -1,
                tokens.size() > EOS_ID ? EOS_ID : -1, tokens.isEmpty() ? -1 : UNK_ID);
    }

    static int typeOf(int id, String piece) {
        if (id == UNK_ID) {
            return TokenizerData.TYPE_UNKNOWN;
        }
        if (id == BOS_ID || id == EOS_ID || piece.isEmpty()) {
            return TokenizerData.TYPE_CONTROL;
        }
        if (isBytePiece(piece)) {
            return TokenizerData.TYPE_BYTE;
        }
        return TokenizerData.TYPE_NORMAL;
    }

    /** {@code <0xHH>} with two upper-case hex digits. */
    public static boolean isBytePiece(String piece) {
        return piece.length() == 6 && piece.startsWith("<0x") && piece.charAt(5) == '>'
                && isHex(piece.charAt(3)) && isHex(piece.charAt(4));
    }

    private static boolean isHex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
    }
}
