package io.quantkit.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The linear-input hook: it sees what each product consumes and changes nothing. */
class ActivationObserverTest {

    @Test
    void observerSeesEveryLinearInputAndLeavesLogitsUnchanged() throws Exception {
        LlamaWeights w = LlamaModelTest.weights(LlamaModelTest.GQA);
        LlamaModel m = LlamaModel.load(w);
        int[] tokens = {1, 5, 9, 2, 30};
        float[] plain = m.newSession().forward(tokens, 0, tokens.length, 0);
        List<String> names = new ArrayList<>();
        List<float[]> inputs = new ArrayList<>();
        float[] observed = m.newSession(32, ThreadPool.SEQUENTIAL, (t, x, rows, width) -> {
            names.add(t + " " + rows + "x" + width);
            inputs.add(java.util.Arrays.copyOf(x, rows * width));
        }).forward(tokens, 0, tokens.length, 0);
        assertArrayEquals(plain, observed, "an observer must not change the logits");
        LlamaConfig c = m.config();
        List<String> want = new ArrayList<>();
        for (int l = 0; l < c.layers(); l++) {
            String p = "blk." + l + ".";
            want.add(p + "attn_q.weight 5x16");
            want.add(p + "attn_k.weight 5x16");
            want.add(p + "attn_v.weight 5x16");
            want.add(p + "attn_output.weight 5x16");
            want.add(p + "ffn_gate.weight 5x16");
            want.add(p + "ffn_up.weight 5x16");
            want.add(p + "ffn_down.weight 5x40");
        }
        want.add("token_embd.weight 5x16"); // tied classifier
        assertEquals(want, names);
        // the first input is RMSNorm(embedding) * attn_norm, computed here in double
        float[] emb = w.tensor(LlamaWeights.TOKEN_EMBD).toFloatArray();
        float[] g = w.tensor("blk.0.attn_norm.weight").toFloatArray();
        for (int r = 0; r < tokens.length; r++) {
            double ss = 0;
            for (int i = 0; i < 16; i++) {
                ss += (double) emb[tokens[r] * 16 + i] * emb[tokens[r] * 16 + i];
            }
            double inv = 1 / Math.sqrt(ss / 16 + 1e-5);
            for (int i = 0; i < 16; i++) {
                assertEquals(g[i] * emb[tokens[r] * 16 + i] * inv, inputs.get(0)[r * 16 + i], 1e-5,
                        "row " + r + " channel " + i);
            }
        }
    }
}
