package io.quantkit.io;

import io.quantkit.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One checkpoint, whatever its container: named tensors in file order, typed metadata, and optionally the
 * tokenizer. Tensors are lazy views over the memory-mapped file(s) ({@link #tensor(String)}); nothing is copied
 * to the heap until a caller reads elements.
 *
 * <p>Obtain one with {@link Checkpoints#open(Path)}; close it to release the files (tensor views fail with
 * {@link IllegalStateException} afterwards). Reading tensors from several threads is safe.
 */
public final class Checkpoint implements AutoCloseable {

    /** How a reader turns a {@link TensorInfo} into a tensor view and raw bytes. */
    public interface Source extends AutoCloseable {
        Tensor tensor(TensorInfo info);

        /** The stored bytes of {@code info} (a read-only view; a tensor over 2 GiB has no single buffer). */
        ByteBuffer raw(TensorInfo info);

        /** {@code len} stored bytes of {@code info} starting {@code from} bytes into its data. */
        ByteBuffer raw(TensorInfo info, long from, int len);

        @Override
        void close() throws IOException;
    }

    private final Container container;
    private final Path path;
    private final List<TensorInfo> tensors;
    private final Map<String, TensorInfo> byName;
    private final Metadata metadata;
    private final TokenizerData tokenizer;
    private final Source source;

    private Checkpoint(Container container, Path path, List<TensorInfo> tensors, Metadata metadata,
            TokenizerData tokenizer, Source source) {
        this.container = Objects.requireNonNull(container);
        this.path = Objects.requireNonNull(path);
        this.tensors = List.copyOf(tensors);
        Map<String, TensorInfo> m = new LinkedHashMap<>();
        for (TensorInfo t : this.tensors) {
            if (m.put(t.name(), t) != null) {
                throw BadFileException.of(path, "tensor name '%s' appears twice", t.name());
            }
        }
        this.byName = Collections.unmodifiableMap(m);
        this.metadata = Objects.requireNonNull(metadata);
        this.tokenizer = tokenizer;
        this.source = Objects.requireNonNull(source);
    }

    /** For readers: a checkpoint over {@code source}, which it closes. Throws on duplicate tensor names. */
    public static Checkpoint of(Container container, Path path, List<TensorInfo> tensors, Metadata metadata,
            TokenizerData tokenizer, Source source) {
        return new Checkpoint(container, path, tensors, metadata, tokenizer, source);
    }

    public Container container() {
        return container;
    }

    /** The path that was opened (a file, or a folder of shards). */
    public Path path() {
        return path;
    }

    /** Every tensor in file order (for sharded safetensors: shard order, then offset order). */
    public List<TensorInfo> tensors() {
        return tensors;
    }

    public Optional<TensorInfo> info(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    public boolean has(String name) {
        return byName.containsKey(name);
    }

    /** A lazy view of tensor {@code name}; throws {@link IllegalArgumentException} if there is none. */
    public Tensor tensor(String name) {
        TensorInfo t = byName.get(name);
        if (t == null) {
            throw new IllegalArgumentException(path.getFileName() + " has no tensor '" + name + "'");
        }
        return source.tensor(t);
    }

    /** A lazy view of the tensor {@code info} (from {@link #tensors()}). */
    public Tensor tensor(TensorInfo info) {
        if (byName.get(info.name()) != info) {
            throw new IllegalArgumentException("tensor info " + info.name() + " is not from this checkpoint");
        }
        return source.tensor(info);
    }

    /** The stored bytes of {@code info}, exactly as in the file (read-only, little-endian). */
    public ByteBuffer rawBytes(TensorInfo info) {
        if (byName.get(info.name()) != info) {
            throw new IllegalArgumentException("tensor info " + info.name() + " is not from this checkpoint");
        }
        return source.raw(info);
    }

    /** {@code len} stored bytes of {@code info} starting {@code from} bytes into its data (read-only view). */
    public ByteBuffer rawBytes(TensorInfo info, long from, int len) {
        if (byName.get(info.name()) != info) {
            throw new IllegalArgumentException("tensor info " + info.name() + " is not from this checkpoint");
        }
        return source.raw(info, from, len);
    }

    /**
     * This checkpoint with {@code tokenizer} attached and {@code metadata} in place of its own. The result takes
     * over the files: close it, not this one.
     */
    public Checkpoint withTokenizer(TokenizerData tokenizer, Metadata metadata) {
        return new Checkpoint(container, path, tensors, metadata, Objects.requireNonNull(tokenizer), source);
    }

    public Metadata metadata() {
        return metadata;
    }

    public Optional<TokenizerData> tokenizer() {
        return Optional.ofNullable(tokenizer);
    }

    /** Total elements over all tensors. */
    public long parameterCount() {
        long n = 0;
        for (TensorInfo t : tensors) {
            n += t.shape().numel();
        }
        return n;
    }

    /** Total bytes of stored tensor data. */
    public long dataBytes() {
        long n = 0;
        for (TensorInfo t : tensors) {
            n += t.byteLength();
        }
        return n;
    }

    /** The tensor names, in file order. */
    public List<String> names() {
        List<String> out = new ArrayList<>(tensors.size());
        for (TensorInfo t : tensors) {
            out.add(t.name());
        }
        return out;
    }

    @Override
    public void close() {
        try {
            source.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
