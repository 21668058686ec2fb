package io.quantkit.io.safetensors;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantkit.io.BadFileException;
import io.quantkit.io.Checkpoint;
import io.quantkit.io.Checkpoints;
import io.quantkit.io.Container;
import io.quantkit.io.Limits;
import io.quantkit.io.MappedFile;
import io.quantkit.io.MappedSource;
import io.quantkit.io.MetaValue;
import io.quantkit.io.Metadata;
import io.quantkit.io.TensorInfo;
import io.quantkit.tensor.DType;
import io.quantkit.tensor.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Reads safetensors files and sharded folders.
 *
 * <pre>
 * uint64 N (little-endian)                 header length, at most {@link Limits#MAX_SAFETENSORS_HEADER_BYTES}
 * N bytes UTF-8 JSON object                may end in spaces (0x20) used as padding
 *   "__metadata__": {string: string}       optional
 *   name: {"dtype": D, "shape": [d0, ...], "data_offsets": [begin, end]}   offsets relative to byte 8 + N
 * data buffer
 * </pre>
 * Checks, as the reference implementation does: no duplicate keys, no unknown fields, known dtype,
 * {@code end - begin == numel * dtype bits / 8} (the sub-byte {@link SubByteType}s F4, F6_E2M3 and F6_E3M2 must fill
 * whole bytes), and the tensors tile the data buffer exactly (sorted by offset,
 * each begins where the previous ended, the last ends at the end of the file) - so overlaps, holes and
 * offsets past the end are all rejected. Tensors are listed in offset order.
 *
 * <p>Sharded: {@code model.safetensors.index.json} = {"metadata": {...}, "weight_map": {name: shard}}; shards are
 * plain file names in the same folder, each tensor must be in the shard the map names, and no tensor may be
 * missing from the map. A shard in quantkit's layout ({@link QuantLayout}) has its stored arrays replaced by the
 * logical tensors, as for a single file.
 */
public final class SafetensorsReader {
    public static final String METADATA_KEY = "__metadata__";

    private SafetensorsReader() {
    }

    /** A parsed header: tensors with absolute offsets, and the __metadata__ strings. */
    public record Header(long headerLength, Map<String, String> metadata, List<TensorInfo> tensors) {
        public Header {
            metadata = Map.copyOf(metadata);
            tensors = List.copyOf(tensors);
        }
    }

    /** A JSON parser under the readers' limits (depth, names, strings, numbers, document size; no duplicate keys). */
    public static ObjectMapper mapper() {
        JsonFactory jf = JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder()
                        .maxNestingDepth(Limits.MAX_JSON_DEPTH)
                        .maxNumberLength(40)
                        .maxStringLength((int) Limits.MAX_STRING_BYTES)
                        .maxNameLength(Limits.MAX_NAME_BYTES)
                        .maxDocumentLength(Limits.MAX_SAFETENSORS_HEADER_BYTES)
                        .build())
                .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .build();
        return new ObjectMapper(jf);
    }

    /** Opens a .safetensors file or a folder (index or single file). */
    public static Checkpoint open(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            Path index = path.resolve(Checkpoints.SAFETENSORS_INDEX);
            if (Files.isRegularFile(index)) {
                return openSharded(path, index);
            }
            List<Path> files = new ArrayList<>();
            try (var ds = Files.newDirectoryStream(path, "*.safetensors")) {
                ds.forEach(files::add);
            }
            if (files.size() != 1) {
                throw BadFileException.of(path, "folder has %d .safetensors files and no %s", files.size(),
                        Checkpoints.SAFETENSORS_INDEX);
            }
            return openFile(files.get(0));
        }
        return openFile(path);
    }

    static Checkpoint openFile(Path file) throws IOException {
        MappedFile f = MappedFile.open(file);
        try {
            Header h = readHeader(file, f, String.valueOf(file.getFileName()));
            String name = String.valueOf(file.getFileName());
            if (!h.metadata().containsKey(QuantLayout.FORMAT_KEY)) {
                return Checkpoint.of(Container.SAFETENSORS, file, h.tensors(), toMetadata(h.metadata()), null,
                        MappedSource.of(Map.of(name, f), SafetensorsReader::packedView));
            }
            Grouped g = group(file, h);
            return Checkpoint.of(Container.SAFETENSORS, file, g.tensors, toMetadata(h.metadata()), null,
                    MappedSource.of(Map.of(name, f), (info, mf) -> assemble(g.parts.get(info.name()), info, mf)));
        } catch (RuntimeException e) {
            f.close();
            throw e;
        }
    }

    /** Logical tensors of a file in quantkit's layout, and the stored arrays behind each quantized one. */
    private record Grouped(List<TensorInfo> tensors, Map<String, List<Map.Entry<String, TensorInfo>>> parts) {
    }

    private static Grouped group(Path file, Header h) {
        if (!QuantLayout.READ_VERSIONS.contains(h.metadata().get(QuantLayout.FORMAT_KEY))) {
            throw BadFileException.of(file, "%s '%s' is not a layout version this build reads (%s)",
                    QuantLayout.FORMAT_KEY, h.metadata().get(QuantLayout.FORMAT_KEY),
                    String.join(", ", new java.util.TreeSet<>(QuantLayout.READ_VERSIONS)));
        }
        Map<String, TensorInfo> stored = new LinkedHashMap<>();
        for (TensorInfo t : h.tensors()) {
            stored.put(t.name(), t);
        }
        Map<String, TensorInfo> replaced = new java.util.HashMap<>(); // stored name -> logical tensor
        Map<String, List<Map.Entry<String, TensorInfo>>> parts = new java.util.HashMap<>();
        ObjectMapper m = mapper();
        for (Map.Entry<String, String> e : new TreeMap<>(h.metadata()).entrySet()) {
            if (!e.getKey().startsWith(QuantLayout.TENSOR_PREFIX)) {
                continue;
            }
            String name = e.getKey().substring(QuantLayout.TENSOR_PREFIX.length());
            JsonNode d;
            try {
                d = m.readTree(e.getValue());
            } catch (JsonProcessingException ex) {
                throw BadFileException.of(file, "metadata %s is not valid JSON", e.getKey());
            }
            JsonNode scheme = d == null ? null : d.get("scheme");
            JsonNode shape = d == null ? null : d.get("shape");
            JsonNode arrays = d == null ? null : d.get("arrays");
            if (scheme == null || !scheme.isTextual() || shape == null || !shape.isArray() || arrays == null
                    || !arrays.isArray() || arrays.isEmpty() || shape.size() > Limits.MAX_DIMS) {
                throw BadFileException.of(file, "metadata %s lacks scheme, shape or arrays", e.getKey());
            }
            try {
                io.quantkit.quant.Scheme.parse(scheme.textValue());
            } catch (IllegalArgumentException ex) {
                throw BadFileException.of(file, "tensor '%s' has scheme '%s': %s", name, scheme.textValue(),
                        ex.getMessage());
            }
            long[] dims = new long[shape.size()];
            for (int i = 0; i < dims.length; i++) {
                if (!shape.get(i).canConvertToLong() || shape.get(i).longValue() < 0) {
                    throw BadFileException.of(file, "metadata %s has a bad shape", e.getKey());
                }
                dims[i] = shape.get(i).longValue();
            }
            Shape logical;
            try {
                logical = Shape.of(dims);
            } catch (IllegalArgumentException ex) {
                throw BadFileException.of(file, "metadata %s has a shape that overflows", e.getKey());
            }
            List<Map.Entry<String, TensorInfo>> list = new ArrayList<>();
            long bytes = 0;
            for (JsonNode a : arrays) {
                if (!a.isArray() || a.size() != 2 || !a.get(0).isTextual() || !a.get(1).isTextual()) {
                    throw BadFileException.of(file, "metadata %s has a malformed arrays entry", e.getKey());
                }
                TensorInfo t = stored.get(a.get(1).textValue());
                if (t == null) {
                    throw BadFileException.of(file, "tensor '%s' names stored array '%s', which is not in the file",
                            name, a.get(1).textValue());
                }
                if (replaced.containsKey(t.name())) {
                    throw BadFileException.of(file, "stored array '%s' belongs to two tensors", t.name());
                }
                list.add(Map.entry(a.get(0).textValue(), t));
                bytes += t.byteLength();
            }
            TensorInfo first = list.get(0).getValue();
            TensorInfo logicalInfo = new TensorInfo(name, scheme.textValue(), logical, first.file(), first.offset(),
                    bytes);
            for (Map.Entry<String, TensorInfo> p : list) {
                replaced.put(p.getValue().name(), logicalInfo);
            }
            parts.put(name, list);
        }
        List<TensorInfo> out = new ArrayList<>();
        java.util.Set<String> emitted = new java.util.HashSet<>();
        for (TensorInfo t : h.tensors()) {
            TensorInfo l = replaced.get(t.name());
            if (l == null) {
                if (parts.containsKey(t.name())) {
                    throw BadFileException.of(file, "tensor name '%s' is both stored and quantized", t.name());
                }
                out.add(t);
            } else if (emitted.add(l.name())) {
                out.add(l);
            }
        }
        return new Grouped(out, parts);
    }

    private static io.quantkit.tensor.Tensor assemble(List<Map.Entry<String, TensorInfo>> parts, TensorInfo info,
            MappedFile f) {
        if (parts == null) {
            return packedView(info, f);
        }
        List<io.quantkit.tensor.StoredArray> arrays = new ArrayList<>();
        for (Map.Entry<String, TensorInfo> p : parts) {
            TensorInfo t = p.getValue();
            if (t.byteLength() > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("stored array " + t.name() + " (" + t.byteLength()
                        + " bytes) is too large for one buffer");
            }
            arrays.add(io.quantkit.tensor.StoredArray.of(p.getKey(), DType.valueOf(t.format()), t.shape(),
                    f.slice(t.offset(), (int) t.byteLength())));
        }
        io.quantkit.quant.Scheme scheme = io.quantkit.quant.Scheme.parse(info.format());
        try {
            return io.quantkit.quant.Codecs.forScheme(scheme).fromArrays(info.shape(), arrays);
        } catch (IllegalArgumentException e) {
            throw BadFileException.of(f.path(), "tensor '%s' (%s) cannot be rebuilt from its arrays: %s",
                    info.name(), info.format(), e.getMessage());
        }
    }

    /** The view of a tensor in a sub-byte dtype ({@link SubByteType}); other non-dense formats are an error. */
    static io.quantkit.tensor.Tensor packedView(TensorInfo info, MappedFile f) {
        SubByteType t = SubByteType.of(info.format());
        if (t == null) {
            throw new IllegalArgumentException("tensor " + info.name() + " has unsupported format " + info.format());
        }
        return t.view(f, info.offset(), info.shape());
    }

    private static Metadata toMetadata(Map<String, String> m) {
        Map<String, MetaValue> out = new TreeMap<>();
        m.forEach((k, v) -> out.put(k, MetaValue.str(v)));
        return Metadata.of(out);
    }

    /** Parses and validates the header of an open safetensors file. */
    public static Header readHeader(Path path, MappedFile f, String fileName) {
        if (f.size() < 8) {
            throw BadFileException.of(path, "file (%d bytes) ends inside the 8-byte header length", f.size());
        }
        long n = f.getLong(0);
        if (Long.compareUnsigned(n, Limits.MAX_SAFETENSORS_HEADER_BYTES) > 0) {
            throw BadFileException.of(path, Limits.exceeds("header length", n, Limits.MAX_SAFETENSORS_HEADER_BYTES));
        }
        if (n < 2) {
            throw BadFileException.of(path, "header length (%d) is too small for a JSON object", n);
        }
        if (n > f.size() - 8) {
            throw BadFileException.of(path, "header length (%d) runs past the end of the file (%d bytes)", n,
                    f.size());
        }
        byte[] json = new byte[(int) n];
        f.get(8, json, 0, json.length);
        JsonNode root;
        try {
            root = mapper().readTree(json);
        } catch (JsonProcessingException e) {
            throw BadFileException.of(path, "header is not valid JSON: %s", e.getOriginalMessage());
        } catch (IOException e) {
            throw BadFileException.of(path, "header is not valid JSON: %s", e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw BadFileException.of(path, "header is not a JSON object");
        }
        long dataStart = 8 + n;
        long dataLen = f.size() - dataStart;
        Map<String, String> meta = new TreeMap<>();
        List<TensorInfo> infos = new ArrayList<>();
        List<long[]> ranges = new ArrayList<>();
        Iterator<Map.Entry<String, JsonNode>> it = root.properties().iterator();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            String name = e.getKey();
            JsonNode v = e.getValue();
            if (name.equals(METADATA_KEY)) {
                if (!v.isObject()) {
                    throw BadFileException.of(path, "__metadata__ is not a JSON object");
                }
                Iterator<Map.Entry<String, JsonNode>> mi = v.properties().iterator();
                while (mi.hasNext()) {
                    Map.Entry<String, JsonNode> me = mi.next();
                    if (!me.getValue().isTextual()) {
                        throw BadFileException.of(path, "__metadata__ value of '%s' is not a string", me.getKey());
                    }
                    meta.put(me.getKey(), me.getValue().textValue());
                }
                continue;
            }
            if (infos.size() >= Limits.MAX_TENSORS) {
                throw BadFileException.of(path, Limits.exceeds("tensor count", infos.size() + 1L, Limits.MAX_TENSORS));
            }
            if (!v.isObject()) {
                throw BadFileException.of(path, "entry '%s' is not a JSON object", name);
            }
            Iterator<String> fn = v.fieldNames();
            while (fn.hasNext()) {
                String field = fn.next();
                if (!field.equals("dtype") && !field.equals("shape") && !field.equals("data_offsets")) {
                    throw BadFileException.of(path, "tensor '%s' has unknown field '%s'", name, field);
                }
            }
            JsonNode dt = v.get("dtype");
            if (dt == null || !dt.isTextual()) {
                throw BadFileException.of(path, "tensor '%s' has no string dtype", name);
            }
            DType dtype = MappedSource.denseType(dt.textValue());
            SubByteType packed = dtype == null ? SubByteType.of(dt.textValue()) : null;
            if (dtype == null && packed == null) {
                throw BadFileException.of(path, "tensor '%s' has unsupported dtype '%s'", name, dt.textValue());
            }
            String dtypeName = dtype != null ? dtype.name() : packed.name();
            JsonNode sh = v.get("shape");
            if (sh == null || !sh.isArray()) {
                throw BadFileException.of(path, "tensor '%s' has no shape array", name);
            }
            if (sh.size() > Limits.MAX_DIMS) {
                throw BadFileException.of(path, Limits.exceeds("rank of tensor '" + name + "'", sh.size(),
                        Limits.MAX_DIMS));
            }
            long[] dims = new long[sh.size()];
            for (int i = 0; i < dims.length; i++) {
                JsonNode d = sh.get(i);
                if (!d.isIntegralNumber() || !d.canConvertToLong() || d.longValue() < 0) {
                    throw BadFileException.of(path, "tensor '%s' shape entry %d (%s) is not a size", name, i, d);
                }
                dims[i] = d.longValue();
            }
            Shape shape;
            long bytes;
            try {
                shape = Shape.of(dims);
                bytes = dtype != null ? Math.multiplyExact(shape.numel(), (long) dtype.bytes())
                        : packed.bytes(shape.numel());
            } catch (IllegalArgumentException | ArithmeticException ex) {
                throw BadFileException.of(path, "tensor '%s' shape %s is too large", name, sh);
            }
            if (bytes < 0) {
                throw BadFileException.of(path, "tensor '%s' has %d %s elements of %d bits, which is not a whole number "
                        + "of bytes", name, shape.numel(), packed, packed.bits());
            }
            JsonNode off = v.get("data_offsets");
            if (off == null || !off.isArray() || off.size() != 2) {
                throw BadFileException.of(path, "tensor '%s' has no [begin, end] data_offsets", name);
            }
            long[] be = new long[2];
            for (int i = 0; i < 2; i++) {
                JsonNode d = off.get(i);
                if (!d.isIntegralNumber() || !d.canConvertToLong() || d.longValue() < 0) {
                    throw BadFileException.of(path, "tensor '%s' data_offsets entry %d (%s) is not an offset",
                            name, i, d);
                }
                be[i] = d.longValue();
            }
            if (be[1] < be[0]) {
                throw BadFileException.of(path, "tensor '%s' data_offsets [%d, %d] end before they begin", name,
                        be[0], be[1]);
            }
            if (be[1] - be[0] != bytes) {
                throw BadFileException.of(path, "tensor '%s' is %s%s = %d bytes but data_offsets [%d, %d] span %d",
                        name, dtypeName, shape, bytes, be[0], be[1], be[1] - be[0]);
            }
            if (be[1] > dataLen) {
                throw BadFileException.of(path, "tensor '%s' data_offsets [%d, %d] run past the end of the data "
                        + "(%d bytes)", name, be[0], be[1], dataLen);
            }
            infos.add(new TensorInfo(name, dtypeName, shape, fileName, dataStart + be[0], bytes));
            ranges.add(be);
        }
        // tensors must tile the data buffer: sorted by begin, each starts where the previous ended
        Integer[] order = new Integer[infos.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, Comparator.<Integer>comparingLong(i -> ranges.get(i)[0])
                .thenComparingLong(i -> ranges.get(i)[1]).thenComparing(i -> infos.get(i).name()));
        long end = 0;
        List<TensorInfo> sorted = new ArrayList<>(infos.size());
        String prev = null;
        for (int i : order) {
            long[] r = ranges.get(i);
            if (r[0] < end) {
                throw BadFileException.of(path, "tensors '%s' and '%s' overlap", prev, infos.get(i).name());
            }
            if (r[0] > end) {
                throw BadFileException.of(path, "%d unused bytes before tensor '%s' (data_offsets must be "
                        + "contiguous)", r[0] - end, infos.get(i).name());
            }
            end = r[1];
            prev = infos.get(i).name();
            sorted.add(infos.get(i));
        }
        if (end != dataLen) {
            throw BadFileException.of(path, "tensors cover %d bytes of data but the file holds %d after the header",
                    end, dataLen);
        }
        return new Header(n, meta, sorted);
    }

    static Checkpoint openSharded(Path dir, Path index) throws IOException {
        long size = Files.size(index);
        if (size > Limits.MAX_INDEX_FILE_BYTES) {
            throw BadFileException.of(index, Limits.exceeds("index file size", size, Limits.MAX_INDEX_FILE_BYTES));
        }
        JsonNode root;
        try {
            root = mapper().readTree(Files.readAllBytes(index));
        } catch (JsonProcessingException e) {
            throw BadFileException.of(index, "not valid JSON: %s", e.getOriginalMessage());
        }
        if (root == null || !root.isObject() || !root.path("weight_map").isObject()) {
            throw BadFileException.of(index, "has no \"weight_map\" object");
        }
        Map<String, String> weightMap = new LinkedHashMap<>();
        TreeSet<String> shards = new TreeSet<>();
        Iterator<Map.Entry<String, JsonNode>> it = root.get("weight_map").properties().iterator();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw BadFileException.of(index, "weight_map entry '%s' is not a file name", e.getKey());
            }
            String shard = e.getValue().textValue();
            if (shard.isEmpty() || shard.contains("/") || shard.contains("\\") || shard.equals(".")
                    || shard.equals("..") || shard.indexOf('\0') >= 0) {
                throw BadFileException.of(index, "shard name '%s' is not a plain file name in the folder", shard);
            }
            weightMap.put(e.getKey(), shard);
            shards.add(shard);
            if (shards.size() > Limits.MAX_SHARDS) {
                throw BadFileException.of(index, Limits.exceeds("shard count", shards.size(), Limits.MAX_SHARDS));
            }
        }
        Map<String, MetaValue> meta = new TreeMap<>();
        JsonNode im = root.path("metadata");
        if (im.isObject()) {
            Iterator<Map.Entry<String, JsonNode>> mi = im.properties().iterator();
            while (mi.hasNext()) {
                Map.Entry<String, JsonNode> e = mi.next();
                JsonNode v = e.getValue();
                meta.put(e.getKey(), v.isIntegralNumber() && v.canConvertToLong() && v.longValue() >= 0
                        ? MetaValue.u64(v.longValue()) : MetaValue.str(v.isTextual() ? v.textValue() : v.toString()));
            }
        }
        Map<String, MappedFile> files = new LinkedHashMap<>();
        List<TensorInfo> all = new ArrayList<>();
        Map<String, List<Map.Entry<String, TensorInfo>>> parts = new java.util.HashMap<>();
        java.util.Set<String> stored = new java.util.HashSet<>();
        try {
            for (String shard : shards) {
                Path p = dir.resolve(shard);
                if (!Files.isRegularFile(p)) {
                    throw BadFileException.of(index, "shard '%s' named in the weight_map does not exist", shard);
                }
                MappedFile f = MappedFile.open(p);
                files.put(shard, f);
                Header h = readHeader(p, f, shard);
                for (TensorInfo t : h.tensors()) {
                    String expected = weightMap.get(t.name());
                    if (expected == null) {
                        throw BadFileException.of(index, "tensor '%s' in shard '%s' is not in the weight_map",
                                t.name(), shard);
                    }
                    if (!expected.equals(shard)) {
                        throw BadFileException.of(index, "tensor '%s' is in shard '%s' but the weight_map says '%s'",
                                t.name(), shard, expected);
                    }
                    stored.add(t.name());
                }
                if (h.metadata().containsKey(QuantLayout.FORMAT_KEY)) {
                    // quantkit's layout: a tensor's arrays are in its own shard (duplicate logical names across
                    // shards are caught by Checkpoint.of)
                    Grouped g = group(p, h);
                    parts.putAll(g.parts);
                    all.addAll(g.tensors);
                } else {
                    all.addAll(h.tensors());
                }
                h.metadata().forEach((k, v) -> meta.putIfAbsent(k, MetaValue.str(v)));
            }
            if (stored.size() != weightMap.size()) {
                for (String name : weightMap.keySet()) {
                    if (!stored.contains(name)) {
                        throw BadFileException.of(index, "tensor '%s' is missing from shard '%s'", name,
                                weightMap.get(name));
                    }
                }
            }
            return Checkpoint.of(Container.SAFETENSORS, dir, all, Metadata.of(meta), null,
                    MappedSource.of(files, (info, f) -> parts.containsKey(info.name())
                            ? assemble(parts.get(info.name()), info, f) : packedView(info, f)));
        } catch (IOException | RuntimeException e) {
            for (MappedFile f : files.values()) {
                f.close();
            }
            throw e;
        }
    }
}
