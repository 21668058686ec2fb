package io.quantkit.cli;

import io.quantkit.quant.Scheme;
import io.quantkit.quant.SchemeInfo;
import io.quantkit.quant.SchemeKind;
import io.quantkit.tensor.Shape;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code quant formats}: every scheme, its parameters, block size, storage layout and bits per weight. */
@Command(name = "formats", mixinStandardHelpOptions = true,
        description = {"List every scheme: parameters, block size, layout, bits per weight.",
            "Bits per weight count everything stored (codes, scales, zero points, outliers) and are given as a "
                + "formula and as values for a 4096x4096 matrix and a 64x172 one (rows of 172 do not fill "
                + "ggml's blocks). Give SCHEMEs (with parameters) to describe only those."},
        footerHeading = "%nJSON (--json):%n",
        footer = {
            "  shapes: {large: [4096, 4096], small: [64, 172]}",
            "  schemes: [{name, scheme (canonical spelling), summary,",
            "            params: [{name, value, default, accepted}],",
            "            block_size (1 = dense, 0 = one scale per row or tensor),",
            "            scale_granularity, layout, gguf_block_type, bits_per_weight_formula,",
            "            bits_per_weight: {large, small}, bytes: {large, small}}]",
            "  bits_per_weight and bytes are null where the shape does not fit the scheme",
            "  (ggml block types need whole blocks in every row).",
        })
final class FormatsCommand implements Callable<Integer> {
    /** The shapes bits per weight are reported for: a typical large projection and stories260K's w2. */
    static final Shape LARGE = Shape.of(4096, 4096);
    static final Shape SMALL = Shape.of(64, 172);

    @Spec
    CommandSpec spec;

    @Mixin
    OutputOptions output;

    @Parameters(arity = "0..*", paramLabel = "SCHEME",
            description = "Schemes to describe, e.g. int4:group=64,asym (default: every scheme).")
    List<String> schemes = new ArrayList<>();

    @Override
    public Integer call() {
        List<Scheme> list = new ArrayList<>();
        for (String s : schemes) {
            list.add(Scheme.parse(s));
        }
        if (list.isEmpty()) {
            for (SchemeKind k : SchemeKind.values()) {
                list.add(Scheme.of(k));
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        if (output.json()) {
            Json.print(out, json(list));
        } else {
            text(out, list);
        }
        out.flush();
        return ExitCodes.OK;
    }

    static Map<String, Object> json(List<Scheme> list) {
        List<Object> rows = new ArrayList<>();
        for (Scheme s : list) {
            SchemeInfo info = SchemeInfo.of(s);
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("name", s.kind().cliName());
            row.put("scheme", s.toString());
            row.put("summary", info.summary());
            List<Object> params = new ArrayList<>();
            for (SchemeKind.Param p : s.kind().params()) {
                params.add(Map.of("name", p.name(), "value", s.param(p.name()), "default", p.defaultValue(),
                        "accepted", p.description()));
            }
            row.put("params", params);
            row.put("block_size", info.blockSize());
            row.put("scale_granularity", info.granularity());
            row.put("layout", info.layout());
            row.put("gguf_block_type", info.isGgmlBlockType());
            row.put("bits_per_weight_formula", info.bitsPerWeightFormula());
            Map<String, Object> bpw = new LinkedHashMap<>();
            Map<String, Object> bytes = new LinkedHashMap<>();
            bpw.put("large", info.fits(LARGE) ? info.bitsPerWeight(LARGE) : null);
            bpw.put("small", info.fits(SMALL) ? info.bitsPerWeight(SMALL) : null);
            bytes.put("large", info.fits(LARGE) ? info.storageBytes(LARGE) : null);
            bytes.put("small", info.fits(SMALL) ? info.storageBytes(SMALL) : null);
            row.put("bits_per_weight", bpw);
            row.put("bytes", bytes);
            rows.add(row);
        }
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("shapes", Map.of("large", LARGE.dims(), "small", SMALL.dims()));
        doc.put("schemes", rows);
        return doc;
    }

    private static void text(PrintWriter out, List<Scheme> list) {
        out.println("Bits per weight count everything stored: codes, scales, zero points, outlier indexes and values.");
        out.println("n = elements, r = rows, c = row length (groups and blocks run along rows).");
        out.println();
        TextTable t = TextTable.of("SCHEME", ">BLOCK", "SCALE SHARED BY", ">4096x4096", ">64x172", "BITS/WEIGHT FORMULA");
        for (Scheme s : list) {
            SchemeInfo info = SchemeInfo.of(s);
            t.row(s, info.blockSize() == 0 ? "-" : Integer.toString(info.blockSize()), info.granularity(),
                    bpw(info, LARGE), bpw(info, SMALL), info.bitsPerWeightFormula());
        }
        t.print(out);
        boolean anyParams = list.stream().anyMatch(s -> !s.kind().params().isEmpty());
        if (anyParams) {
            out.println();
            out.println("Parameters (name=default, accepted values; flags: sym, asym, saturate):");
        }
        for (Scheme s : list) {
            if (s.kind().params().isEmpty()) {
                continue;
            }
            StringBuilder sb = new StringBuilder();
            for (SchemeKind.Param p : s.kind().params()) {
                sb.append(sb.length() == 0 ? "" : ", ").append(p.name()).append('=').append(p.defaultValue())
                        .append(" (").append(p.description()).append(')');
            }
            out.printf("  %-15s %s%n", s.kind().cliName(), sb);
        }
        out.println();
        out.println("Storage layout (arrays stored per tensor; ggml types as GGUF blocks):");
        for (Scheme s : list) {
            SchemeInfo info = SchemeInfo.of(s);
            out.printf("  %-15s %s%n", s, info.summary());
            out.printf("  %-15s %s%n", "", info.layout());
        }
    }

    private static String bpw(SchemeInfo info, Shape shape) {
        return info.fits(shape) ? String.format(Locale.ROOT, "%.4f", info.bitsPerWeight(shape)) : "n/a";
    }
}
