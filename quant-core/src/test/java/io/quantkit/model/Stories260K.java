package io.quantkit.model;

import io.quantkit.io.Checkpoint;
import io.quantkit.io.Checkpoints;
import io.quantkit.tensor.FloatTensor;
import io.quantkit.testing.SharedData;
import java.io.IOException;
import java.io.UncheckedIOException;

/** The real stories260K model and its tokenizer, for real-data tests (from the .bin with tok512.bin, or the .gguf). */
public final class Stories260K {
    public final LlamaWeights weights;
    public final LlamaModel model;
    public final Tokenizer tokenizer;

    private Stories260K(Checkpoint cp) {
        // copy to the heap: the checkpoint's lazy views close with it (these tensors are F32, so nothing is lost)
        weights = LlamaLoader.weights(cp).map((name, t) -> FloatTensor.wrap(t.shape(), t.toFloatArray()));
        model = LlamaModel.load(weights);
        tokenizer = LlamaLoader.tokenizer(cp);
    }

    /** The llama2.c checkpoint with tok512.bin. */
    public static Stories260K bin() {
        try (Checkpoint cp = Checkpoints.open(SharedData.path("stories260K/stories260K.bin"),
                SharedData.path("stories260K/tok512.bin"))) {
            return new Stories260K(cp);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The GGUF written by llama.cpp's llama2c converter (F32 tensors, embedded vocabulary). */
    public static Stories260K gguf() {
        try (Checkpoint cp = Checkpoints.open(SharedData.path("stories260K/stories260K-f32.gguf"))) {
            return new Stories260K(cp);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
