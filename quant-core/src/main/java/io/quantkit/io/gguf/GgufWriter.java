package io.quantkit.io.gguf;

import io.quantkit.quant.ggml.GgmlType;
import io.quantkit.io.MetaType;
import io.quantkit.io.MetaValue;
import io.quantkit.io.Metadata;
import io.quantkit.tensor.Shape;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Writes a GGUF v3 file in one pass: the header (every size is known from the tensor plan), then each tensor's
 * bytes in plan order, each padded with zeros to the alignment.
 *
 * <pre>
 * "GGUF" u32 3, u64 tensor_count, u64 kv_count
 * metadata in sorted key order ({@link Metadata} is sorted); general.alignment written only when it is not 32
 * tensor infos in plan order: name, n_dims, ne[] (innermost first), type, offset (aligned, relative to data)
 * zero padding to the alignment, then the data section
 * </pre>
 * Deterministic: the same plan, metadata and tensor bytes give the same file. Tensor names must be shorter than
 * 64 bytes (llama.cpp's GGML_MAX_NAME) and unique.
 */
public final class GgufWriter {
    /** llama.cpp stores names in 64-byte fields including the terminating zero. */
    public static final int MAX_NAME_BYTES = 63;

    /** One tensor of the plan. */
    public record Planned(String name, GgmlType type, Shape shape) {
        public Planned {
            Objects.requireNonNull(name);
            Objects.requireNonNull(type);
            Objects.requireNonNull(shape);
        }

        /** Bytes of data; throws {@link IllegalArgumentException} if rows do not fit the type's blocks. */
        public long bytes() {
            if (shape.rank() == 0) {
                throw new IllegalArgumentException("GGUF cannot store the scalar tensor '" + name + "'");
            }
            long rows = shape.rows();
            return Math.multiplyExact(rows, type.rowBytes(shape.rowLength()));
        }
    }

    private final WritableByteChannel out;
    private final List<Planned> plan;
    private final long alignment;
    private final long[] offsets;
    private int next;
    private long written;

    private GgufWriter(WritableByteChannel out, List<Planned> plan, long alignment) {
        this.out = out;
        this.plan = List.copyOf(plan);
        this.alignment = alignment;
        this.offsets = new long[plan.size()];
    }

    /**
     * Writes the header for {@code plan} and {@code metadata} to {@code out} and returns a writer expecting the
     * tensors' data in plan order. The alignment is {@code general.alignment} if the metadata has it, else 32.
     */
    public static GgufWriter start(WritableByteChannel out, Metadata metadata, List<Planned> plan)
            throws IOException {
        GgufWriter w = new GgufWriter(out, plan, alignmentOf(metadata));
        w.writeHeader(metadata);
        return w;
    }

    /** {@code general.alignment} of {@code metadata} (a UINT32 power of two), or 32 when absent. */
    public static long alignmentOf(Metadata metadata) {
        MetaValue a = metadata.get(GgufReader.KEY_ALIGNMENT).orElse(null);
        if (a == null) {
            return GgufReader.DEFAULT_ALIGNMENT;
        }
        if (!(a instanceof MetaValue.Int ai) || ai.type() != MetaType.UINT32 || ai.value() == 0
                || Long.bitCount(ai.value()) != 1) {
            throw new IllegalArgumentException(GgufReader.KEY_ALIGNMENT + " must be a UINT32 power of two");
        }
        return ai.value();
    }

    /** Bytes of the header including the padding before the data section. */
    public static long headerBytes(Metadata metadata, List<Planned> plan) {
        Sink s = new Sink(null);
        try {
            encodeHeader(s, metadata, plan, new long[plan.size()], alignmentOf(metadata));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return s.count;
    }

    private void writeHeader(Metadata metadata) throws IOException {
        Set<String> names = new HashSet<>();
        long off = 0;
        for (int i = 0; i < plan.size(); i++) {
            Planned p = plan.get(i);
            byte[] nb = p.name().getBytes(StandardCharsets.UTF_8);
            if (nb.length > MAX_NAME_BYTES) {
                throw new IllegalArgumentException("tensor name '" + p.name() + "' (" + nb.length
                        + " bytes) exceeds the maximum (" + MAX_NAME_BYTES + ") llama.cpp accepts");
            }
            if (!names.add(p.name())) {
                throw new IllegalArgumentException("tensor name '" + p.name() + "' appears twice");
            }
            if (p.shape().rank() > GgufReader.MAX_DIMS) {
                throw new IllegalArgumentException("tensor '" + p.name() + "' has " + p.shape().rank()
                        + " dimensions; GGUF allows at most " + GgufReader.MAX_DIMS);
            }
            offsets[i] = off;
            off = GgufReader.align(off + p.bytes(), alignment);
        }
        Sink s = new Sink(out);
        encodeHeader(s, metadata, plan, offsets, alignment);
        s.flush();
        written = s.count;
    }

    private static void encodeHeader(Sink s, Metadata metadata, List<Planned> plan, long[] offsets, long alignment)
            throws IOException {
        s.u32(GgufReader.MAGIC);
        s.u32(3);
        s.u64(plan.size());
        s.u64(metadata.size());
        for (Map.Entry<String, MetaValue> e : metadata.asMap().entrySet()) {
            s.string(e.getKey());
            s.u32(e.getValue().type().id());
            value(s, e.getValue());
        }
        for (int i = 0; i < plan.size(); i++) {
            Planned p = plan.get(i);
            s.string(p.name());
            long[] dims = p.shape().dims();
            s.u32(dims.length);
            for (int d = dims.length - 1; d >= 0; d--) {
                s.u64(dims[d]);
            }
            s.u32(p.type().id());
            s.u64(offsets[i]);
        }
        s.pad(alignment);
    }

    private static void value(Sink s, MetaValue v) throws IOException {
        switch (v.type()) {
            case UINT8, INT8, BOOL -> s.u8(v instanceof MetaValue.Bool b ? (b.value() ? 1 : 0) : (int) ((MetaValue.Int) v).value());
            case UINT16, INT16 -> s.u16((int) ((MetaValue.Int) v).value());
            case UINT32, INT32 -> s.u32((int) ((MetaValue.Int) v).value());
            case UINT64, INT64 -> s.u64(((MetaValue.Int) v).value());
            case FLOAT32 -> s.u32(Float.floatToRawIntBits((float) ((MetaValue.Real) v).value()));
            case FLOAT64 -> s.u64(Double.doubleToRawLongBits(((MetaValue.Real) v).value()));
            case STRING -> s.string(((MetaValue.Str) v).value());
            case ARRAY -> {
                MetaValue.Arr a = (MetaValue.Arr) v;
                s.u32(a.elementType().id());
                s.u64(a.size());
                for (MetaValue x : a.values()) {
                    value(s, x);
                }
            }
        }
    }

    /** The tensors still expected, in order. */
    public List<Planned> plan() {
        return plan;
    }

    /**
     * Appends the data of the next planned tensor, given as one or more buffers whose total must be exactly its
     * size; then pads to the alignment.
     */
    public void write(String name, ByteBuffer... parts) throws IOException {
        begin(name);
        for (ByteBuffer b : parts) {
            append(b);
        }
        end();
    }

    private long tensorStart = -1;

    /** Starts the data of the next planned tensor, which must be {@code name}. */
    public void begin(String name) {
        if (tensorStart >= 0) {
            throw new IllegalStateException("tensor '" + plan.get(next).name() + "' was not ended");
        }
        if (next >= plan.size()) {
            throw new IllegalStateException("all " + plan.size() + " planned tensors were already written");
        }
        if (!plan.get(next).name().equals(name)) {
            throw new IllegalStateException("expected tensor '" + plan.get(next).name() + "' next, got '" + name + "'");
        }
        tensorStart = written;
    }

    /** Appends bytes of the current tensor. */
    public void append(ByteBuffer b) throws IOException {
        if (tensorStart < 0) {
            throw new IllegalStateException("no tensor begun");
        }
        ByteBuffer d = b.duplicate();
        while (d.hasRemaining()) {
            written += out.write(d);
        }
    }

    /** Ends the current tensor: checks its size and pads to the alignment. */
    public void end() throws IOException {
        Planned p = plan.get(next);
        long total = written - tensorStart;
        if (total != p.bytes()) {
            throw new IllegalArgumentException("tensor '" + p.name() + "' (" + p.type() + p.shape() + ") needs "
                    + p.bytes() + " bytes, got " + total);
        }
        long padded = GgufReader.align(written, alignment);
        if (padded > written) {
            ByteBuffer z = ByteBuffer.allocate((int) (padded - written));
            while (z.hasRemaining()) {
                written += out.write(z);
            }
        }
        tensorStart = -1;
        next++;
    }

    /** Checks that every planned tensor was written; returns the file size. */
    public long finish() {
        if (next != plan.size()) {
            throw new IllegalStateException("only " + next + " of " + plan.size() + " planned tensors were written");
        }
        return written;
    }

    /** Little-endian encoder that counts bytes; with a null channel it only counts. */
    private static final class Sink {
        final WritableByteChannel ch;
        final ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        long count;

        Sink(WritableByteChannel ch) {
            this.ch = ch;
        }

        void ensure(int n) throws IOException {
            if (buf.remaining() < n) {
                flush();
            }
        }

        void flush() throws IOException {
            buf.flip();
            if (ch != null) {
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
            }
            buf.clear();
        }

        void u8(int v) throws IOException {
            ensure(1);
            buf.put((byte) v);
            count += 1;
        }

        void u16(int v) throws IOException {
            ensure(2);
            buf.putShort((short) v);
            count += 2;
        }

        void u32(int v) throws IOException {
            ensure(4);
            buf.putInt(v);
            count += 4;
        }

        void u64(long v) throws IOException {
            ensure(8);
            buf.putLong(v);
            count += 8;
        }

        void string(String s) throws IOException {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            int off = 0;
            while (off < b.length) {
                if (!buf.hasRemaining()) {
                    flush();
                }
                int n = Math.min(buf.remaining(), b.length - off);
                buf.put(b, off, n);
                off += n;
            }
            count += b.length;
        }

        void pad(long alignment) throws IOException {
            while (count % alignment != 0) {
                u8(0);
            }
        }
    }

    /** The plan entries of {@code names} in order (helper for tests and callers that build plans). */
    public static List<Planned> plan(List<String> names, List<GgmlType> types, List<Shape> shapes) {
        List<Planned> out = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            out.add(new Planned(names.get(i), types.get(i), shapes.get(i)));
        }
        return out;
    }
}
