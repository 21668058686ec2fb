package io.quantkit.model;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fixed pool of worker threads that runs a range of independent work items split into contiguous chunks.
 *
 * <p>Determinism: callers give each item (an output row, a column, an attention head) to exactly one chunk and
 * compute it in a fixed order, so results are bit-identical for any number of threads. {@link #SEQUENTIAL} runs
 * everything on the calling thread. Threads are daemons; {@link #close()} stops them.
 */
public final class ThreadPool implements AutoCloseable {
    /** Most threads a pool may have. */
    public static final int MAX_THREADS = 256;

    /** Runs every range on the calling thread. */
    public static final ThreadPool SEQUENTIAL = new ThreadPool(1, null);

    /** Work over the items {@code [from, to)}. */
    @FunctionalInterface
    public interface RangeTask {
        void run(int from, int to);
    }

    private final int threads;
    private final ExecutorService executor;

    private ThreadPool(int threads, ExecutorService executor) {
        this.threads = threads;
        this.executor = executor;
    }

    /** A pool of {@code threads} threads (the caller's thread counts as one); 1 gives a sequential pool. */
    public static ThreadPool create(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads (" + threads + ") must be at least 1");
        }
        if (threads > MAX_THREADS) {
            throw new IllegalArgumentException("threads (" + threads + ") exceeds the maximum (" + MAX_THREADS + ")");
        }
        if (threads == 1) {
            return SEQUENTIAL;
        }
        AtomicInteger count = new AtomicInteger();
        ThreadFactory factory = r -> {
            Thread t = new Thread(r, "quantkit-worker-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        return new ThreadPool(threads, Executors.newFixedThreadPool(threads - 1, factory));
    }

    /** A pool with one thread per available processor. */
    public static ThreadPool ofAvailableProcessors() {
        return create(Math.min(MAX_THREADS, Runtime.getRuntime().availableProcessors()));
    }

    public int threads() {
        return threads;
    }

    /**
     * Runs {@code task} over {@code [0, n)} split into at most {@link #threads()} contiguous chunks of at least
     * {@code minChunk} items; returns when all are done, rethrowing the first failure.
     */
    public void forRange(int n, int minChunk, RangeTask task) {
        int chunks = executor == null ? 1 : Math.min(threads, Math.max(1, n / Math.max(1, minChunk)));
        if (chunks <= 1 || n <= 1) {
            task.run(0, n);
            return;
        }
        List<Future<?>> futures = new ArrayList<>(chunks - 1);
        for (int c = 1; c < chunks; c++) {
            int from = (int) ((long) n * c / chunks);
            int to = (int) ((long) n * (c + 1) / chunks);
            futures.add(executor.submit(() -> task.run(from, to)));
        }
        RuntimeException first = null;
        try {
            task.run(0, (int) ((long) n / chunks));
        } catch (RuntimeException e) {
            first = e;
        }
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (ExecutionException e) {
                if (first == null) {
                    first = e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                if (first == null) {
                    first = new IllegalStateException("interrupted while waiting for worker threads", e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    @Override
    public void close() {
        if (executor != null) {
            executor.shutdownNow();
        }
    }
}
