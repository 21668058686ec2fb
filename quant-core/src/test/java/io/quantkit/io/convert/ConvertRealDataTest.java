package io.quantkit.io.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.quantkit.io.Checkpoint;
import io.quantkit.io.Checkpoints;
import io.quantkit.io.MetaValue;
import io.quantkit.io.TensorInfo;
import io.quantkit.quant.Scheme;
import io.quantkit.testing.SharedData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("real-data")
class ConvertRealDataTest {
    @TempDir
    Path dir;

    /** Acceptance: stories260K.bin → GGUF f32 equals llama.cpp's conversion tensor for tensor, bit for bit. */
    @Test
    void llama2cToGgufF32EqualsLlamaCppConversion() throws Exception {
        Path out = dir.resolve("ours.gguf");
        ConvertSummary s = Converter.convert(SharedData.path("stories260K/stories260K.bin"), out,
                Converter.Options.of(Scheme.parse("f32")));
        assertEquals(48, s.tensors().size());
        assertEquals(0, s.fallbacks());
        try (Checkpoint ours = Checkpoints.open(out);
                Checkpoint ref = Checkpoints.open(SharedData.path("stories260K/stories260K-f32.gguf"))) {
            assertEquals(ref.tensors().size(), ours.tensors().size());
            for (TensorInfo r : ref.tensors()) {
                TensorInfo o = ours.info(r.name()).orElseThrow();
                assertEquals(r.shape(), o.shape(), r.name());
                assertEquals("F32", o.format());
                byte[] a = new byte[(int) r.byteLength()];
                byte[] b = new byte[(int) o.byteLength()];
                ref.rawBytes(r).get(a);
                ours.rawBytes(o).get(b);
                assertArrayEquals(a, b, r.name());
            }
            // metadata: llama.cpp's keys and values, except the two the data README documents as differing
            Map<String, MetaValue> want = new java.util.TreeMap<>(ref.metadata().asMap());
            Map<String, MetaValue> got = new java.util.TreeMap<>(ours.metadata().asMap());
            assertEquals(MetaValue.u32(512), got.remove("llama.context_length")); // llama.cpp's converter wrote 128
            want.remove("llama.context_length");
            assertEquals(MetaValue.str("stories260K"), got.remove("general.name")); // llama.cpp wrote "llama"
            want.remove("general.name");
            assertEquals(MetaValue.u32(512), got.remove("llama.vocab_size"));
            assertEquals(MetaValue.u32(0), got.remove("general.file_type"));
            assertEquals(want, got);
        }
    }

    @Test
    void outputBytesDoNotDependOnThreadCount() throws Exception {
        Path a = dir.resolve("a.gguf");
        Path b = dir.resolve("b.gguf");
        Path in = SharedData.path("stories260K/stories260K-f32.gguf");
        Converter.convert(in, a, Converter.Options.of(Scheme.parse("bf16")).withThreads(1));
        Converter.convert(in, b, Converter.Options.of(Scheme.parse("bf16")).withThreads(3));
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
    }

    /** q8_0: every 2-D weight with rows of 64 is q8_0 (ggml's codec on the same rows); ffn_down (rows of 172) falls back. */
    @Test
    void q8_0WithReportedFallback() throws Exception {
        Path out = dir.resolve("q8.gguf");
        Path in = SharedData.path("stories260K/stories260K-f32.gguf");
        ConvertSummary s = Converter.convert(in, out, Converter.Options.of(Scheme.parse("q8_0")).withThreads(2));
        assertEquals(5, s.fallbacks());
        try (Checkpoint src = Checkpoints.open(in); Checkpoint got = Checkpoints.open(out)) {
            for (TensorInfo t : src.tensors()) {
                TensorInfo o = got.info(t.name()).orElseThrow();
                String want = t.shape().rank() == 1 ? "F32" : t.name().contains("ffn_down") ? "F16" : "Q8_0";
                assertEquals(want, o.format(), t.name());
                if (want.equals("Q8_0")) {
                    io.quantkit.quant.QuantizedTensor q = io.quantkit.quant.Codecs.forScheme(Scheme.parse("q8_0"))
                            .quantize(src.tensor(t));
                    byte[] a = new byte[(int) o.byteLength()];
                    got.rawBytes(o).get(a);
                    byte[] b = new byte[a.length];
                    q.arrays().get(0).data().get(b);
                    assertArrayEquals(b, a, t.name());
                }
            }
            assertEquals(7, got.metadata().getLong("general.file_type"));
            assertEquals(2, got.metadata().getLong("general.quantization_version"));
        }
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> Converter.convert(in, dir.resolve("strict.gguf"),
                        Converter.Options.of(Scheme.parse("q4_0")).withStrict(true)));
        assertEquals("tensor 'blk.0.ffn_down.weight': rows of 172 do not fit Q4_0 blocks of 32 (strict mode: no "
                + "fallback)", e.getMessage());
        org.junit.jupiter.api.Assertions.assertFalse(Files.exists(dir.resolve("strict.gguf")));
    }
}
