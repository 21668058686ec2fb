package io.quantkit.cli;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/** Waits for a task and rethrows its own exception (not the ExecutionException wrapper), so errors map to exit codes. */
final class Futures {
    private Futures() {
    }

    static <T> T get(Future<T> f) throws Exception {
        try {
            return f.get();
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof Exception x) {
                throw x;
            }
            if (c instanceof Error err) {
                throw err;
            }
            throw e;
        }
    }
}
