package io.quantkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** docs/cli.md is generated from the usage help and must not drift from it. */
class CliDocsTest {

    @Test
    void committedReferenceMatchesTheUsageHelp() throws IOException {
        Path doc = Path.of("..", "docs", "cli.md");
        String generated = CliDocsCommand.generate(Main.commandLine());
        assertTrue(Files.exists(doc), "docs/cli.md is missing; generate it with: " + CliDocsCommand.REGENERATE);
        String committed = Files.readString(doc, StandardCharsets.UTF_8);
        assertEquals(generated, committed, "docs/cli.md differs from the commands' --help; regenerate it with: "
                + CliDocsCommand.REGENERATE + " (from the project root) and commit it");
    }

    @Test
    void everyVisibleCommandHasASection() {
        String text = CliDocsCommand.generate(Main.commandLine());
        for (String name : Main.commandLine().getSubcommands().keySet()) {
            boolean hidden = Main.commandLine().getSubcommands().get(name).getCommandSpec().usageMessage().hidden();
            if (!hidden && !name.equals("help")) {
                assertTrue(text.contains("\n## quant " + name + "\n"), name);
            }
        }
        assertTrue(!text.contains("## quant cli-docs"), "hidden commands stay out of the reference");
    }

    @Test
    void generatorWritesTheFile(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        Path out = dir.resolve("cli.md");
        CliRun r = CliRun.of("cli-docs", "--out", out.toString());
        assertEquals(0, r.exit(), r.err());
        assertEquals(CliDocsCommand.generate(Main.commandLine()), Files.readString(out, StandardCharsets.UTF_8));
    }
}
