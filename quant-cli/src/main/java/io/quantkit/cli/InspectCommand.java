package io.quantkit.cli;

import io.quantkit.io.Checkpoint;
import io.quantkit.io.Checkpoints;
import io.quantkit.io.MetaValue;
import io.quantkit.io.TensorInfo;
import io.quantkit.io.TokenizerData;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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
 * {@code quant inspect FILE}: container, metadata, tensor table, parameter count. Reads only headers through
 * the memory-mapped readers: no tensor data is decoded and no native library is loaded, so it starts at once.
 */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = {"Show a checkpoint's container, metadata and tensors.",
            "FILE is a GGUF file, a safetensors file or sharded folder, a Hugging Face Llama folder (config.json "
                + "+ safetensors; listed with llama.cpp's tensor names and llama.* keys built from config.json), or a "
                + "llama2.c .bin (its tokenizer is found beside it or given with --tokenizer). Only headers are read."},
        footerHeading = "%nJSON (--json):%n",
        footer = {
            "  file, container (gguf|safetensors|llama2c), file_bytes, tensor_count,",
            "  parameter_count, data_bytes, bits_per_weight (8 * data_bytes /",
            "  parameter_count),",
            "  metadata: {KEY: {type, value}} (arrays: {type: ARRAY, element_type,",
            "            length, values (at most --max-array of them), truncated}),",
            "  tokenizer: null or {model, size, bos_id, eos_id},",
            "  tensors: [{name, format (F32, BF16, Q4_0 ...), shape, bytes,",
            "             bits_per_weight, file, offset (absolute, in file)}]",
        })
final class InspectCommand implements Callable<Integer> {
    /** Longest metadata string shown in the text view before it is cut. */
    static final int TEXT_VALUE_CHARS = 72;

    @Spec
    CommandSpec spec;

    @Mixin
    OutputOptions output;

    @Parameters(index = "0", paramLabel = "FILE", description = "The checkpoint to inspect.")
    Path file;

    @Option(names = "--tokenizer", paramLabel = "TOK.bin", description = "llama2.c tok.bin tokenizer, for a model that carries none"
            + " (.bin, safetensors, Hugging Face folder).")
    Path tokenizer;

    @Option(names = "--max-array", paramLabel = "N", defaultValue = "16",
            description = "Show at most N elements of each metadata array (default: ${DEFAULT-VALUE}; -1: all).")
    int maxArray;

    @Override
    public Integer call() throws Exception {
        if (maxArray < -1) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--max-array (" + maxArray + ") must be -1 (all) or at least 0");
        }
        PrintWriter out = spec.commandLine().getOut();
        try (Checkpoint ckpt = Checkpoints.open(file, tokenizer)) {
            if (output.json()) {
                Json.print(out, json(ckpt));
            } else {
                text(out, ckpt);
            }
        }
        out.flush();
        return ExitCodes.OK;
    }

    private long fileBytes() throws java.io.IOException {
        if (!Files.isDirectory(file)) {
            return Files.size(file);
        }
        long total = 0;
        try (var files = Files.list(file)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                if (Files.isRegularFile(p)) {
                    total += Files.size(p);
                }
            }
        }
        return total;
    }

    private Map<String, Object> json(Checkpoint ckpt) throws java.io.IOException {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("file", file.toString());
        doc.put("container", ckpt.container().id());
        doc.put("file_bytes", fileBytes());
        doc.put("tensor_count", ckpt.tensors().size());
        doc.put("parameter_count", ckpt.parameterCount());
        doc.put("data_bytes", ckpt.dataBytes());
        doc.put("bits_per_weight", ckpt.parameterCount() == 0 ? Double.NaN
                : 8.0 * ckpt.dataBytes() / ckpt.parameterCount());
        Map<String, Object> meta = new TreeMap<>();
        for (Map.Entry<String, MetaValue> e : ckpt.metadata().asMap().entrySet()) {
            meta.put(e.getKey(), metaJson(e.getValue()));
        }
        doc.put("metadata", meta);
        doc.put("tokenizer", ckpt.tokenizer().map(InspectCommand::tokenizerJson).orElse(null));
        List<Object> tensors = new ArrayList<>();
        for (TensorInfo t : ckpt.tensors()) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("name", t.name());
            row.put("format", t.format());
            row.put("shape", t.shape().dims());
            row.put("bytes", t.byteLength());
            row.put("bits_per_weight", t.bitsPerWeight());
            row.put("file", t.file());
            row.put("offset", t.offset());
            tensors.add(row);
        }
        doc.put("tensors", tensors);
        return doc;
    }

    private static Map<String, Object> tokenizerJson(TokenizerData t) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", t.model());
        m.put("size", t.size());
        m.put("bos_id", t.bosId());
        m.put("eos_id", t.eosId());
        return m;
    }

    private Map<String, Object> metaJson(MetaValue v) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", v.type().name());
        m.put("value", scalar(v));
        if (v instanceof MetaValue.Arr a) {
            m.remove("value");
            m.put("element_type", a.elementType().name());
            m.put("length", a.size());
            int shown = maxArray < 0 ? a.size() : Math.min(maxArray, a.size());
            List<Object> values = new ArrayList<>(shown);
            for (int i = 0; i < shown; i++) {
                MetaValue x = a.values().get(i);
                values.add(x instanceof MetaValue.Arr ? metaJson(x) : scalar(x));
            }
            m.put("values", values);
            m.put("truncated", shown < a.size());
        }
        return m;
    }

    private static Object scalar(MetaValue v) {
        if (v instanceof MetaValue.Int i) {
            return i.type() == io.quantkit.io.MetaType.UINT64 && i.value() < 0
                    ? new java.math.BigInteger(Long.toUnsignedString(i.value())) : (Object) i.value();
        }
        if (v instanceof MetaValue.Real r) {
            return r.value();
        }
        if (v instanceof MetaValue.Bool b) {
            return b.value();
        }
        if (v instanceof MetaValue.Str s) {
            return s.value();
        }
        return v.toString();
    }

    private void text(PrintWriter out, Checkpoint ckpt) throws java.io.IOException {
        long params = ckpt.parameterCount();
        out.printf(Locale.ROOT, "file:       %s%n", file);
        out.printf(Locale.ROOT, "container:  %s, %,d bytes%n", ckpt.container().id(), fileBytes());
        out.printf(Locale.ROOT, "tensors:    %,d holding %,d parameters in %,d bytes (%s bits per weight)%n",
                ckpt.tensors().size(), params, ckpt.dataBytes(),
                params == 0 ? "n/a" : String.format(Locale.ROOT, "%.4f", 8.0 * ckpt.dataBytes() / params));
        ckpt.tokenizer().ifPresent(t -> out.printf(Locale.ROOT, "tokenizer:  %s, %,d tokens (bos %d, eos %d)%n",
                t.model(), t.size(), t.bosId(), t.eosId()));
        out.printf(Locale.ROOT, "metadata:   %d entries%n", ckpt.metadata().size());
        for (Map.Entry<String, MetaValue> e : ckpt.metadata().asMap().entrySet()) {
            out.printf(Locale.ROOT, "  %s = %s%n", e.getKey(), metaText(e.getValue()));
        }
        out.println();
        boolean sharded = ckpt.tensors().stream().map(TensorInfo::file).distinct().count() > 1;
        TextTable t = sharded
                ? TextTable.of("NAME", "FORMAT", "SHAPE", ">BYTES", ">BITS/W", "FILE", ">OFFSET")
                : TextTable.of("NAME", "FORMAT", "SHAPE", ">BYTES", ">BITS/W", ">OFFSET");
        for (TensorInfo x : ckpt.tensors()) {
            String bpw = x.shape().numel() == 0 ? "n/a" : String.format(Locale.ROOT, "%.4f", x.bitsPerWeight());
            String bytes = String.format(Locale.ROOT, "%,d", x.byteLength());
            String off = String.format(Locale.ROOT, "%,d", x.offset());
            if (sharded) {
                t.row(x.name(), x.format(), x.shape(), bytes, bpw, x.file(), off);
            } else {
                t.row(x.name(), x.format(), x.shape(), bytes, bpw, off);
            }
        }
        t.print(out);
    }

    private String metaText(MetaValue v) {
        if (v instanceof MetaValue.Arr a) {
            int shown = maxArray < 0 ? a.size() : Math.min(maxArray, Math.min(a.size(), 8));
            StringBuilder sb = new StringBuilder("[" + a.elementType().name() + " x " + a.size() + "]");
            if (shown > 0) {
                sb.append(' ');
                for (int i = 0; i < shown; i++) {
                    sb.append(i == 0 ? "" : ", ").append(quote(a.values().get(i)));
                }
                sb.append(shown < a.size() ? ", ..." : "");
            }
            return cut(sb.toString());
        }
        return cut(quote(v));
    }

    private static String quote(MetaValue v) {
        return v instanceof MetaValue.Str s ? "\"" + s.value().replace("\n", "\\n") + "\"" : v.toString();
    }

    private static String cut(String s) {
        return s.length() <= TEXT_VALUE_CHARS ? s : s.substring(0, TEXT_VALUE_CHARS - 3) + "...";
    }
}
