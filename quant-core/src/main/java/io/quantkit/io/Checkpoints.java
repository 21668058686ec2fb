package io.quantkit.io;

import io.quantkit.io.gguf.GgufMetadata;
import io.quantkit.io.gguf.GgufReader;
import io.quantkit.io.hf.HfLlama;
import io.quantkit.io.llama2c.TokBinReader;
import io.quantkit.io.llama2c.Llama2cReader;
import io.quantkit.io.safetensors.SafetensorsReader;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Opens any supported checkpoint, recognising the container by its bytes first and its name second.
 *
 * <ul>
 *   <li>"GGUF" magic → GGUF.</li>
 *   <li>A folder whose {@code config.json} says {@code model_type = "llama"} → a Hugging Face Llama checkpoint
 *       ({@link HfLlama}: llama.cpp names, q/k rows in llama.cpp order, llama.* metadata from config.json).</li>
 *   <li>A folder with {@code model.safetensors.index.json} → sharded safetensors; a folder with exactly one
 *       {@code .safetensors} file → that file.</li>
 *   <li>A u64 header length followed by '{' → safetensors.</li>
 *   <li>A header of seven sane int32 values and exactly the size they imply → llama2.c (its tokenizer is the
 *       given one, or {@code tok<vocab>.bin}/{@code tokenizer.bin}/{@code tok.bin} beside it).</li>
 *   <li>Zip ("PK\3\4", PyTorch's format since 1.6) or a pickle stream (0x80 protocol byte), and the
 *       {@code .pt .pth .ckpt .pkl .pickle} extensions → refused: unpickling runs arbitrary code from the file.</li>
 * </ul>
 */
public final class Checkpoints {
    private Checkpoints() {
    }

    /** The index file of a sharded safetensors checkpoint. */
    public static final String SAFETENSORS_INDEX = "model.safetensors.index.json";

    /** Opens {@code path} (file or folder); throws {@link BadFileException} for files we cannot or will not read. */
    public static Checkpoint open(Path path) throws IOException {
        return open(path, null);
    }

    /**
     * Opens {@code path}, attaching the llama2.c tokenizer {@code tokenizer} (null for none) to a llama2.c file, a
     * Hugging Face folder or a safetensors checkpoint that carries no tokenizer (ignored for GGUF, which has its own).
     * A safetensors tokenizer is stored as llama.cpp's converter stores a tok.bin ({@link GgufMetadata#asGguf}).
     */
    public static Checkpoint open(Path path, Path tokenizer) throws IOException {
        Container c = detect(path);
        if (c == Container.SAFETENSORS && HfLlama.isHfLlama(path)) {
            return HfLlama.open(path, tokenizer);
        }
        return switch (c) {
            case GGUF -> GgufReader.open(path);
            case SAFETENSORS -> withTokenizer(SafetensorsReader.open(path), tokenizer);
            case LLAMA2C -> Llama2cReader.open(path, tokenizer);
        };
    }

    private static Checkpoint withTokenizer(Checkpoint c, Path tokenizer) throws IOException {
        if (tokenizer == null || c.tokenizer().isPresent()) {
            return c;
        }
        try {
            java.util.Optional<TensorInfo> emb = c.info("token_embd.weight");
            TokenizerData raw = emb.isPresent() && emb.get().shape().rank() == 2
                    ? TokBinReader.read(tokenizer, Math.toIntExact(emb.get().shape().dim(0)))
                    : TokBinReader.read(tokenizer);
            java.util.Map<String, MetaValue> m = new java.util.TreeMap<>(c.metadata().asMap());
            m.putAll(GgufMetadata.tokenizerKeys(raw));
            return c.withTokenizer(GgufMetadata.asGguf(raw), Metadata.of(m));
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /** The container of {@code path}, or a {@link BadFileException} saying why it is not one we read. */
    public static Container detect(Path path) throws IOException {
        if (!Files.exists(path)) {
            throw new NoSuchFileException(path.toString());
        }
        if (Files.isDirectory(path)) {
            if (Files.isRegularFile(path.resolve(SAFETENSORS_INDEX))) {
                return Container.SAFETENSORS;
            }
            List<Path> st = safetensorsFiles(path);
            if (st.size() == 1) {
                return Container.SAFETENSORS;
            }
            throw BadFileException.of(path, "folder has no %s and %d .safetensors files (expected one)",
                    SAFETENSORS_INDEX, st.size());
        }
        byte[] head = new byte[16];
        int n;
        try (InputStream in = Files.newInputStream(path)) {
            n = in.readNBytes(head, 0, head.length);
        }
        String name = String.valueOf(path.getFileName()).toLowerCase(Locale.ROOT);
        if (n >= 4 && head[0] == 'G' && head[1] == 'G' && head[2] == 'U' && head[3] == 'F') {
            return Container.GGUF;
        }
        if (n >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) {
            throw refusePickle(path, "a zip archive (PyTorch's torch.save format)");
        }
        for (String ext : new String[] {".pt", ".pth", ".ckpt", ".pkl", ".pickle"}) {
            if (name.endsWith(ext)) {
                throw refusePickle(path, "a PyTorch/pickle file (" + ext + ")");
            }
        }
        if (n >= 9 && head[8] == '{') {
            long len = 0;
            for (int i = 7; i >= 0; i--) {
                len = (len << 8) | (head[i] & 0xff);
            }
            if (len > 0) {
                return Container.SAFETENSORS;
            }
        }
        if (name.endsWith(".safetensors")) {
            return Container.SAFETENSORS; // let the reader explain what is wrong
        }
        if (name.endsWith(".gguf")) {
            return Container.GGUF;
        }
        if (n >= Llama2cReader.HEADER_BYTES && Llama2cReader.looksLike(path)) {
            return Container.LLAMA2C;
        }
        if (n >= 2 && (head[0] & 0xff) == 0x80 && head[1] >= 1 && head[1] <= 5) {
            throw refusePickle(path, "a Python pickle stream (protocol " + head[1] + ")");
        }
        if (name.endsWith(".bin")) {
            return Container.LLAMA2C; // the reader says which header value or size is wrong
        }
        throw BadFileException.of(path, "not a GGUF, safetensors or llama2.c checkpoint (unrecognised first bytes)");
    }

    private static BadFileException refusePickle(Path path, String what) {
        return BadFileException.of(path, "refusing to read %s: loading pickle data executes code from the file; "
                + "convert it to safetensors with a trusted tool first", what);
    }

    static List<Path> safetensorsFiles(Path dir) throws IOException {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.safetensors")) {
            for (Path p : ds) {
                out.add(p);
            }
        }
        out.sort(null);
        return out;
    }
}
