package io.quantkit.io.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quantkit.format.Bf16;
import io.quantkit.format.Fp16;
import io.quantkit.io.Checkpoint;
import io.quantkit.io.Checkpoints;
import io.quantkit.io.Container;
import io.quantkit.io.TensorInfo;
import io.quantkit.io.TestFiles;
import io.quantkit.quant.Scheme;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConverterTest {
    private static final long SEED = 7;

    @TempDir
    Path dir;

    private Path model() throws Exception {
        TestFiles.tokBin(dir, "tok40.bin", 40);
        return TestFiles.llama2c(dir, "tiny.bin", 32, 64, 2, 4, 2, 40, 16, SEED, false);
    }

    private static String sha(Path p) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
    }

    @Test
    void llama2cToGgufF16RoundsEveryWeightAndKeepsNorms() throws Exception {
        Path in = model();
        String before = sha(in);
        Path out = dir.resolve("out/tiny-f16.gguf");
        List<String> seen = new ArrayList<>();
        ConvertSummary s = Converter.convert(in, out, Converter.Options.of(Scheme.parse("f16"))
                .withListener((i, n, r) -> seen.add(i + "/" + n + " " + r.name())));
        assertEquals(before, sha(in), "input modified (seed " + SEED + ")");
        assertEquals(Container.GGUF, s.container());
        assertEquals(1 + 2 * 9 + 2, s.tensors().size());
        assertEquals("0/21 token_embd.weight", seen.get(0));
        assertEquals("20/21 output.weight", seen.get(20));
        assertEquals(Files.size(out), s.bytesOut());
        try (Checkpoint src = Checkpoints.open(in); Checkpoint got = Checkpoints.open(out)) {
            assertEquals(src.names(), got.names());
            for (TensorInfo t : src.tensors()) {
                TensorInfo o = got.info(t.name()).orElseThrow();
                boolean keep = t.shape().rank() == 1;
                assertEquals(keep ? "F32" : "F16", o.format(), t.name());
                float[] a = src.tensor(t).toFloatArray();
                float[] b = got.tensor(o).toFloatArray();
                for (int i = 0; i < a.length; i++) {
                    float want = keep ? a[i] : Fp16.round(a[i]);
                    assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(b[i]), t.name() + "[" + i + "]");
                }
            }
            assertEquals(40, got.tokenizer().orElseThrow().size());
            assertEquals("t\u25814", got.tokenizer().orElseThrow().token(4));
            assertEquals("<s>", got.tokenizer().orElseThrow().token(1));
            assertEquals(1, got.metadata().getLong("general.file_type"));
        }
        try (Stream<Path> files = Files.list(out.getParent())) {
            assertEquals(List.of(out), files.toList(), "temporary file left behind");
        }
    }

    @Test
    void existingOutputIsKeptUnlessForced() throws Exception {
        Path in = model();
        Path out = dir.resolve("x.gguf");
        Files.writeString(out, "precious");
        assertThrows(FileAlreadyExistsException.class,
                () -> Converter.convert(in, out, Converter.Options.of(Scheme.parse("f32"))));
        assertEquals("precious", Files.readString(out));
        Converter.convert(in, out, Converter.Options.of(Scheme.parse("f32")).withForce(true));
        try (Checkpoint c = Checkpoints.open(out)) {
            assertEquals(21, c.tensors().size());
        }
    }

    @Test
    void outputMayNotBeTheInputAndNeedsAKnownExtension() throws Exception {
        Path in = model();
        assertThrows(IllegalArgumentException.class,
                () -> Converter.convert(in, dir.resolve("x.bin"), Converter.Options.of(Scheme.parse("f32"))));
        Path g = dir.resolve("g.gguf");
        Converter.convert(in, g, Converter.Options.of(Scheme.parse("f32")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Converter.convert(g, g, Converter.Options.of(Scheme.parse("f32")).withForce(true)));
        assertTrue(e.getMessage().contains("is the input file"), e.getMessage());
        IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class,
                () -> Converter.convert(in, dir.resolve("i.gguf"), Converter.Options.of(Scheme.parse("int4"))));
        assertTrue(e2.getMessage().contains("cannot be stored in GGUF"), e2.getMessage());
    }

    @Test
    void recipeRulesComeFirstAndKeepCopiesBytes() throws Exception {
        Path in = model();
        Path out = dir.resolve("r.gguf");
        Recipe r = Recipe.parse("# layer 0 stays exact\nblk.0.* keep\nre:.*attn_[qk]\\.weight = f16\n");
        ConvertSummary s = Converter.convert(in, out, Converter.Options.of(Scheme.parse("bf16")).withRecipe(r));
        try (Checkpoint got = Checkpoints.open(out)) {
            assertEquals("F32", got.info("blk.0.attn_q.weight").orElseThrow().format());
            assertEquals("F16", got.info("blk.1.attn_q.weight").orElseThrow().format());
            assertEquals("F16", got.info("blk.1.attn_k.weight").orElseThrow().format());
            assertEquals("BF16", got.info("blk.1.attn_v.weight").orElseThrow().format());
            assertEquals("F32", got.info("output_norm.weight").orElseThrow().format());
        }
        TensorReport q = s.tensors().stream().filter(t -> t.name().equals("blk.1.attn_q.weight")).findFirst()
                .orElseThrow();
        assertEquals("re:.*attn_[qk]\\.weight f16", q.rule());
        assertNull(q.fallback());
        assertEquals(16.0, q.bitsPerWeight());
    }

    @Test
    void safetensorsBf16RoundTripAndBackToGguf() throws Exception {
        Path in = model();
        Path st = dir.resolve("m.safetensors");
        Converter.convert(in, st, Converter.Options.of(Scheme.parse("bf16")).withThreads(2));
        byte[] bytes = Files.readAllBytes(st);
        long n = java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(0, (8 + n) % 8, "data section 8-byte aligned");
        String header = new String(bytes, 8, (int) n, java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{\"__metadata__\":{\"general.architecture\":\"llama\""), header);
        try (Checkpoint src = Checkpoints.open(in); Checkpoint got = Checkpoints.open(st)) {
            assertEquals(Container.SAFETENSORS, got.container());
            assertEquals(src.names(), got.names(), "data in input order");
            for (TensorInfo t : src.tensors()) {
                TensorInfo o = got.info(t.name()).orElseThrow();
                boolean keep = t.shape().rank() == 1;
                assertEquals(keep ? "F32" : "BF16", o.format());
                float[] a = src.tensor(t).toFloatArray();
                float[] b = got.tensor(o).toFloatArray();
                for (int i = 0; i < a.length; i++) {
                    assertEquals(keep ? a[i] : Bf16.round(a[i]), b[i], t.name());
                }
            }
        }
        Path back = dir.resolve("back.gguf");
        Converter.convert(st, back, Converter.Options.of(Scheme.parse("f32")));
        try (Checkpoint a = Checkpoints.open(st); Checkpoint b = Checkpoints.open(back)) {
            for (TensorInfo t : a.tensors()) {
                assertArrayEquals(a.tensor(t).toFloatArray(), b.tensor(t.name()).toFloatArray(), t.name());
            }
        }
    }

    @Test
    void recipeParseErrorsNameTheLine() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Recipe.parse("a f32\nb nonsense\n"));
        assertTrue(e.getMessage().startsWith("recipe line 2: unknown scheme 'nonsense'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Recipe.parse("re:( f32"));
        assertThrows(IllegalArgumentException.class, () -> Recipe.parse("onlypattern"));
    }

    /** q4_0 in safetensors: one U8 "blocks" array under the name plus the quantkit entry; re-read as q4_0. */
    @Test
    void safetensorsQ4_0LayoutRoundTrip() throws Exception {
        Path in = model();
        Path st = dir.resolve("q4.safetensors");
        Converter.convert(in, st, Converter.Options.of(Scheme.parse("q4_0")));
        try (Checkpoint src = Checkpoints.open(in); Checkpoint got = Checkpoints.open(st)) {
            assertEquals(src.names(), got.names());
            assertEquals("2", got.metadata().getString("quantkit.format"));
            assertEquals("{\"scheme\":\"q4_0\",\"shape\":[64,32],\"arrays\":[[\"blocks\",\"blk.0.ffn_gate.weight\"]]}",
                    got.metadata().getString("quantkit.tensor.blk.0.ffn_gate.weight"));
            TensorInfo g = got.info("blk.0.ffn_gate.weight").orElseThrow();
            assertEquals("q4_0", g.format());
            assertEquals(64L * 18, g.byteLength());
            io.quantkit.tensor.Tensor q = got.tensor(g);
            assertTrue(q instanceof io.quantkit.quant.QuantizedTensor);
            float[] want = io.quantkit.quant.Codecs.forScheme(Scheme.parse("q4_0"))
                    .quantize(src.tensor("blk.0.ffn_gate.weight")).toFloatArray();
            assertArrayEquals(want, q.toFloatArray());
            // converting it again keeps the blocks as they are
            Path again = dir.resolve("again.gguf");
            Converter.convert(st, again, Converter.Options.of(Scheme.parse("q4_0")));
            try (Checkpoint a = Checkpoints.open(again)) {
                assertEquals("Q4_0", a.info("blk.0.ffn_gate.weight").orElseThrow().format());
                assertArrayEquals(want, a.tensor("blk.0.ffn_gate.weight").toFloatArray());
            }
        }
    }

    /**
     * A {@link Converter.TensorQuantizer} is asked per tensor and its whole-tensor result is written (here one that
     * quantizes w/2 with the q4_0 codec: halving is exact, so the decode is exactly half the codec's); the method
     * is reported per tensor, and a rule's method needs a quantizer.
     */
    @Test
    void aTensorQuantizerReplacesTheCodecWhereItSaysSo() throws Exception {
        Path in = model();
        Converter.TensorQuantizer half = new Converter.TensorQuantizer() {
            @Override
            public String method(String name, io.quantkit.tensor.Shape shape, Scheme scheme, String ruleMethod) {
                return name.startsWith("blk.1.") ? ruleMethod == null ? "half" : ruleMethod : null;
            }

            @Override
            public io.quantkit.quant.QuantizedTensor quantize(String name, io.quantkit.tensor.Tensor t, Scheme scheme,
                                                             String method) {
                float[] v = t.toFloatArray();
                for (int i = 0; i < v.length; i++) {
                    v[i] /= 2;
                }
                return io.quantkit.quant.Codecs.forScheme(scheme).quantize(io.quantkit.tensor.FloatTensor.of(t.shape(), v));
            }
        };
        Recipe r = Recipe.parse("blk.1.ffn_up.weight q4_0 gptq\n");
        Path out = dir.resolve("half.gguf");
        ConvertSummary s = Converter.convert(in, out, Converter.Options.of(Scheme.parse("q4_0")).withRecipe(r)
                .withQuantizer(half).withThreads(3));
        java.util.Map<String, String> methods = new java.util.HashMap<>();
        for (TensorReport t : s.tensors()) {
            methods.put(t.name(), t.method());
        }
        assertEquals("half", methods.get("blk.1.attn_q.weight"));
        assertEquals("gptq", methods.get("blk.1.ffn_up.weight"), "the rule's method is passed on");
        assertEquals("rtn", methods.get("blk.0.attn_q.weight"));
        assertEquals(null, methods.get("blk.0.attn_norm.weight"), "copied");
        try (Checkpoint src = Checkpoints.open(in); Checkpoint got = Checkpoints.open(out)) {
            float[] rtn = io.quantkit.quant.Codecs.forScheme(Scheme.parse("q4_0"))
                    .quantize(src.tensor("blk.1.attn_q.weight")).toFloatArray();
            float[] h = got.tensor("blk.1.attn_q.weight").toFloatArray();
            for (int i = 0; i < rtn.length; i++) {
                assertEquals(rtn[i] / 2, h[i], 0.0, "element " + i);
            }
            assertArrayEquals(io.quantkit.quant.Codecs.forScheme(Scheme.parse("q4_0"))
                    .quantize(src.tensor("blk.0.attn_q.weight")).toFloatArray(),
                    got.tensor("blk.0.attn_q.weight").toFloatArray());
        }
        Path one = dir.resolve("half1.gguf");
        Converter.convert(in, one, Converter.Options.of(Scheme.parse("q4_0")).withRecipe(r).withQuantizer(half));
        assertEquals(sha(out), sha(one), "same bytes for any thread count");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Converter.convert(in,
                dir.resolve("x.gguf"), Converter.Options.of(Scheme.parse("q4_0")).withRecipe(r)));
        assertTrue(e.getMessage().contains("needs calibration statistics"), e.getMessage());
    }

    @Test
    void recipeRulesMayNameAMethod() {
        Recipe r = Recipe.parse("a int4:group=32 gptq\nb = q4_0\nc keep\n");
        assertEquals("gptq", r.rules().get(0).method());
        assertEquals(Scheme.parse("int4:group=32"), r.rules().get(0).scheme());
        assertEquals(null, r.rules().get(1).method());
        assertEquals("a int4:group=32 gptq\nb q4_0\nc keep\n", r.toString());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Recipe.parse("x keep gptq"));
        assertTrue(e.getMessage().startsWith("recipe line 1: 'keep' takes no method"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Recipe.parse("x q4_0 gptq extra"));
        assertTrue(e.getMessage().contains("is not 'PATTERN SCHEME [METHOD]'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Recipe.parse("\nx q4_0 GPTQ!"));
        assertTrue(e.getMessage().startsWith("recipe line 2: method 'GPTQ!'"), e.getMessage());
    }
}
