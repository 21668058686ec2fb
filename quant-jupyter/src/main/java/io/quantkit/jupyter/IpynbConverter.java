package io.quantkit.jupyter;

import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Generates the Jupyter version of a notebook from its JShell source, which stays the one source of truth: the
 * {@code .ipynb} beside each {@code docs/notebooks/NN-name.jsh} is this class's output, and a test fails when it
 * is stale.
 *
 * <p>Cells: the leading comment block becomes a Markdown cell (its first line the title); the code up to the first
 * section a code cell; each section header {@code // ==== N. Title ====} a Markdown cell {@code ## N. Title} with
 * the comment lines that directly follow it, then a code cell with the rest of the section. Comments inside code
 * stay in the code. A final {@code /exit} is dropped. nbformat 4.4, no outputs, kernel {@value Kernel#NAME}.
 *
 * <p>{@code main DIR} rewrites every {@code DIR/*.ipynb} from {@code DIR/*.jsh}.
 */
public final class IpynbConverter {
    /** The marker that opens a section. */
    static final String SECTION = "// ====";

    private IpynbConverter() {
    }

    /** One cell: Markdown or code, and its text. */
    record Cell(boolean markdown, String text) {
    }

    /** The cells of a JShell notebook. */
    static List<Cell> cells(String jsh) {
        List<String> lines = new ArrayList<>(List.of(jsh.replace("\r\n", "\n").split("\n", -1)));
        while (!lines.isEmpty() && (lines.get(lines.size() - 1).isBlank()
                || lines.get(lines.size() - 1).strip().equals("/exit"))) {
            lines.remove(lines.size() - 1);
        }
        List<Cell> out = new ArrayList<>();
        int i = 0;
        List<String> md = new ArrayList<>();
        while (i < lines.size() && lines.get(i).startsWith("//") && !lines.get(i).startsWith(SECTION)) {
            md.add(uncomment(lines.get(i)));
            i++;
        }
        if (!md.isEmpty()) {
            md.set(0, "# " + md.get(0));
            out.add(new Cell(true, markdown(md)));
        }
        List<String> code = new ArrayList<>();
        for (; i < lines.size(); i++) {
            String l = lines.get(i);
            if (!l.startsWith(SECTION)) {
                code.add(l);
                continue;
            }
            addCode(out, code);
            md.clear();
            md.add("## " + l.substring(SECTION.length()).replaceAll("=+\\s*$", "").strip());
            md.add("");
            while (i + 1 < lines.size() && lines.get(i + 1).startsWith("//") && !lines.get(i + 1).startsWith(SECTION)) {
                md.add(uncomment(lines.get(++i)));
            }
            out.add(new Cell(true, markdown(md)));
        }
        addCode(out, code);
        return out;
    }

    private static void addCode(List<Cell> out, List<String> code) {
        int from = 0;
        int to = code.size();
        while (from < to && code.get(from).isBlank()) {
            from++;
        }
        while (to > from && code.get(to - 1).isBlank()) {
            to--;
        }
        if (from < to) {
            out.add(new Cell(false, String.join("\n", code.subList(from, to))));
        }
        code.clear();
    }

    private static String uncomment(String l) {
        String t = l.substring(2);
        return t.startsWith(" ") ? t.substring(1) : t;
    }

    /** Comment lines as Markdown: blank-comment lines separate paragraphs; trailing blanks dropped. */
    private static String markdown(List<String> md) {
        int to = md.size();
        while (to > 0 && md.get(to - 1).isBlank()) {
            to--;
        }
        return String.join("\n", md.subList(0, to));
    }

    /** The {@code .ipynb} text for a notebook (stable: same input, same bytes). */
    public static String toIpynb(String jsh) {
        ObjectMapper json = new ObjectMapper();
        ObjectNode nb = json.createObjectNode();
        ArrayNode cells = nb.putArray("cells");
        for (Cell c : cells(jsh)) {
            ObjectNode cell = cells.addObject();
            cell.put("cell_type", c.markdown() ? "markdown" : "code");
            if (!c.markdown()) {
                cell.put("execution_count", (String) null);
            }
            cell.putObject("metadata");
            if (!c.markdown()) {
                cell.putArray("outputs");
            }
            ArrayNode src = cell.putArray("source");
            String[] ls = c.text().split("\n", -1);
            for (int k = 0; k < ls.length; k++) {
                src.add(k < ls.length - 1 ? ls[k] + "\n" : ls[k]);
            }
        }
        ObjectNode meta = nb.putObject("metadata");
        ObjectNode ks = meta.putObject("kernelspec");
        ks.put("display_name", "Java (quantkit, JShell)");
        ks.put("language", "java");
        ks.put("name", Kernel.NAME);
        ObjectNode li = meta.putObject("language_info");
        li.put("file_extension", ".jshell");
        li.put("mimetype", "text/x-java");
        li.put("name", "java");
        nb.put("nbformat", 4);
        nb.put("nbformat_minor", 4);
        // Jupyter's own layout: one-space indent, "key": value, empty {} and []
        DefaultPrettyPrinter pp = new DefaultPrettyPrinter(Separators.createDefaultInstance()
                .withObjectFieldValueSpacing(Separators.Spacing.AFTER).withObjectEmptySeparator("")
                .withArrayEmptySeparator("")).withObjectIndenter(new DefaultIndenter(" ", "\n"))
                .withArrayIndenter(new DefaultIndenter(" ", "\n"));
        try {
            return json.writer(pp).writeValueAsString(nb) + "\n";
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The JShell notebooks of {@code dir}, sorted. */
    static List<Path> notebooks(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".jsh")).sorted().collect(Collectors.toList());
        }
    }

    /** The {@code .ipynb} path beside a {@code .jsh}. */
    static Path ipynbOf(Path jsh) {
        return jsh.resolveSibling(jsh.getFileName().toString().replaceFirst("\\.jsh$", ".ipynb"));
    }

    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args.length > 0 ? args[0] : "docs/notebooks");
        for (Path jsh : notebooks(dir)) {
            Path target = ipynbOf(jsh);
            io.quantkit.io.AtomicOutput.writeString(target, toIpynb(Files.readString(jsh, StandardCharsets.UTF_8)), true);
            System.out.println("wrote " + target);
        }
    }
}
