package io.quantkit.cli;

import io.quantkit.calib.CalibrationData;
import io.quantkit.calib.CalibrationProfile;
import io.quantkit.calib.Calibrator;
import io.quantkit.io.Checkpoint;
import io.quantkit.io.Checkpoints;
import io.quantkit.model.LlamaLoader;
import io.quantkit.model.LlamaModel;
import io.quantkit.model.LlamaWeights;
import io.quantkit.model.ThreadPool;
import io.quantkit.model.Tokenizer;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code quant calibrate MODEL --data TEXT --out PROFILE.json}: runs the model over seeded calibration
 * sequences and writes the input statistics of every linear weight (see
 * {@link io.quantkit.calib.CalibrationProfile} for the file).
 */
@Command(name = "calibrate", mixinStandardHelpOptions = true,
        description = {"Record activation statistics of every linear layer's input over calibration text.",
            "The profile (JSON, sorted keys) holds per input channel the mean of x^2 (importance, as llama.cpp's "
                + "imatrix), absmax, min and max, a histogram of |x|, and E[x x^T] (for GPTQ), with provenance "
                + "(model, weights and data SHA-256, samples, ctx, seed). The same inputs and seed give a "
                + "byte-identical file for any --threads."},
        footerHeading = "%nJSON (--json):%n",
        footer = {
            "  out, samples, ctx, seed, tokens, tensors (count), seconds,",
            "  model_sha256, weights_sha256, data_sha256",
        })
final class CalibrateCommand implements Callable<Integer> {
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

    @Option(names = "--data", required = true, paramLabel = "TEXT",
            description = "Calibration text: UTF-8 text, or JSON Lines with a \"text\" field per line (.jsonl).")
    Path data;

    @Option(names = "--out", required = true, paramLabel = "PROFILE.json", description = "The profile to write.")
    Path out;

    @Option(names = "--samples", paramLabel = "N", defaultValue = "64",
            description = "Sequences to run (default: ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--ctx", paramLabel = "N", defaultValue = "128",
            description = "Tokens per sequence (default: ${DEFAULT-VALUE}).")
    int ctx;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1",
            description = "Seed of the sequence selection (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--force", description = "Overwrite an existing --out file.")
    boolean force;

    @Override
    public Integer call() throws Exception {
        if (samples < 1) {
            throw new ParameterException(spec.commandLine(), "--samples (" + samples + ") must be at least 1");
        }
        if (ctx < 2) {
            throw new ParameterException(spec.commandLine(), "--ctx (" + ctx + ") must be at least 2");
        }
        if (Files.exists(out) && !force) {
            throw new IllegalArgumentException(out + " exists (use --force to overwrite)");
        }
        long start = System.nanoTime();
        String text = CalibrationData.readText(data);
        LlamaWeights weights;
        Tokenizer tok;
        try (Checkpoint cp = Checkpoints.open(model, tokenizer)) {
            weights = LlamaLoader.weights(cp);
            tok = LlamaLoader.tokenizer(cp);
            LlamaModel m = LlamaModel.load(weights);
            if (ctx > m.config().seqLen()) {
                throw new ParameterException(spec.commandLine(), "--ctx (" + ctx + ") exceeds the model's context ("
                        + m.config().seqLen() + ")");
            }
            List<int[]> seqs = CalibrationData.sequences(tok, text, samples, ctx, seed);
            Progress progress = Progress.auto(spec.commandLine().getErr(), output.json());
            Map<String, CalibrationProfile.Entry> stats;
            try (ThreadPool pool = ThreadPool.create(threads.threads())) {
                stats = Calibrator.run(weights, m, seqs, pool, (done, total) -> progress.step(
                        (int) (done / ctx), (int) (total / ctx), "sequences"));
            }
            progress.finish();
            CalibrationProfile profile = CalibrationProfile.of(new CalibrationProfile.Provenance(
                    model.getFileName().toString(), CalibrationProfile.sha256(model),
                    CalibrationProfile.fingerprint(weights), data.getFileName().toString(),
                    CalibrationProfile.sha256(data), samples, ctx, seed, (long) samples * ctx), stats);
            profile.write(out);
            double seconds = (System.nanoTime() - start) / 1e9;
            PrintWriter w = spec.commandLine().getOut();
            CalibrationProfile.Provenance p = profile.provenance();
            if (output.json()) {
                Map<String, Object> j = new TreeMap<>();
                j.put("out", out.toString());
                j.put("samples", samples);
                j.put("ctx", ctx);
                j.put("seed", seed);
                j.put("tokens", p.tokens());
                j.put("tensors", stats.size());
                j.put("seconds", seconds);
                j.put("model_sha256", p.modelSha256());
                j.put("weights_sha256", p.weightsSha256());
                j.put("data_sha256", p.dataSha256());
                Json.print(w, j);
            } else {
                w.printf(Locale.ROOT, "calibrated %s on %d sequences x %d tokens (seed %d): %d linear inputs, "
                        + "%.1f s%nwrote %s%n", model.getFileName(), samples, ctx, seed, stats.size(), seconds, out);
            }
            w.flush();
        }
        return ExitCodes.OK;
    }
}
