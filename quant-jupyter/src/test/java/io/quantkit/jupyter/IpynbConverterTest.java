package io.quantkit.jupyter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The .ipynb files are generated from the .jsh notebooks and must stay in sync with them. */
class IpynbConverterTest {

    @Test
    void cellsFollowTheHeaderAndSections() {
        String jsh = String.join("\n",
                "// 09 · A title",
                "//",
                "// What it teaches.",
                "",
                "import java.util.*;",
                "int x = 1;",
                "",
                "// ==== 1. First ================================",
                "// Explained here.",
                "// Second line.",
                "int y = x + 1;",
                "// a comment inside code",
                "check(y == 2);",
                "// ==== 2. Second ====",
                "System.out.println(y);",
                "/exit",
                "");
        List<IpynbConverter.Cell> cells = IpynbConverter.cells(jsh);
        List<IpynbConverter.Cell> expected = List.of(
                new IpynbConverter.Cell(true, "# 09 · A title\n\nWhat it teaches."),
                new IpynbConverter.Cell(false, "import java.util.*;\nint x = 1;"),
                new IpynbConverter.Cell(true, "## 1. First\n\nExplained here.\nSecond line."),
                new IpynbConverter.Cell(false, "int y = x + 1;\n// a comment inside code\ncheck(y == 2);"),
                new IpynbConverter.Cell(true, "## 2. Second"),
                new IpynbConverter.Cell(false, "System.out.println(y);"));
        assertEquals(expected, cells);
    }

    @Test
    void theJsonIsNbformat4WithTheQuantkitKernel() throws IOException {
        JsonNode nb = new ObjectMapper().readTree(IpynbConverter.toIpynb("// T\n\nint a = 1;\nint b = 2;\n"));
        assertEquals(4, nb.get("nbformat").asInt());
        assertEquals(Kernel.NAME, nb.at("/metadata/kernelspec/name").asText());
        assertEquals(2, nb.get("cells").size());
        JsonNode code = nb.get("cells").get(1);
        assertEquals("code", code.get("cell_type").asText());
        assertTrue(code.get("execution_count").isNull());
        assertEquals(0, code.get("outputs").size());
        assertEquals("int a = 1;\n", code.get("source").get(0).asText());
        assertEquals("int b = 2;", code.get("source").get(1).asText());
    }

    /** Source text is stored verbatim, whatever it holds (quotes, JSON-looking text, backslashes, non-ASCII). */
    @Test
    void sourceSurvivesTheJsonRoundTrip() throws IOException {
        String line = "String m = s.replaceAll(\"(?s).*\\\"eval_ppl\\\" : \\\"([0-9.]+)\\\".*\", \"$1\"); // σ·√2 {} []";
        JsonNode nb = new ObjectMapper().readTree(IpynbConverter.toIpynb("// T\n\n" + line + "\n"));
        assertEquals(line, nb.get("cells").get(1).get("source").get(0).asText());
    }

    /** Every docs/notebooks/NN.jsh has an NN.ipynb equal to what the converter makes of it, and no .ipynb is orphaned. */
    @Test
    void everyIpynbIsInSyncWithItsJsh() throws IOException {
        Path dir = notebooksDir();
        List<Path> jsh = IpynbConverter.notebooks(dir);
        assertTrue(jsh.size() >= 7, "notebooks found: " + jsh);
        for (Path p : jsh) {
            Path nb = IpynbConverter.ipynbOf(p);
            assertTrue(Files.isRegularFile(nb), nb + " is missing; run: " + REGENERATE);
            assertEquals(IpynbConverter.toIpynb(Files.readString(p, StandardCharsets.UTF_8)),
                    Files.readString(nb, StandardCharsets.UTF_8), nb.getFileName() + " is stale; run: " + REGENERATE);
        }
        try (Stream<Path> s = Files.list(dir)) {
            for (Path nb : s.filter(p -> p.toString().endsWith(".ipynb")).collect(Collectors.toList())) {
                Path src = nb.resolveSibling(nb.getFileName().toString().replaceFirst("\\.ipynb$", ".jsh"));
                assertTrue(Files.isRegularFile(src), nb.getFileName() + " has no .jsh source");
            }
        }
    }

    /** No code is lost: the code cells, in order, hold every line of the .jsh that is not a leading or section comment. */
    @Test
    void theCodeCellsHoldAllTheCode() throws IOException {
        for (Path p : IpynbConverter.notebooks(notebooksDir())) {
            String text = Files.readString(p, StandardCharsets.UTF_8);
            List<String> code = new ArrayList<>();
            for (IpynbConverter.Cell c : IpynbConverter.cells(text)) {
                if (!c.markdown()) {
                    for (String l : c.text().split("\n", -1)) {
                        if (!l.isBlank()) {
                            code.add(l);
                        }
                    }
                }
            }
            List<String> src = new ArrayList<>();
            for (String l : text.split("\n", -1)) {
                if (!l.isBlank() && !l.startsWith("//") && !l.strip().equals("/exit")) {
                    src.add(l);
                }
            }
            List<String> codeNoComments = code.stream().filter(l -> !l.startsWith("//")).collect(Collectors.toList());
            assertEquals(src, codeNoComments, p.getFileName().toString());
        }
    }

    static final String REGENERATE = "mvn -q -B -DskipTests package -pl quant-jupyter -am && "
            + "java -cp quant-jupyter/target/quant-jupyter.jar:'quant-jupyter/target/lib/*' "
            + "io.quantkit.jupyter.IpynbConverter docs/notebooks";

    static Path notebooksDir() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path nb = d.resolve("docs").resolve("notebooks");
            if (Files.isDirectory(nb) && Files.isRegularFile(d.resolve("pom.xml"))) {
                return nb;
            }
        }
        throw new IllegalStateException("docs/notebooks not found above " + Path.of("").toAbsolutePath());
    }
}
