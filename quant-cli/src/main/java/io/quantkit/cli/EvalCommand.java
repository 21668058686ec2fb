package io.quantkit.cli;

import io.quantkit.eval.EvalPlan;
import io.quantkit.eval.Evaluator;
import io.quantkit.eval.Method;
import io.quantkit.eval.PerplexityResult;
import io.quantkit.eval.Progress;
import io.quantkit.io.Checkpoint;
import io.quantkit.io.Checkpoints;
import io.quantkit.model.LlamaLoader;
import io.quantkit.model.LlamaModel;
import io.quantkit.model.LlamaWeights;
import io.quantkit.model.ThreadPool;
import io.quantkit.model.Tokenizer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code quant eval MODEL --data TEXT}: perplexity of a model on a text. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"Perplexity of a Llama-architecture model on a text.",
            "MODEL is a GGUF file (llama architecture) or a llama2.c .bin (its tok.bin is found beside it or given "
                + "with --tokenizer). Weights enter the model exactly as their stored format decodes.",
            "Methods: documents = split on blank lines, BOS per document, every next token scored; llama-cpp = "
                + "as llama.cpp's perplexity tool (tokenize once with BOS, chunks of --ctx tokens, each chunk's "
                + "first token replaced by BOS, second half of each chunk scored)."},
        footerHeading = "%nJSON (--json):%n",
        footer = {
            "  ppl, ppl_stderr, nll (mean, nats/token), tokens (scored), method, ctx,",
            "  segments (sequences run), documents, model, data, data_bytes, seconds,",
            "  tokens_per_second (tokens run through the model per second)",
        })
final class EvalCommand implements Callable<Integer> {
    /** Largest text read, in bytes. */
    static final long MAX_TEXT_BYTES = 1L << 30;

    @Spec
    CommandSpec spec;

    @Mixin
    OutputOptions output;

    @Mixin
    ThreadsOption threads;

    @Parameters(index = "0", paramLabel = "MODEL", description = "The model: GGUF, llama2.c .bin, safetensors (ours)"
            + " or a Hugging Face Llama folder.")
    Path model;

    @Option(names = "--data", paramLabel = "TEXT", required = true, description = "UTF-8 text file to score.")
    Path data;

    @Option(names = "--ctx", paramLabel = "N", description = "Context: chunk length (llama-cpp) or longest window "
            + "(documents). Default: the model's context length.")
    Integer ctx;

    @Option(names = "--method", paramLabel = "M", defaultValue = "llama-cpp",
            description = "llama-cpp or documents (default: ${DEFAULT-VALUE}).")
    String method;

    @Option(names = "--tokenizer", paramLabel = "TOK.bin", description = "llama2.c tok.bin tokenizer, for a model that carries none"
            + " (.bin, safetensors, Hugging Face folder).")
    Path tokenizer;

    @Option(names = "--max-bytes", paramLabel = "N", defaultValue = "0",
            description = "Read only the first N bytes of the text (cut back to a character boundary; 0 = all).")
    long maxBytes;

    @Option(names = "--max-documents", paramLabel = "N", defaultValue = "0",
            description = "documents method: score only the first N documents (0 = all).")
    int maxDocuments;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Method m = parseMethod(spec, method);
        checkLimits(spec, maxBytes, maxDocuments);
        String text = readText(data, maxBytes);
        try (Checkpoint cp = Checkpoints.open(model, tokenizer);
             ThreadPool pool = ThreadPool.create(threads.threads())) {
            LlamaWeights w = LlamaLoader.weights(cp);
            Tokenizer tok = LlamaLoader.tokenizer(cp);
            int n = ctx != null ? ctx : w.config().seqLen();
            EvalPlan plan = plan(spec, tok, text, m, n, maxDocuments);
            LlamaModel lm = LlamaModel.load(w);
            Evaluator.Run run = Evaluator.run(lm, plan, pool, false, null, progress(err, "eval"));
            PerplexityResult r = run.perplexity();
            long fed = fedTokens(plan);
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("ppl", r.ppl());
            j.put("ppl_stderr", r.pplStderr());
            j.put("nll", r.nll());
            j.put("tokens", r.tokens());
            j.put("method", m.cliName());
            j.put("ctx", plan.ctx());
            j.put("segments", plan.segments().size());
            j.put("documents", plan.documents());
            j.put("model", model.toString());
            j.put("data", data.toString());
            j.put("data_bytes", (long) text.getBytes(StandardCharsets.UTF_8).length);
            j.put("seconds", run.seconds());
            j.put("tokens_per_second", fed / run.seconds());
            if (output.json()) {
                Json.print(out, j);
            } else {
                out.printf(Locale.ROOT, "model   %s (%s, %,d parameters)%n", model, cp.container().id(),
                        cp.parameterCount());
                out.printf(Locale.ROOT, "data    %s (%,d bytes), method %s, ctx %d, %,d sequences%n", data,
                        (Long) j.get("data_bytes"), m.cliName(), plan.ctx(), plan.segments().size());
                out.printf(Locale.ROOT, "PPL     %.4f ± %.4f   NLL %.5f   scored tokens %,d%n", r.ppl(), r.pplStderr(),
                        r.nll(), r.tokens());
                out.printf(Locale.ROOT, "time    %.2f s (%,.0f tokens/s through the model, %d threads)%n",
                        run.seconds(), fed / run.seconds(), pool.threads());
            }
            out.flush();
        }
        return ExitCodes.OK;
    }

    /** Tokens run through the model by a plan (the last token of each sequence is only a target). */
    static long fedTokens(EvalPlan plan) {
        long n = 0;
        for (EvalPlan.Segment s : plan.segments()) {
            n += s.length() - 1;
        }
        return n;
    }

    static Method parseMethod(CommandSpec spec, String name) {
        try {
            return Method.fromCliName(name);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    static void checkLimits(CommandSpec spec, long maxBytes, int maxDocuments) {
        if (maxBytes < 0) {
            throw new ParameterException(spec.commandLine(), "--max-bytes (" + maxBytes + ") must not be negative");
        }
        if (maxDocuments < 0) {
            throw new ParameterException(spec.commandLine(), "--max-documents (" + maxDocuments
                    + ") must not be negative");
        }
    }

    static EvalPlan plan(CommandSpec spec, Tokenizer tok, String text, Method m, int ctx, int maxDocuments) {
        if (ctx < EvalPlan.MIN_CTX) {
            throw new ParameterException(spec.commandLine(), "--ctx (" + ctx + ") must be at least " + EvalPlan.MIN_CTX);
        }
        return EvalPlan.of(tok, text, m, ctx, maxDocuments);
    }

    /** The text of {@code file} (strict UTF-8), cut to its first {@code maxBytes} bytes at a character boundary. */
    static String readText(Path file, long maxBytes) throws IOException {
        long size = Files.size(file);
        if (size > MAX_TEXT_BYTES && (maxBytes == 0 || maxBytes > MAX_TEXT_BYTES)) {
            throw new IllegalArgumentException(String.format("text size (%d bytes) exceeds the maximum (%d bytes); "
                    + "use --max-bytes", size, MAX_TEXT_BYTES));
        }
        byte[] b = Files.readAllBytes(file);
        int n = b.length;
        if (maxBytes > 0 && maxBytes < n) {
            n = (int) maxBytes;
            while (n > 0 && (b[n] & 0xC0) == 0x80) {
                n--; // do not split a UTF-8 sequence
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b, 0, n)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(file + " is not UTF-8 text");
        }
    }

    /** Plain progress lines on stderr, one per 10% (stdout stays clean for --json). */
    static Progress progress(PrintWriter err, String what) {
        int[] last = {-1};
        return (done, total) -> {
            int pct = (int) (100 * done / Math.max(1, total));
            synchronized (last) {
                if (pct / 10 > last[0]) {
                    last[0] = pct / 10;
                    err.printf(Locale.ROOT, "%s: %3d%% (%,d of %,d tokens scored)%n", what, pct, done, total);
                    err.flush();
                }
            }
        };
    }
}
