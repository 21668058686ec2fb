package io.quantkit.cli;

import io.quantkit.calib.CalibrationProfile;
import io.quantkit.io.Checkpoint;
import io.quantkit.io.Checkpoints;
import io.quantkit.io.convert.ConvertSummary;
import io.quantkit.io.convert.Converter;
import io.quantkit.io.convert.Recipe;
import io.quantkit.io.convert.TensorReport;
import io.quantkit.model.LlamaLoader;
import io.quantkit.quant.Scheme;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
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

/** {@code quant convert IN OUT --scheme S}: streams a checkpoint into GGUF or safetensors, tensor by tensor. */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = {"Convert a checkpoint to another scheme and container.",
            "IN is a GGUF file, a safetensors file or sharded folder, a Hugging Face Llama folder, or a "
                + "llama2.c .bin. OUT's extension picks the container: .gguf (f32, f16, bf16, q8_0, q4_0, q4_1, "
                + "tq1_0, tq2_0, mxfp4) or .safetensors (every scheme; layout in docs/formats.md); with "
                + "--shard-size OUT is a folder of safetensors shards with model.safetensors.index.json, which "
                + "every command reads back. By default 1-D, norm and bias tensors "
                + "are kept as they are and every other tensor gets SCHEME; a recipe adds rules before those. "
                + "A row that does not fill a block type falls back to a type that fits (reported per tensor) "
                + "unless --strict. The output is written to a temporary file and renamed at the end; the "
                + "same input gives the same bytes for any --threads.",
            "With --calibration PROFILE (from 'quant calibrate' on the same weights) int, int8, int4, "
                + "int4-outliers (mode=sym), q4_0 and q4_1 weights are quantized by --calib-method (GPTQ by default; a "
                + "recipe's METHOD column overrides it per tensor) into the scheme's ordinary layout; the METHOD "
                + "column of the table says what each tensor got."},
        footerHeading = "%nRecipe file (first matching rule wins):%n",
        footer = {
            "  # comment",
            "  PATTERN  SCHEME [METHOD]   glob over the tensor name (* and ?), re:REGEX,",
            "                    or @1d (rank 0 or 1); SCHEME is a scheme or 'keep';",
            "                    METHOD (rtn, imatrix, gptq) needs --calibration",
            "  e.g.  token_embd.weight  q8_0",
            "        *.ffn_down.weight  int4-outliers:budget=1%%",
            "",
            "Progress goes to stderr, one line per tensor (a bar on a terminal).",
            "",
            "JSON (--json):",
            "  output, container, tensor_count, parameter_count, bytes_in, bytes_out",
            "  (output file size), data_bytes_out, bits_per_weight (8 * data_bytes_out",
            "  / parameter_count), seconds, mb_per_second (input MB/s), threads,",
            "  fallbacks, tensors: [{name, input, output, shape, bytes_in, bytes_out,",
            "  bits_per_weight, rule, fallback (null or why), method (null for a copy,",
            "  rtn, gptq, imatrix or mse)}]",
        })
final class ConvertCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    OutputOptions output;

    @Mixin
    ThreadsOption threads;

    @Mixin
    CalibrationOptions calibration;

    @Parameters(index = "0", paramLabel = "IN", description = "The checkpoint to read (never modified).")
    Path in;

    @Parameters(index = "1", paramLabel = "OUT", description = "The file to write: *.gguf or *.safetensors; with "
            + "--shard-size, a folder of safetensors shards.")
    Path out;

    @Option(names = "--shard-size", paramLabel = "SIZE", description = "Write OUT as a folder of safetensors shards "
            + "of about SIZE bytes of tensor data each (e.g. 2GB, 500MB, 4GiB, 1000000) plus "
            + "model.safetensors.index.json.")
    String shardSize;

    @Option(names = {"-s", "--scheme"}, required = true, paramLabel = "SCHEME", converter = SchemeConverter.class,
            description = "Target scheme, e.g. q4_0, int4:group=64,asym, fp8-e4m3:scale=channel "
                    + "(see 'quant formats').")
    Scheme scheme;

    @Option(names = "--recipe", paramLabel = "FILE", description = "Rules 'PATTERN SCHEME', one per line.")
    Path recipe;

    @Option(names = "--tokenizer", paramLabel = "TOK.bin", description = "llama2.c tok.bin tokenizer, for a model that carries none"
            + " (.bin, safetensors, Hugging Face folder).")
    Path tokenizer;

    @Option(names = "--force", description = "Replace OUT if it exists.")
    boolean force;

    @Option(names = "--strict", description = "Fail instead of falling back when a row does not fit a block type.")
    boolean strict;

    @Option(names = {"-q", "--quiet"}, description = "No progress on stderr.")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        long shardBytes = shardSize == null ? 0 : parseSize(spec, shardSize);
        // a wrong extension is bad usage: say so before opening anything
        if (shardBytes > 0) {
            Converter.shardedContainer(out);
        } else {
            Converter.outputContainer(out);
        }
        Recipe rules = Recipe.empty();
        if (recipe != null) {
            if (!Files.isRegularFile(recipe)) {
                throw new NoSuchFileException(recipe.toString());
            }
            rules = Recipe.parse(Files.readString(recipe, StandardCharsets.UTF_8));
        }
        calibration.method(); // bad usage before any work
        CalibrationProfile profile = calibration.read();
        Progress progress = Progress.auto(spec.commandLine().getErr(), quiet);
        Converter.Options options = Converter.Options.of(scheme).withRecipe(rules).withForce(force)
                .withStrict(strict).withThreads(threads.threads()).withShardBytes(shardBytes)
                .withListener((i, n, r) -> progress.step(i + 1, n, describe(r)));
        ConvertSummary summary;
        try (Checkpoint ckpt = Checkpoints.open(in, tokenizer)) {
            if (profile != null) {
                options = options.withQuantizer(calibration.quantizer(profile, LlamaLoader.weights(ckpt)));
            }
            summary = Converter.convert(ckpt, out, options);
        } finally {
            progress.finish();
        }
        PrintWriter o = spec.commandLine().getOut();
        if (output.json()) {
            Json.print(o, json(summary));
        } else {
            text(o, summary);
        }
        o.flush();
        return ExitCodes.OK;
    }

    /** "2GB" = 2*10^9, "4GiB" = 4*2^30, also KB/MB/TB, KiB/MiB/TiB and plain bytes; must be positive. */
    static long parseSize(CommandSpec spec, String text) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?i)\\s*([0-9]{1,15})\\s*(|b|kb|mb|gb|tb|kib|mib|gib|tib)\\s*")
                .matcher(text);
        if (!m.matches()) {
            throw new ParameterException(spec.commandLine(), "--shard-size '" + text + "' is not a size (e.g. 2GB, "
                    + "500MB, 4GiB, 1000000)");
        }
        long n = Long.parseLong(m.group(1));
        long unit = switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "kb" -> 1000L;
            case "mb" -> 1000L * 1000;
            case "gb" -> 1000L * 1000 * 1000;
            case "tb" -> 1000L * 1000 * 1000 * 1000;
            case "kib" -> 1L << 10;
            case "mib" -> 1L << 20;
            case "gib" -> 1L << 30;
            case "tib" -> 1L << 40;
            default -> 1L;
        };
        if (n <= 0 || n > Long.MAX_VALUE / unit) {
            throw new ParameterException(spec.commandLine(), "--shard-size '" + text + "' must be between 1 byte "
                    + "and 2^63 - 1 bytes");
        }
        return n * unit;
    }

    private static String describe(TensorReport r) {
        return String.format(Locale.ROOT, "%s %s %s -> %s%s%s", r.name(), r.shape(), r.input(), r.output(),
                r.method() == null || r.method().equals("rtn") ? "" : " by " + r.method(),
                r.fallback() == null ? "" : " (" + r.fallback() + ")");
    }

    static Map<String, Object> json(ConvertSummary s) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("output", s.output().toString());
        doc.put("container", s.container().id());
        doc.put("tensor_count", s.tensors().size());
        doc.put("parameter_count", s.parameters());
        doc.put("bytes_in", s.bytesIn());
        doc.put("bytes_out", s.bytesOut());
        doc.put("data_bytes_out", s.dataBytesOut());
        doc.put("bits_per_weight", s.averageBitsPerWeight());
        doc.put("seconds", s.seconds());
        doc.put("mb_per_second", s.megabytesPerSecond());
        doc.put("threads", s.threads());
        doc.put("fallbacks", s.fallbacks());
        List<Object> tensors = new ArrayList<>();
        for (TensorReport r : s.tensors()) {
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("name", r.name());
            t.put("input", r.input());
            t.put("output", r.output());
            t.put("shape", r.shape().dims());
            t.put("bytes_in", r.bytesIn());
            t.put("bytes_out", r.bytesOut());
            t.put("bits_per_weight", r.bitsPerWeight());
            t.put("rule", r.rule());
            t.put("fallback", r.fallback());
            t.put("method", r.method());
            tensors.add(t);
        }
        doc.put("tensors", tensors);
        return doc;
    }

    private static void text(PrintWriter o, ConvertSummary s) {
        TextTable t = TextTable.of("NAME", "SHAPE", "INPUT", "OUTPUT", "METHOD", ">BYTES IN", ">BYTES OUT", ">BITS/W",
                "NOTE");
        for (TensorReport r : s.tensors()) {
            t.row(r.name(), r.shape(), r.input(), r.output(), r.method() == null ? "copy" : r.method(),
                    String.format(Locale.ROOT, "%,d", r.bytesIn()),
                    String.format(Locale.ROOT, "%,d", r.bytesOut()),
                    r.shape().numel() == 0 ? "n/a" : String.format(Locale.ROOT, "%.4f", r.bitsPerWeight()),
                    r.fallback() == null ? "" : "fallback: " + r.fallback());
        }
        t.print(o);
        o.println();
        o.printf(Locale.ROOT, "wrote %s (%s): %d tensors, %,d parameters%n", s.output(), s.container().id(),
                s.tensors().size(), s.parameters());
        o.printf(Locale.ROOT, "bytes: %,d of tensor data in -> %,d out (file %,d), %.4f bits per weight%n",
                s.bytesIn(), s.dataBytesOut(), s.bytesOut(), s.averageBitsPerWeight());
        o.printf(Locale.ROOT, "time:  %.2f s, %.1f MB/s of input, %d thread%s; %d fallback%s%n", s.seconds(),
                s.megabytesPerSecond(), s.threads(), s.threads() == 1 ? "" : "s", s.fallbacks(),
                s.fallbacks() == 1 ? "" : "s");
    }
}
