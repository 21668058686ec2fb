package io.quantkit.io;

/** The file containers quantkit reads and writes. */
public enum Container {
    /** GGUF v3 (llama.cpp / ggml): one file, typed metadata, ggml tensor types. */
    GGUF("gguf"),
    /** safetensors: one file, or a folder of shards with model.safetensors.index.json. */
    SAFETENSORS("safetensors"),
    /** llama2.c legacy float32 checkpoint ({@code .bin}) plus its {@code tok.bin} tokenizer. */
    LLAMA2C("llama2c");

    private final String id;

    Container(String id) {
        this.id = id;
    }

    /** Lower-case name used in JSON output and messages. */
    public String id() {
        return id;
    }
}
