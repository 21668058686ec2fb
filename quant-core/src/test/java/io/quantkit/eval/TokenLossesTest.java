package io.quantkit.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import org.junit.jupiter.api.Test;

/** Paired differences of per-token losses against reference/eval/paired_reference.py (numpy) and by hand. */
class TokenLossesTest {

    private static double[] doubles(JsonNode a) {
        double[] out = new double[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asDouble();
        }
        return out;
    }

    @Test
    void pairedStatisticsMatchNumpy() throws Exception {
        JsonNode root;
        try (InputStream in = TokenLossesTest.class.getResourceAsStream("/reference/eval/paired.json")) {
            root = new ObjectMapper().readTree(in);
        }
        assertEquals(4, root.get("cases").size());
        for (JsonNode c : root.get("cases")) {
            TokenLosses a = TokenLosses.of(doubles(c.get("a")));
            TokenLosses b = TokenLosses.of(doubles(c.get("b")));
            assertEquals(c.get("n").asInt(), a.count());
            PairedDifference d = TokenLosses.paired(a, b);
            String what = "case seed " + c.get("seed");
            assertEquals(c.get("mean_nll_diff").asDouble(), d.meanNllDiff(), 1e-13, what);
            assertEquals(c.get("mean_nll_diff_stderr").asDouble(), d.meanNllDiffStderr(),
                    1e-12 * c.get("mean_nll_diff_stderr").asDouble(), what);
            assertEquals(c.get("delta_ppl").asDouble(), d.deltaPpl(), 1e-12, what);
            assertEquals(c.get("delta_ppl_stderr").asDouble(), d.deltaPplStderr(),
                    1e-10 * c.get("delta_ppl_stderr").asDouble(), what);
            assertEquals(c.get("n").asInt(), d.tokens());
        }
    }

    @Test
    void handWorkedCase() {
        // d = (0, 1, 2): mean 1, population variance 2/3, standard error sqrt(2/3 / 2) = sqrt(1/3).
        // mean a = 2, mean b = 1, var a = 2/3, var b = 0: ΔPPL = e² − e, its error e² sqrt(2/3 / 2).
        PairedDifference d = TokenLosses.paired(TokenLosses.of(new double[] {1, 2, 3}),
                TokenLosses.of(new double[] {1, 1, 1}));
        assertEquals(1.0, d.meanNllDiff(), 1e-15);
        assertEquals(Math.sqrt(1.0 / 3), d.meanNllDiffStderr(), 1e-15);
        assertEquals(Math.exp(2) - Math.exp(1), d.deltaPpl(), 1e-14);
        assertEquals(Math.exp(2) * Math.sqrt(1.0 / 3), d.deltaPplStderr(), 1e-14);
        assertEquals(Math.sqrt(3), d.z(), 1e-14);
    }

    @Test
    void aShiftOfEveryTokenHasNoPairedError() {
        // b = a + 0.25 on every token: the difference is certain however noisy the losses are
        double[] a = {0.1, 3.0, 1.7, 0.02, 5.5};
        double[] b = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            b[i] = a[i] + 0.25;
        }
        PairedDifference d = TokenLosses.paired(TokenLosses.of(b), TokenLosses.of(a));
        assertEquals(0.25, d.meanNllDiff(), 1e-15);
        assertEquals(0.0, d.meanNllDiffStderr(), 1e-15);
        assertTrue(d.z() > 1e12, "z " + d.z());
        PairedDifference same = TokenLosses.paired(TokenLosses.of(a), TokenLosses.of(a));
        assertEquals(0.0, same.meanNllDiff());
        assertEquals(0.0, same.meanNllDiffStderr());
        assertEquals(0.0, same.deltaPplStderr());
        assertTrue(Double.isNaN(same.z()));
    }

    @Test
    void refusesLossesOfDifferentTokens() {
        TokenLosses three = TokenLosses.of(new double[] {1, 2, 3});
        assertThrows(IllegalArgumentException.class, () -> TokenLosses.paired(three,
                TokenLosses.of(new double[] {1, 2})));
        assertThrows(IllegalArgumentException.class, () -> TokenLosses.paired(TokenLosses.of(new double[] {1}),
                TokenLosses.of(new double[] {1})));
    }

    @Test
    void losesNothingToTheCallersArray() {
        double[] a = {1, 2};
        TokenLosses t = TokenLosses.of(a);
        a[0] = 99;
        assertEquals(1.0, t.get(0));
        assertEquals(1.5, t.mean());
    }
}
