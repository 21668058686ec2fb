package io.quantkit.io.gguf;

import io.quantkit.quant.ggml.GgmlType;
import io.quantkit.io.BadFileException;
import io.quantkit.io.Checkpoint;
import io.quantkit.io.Container;
import io.quantkit.io.Limits;
import io.quantkit.io.MappedFile;
import io.quantkit.io.MappedSource;
import io.quantkit.io.MetaType;
import io.quantkit.io.MetaValue;
import io.quantkit.io.Metadata;
import io.quantkit.io.TensorInfo;
import io.quantkit.io.TokenizerData;
import io.quantkit.tensor.Shape;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads GGUF v2/v3 files (little-endian), validating every field before it is used.
 *
 * <pre>
 * uint32 magic "GGUF"; uint32 version (2 or 3); uint64 tensor_count; uint64 metadata_kv_count
 * metadata_kv_count times: string key; uint32 value_type; value
 *     string = uint64 len + len bytes UTF-8; array = uint32 element_type + uint64 count + elements
 * tensor_count times: string name; uint32 n_dims (1..4); uint64 ne[n_dims] (innermost first);
 *     uint32 ggml_type; uint64 offset (from the data section start, a multiple of the alignment)
 * padding to general.alignment (default 32); data section
 * </pre>
 * Shapes are reported outermost first (ne reversed). Limits are in {@link Limits}; every violation, truncation,
 * overlap, misalignment or unknown type throws {@link BadFileException}.
 */
public final class GgufReader {
    /** "GGUF" read as a little-endian uint32. */
    public static final int MAGIC = 0x46554747;
    public static final int DEFAULT_ALIGNMENT = 32;
    /** ggml's GGML_MAX_DIMS. */
    public static final int MAX_DIMS = 4;
    public static final String KEY_ALIGNMENT = "general.alignment";

    private GgufReader() {
    }

    /** Everything in a GGUF header. Tensor offsets in {@code tensors} are absolute file offsets. */
    public record Header(int version, Metadata metadata, List<TensorInfo> tensors, List<GgmlType> types,
            long alignment, long dataOffset) {
        public Header {
            tensors = List.copyOf(tensors);
            types = List.copyOf(types);
        }
    }

    /** Opens a GGUF file as a checkpoint (tokenizer taken from tokenizer.ggml.* if present). */
    public static Checkpoint open(Path path) throws IOException {
        MappedFile f = MappedFile.open(path);
        try {
            Header h = readHeader(path, f);
            TokenizerData tok = tokenizer(path, h.metadata());
            return Checkpoint.of(Container.GGUF, path, h.tensors(), h.metadata(), tok,
                    MappedSource.of(Map.of(String.valueOf(path.getFileName()), f), GgmlBlockViews::view));
        } catch (RuntimeException e) {
            f.close();
            throw e;
        }
    }

    /** Parses and validates the header of an open file. */
    public static Header readHeader(Path path, MappedFile f) {
        Cursor c = new Cursor(path, f);
        if (f.size() < 4 || f.getInt(0) != MAGIC) {
            throw BadFileException.of(path, "not a GGUF file (no 'GGUF' magic at offset 0)");
        }
        c.pos = 4;
        long v = c.u32("version");
        if (v != 2 && v != 3) {
            throw c.bad("GGUF version " + v + " is not supported (only 2 and 3)");
        }
        int version = (int) v;
        long nTensors = c.u64("tensor_count");
        long nKv = c.u64("metadata_kv_count");
        if (Long.compareUnsigned(nTensors, Limits.MAX_TENSORS) > 0) {
            throw c.bad(Limits.exceeds("tensor_count", nTensors, Limits.MAX_TENSORS));
        }
        if (Long.compareUnsigned(nKv, Limits.MAX_METADATA_ENTRIES) > 0) {
            throw c.bad(Limits.exceeds("metadata_kv_count", nKv, Limits.MAX_METADATA_ENTRIES));
        }
        // each kv needs >= 13 bytes (8 key length + 4 type + 1 value), each tensor info >= 28
        c.needAtLeast(nKv * 13 + nTensors * 28, nKv + " metadata entries and " + nTensors + " tensor infos");
        Map<String, MetaValue> kv = new LinkedHashMap<>();
        for (long i = 0; i < nKv; i++) {
            String key = c.string("metadata key " + i, Limits.MAX_NAME_BYTES);
            long type = c.u32("type of metadata '" + key + "'");
            MetaValue value = c.value(key, type, 0);
            if (kv.put(key, value) != null) {
                throw c.bad("metadata key '" + key + "' appears twice");
            }
        }
        long alignment = DEFAULT_ALIGNMENT;
        MetaValue a = kv.get(KEY_ALIGNMENT);
        if (a != null) {
            if (!(a instanceof MetaValue.Int ai) || ai.type() != MetaType.UINT32) {
                throw c.bad(KEY_ALIGNMENT + " must be a UINT32, not " + a.type());
            }
            alignment = ai.value();
            if (alignment == 0 || Long.bitCount(alignment) != 1 || alignment > Limits.MAX_ALIGNMENT) {
                throw c.bad(KEY_ALIGNMENT + " (" + alignment + ") must be a power of two at most "
                        + Limits.MAX_ALIGNMENT);
            }
        }
        List<String> names = new ArrayList<>();
        List<long[]> shapes = new ArrayList<>();
        List<GgmlType> types = new ArrayList<>();
        List<Long> rel = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (long i = 0; i < nTensors; i++) {
            String name = c.string("name of tensor " + i, Limits.MAX_NAME_BYTES);
            if (!seen.add(name)) {
                throw c.bad("tensor name '" + name + "' appears twice");
            }
            long nd = c.u32("n_dims of tensor '" + name + "'");
            if (nd < 1 || nd > MAX_DIMS) {
                throw c.bad("tensor '" + name + "' has " + nd + " dimensions (must be 1.." + MAX_DIMS + ")");
            }
            long[] ne = new long[(int) nd];
            for (int d = 0; d < nd; d++) {
                ne[d] = c.u64("dimension " + d + " of tensor '" + name + "'");
                if (ne[d] < 0) {
                    throw c.bad("tensor '" + name + "' dimension " + d + " (" + Long.toUnsignedString(ne[d])
                            + ") exceeds the maximum (" + Long.MAX_VALUE + ")");
                }
            }
            long typeId = c.u32("type of tensor '" + name + "'");
            GgmlType t = GgmlType.fromId(typeId);
            if (t == null) {
                throw c.bad("tensor '" + name + "' has unknown or removed ggml type " + typeId);
            }
            long off = c.u64("offset of tensor '" + name + "'");
            names.add(name);
            shapes.add(ne);
            types.add(t);
            rel.add(off);
        }
        long dataOffset = align(c.pos, alignment);
        if (nTensors > 0 && dataOffset > f.size()) {
            throw c.bad("file ends (" + f.size() + " bytes) before the data section at offset " + dataOffset);
        }
        List<TensorInfo> infos = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            String name = names.get(i);
            long[] ne = shapes.get(i);
            GgmlType t = types.get(i);
            long[] dims = new long[ne.length];
            for (int d = 0; d < ne.length; d++) {
                dims[d] = ne[ne.length - 1 - d];
            }
            Shape shape;
            long bytes;
            try {
                shape = Shape.of(dims);
                if (ne[0] % t.blockSize() != 0) {
                    throw c.bad("tensor '" + name + "' row length " + ne[0] + " is not a multiple of the "
                            + t + " block size " + t.blockSize());
                }
                bytes = Math.multiplyExact(shape.numel() / t.blockSize(), (long) t.blockBytes());
            } catch (ArithmeticException | IllegalArgumentException e) {
                if (e instanceof BadFileException b) {
                    throw b;
                }
                throw c.bad("tensor '" + name + "' shape " + Arrays.toString(dims) + " is too large");
            }
            long off = rel.get(i);
            if (off < 0 || off % alignment != 0) {
                throw c.bad("tensor '" + name + "' offset " + Long.toUnsignedString(off)
                        + " is not a multiple of the alignment " + alignment);
            }
            if (off > f.size() - dataOffset || bytes > f.size() - dataOffset - off) {
                throw c.bad("tensor '" + name + "' (" + bytes + " bytes at data offset " + off
                        + ") runs past the end of the file (" + f.size() + " bytes)");
            }
            infos.add(new TensorInfo(name, t.name(), shape, String.valueOf(path.getFileName()), dataOffset + off,
                    bytes));
        }
        List<TensorInfo> byOffset = new ArrayList<>(infos);
        byOffset.sort(Comparator.comparingLong(TensorInfo::offset));
        for (int i = 1; i < byOffset.size(); i++) {
            TensorInfo p = byOffset.get(i - 1);
            TensorInfo q = byOffset.get(i);
            if (p.offset() + p.byteLength() > q.offset()) {
                throw c.bad("tensors '" + p.name() + "' and '" + q.name() + "' overlap");
            }
        }
        return new Header(version, Metadata.of(kv), infos, types, alignment, dataOffset);
    }

    static long align(long x, long alignment) {
        return (x + alignment - 1) / alignment * alignment;
    }

    /** The tokenizer described by tokenizer.ggml.* keys, or null when there is no token list. */
    public static TokenizerData tokenizer(Path path, Metadata m) {
        if (!m.contains("tokenizer.ggml.tokens")) {
            return null;
        }
        try {
            List<String> tokens = m.getStrings("tokenizer.ggml.tokens");
            float[] scores = m.contains("tokenizer.ggml.scores") ? m.getFloats("tokenizer.ggml.scores") : null;
            int[] types;
            if (m.contains("tokenizer.ggml.token_type")) {
                types = m.getInts("tokenizer.ggml.token_type");
            } else {
                types = new int[tokens.size()];
                Arrays.fill(types, TokenizerData.TYPE_NORMAL);
            }
            List<String> merges = m.contains("tokenizer.ggml.merges") ? m.getStrings("tokenizer.ggml.merges")
                    : List.of();
            String model = m.contains("tokenizer.ggml.model") ? m.getString("tokenizer.ggml.model") : "llama";
            return TokenizerData.of(model, tokens, scores, types, merges, id(m, "tokenizer.ggml.bos_token_id"),
                    id(m, "tokenizer.ggml.eos_token_id"), id(m, "tokenizer.ggml.unknown_token_id"));
        } catch (BadFileException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw BadFileException.of(path, "tokenizer metadata is inconsistent: %s", e.getMessage());
        }
    }

    private static int id(Metadata m, String key) {
        if (!m.contains(key)) {
            return -1;
        }
        long v = m.getLong(key);
        return v < 0 || v > Integer.MAX_VALUE ? -1 : (int) v;
    }

    /** Sequential reads with bounds checks; all failures are BadFileExceptions naming the field. */
    static final class Cursor {
        final Path path;
        final MappedFile f;
        long pos;
        long arrayElements;
        final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);

        Cursor(Path path, MappedFile f) {
            this.path = path;
            this.f = f;
        }

        BadFileException bad(String msg) {
            return BadFileException.of(path, msg);
        }

        void need(long n, String what) {
            if (n < 0 || n > f.size() - pos) {
                throw bad("file ends at byte " + f.size() + " inside " + what + " (at offset " + pos + ")");
            }
        }

        void needAtLeast(long n, String what) {
            if (n < 0 || n > f.size() - pos) {
                throw bad("file (" + f.size() + " bytes) is too short to hold " + what);
            }
        }

        long u32(String what) {
            need(4, what);
            long v = Integer.toUnsignedLong(f.getInt(pos));
            pos += 4;
            return v;
        }

        long u64(String what) {
            need(8, what);
            long v = f.getLong(pos);
            pos += 8;
            return v;
        }

        String string(String what, long max) {
            long len = u64("length of " + what);
            if (Long.compareUnsigned(len, max) > 0) {
                throw bad(Limits.exceeds("length of " + what, len, max));
            }
            need(len, what);
            byte[] b = new byte[(int) len];
            f.get(pos, b, 0, b.length);
            pos += len;
            try {
                return utf8.decode(ByteBuffer.wrap(b)).toString();
            } catch (CharacterCodingException e) {
                throw bad(what + " is not valid UTF-8");
            }
        }

        MetaValue value(String key, long typeId, int depth) {
            MetaType t = MetaType.fromId(typeId);
            if (t == null) {
                throw bad("metadata '" + key + "' has unknown value type " + typeId);
            }
            String what = "value of metadata '" + key + "'";
            switch (t) {
                case UINT8: need(1, what); return new MetaValue.Int(t, f.get(pos++) & 0xff);
                case INT8: need(1, what); return new MetaValue.Int(t, f.get(pos++));
                case UINT16: need(2, what); pos += 2; return new MetaValue.Int(t, f.getShort(pos - 2) & 0xffff);
                case INT16: need(2, what); pos += 2; return new MetaValue.Int(t, f.getShort(pos - 2));
                case UINT32: return new MetaValue.Int(t, u32(what));
                case INT32: need(4, what); pos += 4; return new MetaValue.Int(t, f.getInt(pos - 4));
                case UINT64: return new MetaValue.Int(t, u64(what));
                case INT64: return new MetaValue.Int(t, u64(what));
                case FLOAT32: need(4, what); pos += 4; return new MetaValue.Real(t, f.getFloat(pos - 4));
                case FLOAT64: need(8, what); pos += 8; return new MetaValue.Real(t, f.getDouble(pos - 8));
                case BOOL: {
                    need(1, what);
                    int b = f.get(pos++);
                    if (b != 0 && b != 1) {
                        throw bad("metadata '" + key + "' is a BOOL with byte value " + (b & 0xff));
                    }
                    return new MetaValue.Bool(b == 1);
                }
                case STRING: return new MetaValue.Str(string(what, Limits.MAX_STRING_BYTES));
                case ARRAY: {
                    if (depth + 1 > Limits.MAX_ARRAY_DEPTH) {
                        throw bad(Limits.exceeds("array nesting depth of metadata '" + key + "'", depth + 1,
                                Limits.MAX_ARRAY_DEPTH));
                    }
                    long et = u32("element type of metadata '" + key + "'");
                    MetaType elem = MetaType.fromId(et);
                    if (elem == null) {
                        throw bad("metadata '" + key + "' is an array of unknown type " + et);
                    }
                    long n = u64("length of metadata array '" + key + "'");
                    if (Long.compareUnsigned(n, Limits.MAX_ARRAY_LENGTH) > 0) {
                        throw bad(Limits.exceeds("length of metadata array '" + key + "'", n,
                                Limits.MAX_ARRAY_LENGTH));
                    }
                    if (n * elem.minBytes() > f.size() - pos) {
                        throw bad("metadata array '" + key + "' claims " + n + " elements but only "
                                + (f.size() - pos) + " bytes remain");
                    }
                    arrayElements += n;
                    if (arrayElements > Limits.MAX_TOTAL_ARRAY_ELEMENTS) {
                        throw bad(Limits.exceeds("total metadata array elements", arrayElements,
                                Limits.MAX_TOTAL_ARRAY_ELEMENTS));
                    }
                    List<MetaValue> out = new ArrayList<>((int) n);
                    for (long i = 0; i < n; i++) {
                        out.add(value(key, et, depth + 1));
                    }
                    return new MetaValue.Arr(elem, out);
                }
                default: throw new AssertionError(t);
            }
        }
    }
}
