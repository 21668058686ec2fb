package io.quantkit.io;

/**
 * Every limit the readers enforce on untrusted files, in one place. A file that exceeds one is rejected with a
 * {@link BadFileException} saying "X (n) exceeds the maximum (m)". The values are generous for real checkpoints
 * (a 405B-parameter model has ~1,100 tensors, a 256k vocabulary ~256k tokens) and small enough that a hostile
 * file cannot make us allocate more than a few hundred MiB before the data to back it has been seen.
 */
public final class Limits {
    private Limits() {
    }

    /** Tensors in one file (GGUF tensor_count, safetensors header entries). */
    public static final long MAX_TENSORS = 1L << 20;
    /** Metadata key/value pairs in one GGUF file. */
    public static final long MAX_METADATA_ENTRIES = 1L << 16;
    /** Bytes of one string (GGUF key, value, tensor name). */
    public static final long MAX_STRING_BYTES = 1L << 24;
    /** Bytes of a tensor or metadata key name. */
    public static final int MAX_NAME_BYTES = 1 << 16;
    /** Elements of one GGUF metadata array (also bounded by the bytes left in the file). */
    public static final long MAX_ARRAY_LENGTH = 1L << 23;
    /** Total metadata array elements across one GGUF file (bounds memory of the decoded metadata). */
    public static final long MAX_TOTAL_ARRAY_ELEMENTS = 1L << 23;
    /** Nesting depth of GGUF arrays of arrays (1 = a plain array). */
    public static final int MAX_ARRAY_DEPTH = 8;
    /** Dimensions of one tensor. GGUF allows 4 (GGML_MAX_DIMS); safetensors has no limit, we take 8. */
    public static final int MAX_DIMS = 8;
    /** Bytes of a safetensors JSON header (the reference implementation takes 100 MB). */
    public static final long MAX_SAFETENSORS_HEADER_BYTES = 100L * 1000 * 1000;
    /** Nesting depth of the safetensors JSON header and of index files. */
    public static final int MAX_JSON_DEPTH = 64;
    /** Shards listed in a model.safetensors.index.json. */
    public static final int MAX_SHARDS = 1 << 14;
    /** Bytes of a model.safetensors.index.json or config.json. */
    public static final long MAX_INDEX_FILE_BYTES = 64L << 20;
    /** GGUF general.alignment: a power of two at most this. */
    public static final long MAX_ALIGNMENT = 1L << 16;
    /** Tokens of a llama2.c tok.bin (vocab_size from the model header). */
    public static final int MAX_VOCAB = 1 << 22;
    /** One llama2.c header value (dim, hidden_dim, layers, heads, seq_len). */
    public static final int MAX_LLAMA2C_DIM = 1 << 20;

    /** A Hugging Face config.json width, feed-forward width or context length. */
    public static final int MAX_CONFIG_SIZE = 1 << 20;
    /** A Hugging Face config.json layer or head count. */
    public static final int MAX_CONFIG_COUNT = 4096;
    /** Bytes of a Hugging Face config.json. */
    public static final long MAX_CONFIG_FILE_BYTES = 1L << 20;

    /** Bytes of a SentencePiece tokenizer.model. */
    public static final long MAX_TOKENIZER_FILE_BYTES = 64L << 20;

    /** "what (value) exceeds the maximum (max)". */
    public static String exceeds(String what, long value, long max) {
        return what + " (" + Long.toUnsignedString(value) + ") exceeds the maximum (" + max + ")";
    }
}
