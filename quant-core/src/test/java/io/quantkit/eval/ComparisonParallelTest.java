package io.quantkit.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quantkit.calib.ActivationScheme;
import io.quantkit.model.LlamaModelTestAccess;
import io.quantkit.model.LlamaWeights;
import io.quantkit.model.ThreadPool;
import io.quantkit.quant.Scheme;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Rows of a comparison in parallel: the memory rule, and the same figures in the same order as one by one. */
class ComparisonParallelTest {
    private static final long MIB = 1 << 20;

    @Test
    void scheduleTakesTheThreadsTheRowsAndTheMemoryIntoAccount() {
        // auto on 2 threads, 11 rows, plenty of heap: 2 rows of 1 thread each
        Comparison.Schedule s = Comparison.schedule(0, 2, 11, 10 * MIB, MIB, 1024 * MIB);
        assertEquals(2, s.rows());
        assertEquals(1, s.threadsPerRow());
        assertEquals("threads", s.reason());
        // 8 threads, 3 asked for: 3 rows of 2 threads; 8 asked for but 5 rows: 5 rows of 1 thread
        assertEquals(List.of(3, 2, "requested"), summary(Comparison.schedule(3, 8, 11, MIB, MIB, 1024 * MIB)));
        assertEquals(List.of(5, 1, "rows"), summary(Comparison.schedule(8, 8, 5, MIB, MIB, 1024 * MIB)));
        assertEquals(List.of(8, 1, "threads"), summary(Comparison.schedule(16, 8, 11, MIB, MIB, 1024 * MIB)));
        // the heap holds 8 sessions and 2 rows, not 3: (28 - 8) / 10 = 2
        assertEquals(List.of(2, 4, "memory"), summary(Comparison.schedule(0, 8, 11, 10 * MIB, MIB, 28 * MIB)));
        // not even one fits: one at a time (what a sequential run would do anyway)
        assertEquals(List.of(1, 8, "memory"), summary(Comparison.schedule(0, 8, 11, 10 * MIB, MIB, 5 * MIB)));
        assertEquals(List.of(1, 8, "memory"), summary(Comparison.schedule(0, 8, 11, 10 * MIB, MIB, 0)));
        assertEquals(List.of(1, 2, "requested"), summary(Comparison.schedule(1, 2, 11, MIB, MIB, 1024 * MIB)));
        assertEquals(List.of(1, 1, "threads"), summary(Comparison.schedule(0, 1, 11, MIB, MIB, 1024 * MIB)));
    }

    private static List<Object> summary(Comparison.Schedule s) {
        return List.of(s.rows(), s.threadsPerRow(), s.reason());
    }

    @Test
    void memoryEstimateCountsTheRowsCopiesOfTheWeights() throws Exception {
        LlamaWeights w = LlamaModelTestAccess.tinyWeights();
        EvalPlan plan = plan();
        long params = 0;
        for (io.quantkit.tensor.Tensor t : w.tensors().values()) {
            params += t.shape().numel();
        }
        long row = Comparison.rowBytes(w, plan, false);
        // quantized tensors and the decoded float32 model: two float32 copies at least
        assertTrue(row >= 8 * params, row + " vs " + params + " parameters");
        assertTrue(Comparison.rowBytes(w, plan, true) > row, "GPTQ's matrices add to it");
        io.quantkit.model.LlamaConfig c = w.config();
        long kv = 2L * c.layers() * plan.maxLength() * c.kvDim() * 4;
        long logits = (long) plan.maxLength() * c.vocabSize() * 4;
        assertTrue(Comparison.sessionBytes(c, plan) >= kv + logits);
    }

    private static EvalPlan plan() {
        return EvalTest.remap(EvalPlan.of(EvalTest.CHARS, "the quick brown fox jumps over the lazy dog again and "
                + "again, and the dog sleeps on while the fox runs", Method.LLAMA_CPP, 16, 0), 37);
    }

    /** The row with its timing zeroed: everything else must be equal. */
    private static Comparison.Row untimed(Comparison.Row r) {
        return new Comparison.Row(r.scheme(), r.bitsPerWeight(), r.bytes(), r.sqnrDb(), r.perplexity(), r.deltaPpl(),
                r.divergence(), 0, r.fallbacks(), r.tensors(), r.skipped(), r.activations(), r.method(),
                r.vsBaseline(), r.losses());
    }

    /** Counts the rows running at once. */
    private static final class Counting implements Comparison.Listener {
        final AtomicInteger running = new AtomicInteger();
        final AtomicInteger most = new AtomicInteger();
        final List<Integer> done = new ArrayList<>();

        @Override
        public Progress phase(String name, int index, int count) {
            if (index > 0) {
                most.accumulateAndGet(running.incrementAndGet(), Math::max);
            }
            return Progress.NONE;
        }

        @Override
        public synchronized void row(Comparison.Row row, int index, int count) {
            if (index > 0) {
                running.decrementAndGet();
                done.add(index);
            }
        }
    }

    @Test
    void parallelRowsGiveTheSequentialFiguresInTheSameOrder() throws Exception {
        LlamaWeights w = LlamaModelTestAccess.tinyWeights();
        EvalPlan plan = plan();
        List<Comparison.Variant> variants = new ArrayList<>();
        for (String s : new String[] {"int8", "q4_0", "int4", "fp8-e4m3", "ternary", "int4:group=8",
            "int4-outliers:group=8,budget=2%", "f16"}) {
            variants.add(Comparison.Variant.of(Scheme.parse(s)));
        }
        List<ActivationScheme> none = List.of(ActivationScheme.NONE);
        Comparison.Report one;
        try (ThreadPool pool = ThreadPool.create(1)) {
            one = Comparison.run(w, plan, variants, none, List.of(), pool, Comparison.Listener.NONE, null,
                    Comparison.Parallelism.SEQUENTIAL);
        }
        assertEquals(1, one.schedule().rows());
        assertEquals("q4_0", one.rows().get(1).scheme());
        assertNotNull(one.rows().get(1).skipped(), "rows of 16 and 40 hold no q4_0 block");
        try (ThreadPool pool = ThreadPool.create(3)) {
            for (Comparison.Parallelism p : List.of(Comparison.Parallelism.AUTO, new Comparison.Parallelism(2, -1),
                    new Comparison.Parallelism(3, Long.MAX_VALUE), new Comparison.Parallelism(0, 0),
                    Comparison.Parallelism.SEQUENTIAL)) {
                Counting seen = new Counting();
                Comparison.Report r = Comparison.run(w, plan, variants, none, List.of(), pool, seen, null, p);
                String what = p + " -> " + r.schedule();
                int expected = p.memoryBudget() == 0 || p.rows() == 1 ? 1 : p.rows() == 0 ? 3 : p.rows();
                assertEquals(expected, r.schedule().rows(), what);
                assertEquals(p.memoryBudget() == 0 ? "memory" : p.rows() == 1 ? "requested"
                        : p.rows() == 0 ? "threads" : "requested", r.schedule().reason(), what);
                assertTrue(seen.most.get() <= r.schedule().rows(), seen.most + " rows ran at once; " + what);
                assertEquals(variants.size(), seen.done.size(), what);
                assertEquals(untimed(one.baseline()), untimed(r.baseline()), what);
                assertEquals(one.rows().size(), r.rows().size(), what);
                for (int i = 0; i < one.rows().size(); i++) {
                    assertEquals(variants.get(i).label(), r.rows().get(i).scheme(), what);
                    assertEquals(untimed(one.rows().get(i)), untimed(r.rows().get(i)), what + ", row " + i);
                }
            }
        }
    }

    @Test
    void aFailingRowStopsTheRunAndIsReported() throws Exception {
        LlamaWeights w = LlamaModelTestAccess.tinyWeights();
        EvalPlan plan = plan();
        List<Comparison.Variant> variants = List.of(Comparison.Variant.of(Scheme.parse("int8")),
                Comparison.Variant.of(Scheme.parse("int4")), Comparison.Variant.of(Scheme.parse("f16")));
        Comparison.Listener failing = new Comparison.Listener() {
            @Override
            public Progress phase(String name, int index, int count) {
                if (name.equals("int4")) {
                    throw new IllegalStateException("listener failed on " + name);
                }
                return Progress.NONE;
            }
        };
        try (ThreadPool pool = ThreadPool.create(2)) {
            IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                    () -> Comparison.run(w, plan, variants, List.of(ActivationScheme.NONE), List.of(), pool, failing,
                            null, Comparison.Parallelism.AUTO));
            assertEquals("listener failed on int4", e.getMessage());
        }
    }
}
