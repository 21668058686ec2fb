package io.quantkit.train;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs loops whose iterations write disjoint outputs on a fixed number of threads. Every output is computed
 * by exactly one thread in a fixed order, so results are bit-identical for any thread count; callers never
 * reduce across iterations inside a parallel loop.
 *
 * <p>Thread-safe. Close it to stop its threads.
 */
public final class Parallel implements AutoCloseable {

    /** Most threads accepted. */
    public static final int MAX_THREADS = 1024;

    /** A loop body over the half-open range {@code [from, to)}. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    private final int threads;
    private final ExecutorService pool;

    private Parallel(int threads) {
        if (threads < 1 || threads > MAX_THREADS) {
            throw new IllegalArgumentException("thread count (" + threads + ") must be between 1 and " + MAX_THREADS);
        }
        this.threads = threads;
        if (threads == 1) {
            this.pool = null;
        } else {
            AtomicInteger n = new AtomicInteger();
            this.pool = Executors.newFixedThreadPool(threads, r -> {
                Thread t = new Thread(r, "quant-train-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
        }
    }

    /** A pool of {@code threads} threads (1 runs everything on the caller's thread). */
    public static Parallel of(int threads) {
        return new Parallel(threads);
    }

    /** One thread per available processor. */
    public static Parallel ofAvailableProcessors() {
        return new Parallel(Math.max(1, Math.min(MAX_THREADS, Runtime.getRuntime().availableProcessors())));
    }

    public int threads() {
        return threads;
    }

    /**
     * Runs {@code body} over {@code [0, n)} split into contiguous chunks; returns when all are done. Small loops
     * ({@code n * costPerItem} below a threshold) run on the calling thread.
     */
    public void forRange(int n, long costPerItem, RangeBody body) {
        if (n <= 0) {
            return;
        }
        if (pool == null || n == 1 || (long) n * costPerItem < 20_000) {
            body.run(0, n);
            return;
        }
        int chunks = Math.min(n, threads * 4);
        List<Future<?>> futures = new ArrayList<>(chunks);
        for (int c = 0; c < chunks; c++) {
            int from = (int) ((long) n * c / chunks);
            int to = (int) ((long) n * (c + 1) / chunks);
            futures.add(pool.submit(() -> body.run(from, to)));
        }
        RuntimeException failure = null;
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failure = new IllegalStateException("interrupted while waiting for a parallel loop", e);
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                if (failure == null) {
                    failure = cause instanceof RuntimeException re ? re
                            : new IllegalStateException("parallel loop failed: " + cause, cause);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }
}
