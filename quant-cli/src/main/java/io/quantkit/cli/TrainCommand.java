package io.quantkit.cli;

import io.quantkit.io.convert.Converter;
import io.quantkit.quant.Scheme;
import io.quantkit.train.ActivationQuant;
import io.quantkit.train.Architecture;
import io.quantkit.train.BitNetExport;
import io.quantkit.train.Checkpoint;
import io.quantkit.train.FakeQuant;
import io.quantkit.train.Llama2cExport;
import io.quantkit.train.Parallel;
import io.quantkit.train.ParamLayout;
import io.quantkit.train.Perplexity;
import io.quantkit.train.TrainOptions;
import io.quantkit.train.Trainer;
import io.quantkit.train.corpus.BpeVocabulary;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code quant train --data TEXT --out MODEL}: trains a Llama-architecture model from scratch (float32, bf16 mixed
 * precision, or BitNet b1.58), evaluates it on held-out text as it goes, checkpoints and resumes.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train a Llama-architecture model from scratch.",
            "The first --eval-bytes of TEXT are the held-out text (llama.cpp's perplexity method, --ctx), the rest is "
                + "training text (documents split on blank lines, BOS before each). The tokenizer is --tokenizer, or a "
                + "BPE of the config's vocab size trained on the training text. Seeded: the same options and data give "
                + "the same bytes on any thread count, and a run resumed from --checkpoint ends with the same weights as "
                + "an uninterrupted one.",
            "--precision bf16 trains with float32 master weights and every matrix and linear-layer input rounded to "
                + "bf16 in the forward pass (mixed precision); --bitnet trains BitNet b1.58: ternary absmean weights for "
                + "the block's linear layers (straight-through gradient), 8-bit per-token absmax inputs, and an RMSNorm "
                + "(SubLN) before wo and w2 so that every quantized layer reads normalized input. --baseline also "
                + "trains the bf16 model of the same shape on the same windows and reports both.",
            "OUT: .gguf (tokenizer inside) or .bin (llama2.c; the tokenizer is written beside it as tok<vocab>.bin); "
                + "both load in eval, compare and convert. --bitnet writes .safetensors in llama.cpp's bitnet "
                + "architecture (SubLN as blk.N.attn_sub_norm and ffn_sub_norm), each block's linear layers stored "
                + "ternary (2-bit codes and the absmean scale training used), the rest F32, the tokenizer beside it "
                + "as tok<vocab>.bin; eval, compare, convert and inspect read it as a BitNet model (8-bit inputs), "
                + "and 'quant eval OUT --tokenizer tok<vocab>.bin' prints the held-out PPL reported here."},
        footerHeading = "%nJSON (--json):%n",
        footer = {
            "  ppl, nll, eval_tokens, steps, train_tokens, train_seconds, train_tokens_per_s,",
            "  parameters, precision, config {dim, hidden, layers, heads, kv_heads, vocab, seq_len},",
            "  out, curve [{step, loss, eval_ppl}], and with --baseline: baseline_ppl,",
            "  baseline_curve",
        })
final class TrainCommand implements Callable<Integer> {
    /** The config keys and their defaults (the shape of stories260K). */
    static final Map<String, Integer> DEFAULT_CONFIG = defaults();

    @Spec
    CommandSpec spec;

    @Mixin
    OutputOptions output;

    @Mixin
    ThreadsOption threads;

    @Mixin
    TrainingOptions training;

    @Option(names = "--out", required = true, paramLabel = "MODEL", description = "Where to write the model (.gguf or .bin; .safetensors with --bitnet).")
    Path out;

    @Option(names = "--config", paramLabel = "K=V,...", description = "Model shape: dim, hidden, layers, heads, kv_heads, vocab, seq_len "
            + "(default: dim=64,hidden=172,layers=5,heads=8,kv_heads=4,vocab=512,seq_len=256, the shape of stories260K).")
    String config;

    @Option(names = "--tokenizer", paramLabel = "TOK.bin", description = "Use this llama2.c tokenizer instead of training a BPE (its size sets vocab).")
    Path tokenizer;

    @Option(names = "--bitnet", description = "Train BitNet b1.58 (ternary weights, 8-bit activations, SubLN).")
    boolean bitnet;

    @Option(names = "--precision", defaultValue = "f32", paramLabel = "P", description = "f32 or bf16 (mixed precision); ignored with --bitnet (default: ${DEFAULT-VALUE}).")
    String precision;

    @Option(names = "--baseline", description = "Also train the bf16 model of the same shape on the same windows and report it.")
    boolean baseline;

    @Option(names = "--steps", defaultValue = "400", paramLabel = "N", description = "Optimizer steps (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--lr", defaultValue = "4e-3", paramLabel = "LR", description = "Peak learning rate, cosine to a tenth of it (default: ${DEFAULT-VALUE}).")
    float lr;

    @Option(names = "--weight-decay", defaultValue = "0.1", paramLabel = "W", description = "AdamW decoupled weight decay of the matrices (default: ${DEFAULT-VALUE}).")
    float weightDecay;

    @Option(names = "--eval-every", defaultValue = "100", paramLabel = "N", description = "Evaluate every N steps, and after the last (default: ${DEFAULT-VALUE}).")
    int evalEvery;

    @Option(names = "--force", description = "Overwrite OUT (and the tokenizer beside a .bin) if they exist.")
    boolean force;

    /** One evaluated point of a run. */
    record Point(int step, double loss, double evalPpl) {
    }

    /** What one run produced. */
    record Run(String precision, Architecture arch, float[] weights, float[] forward, FakeQuant fq, ActivationQuant act,
               Perplexity.Result ppl, List<Point> curve, double seconds, boolean finished) {
    }

    @Override
    public Integer call() throws Exception {
        validate();
        int ctx = training.ctx;
        Map<String, Integer> cfg = parseConfig(config);
        String ext = extension(out);
        Path tokBeside = null;
        if (bitnet) {
            if (!ext.equals("safetensors")) {
                throw new IllegalArgumentException("--bitnet writes a .safetensors model, not ." + ext);
            }
        } else if (!ext.equals("gguf") && !ext.equals("bin")) {
            throw new IllegalArgumentException("--out must end in .gguf or .bin, not " + out.getFileName());
        }
        if (Files.exists(out) && !force) {
            throw new FileAlreadyExistsException(out + " exists (use --force to overwrite)");
        }
        TrainingOptions.Texts texts = training.texts();
        String evalText = texts.eval();
        String trainText = texts.train();
        BpeVocabulary vocab;
        if (tokenizer != null) {
            byte[] tb = Files.readAllBytes(tokenizer);
            vocab = BpeVocabulary.fromTokBin(tb, countTokens(tb));
            if (config != null && config.contains("vocab=") && cfg.get("vocab") != vocab.size()) {
                throw new IllegalArgumentException("--config vocab=" + cfg.get("vocab") + " but " + tokenizer + " has "
                        + vocab.size() + " tokens");
            }
            cfg.put("vocab", vocab.size());
        } else {
            vocab = BpeVocabulary.train(documentsOf(trainText), cfg.get("vocab"));
        }
        if (ext.equals("bin") || bitnet) {
            tokBeside = out.toAbsolutePath().getParent().resolve("tok" + vocab.size() + ".bin");
            if (Files.exists(tokBeside) && !force && !Arrays.equals(Files.readAllBytes(tokBeside), vocab.toTokBin())) {
                throw new FileAlreadyExistsException(tokBeside + " exists with another tokenizer (use --force to overwrite)");
            }
        }
        Architecture arch = Architecture.llama(cfg.get("dim"), cfg.get("hidden"), cfg.get("layers"), cfg.get("heads"),
                cfg.get("kv_heads"), vocab.size(), cfg.get("seq_len"), true);
        if (ctx - 1 > arch.seqLen()) {
            throw new IllegalArgumentException("--ctx (" + ctx + ") needs seq_len of at least " + (ctx - 1) + ", the config has "
                    + arch.seqLen());
        }
        int[] eval = vocab.encode(evalText, true);
        int[] train = QatCommand.documents(vocab, trainText);
        if (eval.length < ctx) {
            throw new IllegalArgumentException("the held-out text has " + eval.length + " tokens, fewer than one chunk of --ctx "
                    + ctx);
        }
        int warm = training.warmupFor(steps);
        TrainOptions opt = new TrainOptions(training.seed, steps, training.batch, ctx - 1, 1, lr, lr / 10, warm,
                weightDecay, 0.9f, 0.95f, 1e-8f, 1f, evalEvery, 0);
        PrintWriter err = spec.commandLine().getErr();
        String mainPrecision = bitnet ? "bitnet-b1.58" : precision;
        Run main;
        Run base = null;
        try (Parallel par = Parallel.of(threads.threads());
             Writer logWriter = training.log == null ? null
                     : Files.newBufferedWriter(training.log, StandardCharsets.UTF_8)) {
            if (logWriter != null) {
                logWriter.write("run," + Trainer.StepLog.csvHeader() + "\n");
            }
            main = train(par, mainPrecision, arch, opt, train, eval, vocab, err, logWriter, training.checkpoint,
                    training.resume);
            if (!main.finished()) {
                training.stopped(err, "train");
                return ExitCodes.OK;
            }
            if (baseline) {
                base = train(par, "bf16", arch, opt, train, eval, vocab, err, logWriter, null, null);
            }
        }
        Path written = write(main, vocab, tokBeside);
        if (training.plot != null) {
            Chart c = Chart.xy("held-out perplexity (llama.cpp method, ctx " + ctx + ")", "step", "PPL").lines(true);
            c.series(main.precision(), points(main.curve()));
            if (base != null) {
                c.series(base.precision(), points(base.curve()));
            }
            c.writePng(training.plot);
        }
        report(main, base, arch, opt, eval, written);
        return ExitCodes.OK;
    }

    private void validate() {
        training.validate(steps);
        if (evalEvery < 0) {
            throw new IllegalArgumentException("--eval-every (" + evalEvery + ") cannot be negative");
        }
        if (!precision.equals("f32") && !precision.equals("bf16")) {
            throw new IllegalArgumentException("--precision must be f32 or bf16, not '" + precision + "'");
        }
        if (!(lr > 0) || !Float.isFinite(lr)) {
            throw new IllegalArgumentException("--lr (" + lr + ") must be a positive number");
        }
    }

    /** Trains one run; returns with {@code finished = false} when {@code --stop-at} ended it early. */
    private Run train(Parallel par, String prec, Architecture shape, TrainOptions opt, int[] train, int[] eval,
                      BpeVocabulary vocab, PrintWriter err, Writer logWriter, Path ckpt, Path from) throws IOException {
        boolean bit = prec.equals("bitnet-b1.58");
        Architecture arch = shape.withSubNorms(bit);
        FakeQuant fq = bit ? FakeQuant.of(Scheme.parse("ternary"), FakeQuant.Ste.PLAIN)
                : prec.equals("bf16") ? FakeQuant.of(Scheme.parse("bf16"), FakeQuant.Ste.PLAIN, FakeQuant.Target.ALL_MATRICES)
                : null;
        ActivationQuant act = bit ? ActivationQuant.INT8_ABSMAX : prec.equals("bf16") ? ActivationQuant.BF16
                : ActivationQuant.NONE;
        Trainer t = new Trainer(arch, opt, train, new int[0], null, fq, act);
        int bos = BpeVocabulary.BOS;
        int ctx = training.ctx;
        t.evaluateWith((p, w) -> Perplexity.llamaCpp(p, arch, w, act, eval, ctx, 8, bos).nll());
        if (from != null) {
            t.restore(Checkpoint.load(from));
        }
        List<Point> curve = new ArrayList<>();
        int until = training.until(opt.steps());
        long startTokens = (long) t.step() * opt.batch() * opt.seqLen();
        long t0 = System.nanoTime();
        t.run(par, until, s -> {
            if (logWriter != null) {
                logWriter.write(prec + "," + s.csv() + "\n");
                logWriter.flush();
            }
            boolean evaluated = !Double.isNaN(s.evalLoss());
            if (evaluated) {
                curve.add(new Point(s.step(), s.loss(), s.evalPpl()));
            }
            if (s.step() % 10 == 0 || evaluated || s.step() == until) {
                double sec = (System.nanoTime() - t0) / 1e9;
                TrainingOptions.progress(err, "train " + prec, s.step(), opt.steps(), s.loss(), s.lr(),
                        (s.tokens() - startTokens) / Math.max(1e-9, sec), "held-out", s.evalPpl());
            }
            if (ckpt != null && (s.step() % training.checkpointEvery == 0 || s.step() == until)) {
                t.save(ckpt);
            }
        });
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (t.step() < opt.steps()) {
            return new Run(prec, arch, null, null, fq, act, null, curve, seconds, false);
        }
        float[] w = t.forwardWeights();
        Perplexity.Result r = Perplexity.llamaCpp(par, arch, w, act, eval, ctx, 8, bos);
        float[] kept = bit ? t.params() : fq != null ? w : t.params();
        return new Run(prec, arch, kept, w, fq, act, r, curve, seconds, true);
    }

    /** Writes the model; returns the path written. */
    private Path write(Run r, BpeVocabulary vocab, Path tokBeside) throws IOException {
        Architecture arch = r.arch();
        if (arch.subNorms()) {
            // a fixed name: the same run writes the same bytes whatever the file is called
            BitNetExport.write(out, arch, r.weights(), r.fq(), r.forward(), "bitnet-b1.58", force);
            Path tmpTok = Files.createTempFile(tokBeside.getParent(), "." + tokBeside.getFileName(), ".partial");
            Files.write(tmpTok, vocab.toTokBin());
            Files.move(tmpTok, tokBeside, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return out;
        }
        Path dir = out.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempDirectory(dir, ".quant-train-");
        try {
            Path bin = tmp.resolve("model.bin");
            Path tok = tmp.resolve("tok.bin");
            Llama2cExport.write(bin, arch, r.weights());
            Files.write(tok, vocab.toTokBin());
            if (extension(out).equals("gguf")) {
                Converter.convert(bin, out, Converter.Options.of(Scheme.parse("f32")).withForce(true).withThreads(1));
            } else {
                Files.move(tok, tokBeside, StandardCopyOption.REPLACE_EXISTING);
                Files.move(bin, out, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            try (Stream<Path> s = Files.walk(tmp)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
        return out;
    }

    private void report(Run main, Run base, Architecture arch, TrainOptions opt, int[] eval, Path written) {
        PrintWriter o = spec.commandLine().getOut();
        long trainTokens = (long) opt.steps() * opt.batch() * opt.seqLen();
        int params = new ParamLayout(main.arch()).size();
        if (output.json()) {
            Map<String, Object> j = new TreeMap<>();
            j.put("ppl", main.ppl().ppl());
            j.put("nll", main.ppl().nll());
            j.put("eval_tokens", main.ppl().tokens());
            j.put("steps", opt.steps());
            j.put("train_tokens", trainTokens);
            j.put("train_seconds", main.seconds());
            j.put("train_tokens_per_s", trainTokens / Math.max(1e-9, main.seconds()));
            j.put("parameters", params);
            j.put("precision", main.precision());
            Map<String, Object> c = new TreeMap<>();
            c.put("dim", arch.dim());
            c.put("hidden", arch.hiddenDim());
            c.put("layers", arch.nLayers());
            c.put("heads", arch.nHeads());
            c.put("kv_heads", arch.nKvHeads());
            c.put("vocab", arch.vocabSize());
            c.put("seq_len", arch.seqLen());
            j.put("config", c);
            j.put("out", written.toString());
            j.put("curve", curveJson(main.curve()));
            if (base != null) {
                j.put("baseline_ppl", base.ppl().ppl());
                j.put("baseline_curve", curveJson(base.curve()));
            }
            Json.print(o, j);
        } else {
            o.printf(Locale.ROOT, "model         %s, %,d parameters (dim %d, hidden %d, %d layers, %d/%d heads, vocab %d)%n",
                    main.precision(), params, arch.dim(), arch.hiddenDim(), arch.nLayers(), arch.nHeads(), arch.nKvHeads(),
                    arch.vocabSize());
            o.printf(Locale.ROOT, "trained       %d steps, %,d tokens, %.1f s%n", opt.steps(), trainTokens, main.seconds());
            o.printf(Locale.ROOT, "held-out PPL  %.4f  (%,d tokens, llama.cpp method, ctx %d)%n", main.ppl().ppl(),
                    main.ppl().tokens(), training.ctx);
            if (base != null) {
                o.printf(Locale.ROOT, "bf16 PPL      %.4f  (same shape, same windows)%n", base.ppl().ppl());
            }
            o.printf(Locale.ROOT, "written       %s%n", written);
        }
        o.flush();
    }

    private static List<Map<String, Object>> curveJson(List<Point> curve) {
        List<Map<String, Object>> l = new ArrayList<>();
        for (Point p : curve) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("step", p.step());
            m.put("loss", p.loss());
            m.put("eval_ppl", p.evalPpl());
            l.add(m);
        }
        return l;
    }

    private static List<Chart.Point> points(List<Point> curve) {
        List<Chart.Point> l = new ArrayList<>();
        for (Point p : curve) {
            l.add(new Chart.Point(p.step(), p.evalPpl(), ""));
        }
        return l;
    }

    private static Map<String, Integer> defaults() {
        Map<String, Integer> m = new LinkedHashMap<>();
        m.put("dim", 64);
        m.put("hidden", 172);
        m.put("layers", 5);
        m.put("heads", 8);
        m.put("kv_heads", 4);
        m.put("vocab", 512);
        m.put("seq_len", 256);
        return java.util.Collections.unmodifiableMap(m);
    }

    /** {@code dim=64,hidden=172,...} over the defaults; unknown keys and non-numbers are rejected. */
    static Map<String, Integer> parseConfig(String spec) {
        Map<String, Integer> m = new LinkedHashMap<>(DEFAULT_CONFIG);
        if (spec == null || spec.isBlank()) {
            return m;
        }
        for (String part : spec.split(",")) {
            String[] kv = part.split("=", 2);
            String key = kv[0].strip();
            if (kv.length != 2 || !m.containsKey(key)) {
                throw new IllegalArgumentException("--config entry '" + part + "' is not one of " + m.keySet() + " as key=value");
            }
            try {
                m.put(key, Integer.parseInt(kv[1].strip()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--config " + key + " is not an integer: '" + kv[1] + "'", e);
            }
        }
        if (m.get("vocab") < BpeVocabulary.BYTE0 + 256) {
            throw new IllegalArgumentException("--config vocab (" + m.get("vocab") + ") must be at least "
                    + (BpeVocabulary.BYTE0 + 256) + " (special tokens and the 256 byte tokens)");
        }
        return m;
    }

    /** Documents of {@code text} (blank-line separated) for BPE training. */
    static List<String> documentsOf(String text) {
        List<String> l = new ArrayList<>();
        for (String d : text.split("\n\\s*\n")) {
            String t = d.strip();
            if (!t.isEmpty()) {
                l.add(t);
            }
        }
        return l;
    }

    /** Number of tokens in a llama2.c tok.bin (int32 max length, then per token: float score, int32 length, bytes). */
    static int countTokens(byte[] tb) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(tb).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        if (b.remaining() < 4) {
            throw new IllegalArgumentException("tokenizer file is too short");
        }
        b.getInt();
        int n = 0;
        while (b.remaining() > 0) {
            if (b.remaining() < 8) {
                throw new IllegalArgumentException("tokenizer file ends inside token " + n);
            }
            b.getFloat();
            int len = b.getInt();
            if (len < 0 || len > b.remaining()) {
                throw new IllegalArgumentException("token " + n + " of the tokenizer has length " + len
                        + ", more than the bytes left (" + b.remaining() + ")");
            }
            b.position(b.position() + len);
            n++;
        }
        return n;
    }

    private static String extension(Path p) {
        String n = p.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot < 0 ? "" : n.substring(dot + 1).toLowerCase(Locale.ROOT);
    }
}
