package io.quantkit.io.safetensors;

import io.quantkit.quant.QuantizedTensor;
import io.quantkit.quant.SchemeKind;
import io.quantkit.tensor.DType;
import io.quantkit.tensor.Shape;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Writes a safetensors file in one pass over the data: tensor bytes are appended after a header area whose size
 * is fixed when writing starts, and the header is written into that area at {@link #finish}. The header JSON has
 * sorted keys ({@code __metadata__} among them), entries {@code {"dtype","shape","data_offsets"}} in that order,
 * and is padded with spaces (as the format allows) to fill the area exactly; the area is a multiple of 8 bytes,
 * so the data starts 8-byte aligned. Data is in the order tensors were added.
 *
 * <p>{@link #exactHeaderBytes} gives the smallest area for a known set of entries (used when everything is known
 * up front, also by the streaming converter through a {@link #dryRun()} when every stored size follows from its
 * plan); {@link #headerBound} a safe area for a plan of tensor names and schemes, used by the streaming converter
 * when a tensor's arrays are known only once its codec has produced them. Deterministic: same entries, same area, same bytes.
 */
public final class SafetensorsWriter {
    /** Extra arrays a quantized tensor may have beyond its first (int4-outliers has five in all). */
    static final int MAX_ARRAYS = 8;
    /** Rank assumed for the bound of an array shape. */
    static final int BOUND_RANK = 8;

    private final SeekableByteChannel ch;
    private final long area;
    private long dataLen;
    private final TreeMap<String, String> entries = new TreeMap<>();
    private final TreeMap<String, String> quantEntries = new TreeMap<>();
    private final Set<String> names = new HashSet<>();

    private SafetensorsWriter(SeekableByteChannel ch, long area) {
        this.ch = ch;
        this.area = area;
    }

    /** Starts writing at position 0 of {@code ch}, reserving {@code headerArea} bytes (rounded up to 8). */
    public static SafetensorsWriter start(SeekableByteChannel ch, long headerArea) throws IOException {
        long a = (headerArea + 7) / 8 * 8;
        ch.position(8 + a);
        return new SafetensorsWriter(ch, a);
    }

    /** A header area large enough for tensors with these names, shapes and schemes (null scheme = plain). */
    public static long headerBound(List<String> names, List<Shape> shapes, List<String> schemes,
            Map<String, String> metadata) {
        long n = 64;
        for (Map.Entry<String, String> e : metadata.entrySet()) {
            n += 2L * (utf8(e.getKey()) + utf8(e.getValue())) * 3 + 8;
        }
        for (int i = 0; i < names.size(); i++) {
            long name = 6L * utf8(names.get(i)) + 64;
            long perArray = name + 16 + 40 + BOUND_RANK * 21L + 2 * 21 + 16;
            if (schemes.get(i) == null) {
                n += perArray;
            } else {
                n += MAX_ARRAYS * perArray;
                // metadata entry: key + escaped JSON value (quotes and backslashes doubled, names escaped twice)
                long value = 32 + 2L * utf8(schemes.get(i)) + shapes.get(i).rank() * 21L
                        + MAX_ARRAYS * (2 * name + 64);
                n += name + 2 * value + 32;
            }
        }
        return (n + 7) / 8 * 8;
    }

    private static long utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    /**
     * A writer that only counts: tensors are described with {@link #begin}, {@link #skip} and {@link #end} (and
     * {@link #addQuantEntry}), so that {@link #exactHeaderBytes} gives the header of a file whose sizes are all known
     * before any data exists, and a streaming writer can reserve exactly that.
     */
    public static SafetensorsWriter dryRun() {
        return new SafetensorsWriter(null, 0);
    }

    /** In a {@link #dryRun()}: counts {@code bytes} of the current tensor without data. */
    public void skip(long bytes) {
        if (ch != null) {
            throw new IllegalStateException("skip is for dry runs; this writer has a channel");
        }
        if (curName == null) {
            throw new IllegalStateException("no tensor begun");
        }
        dataLen = Math.addExact(dataLen, bytes);
    }

    /** The stored tensor names added so far, sorted. */
    public java.util.SortedSet<String> storedNames() {
        return new java.util.TreeSet<>(names);
    }

    private void checkName(String name) {
        if (name.equals(SafetensorsReader.METADATA_KEY) || !names.add(name)) {
            throw new IllegalArgumentException("tensor name '" + name + "' is used twice or reserved");
        }
    }

    /** Appends a plain tensor; {@code parts} together hold exactly its bytes. */
    public void add(String name, DType dtype, Shape shape, ByteBuffer... parts) throws IOException {
        begin(name, dtype, shape);
        for (ByteBuffer b : parts) {
            append(b);
        }
        end();
    }

    private String curName;
    private DType curType;
    private Shape curShape;
    private long curBegin;

    /** Starts a plain tensor whose bytes follow through {@link #append}. */
    public void begin(String name, DType dtype, Shape shape) {
        if (curName != null) {
            throw new IllegalStateException("tensor '" + curName + "' was not ended");
        }
        checkName(name);
        curName = name;
        curType = dtype;
        curShape = shape;
        curBegin = dataLen;
    }

    /** Appends bytes of the current tensor. */
    public void append(ByteBuffer b) throws IOException {
        if (curName == null) {
            throw new IllegalStateException("no tensor begun");
        }
        if (ch == null) { // dry run: sizes only
            dataLen += b.remaining();
            return;
        }
        ByteBuffer d = b.duplicate();
        while (d.hasRemaining()) {
            dataLen += ch.write(d);
        }
    }

    /** Ends the current tensor, checking its byte count. */
    public void end() {
        long expected = Math.multiplyExact(curShape.numel(), (long) curType.bytes());
        if (dataLen - curBegin != expected) {
            throw new IllegalArgumentException("tensor '" + curName + "' " + curType + curShape + " needs " + expected
                    + " bytes, got " + (dataLen - curBegin));
        }
        StringBuilder sb = new StringBuilder("{\"dtype\":\"").append(curType.name()).append("\",\"shape\":[");
        long[] d = curShape.dims();
        for (int i = 0; i < d.length; i++) {
            sb.append(i == 0 ? "" : ",").append(d[i]);
        }
        sb.append("],\"data_offsets\":[").append(curBegin).append(',').append(dataLen).append("]}");
        entries.put(curName, sb.toString());
        curName = null;
    }

    /**
     * Appends {@code q} under {@code name}: plainly if its scheme is f32/f16/bf16 with one array of the tensor's
     * shape, otherwise as the arrays of {@link QuantLayout} plus its metadata entry.
     */
    public void add(String name, QuantizedTensor q) throws IOException {
        SchemeKind k = q.scheme().kind();
        if ((k == SchemeKind.F32 || k == SchemeKind.F16 || k == SchemeKind.BF16) && q.arrays().size() == 1
                && q.arrays().get(0).shape().equals(q.shape())) {
            add(name, q.arrays().get(0).dtype(), q.shape(), q.arrays().get(0).data());
            return;
        }
        List<String[]> parts = new ArrayList<>();
        for (QuantLayout.Part p : QuantLayout.parts(name, q)) {
            add(p.storedName(), p.array().dtype(), p.array().shape(), p.array().data());
            parts.add(new String[] {p.role(), p.storedName()});
        }
        addQuantEntry(name, q.scheme().toString(), q.shape(), parts);
    }

    /** Records the quantkit metadata entry of a quantized tensor whose arrays were added with {@link #add}. */
    public void addQuantEntry(String name, String scheme, Shape shape, List<String[]> roleAndStoredName) {
        quantEntries.put(QuantLayout.TENSOR_PREFIX + name, QuantLayout.describe(scheme, shape, roleAndStoredName));
    }

    /**
     * Writes {@code tensors} (name → tensor, in this order) with the smallest header area: the same bytes the
     * streaming path writes when its reserved area happens to be exact. Returns the file size.
     */
    public static long writeAll(SeekableByteChannel ch, Map<String, String> metadata,
            List<Map.Entry<String, QuantizedTensor>> tensors) throws IOException {
        SafetensorsWriter dry = new SafetensorsWriter(null, 0);
        for (Map.Entry<String, QuantizedTensor> e : tensors) {
            dry.add(e.getKey(), e.getValue());
        }
        SafetensorsWriter w = start(ch, dry.exactHeaderBytes(metadata));
        for (Map.Entry<String, QuantizedTensor> e : tensors) {
            w.add(e.getKey(), e.getValue());
        }
        return w.finish(metadata);
    }

    /** Bytes of the header for the entries so far and {@code metadata}, before padding. */
    public long exactHeaderBytes(Map<String, String> metadata) {
        return json(metadata).length;
    }

    private byte[] json(Map<String, String> metadata) {
        TreeMap<String, String> meta = new TreeMap<>(metadata);
        if (!quantEntries.isEmpty()) {
            meta.putAll(quantEntries);
            meta.put(QuantLayout.FORMAT_KEY, QuantLayout.FORMAT_VERSION);
        }
        TreeMap<String, String> all = new TreeMap<>(entries);
        if (!meta.isEmpty()) {
            StringBuilder m = new StringBuilder("{");
            for (Map.Entry<String, String> e : meta.entrySet()) {
                m.append(m.length() == 1 ? "" : ",");
                QuantLayout.json(m, e.getKey());
                m.append(':');
                QuantLayout.json(m, e.getValue());
            }
            all.put(SafetensorsReader.METADATA_KEY, m.append('}').toString());
        }
        StringBuilder sb = new StringBuilder("{");
        for (Map.Entry<String, String> e : all.entrySet()) {
            sb.append(sb.length() == 1 ? "" : ",");
            QuantLayout.json(sb, e.getKey());
            sb.append(':').append(e.getValue());
        }
        return sb.append('}').toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Writes the header into the reserved area; returns the file size. */
    public long finish(Map<String, String> metadata) throws IOException {
        byte[] json = json(metadata);
        if (json.length > area) {
            throw new IllegalStateException("safetensors header (" + json.length + " bytes) exceeds the reserved "
                    + "area (" + area + ")");
        }
        ByteBuffer head = ByteBuffer.allocate((int) (8 + area)).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(area).put(json);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }
        head.flip();
        ch.position(0);
        while (head.hasRemaining()) {
            ch.write(head);
        }
        return 8 + area + dataLen;
    }
}
