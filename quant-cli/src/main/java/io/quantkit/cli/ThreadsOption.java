package io.quantkit.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code --threads N} for commands that work in parallel ({@code @Mixin}); 0 means one per processor. */
public final class ThreadsOption {
    /** Upper bound on --threads (the converter's limit): catches a typo such as 80000. */
    static final int MAX_THREADS = 256;

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    private int threads;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
            description = "Worker threads (default: 0 = one per processor). Output is identical for any N.")
    void setThreads(int n) {
        if (n < 0 || n > MAX_THREADS) {
            throw new ParameterException(mixee.commandLine(),
                    String.format("--threads (%d) must be between 0 and %d", n, MAX_THREADS));
        }
        threads = n;
    }

    /** The thread count to use: the option's value, or the number of processors when it is 0. */
    public int threads() {
        return threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
    }
}
