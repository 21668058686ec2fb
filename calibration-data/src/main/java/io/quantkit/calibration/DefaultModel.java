package io.quantkit.calibration;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The embedded default that {@code quant compare} uses with no arguments: a small Llama-architecture model trained by
 * this project on stories this project generates, with a BPE tokenizer trained on the same text. Every file is made
 * by {@code io.quantkit.train.MakeDefaultModel} (quant-core) and can be rebuilt bit for bit (see README.md).
 *
 * <p>Files, as class-path resources under {@code /io/quantkit/calibration/}:
 * <ul>
 *   <li>{@link #MODEL}: llama2.c legacy checkpoint (float32; dim 64, hidden 172, 5 layers, 8 heads, 4 key/value
 *       heads, vocabulary 512, sequence 256, tied classifier), readable by llama2.c's {@code run.c};</li>
 *   <li>{@link #TOKENIZER}: llama2.c {@code tok.bin} (512 tokens: {@code <unk>}, BOS, EOS, 256 byte fallbacks, the
 *       corpus' characters, learned merges);</li>
 *   <li>{@link #TRAIN_TEXT} and {@link #EVAL_TEXT}: the training and held-out stories (ASCII, one blank line between
 *       stories; the held-out stories come from another seed);</li>
 *   <li>{@link #MANIFEST}: sizes, SHA-256 of each file, the recipe and the held-out perplexity;</li>
 *   <li>{@link #TRAIN_LOG}: the training run's CSV log.</li>
 * </ul>
 */
public final class DefaultModel {
    public static final String MODEL = "model.bin";
    public static final String TOKENIZER = "tok.bin";
    public static final String TRAIN_TEXT = "train.txt";
    public static final String EVAL_TEXT = "eval.txt";
    public static final String MANIFEST = "manifest.json";
    public static final String TRAIN_LOG = "train-log.csv";
    /** Class-path folder of the files. */
    public static final String FOLDER = "/io/quantkit/calibration/";

    private DefaultModel() {
    }

    /** Opens one of the files above; throws {@link IllegalArgumentException} for another name. */
    public static InputStream open(String name) {
        InputStream in = DefaultModel.class.getResourceAsStream(FOLDER + name);
        if (in == null) {
            throw new IllegalArgumentException("no embedded default file named '" + name + "'");
        }
        return in;
    }

    /** The bytes of one of the files above. */
    public static byte[] bytes(String name) {
        try (InputStream in = open(name)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read embedded default file " + name, e);
        }
    }

    /** Copies one of the files into {@code dir} (created if needed) and returns its path there. */
    public static Path extract(String name, Path dir) throws IOException {
        Files.createDirectories(dir);
        Path p = dir.resolve(name);
        try (InputStream in = open(name)) {
            Files.copy(in, p, StandardCopyOption.REPLACE_EXISTING);
        }
        return p;
    }
}
