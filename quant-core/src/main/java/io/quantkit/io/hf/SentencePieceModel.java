package io.quantkit.io.hf;

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
 * Reads a SentencePiece {@code tokenizer.model} (a serialized {@code ModelProto} of sentencepiece_model.proto) into
 * the vocabulary llama.cpp's converters store in GGUF: the pieces as they are (U+2581 for a space), their scores
 * and their types (SentencePiece's type codes are llama.cpp's: 1 normal, 2 unknown, 3 control, 4 user-defined,
 * 5 unused, 6 byte), and the unk/bos/eos ids of the trainer spec.
 *
 * <pre>
 * ModelProto      1: repeated SentencePiece pieces   2: TrainerSpec trainer_spec   3: NormalizerSpec normalizer_spec
 * SentencePiece   1: string piece   2: float score   3: enum type (default 1 = NORMAL)
 * TrainerSpec     3: enum model_type (1 unigram, 2 BPE)   40: int32 unk_id (0)   41: bos_id (1)   42: eos_id (2)
 * NormalizerSpec  3: bool add_dummy_prefix (true)
 * </pre>
 * Other fields are skipped by wire type. Only BPE models are accepted (Llama's); a unigram model is refused with
 * a message. Malformed input (varints past the end, lengths past the end, non-UTF-8 pieces, more than
 * {@link Limits#MAX_VOCAB} pieces, files over {@link Limits#MAX_TOKENIZER_FILE_BYTES}) is a
 * {@link BadFileException}.
 */
public final class SentencePieceModel {
    /** The file name in a Hugging Face folder. */
    public static final String FILE = "tokenizer.model";

    private SentencePieceModel() {
    }

    /** The vocabulary and whether the normalizer adds a dummy leading space. */
    public record Vocabulary(TokenizerData data, boolean addDummyPrefix) {
    }

    /** Reads {@code file}. */
    public static Vocabulary read(Path file) throws IOException {
        long size = Files.size(file);
        if (size > Limits.MAX_TOKENIZER_FILE_BYTES) {
            throw BadFileException.of(file, Limits.exceeds("file size", size, Limits.MAX_TOKENIZER_FILE_BYTES));
        }
        return parse(file, ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN));
    }

    static Vocabulary parse(Path file, ByteBuffer b) {
        List<String> pieces = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        List<Integer> types = new ArrayList<>();
        int[] ids = {0, 1, 2};
        int modelType = 1;
        boolean dummyPrefix = true;
        Reader r = new Reader(file, b, 0, b.limit());
        while (r.more()) {
            long key = r.varint("field key");
            int field = (int) (key >>> 3);
            int wire = (int) (key & 7);
            if (field == 1 && wire == 2) {
                if (pieces.size() >= Limits.MAX_VOCAB) {
                    throw BadFileException.of(file, Limits.exceeds("piece count", pieces.size() + 1L, Limits.MAX_VOCAB));
                }
                Reader p = r.sub("piece");
                String piece = null;
                float score = 0;
                int type = 1;
                while (p.more()) {
                    long k = p.varint("piece field key");
                    int f = (int) (k >>> 3);
                    int w = (int) (k & 7);
                    if (f == 1 && w == 2) {
                        piece = p.string("piece text");
                    } else if (f == 2 && w == 5) {
                        score = p.fixed32("score");
                    } else if (f == 3 && w == 0) {
                        long t = p.varint("type");
                        if (t < 1 || t > 6) {
                            throw BadFileException.of(file, "piece %d has unknown type %d", pieces.size(), t);
                        }
                        type = (int) t;
                    } else {
                        p.skip(w, "piece field " + f);
                    }
                }
                if (piece == null) {
                    throw BadFileException.of(file, "piece %d has no text", pieces.size());
                }
                pieces.add(piece);
                scores.add(score);
                types.add(type);
            } else if ((field == 2 || field == 3) && wire == 2) {
                Reader s = r.sub(field == 2 ? "trainer_spec" : "normalizer_spec");
                while (s.more()) {
                    long k = s.varint("spec field key");
                    int f = (int) (k >>> 3);
                    int w = (int) (k & 7);
                    if (field == 2 && w == 0 && (f == 3 || f >= 40 && f <= 42)) {
                        long v = s.varint("trainer_spec field " + f);
                        if (f == 3) {
                            modelType = (int) v;
                        } else {
                            ids[f - 40] = (int) v; // int32 fields: -1 (disabled) arrives as a 64-bit varint
                        }
                    } else if (field == 3 && f == 3 && w == 0) {
                        dummyPrefix = s.varint("add_dummy_prefix") != 0;
                    } else {
                        s.skip(w, "spec field " + f);
                    }
                }
            } else {
                r.skip(wire, "field " + field);
            }
        }
        if (modelType != 2) {
            throw BadFileException.of(file, "SentencePiece model_type %d is not BPE (2); only BPE vocabularies (Llama's) "
                    + "are read", modelType);
        }
        if (pieces.isEmpty()) {
            throw BadFileException.of(file, "holds no pieces");
        }
        float[] sc = new float[pieces.size()];
        int[] ty = new int[pieces.size()];
        for (int i = 0; i < sc.length; i++) {
            sc[i] = scores.get(i);
            ty[i] = types.get(i);
        }
        for (int i = 0; i < 3; i++) {
            if (ids[i] >= pieces.size()) {
                throw BadFileException.of(file, "%s id %d is outside the %d pieces", new String[] {"unk", "bos", "eos"}[i],
                        ids[i], pieces.size());
            }
        }
        TokenizerData d = TokenizerData.of("llama", pieces, sc, ty, List.of(), ids[1], ids[2], ids[0]);
        return new Vocabulary(d, dummyPrefix);
    }

    /** Protobuf wire-format reads within {@code [pos, end)}. */
    private static final class Reader {
        final Path file;
        final ByteBuffer b;
        int pos;
        final int end;

        Reader(Path file, ByteBuffer b, int pos, int end) {
            this.file = file;
            this.b = b;
            this.pos = pos;
            this.end = end;
        }

        boolean more() {
            return pos < end;
        }

        long varint(String what) {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                if (pos >= end) {
                    throw BadFileException.of(file, "%s runs past the end of its message at byte %d", what, pos);
                }
                int x = b.get(pos++) & 0xff;
                v |= (long) (x & 0x7f) << shift;
                if ((x & 0x80) == 0) {
                    return v;
                }
            }
            throw BadFileException.of(file, "%s at byte %d is a varint longer than 10 bytes", what, pos);
        }

        int length(String what) {
            long n = varint(what + " length");
            if (n < 0 || n > end - pos) {
                throw BadFileException.of(file, "%s length %d runs past the end of its message (%d bytes left)", what,
                        n, end - pos);
            }
            return (int) n;
        }

        Reader sub(String what) {
            int n = length(what);
            Reader r = new Reader(file, b, pos, pos + n);
            pos += n;
            return r;
        }

        String string(String what) {
            int n = length(what);
            ByteBuffer s = b.duplicate();
            s.position(pos).limit(pos + n);
            pos += n;
            try {
                return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(s).toString();
            } catch (CharacterCodingException e) {
                throw BadFileException.of(file, "%s is not valid UTF-8", what);
            }
        }

        float fixed32(String what) {
            if (end - pos < 4) {
                throw BadFileException.of(file, "%s runs past the end of its message", what);
            }
            float f = b.getFloat(pos);
            pos += 4;
            return f;
        }

        void skip(int wire, String what) {
            switch (wire) {
                case 0 -> varint(what);
                case 1 -> advance(8, what);
                case 2 -> advance(length(what), what);
                case 5 -> advance(4, what);
                default -> throw BadFileException.of(file, "%s has unsupported wire type %d", what, wire);
            }
        }

        private void advance(int n, String what) {
            if (end - pos < n) {
                throw BadFileException.of(file, "%s runs past the end of its message", what);
            }
            pos += n;
        }
    }
}
