package io.quantkit.io.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.quantkit.io.Checkpoint;
import io.quantkit.io.Checkpoints;
import io.quantkit.io.TensorInfo;
import io.quantkit.io.TestFiles;
import io.quantkit.quant.Codecs;
import io.quantkit.quant.QuantizedTensor;
import io.quantkit.quant.Scheme;
import io.quantkit.quant.SchemeKind;
import io.quantkit.tensor.StoredArray;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every scheme through our safetensors layout: the stored arrays read back are byte-identical to the codec's
 * arrays for the same tensor, the tensor decodes to the same floats, and converting the file again to bf16
 * works (int4 → bf16 ...). Rows of 64 fit every block size except the 256-value ternary ggml types, which fall
 * back to bf16 (all 9 2-D tensors, asserted). Seeded synthetic model (seed 11).
 */
class EverySchemeRoundTripTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(SchemeKind.class)
    void storedArraysReadBackExactly(SchemeKind kind) throws Exception {
        Path in = TestFiles.llama2c(dir, "m.bin", 64, 128, 1, 4, 2, 32, 8, 11, false);
        Scheme scheme = Scheme.of(kind);
        Path st = dir.resolve("m-" + kind.cliName() + ".safetensors");
        ConvertSummary s = Converter.convert(in, st, Converter.Options.of(scheme));
        boolean fallsBack = kind == SchemeKind.TQ1_0 || kind == SchemeKind.TQ2_0;
        assertEquals(fallsBack ? 9 : 0, s.fallbacks(), kind + " fallbacks");
        try (Checkpoint src = Checkpoints.open(in); Checkpoint got = Checkpoints.open(st)) {
            assertEquals(src.names(), got.names());
            for (TensorInfo t : src.tensors()) {
                if (t.shape().rank() == 1) {
                    continue;
                }
                QuantizedTensor want = Codecs.forScheme(fallsBack ? Scheme.of(SchemeKind.BF16) : scheme)
                        .quantize(src.tensor(t));
                var back = got.tensor(t.name());
                assertArrayEquals(want.toFloatArray(), back.toFloatArray(), kind + " " + t.name());
                if (back instanceof QuantizedTensor q) {
                    assertEquals(want.arrays().size(), q.arrays().size());
                    for (int i = 0; i < q.arrays().size(); i++) {
                        StoredArray a = want.arrays().get(i);
                        StoredArray b = q.arrays().get(i);
                        assertEquals(a.role(), b.role());
                        assertEquals(a.dtype(), b.dtype());
                        assertEquals(a.shape(), b.shape());
                        assertEquals(a.data(), b.data(), kind + " " + t.name() + " " + a.role());
                    }
                }
            }
        }
        Path again = dir.resolve("again-" + kind.cliName() + ".safetensors");
        Converter.convert(st, again, Converter.Options.of(Scheme.of(SchemeKind.BF16)));
        try (Checkpoint a = Checkpoints.open(st); Checkpoint b = Checkpoints.open(again)) {
            for (TensorInfo t : a.tensors()) {
                if (t.shape().rank() > 1) {
                    assertEquals("BF16", b.info(t.name()).orElseThrow().format());
                    float[] x = a.tensor(t).toFloatArray();
                    float[] y = b.tensor(t.name()).toFloatArray();
                    for (int i = 0; i < x.length; i++) {
                        assertEquals(io.quantkit.format.Bf16.round(x[i]), y[i], t.name());
                    }
                }
            }
        }
    }
}
