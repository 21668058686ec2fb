package io.quantkit.model;

/** Greedy (temperature 0) generation. */
public final class Generate {
    private Generate() {
    }

    /**
     * Feeds {@code first}, then repeatedly the most likely next token (lowest id on ties), {@code steps} times;
     * returns the generated ids (without {@code first}).
     */
    public static int[] greedy(LlamaModel model, int first, int steps) {
        if (steps < 0 || steps >= model.config().seqLen()) {
            throw new IllegalArgumentException("steps (" + steps + ") must be in 0.." + (model.config().seqLen() - 1));
        }
        LlamaModel.Session s = model.newSession();
        int[] out = new int[steps];
        int token = first;
        for (int i = 0; i < steps; i++) {
            token = argmax(s.next(token));
            out[i] = token;
        }
        return out;
    }

    /** Index of the largest value (the first one on ties). */
    public static int argmax(float[] v) {
        return argmax(v, 0, v.length);
    }

    /** Index (relative to {@code off}) of the largest of {@code v[off .. off+len)}; the first one on ties. */
    public static int argmax(float[] v, int off, int len) {
        int best = 0;
        for (int i = 1; i < len; i++) {
            if (v[off + i] > v[off + best]) {
                best = i;
            }
        }
        return best;
    }
}
