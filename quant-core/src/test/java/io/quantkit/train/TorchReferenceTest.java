package io.quantkit.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import org.junit.jupiter.api.Test;

/**
 * The whole model's loss and every gradient against PyTorch autograd in float64
 * ({@code reference/train/grad_reference.py}, output in {@code reference/train/grad_reference.json}). Our pass runs
 * in float32, so the loss must agree to 1e-5 relative and each gradient element to {@code 2e-5 + 2e-3·|ref|}.
 */
class TorchReferenceTest {

    @Test
    void lossAndGradientsMatchPyTorch() throws IOException {
        JsonNode root;
        try (InputStream in = getClass().getResourceAsStream("/reference/train/grad_reference.json")) {
            root = new ObjectMapper().readTree(in);
        }
        int cases = 0;
        for (JsonNode c : root.get("cases")) {
            JsonNode cfg = c.get("config");
            Architecture arch = new Architecture(cfg.get("dim").asInt(), cfg.get("hidden_dim").asInt(),
                    cfg.get("n_layers").asInt(), cfg.get("n_heads").asInt(), cfg.get("n_kv_heads").asInt(),
                    cfg.get("vocab_size").asInt(), cfg.get("seq_len").asInt(), cfg.get("shared_classifier").asBoolean(),
                    (float) cfg.get("norm_eps").asDouble(), (float) cfg.get("rope_theta").asDouble(),
                    cfg.path("sub_norms").asBoolean(false));
            int batch = c.get("batch").asInt();
            TrainModel m = new TrainModel(arch, batch, arch.seqLen(), ActivationQuant.NONE);
            float[] p = new float[m.layout().size()];
            for (ParamLayout.Entry e : m.layout().entries()) {
                JsonNode w = c.get("weights").get(e.name());
                assertEquals(e.size(), w.size(), e.name());
                for (int i = 0; i < e.size(); i++) {
                    p[e.offset() + i] = (float) w.get(i).asDouble();
                }
            }
            int[] tokens = new int[c.get("tokens").size()];
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = c.get("tokens").get(i).asInt();
            }
            float[] g = new float[p.length];
            try (Parallel par = Parallel.of(3)) {
                double loss = m.forward(par, p, tokens, 0);
                m.backward(par, p, g, 1f);
                double ref = c.get("loss").asDouble();
                assertEquals(ref, loss, 1e-5 * ref, c.get("name").asText() + " loss");
            }
            for (ParamLayout.Entry e : m.layout().entries()) {
                JsonNode ref = c.get("grads").get(e.name());
                for (int i = 0; i < e.size(); i++) {
                    double r = ref.get(i).asDouble();
                    double got = g[e.offset() + i];
                    int at = i;
                    assertTrue(Math.abs(got - r) <= 2e-5 + 2e-3 * Math.abs(r),
                            () -> c.get("name").asText() + " " + e.name() + "[" + at + "]: " + got + " vs PyTorch " + r);
                }
            }
            cases++;
        }
        assertEquals(3, cases);
    }
}
