package io.quantkit.io;

import io.quantkit.tensor.DType;
import io.quantkit.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The {@link Checkpoint.Source} of the readers: one or more memory-mapped files (keyed by the name that
 * {@link TensorInfo#file()} holds). Dense formats become {@link MappedTensor} views; other formats (ggml block
 * types) go to the {@link BlockViews} the reader passes.
 */
public final class MappedSource implements Checkpoint.Source {

    /** Makes tensor views of non-dense formats (e.g. ggml block types). */
    @FunctionalInterface
    public interface BlockViews {
        Tensor view(TensorInfo info, MappedFile file);
    }

    private final Map<String, MappedFile> files;
    private final BlockViews blocks;

    private MappedSource(Map<String, MappedFile> files, BlockViews blocks) {
        this.files = new LinkedHashMap<>(files);
        this.blocks = Objects.requireNonNull(blocks);
    }

    /** A source over {@code files}; it closes them. */
    public static MappedSource of(Map<String, MappedFile> files, BlockViews blocks) {
        return new MappedSource(files, blocks);
    }

    /** A source over one file whose tensors are all dense. */
    public static MappedSource dense(String name, MappedFile file) {
        return new MappedSource(Map.of(name, file), (info, f) -> {
            throw new IllegalArgumentException("tensor " + info.name() + " has unsupported format " + info.format());
        });
    }

    private MappedFile file(TensorInfo info) {
        MappedFile f = files.get(info.file());
        if (f == null) {
            throw new IllegalArgumentException("no open file '" + info.file() + "' for tensor " + info.name());
        }
        return f;
    }

    /** The {@link DType} named {@code format}, or null when it is not a dense type. */
    public static DType denseType(String format) {
        for (DType d : DType.values()) {
            if (d.name().equals(format)) {
                return d;
            }
        }
        return null;
    }

    @Override
    public Tensor tensor(TensorInfo info) {
        DType d = denseType(info.format());
        MappedFile f = file(info);
        if (d != null) {
            return MappedTensor.of(f, info.offset(), d, info.shape());
        }
        return blocks.view(info, f);
    }

    @Override
    public ByteBuffer raw(TensorInfo info) {
        if (info.byteLength() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("tensor " + info.name() + " (" + info.byteLength()
                    + " bytes) is too large for one buffer; read it in ranges");
        }
        return file(info).slice(info.offset(), (int) info.byteLength());
    }

    @Override
    public ByteBuffer raw(TensorInfo info, long from, int len) {
        if (from < 0 || len < 0 || from + len > info.byteLength()) {
            throw new IndexOutOfBoundsException("range " + from + "+" + len + " outside tensor " + info.name());
        }
        return file(info).slice(info.offset() + from, len);
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        for (MappedFile f : files.values()) {
            try {
                f.close();
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
