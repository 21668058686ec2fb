package io.quantkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CompletionCommandTest {

    @Test
    void printsABashCompletionScriptNamingTheCommands() {
        CliRun r = CliRun.of("completion");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("complete -F _complete_quant"), r.out());
        assertTrue(r.out().contains("formats"), "subcommands are completed");
        assertTrue(r.out().contains("--json"), "options are completed");
    }
}
