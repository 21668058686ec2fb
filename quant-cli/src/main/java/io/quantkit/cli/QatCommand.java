package io.quantkit.cli;

import io.quantkit.io.Checkpoint;
import io.quantkit.io.Checkpoints;
import io.quantkit.io.TokenizerData;
import io.quantkit.quant.Scheme;
import io.quantkit.train.ActivationQuant;
import io.quantkit.train.FakeQuant;
import io.quantkit.train.Llama2cExport;
import io.quantkit.train.LlamaWeights;
import io.quantkit.train.Parallel;
import io.quantkit.train.Qat;
import io.quantkit.train.TrainOptions;
import io.quantkit.train.Trainer;
import io.quantkit.train.corpus.BpeVocabulary;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code quant qat MODEL --scheme S --data TEXT --out OUT}: quantization-aware fine-tuning (fake quantization with a
 * straight-through gradient) and the report baseline / PTQ / QAT perplexity.
 */
@Command(name = "qat", mixinStandardHelpOptions = true,
        description = {"Fine-tune with fake quantization and report what it wins back.",
            "The first --eval-bytes of TEXT are the evaluation text (llama.cpp's perplexity method, --ctx), the rest "
                + "is training text (stories split on blank lines, BOS before each). Reports the bf16 baseline "
                + "(weights and linear-layer inputs in bf16), PTQ (the scheme's weights, no training) and QAT "
                + "perplexity, and recovered = (PTQ - QAT) / (PTQ - baseline).",
            "OUT (.bin) receives the fine-tuned weights in llama2.c format, each linear weight holding exactly the "
                + "value its quantized code decodes to (the scheme's own storage needs the quantized writers)."},
        footerHeading = "%nJSON (--json):%n",
        footer = {
            "  scheme, f32_ppl, baseline_ppl, ptq_ppl, qat_ppl, recovered, steps,",
            "  train_tokens, eval_tokens, train_seconds, train_tokens_per_s, out",
        })
final class QatCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    OutputOptions output;

    @Mixin
    ThreadsOption threads;

    @Parameters(index = "0", paramLabel = "MODEL", description = "The model: GGUF, llama2.c .bin, safetensors (ours)"
            + " or a Hugging Face Llama folder.")
    Path model;

    @Option(names = "--tokenizer", paramLabel = "TOK.bin", description = "llama2.c tok.bin tokenizer, for a model that carries none"
            + " (.bin, safetensors, Hugging Face folder).")
    Path tokenizer;

    @Option(names = "--scheme", required = true, paramLabel = "S", description = "Scheme to fake-quantize with, e.g. int4:group=32.")
    String scheme;

    @Option(names = "--data", required = true, paramLabel = "TEXT", description = "UTF-8 text: evaluation part first, then training text.")
    Path data;

    @Option(names = "--out", required = true, paramLabel = "OUT.bin", description = "Where to write the fine-tuned model (llama2.c .bin).")
    Path out;

    @Option(names = "--force", description = "Overwrite OUT if it exists.")
    boolean force;

    @Option(names = "--steps", defaultValue = "300", paramLabel = "N", description = "Optimizer steps (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--batch", defaultValue = "16", paramLabel = "B", description = "Windows per step (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--ctx", defaultValue = "128", paramLabel = "N", description = "Perplexity context; training windows are N-1 tokens (default: ${DEFAULT-VALUE}).")
    int ctx;

    @Option(names = "--lr", defaultValue = "5e-4", paramLabel = "LR", description = "Peak learning rate, cosine to a tenth of it (default: ${DEFAULT-VALUE}).")
    float lr;

    @Option(names = "--eval-bytes", defaultValue = "200000", paramLabel = "N", description = "Bytes at the start of TEXT kept for evaluation (default: ${DEFAULT-VALUE}).")
    int evalBytes;

    @Option(names = "--seed", defaultValue = "1", paramLabel = "N", description = "Seed of the training windows (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--clipped-ste", description = "Zero the gradient of weights the quantizer clamps (int and ternary schemes).")
    boolean clippedSte;

    @Option(names = "--act", defaultValue = "none", paramLabel = "A", description = "Activation fake quantization: none, bf16, int8_absmax (default: ${DEFAULT-VALUE}).")
    ActivationQuant act;

    @Option(names = "--log", paramLabel = "FILE.csv", description = "Write the training log (one line per step) here.")
    Path log;

    @Override
    public Integer call() throws Exception {
        Scheme s = Scheme.parse(scheme);
        if (!out.getFileName().toString().endsWith(".bin")) {
            throw new IllegalArgumentException("--out must end in .bin (llama2.c format), not " + out.getFileName());
        }
        if (Files.exists(out) && !force) {
            throw new FileAlreadyExistsException(out + " exists (use --force to overwrite)");
        }
        if (steps < 1 || batch < 1 || evalBytes < 1) {
            throw new IllegalArgumentException("--steps, --batch and --eval-bytes must be at least 1");
        }
        LlamaWeights.Loaded m;
        BpeVocabulary vocab;
        int bos;
        try (Checkpoint ck = Checkpoints.open(model, tokenizer)) {
            m = LlamaWeights.from(ck);
            TokenizerData td = ck.tokenizer().orElseThrow(() ->
                    new IllegalArgumentException(model + " has no tokenizer (give --tokenizer TOK.bin)"));
            vocab = BpeVocabulary.of(td.tokens(), td.scores());
            bos = td.bosId();
        }
        byte[] all = Files.readAllBytes(data);
        if (all.length <= evalBytes) {
            throw new IllegalArgumentException(data + " has " + all.length + " bytes, not more than --eval-bytes ("
                    + evalBytes + ")");
        }
        String evalText = new String(Arrays.copyOf(all, evalBytes), StandardCharsets.UTF_8);
        String trainText = new String(all, evalBytes, all.length - evalBytes, StandardCharsets.UTF_8);
        int[] eval = vocab.encode(evalText, true);
        int[] train = documents(vocab, trainText);
        TrainOptions opt = new TrainOptions(seed, steps, batch, ctx - 1, 1, lr, lr / 10, Math.max(1, steps / 10), 0f, 0.9f,
                0.95f, 1e-8f, 1f, 0, 0);
        PrintWriter err = spec.commandLine().getErr();
        List<Trainer.Listener> listeners = new ArrayList<>();
        Writer logWriter = log == null ? null : Files.newBufferedWriter(log, StandardCharsets.UTF_8);
        Qat.Report r;
        try (Parallel par = Parallel.of(threads.threads())) {
            if (logWriter != null) {
                listeners.add(Trainer.csvLog(logWriter));
            }
            listeners.add(step -> {
                if (step.step() % 10 == 0 || step.step() == steps) {
                    err.printf(Locale.ROOT, "qat: step %d/%d  loss %.4f  lr %.2e  %.0f tokens/s%n", step.step(), steps,
                            step.loss(), step.lr(), step.tokens() / Math.max(1e-9, step.seconds()));
                    err.flush();
                }
            });
            r = Qat.run(par, m.architecture(), m.params(), s, clippedSte ? FakeQuant.Ste.CLIPPED : FakeQuant.Ste.PLAIN, act,
                    train, eval, ctx, bos, opt, step -> {
                        for (Trainer.Listener l : listeners) {
                            l.onStep(step);
                        }
                    });
        } finally {
            if (logWriter != null) {
                logWriter.close();
            }
        }
        Llama2cExport.write(out, m.architecture(), r.qatWeights());
        PrintWriter o = spec.commandLine().getOut();
        if (output.json()) {
            Map<String, Object> j = new TreeMap<>();
            j.put("scheme", r.scheme());
            j.put("f32_ppl", r.f32Ppl());
            j.put("baseline_ppl", r.baselinePpl());
            j.put("ptq_ppl", r.ptqPpl());
            j.put("qat_ppl", r.qatPpl());
            j.put("recovered", r.recovered());
            j.put("steps", r.steps());
            j.put("train_tokens", r.trainTokens());
            j.put("eval_tokens", r.evalTokens());
            j.put("train_seconds", r.trainSeconds());
            j.put("train_tokens_per_s", r.trainTokens() / Math.max(1e-9, r.trainSeconds()));
            j.put("out", out.toString());
            Json.print(o, j);
        } else {
            o.printf(Locale.ROOT, "scheme        %s%n", r.scheme());
            o.printf(Locale.ROOT, "f32 PPL       %.4f%n", r.f32Ppl());
            o.printf(Locale.ROOT, "baseline PPL  %.4f  (bf16 weights and activations)%n", r.baselinePpl());
            o.printf(Locale.ROOT, "PTQ PPL       %.4f%n", r.ptqPpl());
            o.printf(Locale.ROOT, "QAT PPL       %.4f  (%d steps, %d tokens, %.1f s)%n", r.qatPpl(), r.steps(),
                    r.trainTokens(), r.trainSeconds());
            o.printf(Locale.ROOT, "recovered     %.1f%% of the PTQ loss%n", 100 * r.recovered());
            o.printf(Locale.ROOT, "written       %s%n", out);
        }
        o.flush();
        return ExitCodes.OK;
    }

    /** BOS + tokens of each blank-line-separated document, concatenated. */
    static int[] documents(BpeVocabulary vocab, String text) {
        List<int[]> parts = new ArrayList<>();
        int n = 0;
        for (String d : text.split("\n\\s*\n")) {
            String t = d.strip();
            if (!t.isEmpty()) {
                int[] ids = vocab.encode(t, true);
                parts.add(ids);
                n += ids.length;
            }
        }
        int[] outIds = new int[n];
        int at = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, outIds, at, p.length);
            at += p.length;
        }
        return outIds;
    }
}
