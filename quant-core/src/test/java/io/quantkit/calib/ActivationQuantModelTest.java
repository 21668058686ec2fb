package io.quantkit.calib;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quantkit.model.LlamaModel;
import io.quantkit.model.LlamaModelTestAccess;
import io.quantkit.model.LlamaWeights;
import io.quantkit.model.ThreadPool;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Fake-quantized linear inputs in the reference model. */
class ActivationQuantModelTest {
    static final int[] TOKENS = {1, 7, 3, 3, 12, 19, 2, 5, 26, 28, 4};

    @Test
    void identityQuantizerChangesNothingAndSeesEveryLinearInput() throws Exception {
        LlamaModel m = LlamaModel.load(LlamaModelTestAccess.tinyWeights());
        float[] want = m.newSession().forward(TOKENS, 0, TOKENS.length, 0);
        List<String> seen = new ArrayList<>();
        LlamaModel q = m.withInputQuantizer((t, x, out, rows, width) -> {
            seen.add(t);
            System.arraycopy(x, 0, out, 0, rows * width);
        });
        assertArrayEquals(want, q.newSession().forward(TOKENS, 0, TOKENS.length, 0));
        assertEquals(7 * m.config().layers() + 1, seen.size());
        assertEquals(LlamaWeights.TOKEN_EMBD, seen.get(seen.size() - 1)); // tied classifier
    }

    @Test
    void quantizedInputsAreWhatTheProductsConsume() throws Exception {
        // a quantizer that zeroes the classifier's input gives all-zero logits: the products use its output
        LlamaModel m = LlamaModel.load(LlamaModelTestAccess.tinyWeights()).withInputQuantizer(
                (t, x, out, rows, width) -> {
                    for (int i = 0; i < rows * width; i++) {
                        out[i] = t.equals(LlamaWeights.TOKEN_EMBD) ? 0f : x[i];
                    }
                });
        for (float v : m.newSession().forward(TOKENS, 0, TOKENS.length, 0)) {
            assertEquals(0f, v);
        }
    }

    @Test
    void int8InputsStayCloseAndAreThreadCountIndependent() throws Exception {
        LlamaWeights w = LlamaModelTestAccess.otherTinyWeights();
        LlamaModel m = LlamaModel.load(w);
        float[] want = m.newSession().forward(TOKENS, 0, TOKENS.length, 0);
        Map<String, ActivationStats> stats = ActivationCalibrator.run(m, SmoothingTest.SEQS, ThreadPool.SEQUENTIAL);
        for (ActivationScheme s : new ActivationScheme[] {ActivationScheme.parse("int8"),
            ActivationScheme.parse("int8:observer=minmax"), ActivationScheme.parse("fp8-e4m3:observer=mse")}) {
            ActivationQuantizer aq = s.dynamic() ? ActivationQuantizer.dynamic(s.format())
                    : ActivationQuantizer.fromStats(s, stats);
            LlamaModel q = m.withInputQuantizer(aq);
            float[] one = q.newSession().forward(TOKENS, 0, TOKENS.length, 0);
            float[] two;
            try (ThreadPool pool = ThreadPool.create(2)) {
                two = q.newSession(32, pool).forward(TOKENS, 0, TOKENS.length, 0);
            }
            assertArrayEquals(one, two, s + ": thread count");
            double err = 0;
            double ref = 0;
            for (int i = 0; i < want.length; i++) {
                err += (double) (one[i] - want[i]) * (one[i] - want[i]);
                ref += (double) want[i] * want[i];
                assertTrue(Float.isFinite(one[i]));
            }
            // 8-bit inputs: logits within a few percent (e4m3 keeps 3 mantissa bits, a relative step of 1/8, int8
            // 127 levels), and not bit-identical (something was quantized)
            double bound = s.format() == ActivationScheme.Format.INT8 ? 0.05 : 0.12;
            assertTrue(err > 0 && Math.sqrt(err / ref) < bound, s + ": relative logit error " + Math.sqrt(err / ref));
        }
    }
}
