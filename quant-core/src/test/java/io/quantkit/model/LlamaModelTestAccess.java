package io.quantkit.model;

import java.io.IOException;

/** Lets tests in other packages use the tiny reference models of {@link LlamaModelTest}. */
public final class LlamaModelTestAccess {
    private LlamaModelTestAccess() {
    }

    /** The tiny GQA model (dim 16, hidden 40, 2 layers, 4 heads, 2 kv heads, vocab 37, tied classifier). */
    public static LlamaWeights tinyWeights() throws IOException {
        return LlamaModelTest.weights(LlamaModelTest.GQA);
    }

    /** The tiny MHA model (dim 18, hidden 52, 3 layers, separate classifier): another model. */
    public static LlamaWeights otherTinyWeights() throws IOException {
        return LlamaModelTest.weights(LlamaModelTest.MHA);
    }
}
