package io.quantkit.train;

import io.quantkit.train.corpus.BpeVocabulary;
import io.quantkit.train.corpus.StoryGenerator;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Makes the embedded default of calibration-data, bit for bit: the story corpus ({@link StoryGenerator}), a BPE
 * tokenizer trained on it ({@link BpeVocabulary}) and a small Llama model trained on it ({@link Trainer}).
 *
 * <pre>
 * java -cp quant-core/target/classes io.quantkit.train.MakeDefaultModel calibration-data/src/main/resources/io/quantkit/calibration
 * </pre>
 * Writes {@code train.txt}, {@code eval.txt}, {@code tok.bin}, {@code model.bin} (llama2.c format),
 * {@code train-log.csv} and {@code manifest.json} (sizes, sha256 and the held-out perplexity). The output does not
 * depend on the thread count (optional second argument).
 */
public final class MakeDefaultModel {
    /** Seed of the training stories. */
    public static final long TRAIN_SEED = 1;
    /** Seed of the held-out stories. */
    public static final long EVAL_SEED = 2;
    /** Seed of the weights and batches. */
    public static final long MODEL_SEED = 3;
    public static final int TRAIN_BYTES = 1_200_000;
    public static final int EVAL_BYTES = 100_000;
    public static final int VOCAB = 512;
    public static final int STEPS = 600;
    /** Steps after which the manifest records a hash of the weights (the reproducibility test reruns them). */
    public static final int PREFIX_STEPS = 3;

    private MakeDefaultModel() {
    }

    /** The default model's shape (same as stories260K). */
    public static Architecture architecture() {
        return Architecture.llama(64, 172, 5, 8, 4, VOCAB, 256, true);
    }

    /** The training recipe with {@code steps} total steps. */
    public static TrainOptions options(int steps) {
        return new TrainOptions(MODEL_SEED, steps, 16, 128, 1, 4e-3f, 4e-4f, 30, 0.1f, 0.9f, 0.95f, 1e-8f, 1f, 100, 64);
    }

    /** Stories of {@code text}, split on blank lines. */
    public static List<String> stories(String text) {
        List<String> out = new ArrayList<>();
        for (String s : text.split("\n\n")) {
            String t = s.strip();
            if (!t.isEmpty()) {
                out.add(t);
            }
        }
        return out;
    }

    /** BOS + tokens of each story, concatenated. */
    public static int[] tokenize(BpeVocabulary vocab, String text) {
        List<int[]> parts = new ArrayList<>();
        int n = 0;
        for (String s : stories(text)) {
            int[] ids = vocab.encode(s, true);
            parts.add(ids);
            n += ids.length;
        }
        int[] all = new int[n];
        int at = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return all;
    }

    /** What {@link #make} produced. */
    public record Result(Architecture architecture, float[] params, double evalLoss, long trainTokens, double seconds) {
    }

    /** Builds everything into {@code out}; trains {@code steps} of the {@link #STEPS}-step schedule. */
    public static Result make(Path out, int steps, int threads, boolean quiet) throws IOException {
        String trainText = new StoryGenerator(TRAIN_SEED).text(TRAIN_BYTES);
        String evalText = new StoryGenerator(EVAL_SEED).text(EVAL_BYTES);
        BpeVocabulary vocab = BpeVocabulary.train(stories(trainText), VOCAB);
        int[] train = tokenize(vocab, trainText);
        int[] eval = tokenize(vocab, evalText);
        Files.createDirectories(out);
        Files.writeString(out.resolve("train.txt"), trainText, StandardCharsets.UTF_8);
        Files.writeString(out.resolve("eval.txt"), evalText, StandardCharsets.UTF_8);
        Files.write(out.resolve("tok.bin"), vocab.toTokBin());
        Architecture arch = architecture();
        TrainOptions opt = options(STEPS);
        Trainer trainer = new Trainer(arch, opt, train, eval, null, null, ActivationQuant.NONE);
        long t0 = System.nanoTime();
        double fullEval;
        String prefixHash = null;
        try (Parallel par = Parallel.of(threads);
             Writer log = Files.newBufferedWriter(out.resolve("train-log.csv"), StandardCharsets.UTF_8)) {
            Trainer.Listener csv = Trainer.csvLog(log);
            Trainer.Listener each = s -> {
                csv.onStep(s);
                if (!quiet && (s.step() % 10 == 0 || !Double.isNaN(s.evalLoss()))) {
                    System.out.println(s.csv());
                }
            };
            trainer.run(par, Math.min(steps, PREFIX_STEPS), each);
            if (steps >= PREFIX_STEPS) {
                prefixHash = paramsSha256(trainer.params());
            }
            trainer.run(par, steps, each);
            TrainModel evalModel = new TrainModel(arch, opt.batch(), opt.seqLen(), ActivationQuant.NONE);
            fullEval = Trainer.meanLoss(par, evalModel, trainer.params(), eval, opt.seqLen(), Integer.MAX_VALUE);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        float[] params = trainer.params();
        Llama2cExport.write(out.resolve("model.bin"), arch, params);
        Map<String, Object> manifest = new TreeMap<>();
        manifest.put("command", "java -cp quant-core/target/classes io.quantkit.train.MakeDefaultModel <dir>");
        manifest.put("steps", steps);
        manifest.put("train_tokens", train.length);
        manifest.put("eval_tokens", eval.length);
        manifest.put("eval_ppl", String.format(Locale.ROOT, "%.4f", Math.exp(fullEval)));
        manifest.put("eval_ppl_method", "held-out token stream (BOS before each story) in consecutive windows of "
                + (opt.seqLen() + 1) + " tokens overlapping by one, whole batches of " + opt.batch());
        manifest.put("architecture", arch.toString());
        manifest.put("options", opt.toString());
        if (prefixHash != null) {
            manifest.put("sha256_params_after_" + PREFIX_STEPS + "_steps", prefixHash);
        }
        manifest.put("parameters", new ParamLayout(arch).size());
        for (String f : List.of("train.txt", "eval.txt", "tok.bin", "model.bin")) {
            manifest.put("sha256_" + f, sha256(Files.readAllBytes(out.resolve(f))));
        }
        Files.writeString(out.resolve("manifest.json"), new com.fasterxml.jackson.databind.ObjectMapper()
                .writerWithDefaultPrettyPrinter().writeValueAsString(manifest) + "\n", StandardCharsets.UTF_8);
        return new Result(arch, params, fullEval, train.length, seconds);
    }

    /** SHA-256 of the weights as little-endian float32 bytes. */
    public static String paramsSha256(float[] p) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 * p.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (float f : p) {
            b.putFloat(f);
        }
        return sha256(b.array());
    }

    static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /** {@code MakeDefaultModel OUT_DIR [THREADS] [STEPS]}. */
    public static void main(String[] args) throws IOException {
        if (args.length < 1) {
            throw new IllegalArgumentException("usage: MakeDefaultModel OUT_DIR [THREADS] [STEPS]");
        }
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : Runtime.getRuntime().availableProcessors();
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : STEPS;
        Result r = make(Path.of(args[0]), steps, threads, false);
        System.out.printf(Locale.ROOT, "params %d, train tokens %d, held-out PPL %.4f, %.1f s%n",
                new ParamLayout(r.architecture()).size(), r.trainTokens(), Math.exp(r.evalLoss()), r.seconds());
    }
}
