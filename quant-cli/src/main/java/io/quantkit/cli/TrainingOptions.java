package io.quantkit.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import picocli.CommandLine.Option;

/**
 * The options {@code quant train} and {@code quant qat} share ({@code @Mixin}): the text and how it is split, the batch
 * and context, the seed and warmup, the log and plot, and checkpointing; with their common checks and the progress
 * line both print. Options whose defaults differ between the two (steps, learning rate, weight decay, evaluation
 * interval) stay on the commands.
 */
final class TrainingOptions {
    @Option(names = "--data", required = true, paramLabel = "TEXT", description = "UTF-8 text: the held-out (evaluation) part first, then the training text.")
    Path data;

    @Option(names = "--batch", defaultValue = "16", paramLabel = "B", description = "Windows per step (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--ctx", defaultValue = "128", paramLabel = "N", description = "Perplexity context; training windows are N-1 tokens (default: ${DEFAULT-VALUE}).")
    int ctx;

    @Option(names = "--warmup", paramLabel = "N", description = "Warmup steps (default: a tenth of --steps).")
    Integer warmup;

    @Option(names = "--seed", defaultValue = "1", paramLabel = "N", description = "Seed of the training windows (and of the initial weights when training from scratch; default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--eval-bytes", defaultValue = "200000", paramLabel = "N", description = "Bytes at the start of TEXT kept for evaluation (default: ${DEFAULT-VALUE}).")
    int evalBytes;

    @Option(names = "--log", paramLabel = "FILE.csv", description = "Write the training log (one line per step) here.")
    Path log;

    @Option(names = "--plot", paramLabel = "FILE.png", description = "Draw the training curves here.")
    Path plot;

    @Option(names = "--checkpoint", paramLabel = "FILE", description = "Write a training checkpoint (weights, AdamW moments, step; learned scales too) here: every --checkpoint-every steps and at the end.")
    Path checkpoint;

    @Option(names = "--checkpoint-every", defaultValue = "100", paramLabel = "N", description = "Steps between checkpoints (default: ${DEFAULT-VALUE}).")
    int checkpointEvery;

    @Option(names = "--resume", paramLabel = "FILE", description = "Continue from this checkpoint (same data and options).")
    Path resume;

    @Option(names = "--stop-at", defaultValue = "0", paramLabel = "N", description = "Stop after step N of the schedule, write --checkpoint and no model (0: run to the end).")
    int stopAt;

    /** The evaluation text (the first {@code --eval-bytes}) and the training text (the rest). */
    record Texts(String eval, String train) {
    }

    /** Checks what both commands need of these options, for a run of {@code steps} steps. */
    void validate(int steps) {
        if (steps < 1 || batch < 1 || evalBytes < 1 || checkpointEvery < 1 || stopAt < 0) {
            throw new IllegalArgumentException("--steps, --batch, --eval-bytes and --checkpoint-every must be at least 1;"
                    + " --stop-at at least 0");
        }
        if (stopAt > steps) {
            throw new IllegalArgumentException("--stop-at (" + stopAt + ") is past --steps (" + steps + ")");
        }
        if (stopAt > 0 && checkpoint == null) {
            throw new IllegalArgumentException("--stop-at needs --checkpoint (where to continue from)");
        }
        if (ctx < 4) {
            throw new IllegalArgumentException("--ctx (" + ctx + ") must be at least 4");
        }
        if (warmup != null && warmup < 0) {
            throw new IllegalArgumentException("--warmup (" + warmup + ") cannot be negative");
        }
        if (plot != null && !plot.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".png")) {
            throw new IllegalArgumentException("--plot must end in .png, not " + plot.getFileName());
        }
    }

    /** Warmup steps for a run of {@code steps}: {@code --warmup}, or a tenth of the steps (at least 1). */
    int warmupFor(int steps) {
        return warmup != null ? warmup : Math.max(1, steps / 10);
    }

    /** The last step to run now: {@code --stop-at}, or the end of the schedule. */
    int until(int steps) {
        return stopAt > 0 ? stopAt : steps;
    }

    /** Reads {@code --data} and splits it at {@code --eval-bytes}. */
    Texts texts() throws IOException {
        byte[] all = Files.readAllBytes(data);
        if (all.length <= evalBytes) {
            throw new IllegalArgumentException(data + " has " + all.length + " bytes, not more than --eval-bytes ("
                    + evalBytes + ")");
        }
        return new Texts(new String(Arrays.copyOf(all, evalBytes), StandardCharsets.UTF_8),
                new String(all, evalBytes, all.length - evalBytes, StandardCharsets.UTF_8));
    }

    /** One progress line: {@code <who>: step s/n  loss l  lr r  T tokens/s[  <evalName> PPL p]}. */
    static void progress(PrintWriter err, String who, int step, int steps, double loss, double lr, double tokensPerSecond,
                         String evalName, double evalPpl) {
        err.printf(Locale.ROOT, "%s: step %d/%d  loss %.4f  lr %.2e  %.0f tokens/s%s%n", who, step, steps, loss, lr,
                tokensPerSecond, Double.isNaN(evalPpl) ? "" : String.format(Locale.ROOT, "  %s PPL %.4f", evalName, evalPpl));
        err.flush();
    }

    /** Prints that the run stopped at {@code --stop-at}, and how to go on. */
    void stopped(PrintWriter err, String who) {
        err.printf(Locale.ROOT, "%s: stopped after step %d; continue with --resume %s%n", who, stopAt, checkpoint);
        err.flush();
    }
}
