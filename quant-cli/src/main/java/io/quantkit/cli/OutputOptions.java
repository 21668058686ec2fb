package io.quantkit.cli;

import picocli.CommandLine.Option;

/** Options every reporting command shares ({@code @Mixin}): {@code --json} and {@code --verbose}. */
public final class OutputOptions {

    @Option(names = "--json", description = "Print one JSON document on stdout and nothing else there "
            + "(stable keys, documented in docs/cli.md).")
    boolean json;

    @Option(names = {"-v", "--verbose"}, description = "More detail; on an error, also print its stack trace.")
    boolean verbose;

    /** Whether {@code --json} was given. */
    public boolean json() {
        return json;
    }

    /** Whether {@code --verbose} was given. */
    public boolean verbose() {
        return verbose;
    }
}
