package io.quantkit.bench;

import io.quantkit.quant.Codec;
import io.quantkit.quant.Codecs;
import io.quantkit.quant.QuantizedTensor;
import io.quantkit.quant.Scheme;
import io.quantkit.quant.SchemeKind;
import io.quantkit.tensor.FloatTensor;
import io.quantkit.tensor.Shape;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Quantize and dequantize throughput of every scheme's codec, one thread, on a seeded N(0, 0.02²) matrix of
 * 3125 × 1280 = 4,000,000 float32 values (16 MB). One operation = one MB of float32 input, so JMH's score in
 * ops/s is MB/s (10^6 bytes per second).
 *
 * <p>{@code quantize} is {@link Codec#quantize} (allocates the stored array); {@code quantizeInto} is
 * {@link Codec#quantizeInto(float[], int, int, byte[], int)} of the same values into one reused caller array, the
 * comparable of ggml's {@code quantize_row_*}; {@code dequantize} decodes into a reused {@code float[]}.
 *
 * <p>{@link BenchMain} runs only the schemes whose codec exists; run directly, a scheme without a codec fails its
 * setup with UnsupportedOperationException and JMH moves on. So does {@code quantizeInto} for a scheme stored in
 * more than one array (no caller-buffer path: {@link Into}'s setup throws).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class CodecBenchmark {
    static final int ROWS = 3125;
    static final int COLS = 1280;
    static final int MEGABYTES = ROWS * COLS * 4 / 1_000_000;

    @Param({"f32", "bf16", "f16", "fp8-e4m3", "fp8-e5m2", "int", "int8", "int4", "int4-outliers", "ternary",
        "mxfp4", "nf4", "q8_0", "q4_0", "q4_1", "tq1_0", "tq2_0"})
    public String scheme;

    private Codec codec;
    private float[] values;
    private FloatTensor input;
    private QuantizedTensor quantized;
    private float[] out;

    @Setup
    public void setup() {
        codec = Codecs.forScheme(Scheme.parse(scheme)); // UnsupportedOperationException: no codec yet
        SplittableRandom rnd = new SplittableRandom(42);
        float[] x = new float[ROWS * COLS];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (rnd.nextGaussian() * 0.02);
        }
        values = x;
        input = FloatTensor.wrap(Shape.of(ROWS, COLS), x);
        quantized = codec.quantize(input);
        out = new float[x.length];
    }

    @Benchmark
    @OperationsPerInvocation(MEGABYTES)
    public QuantizedTensor quantize() {
        return codec.quantize(input);
    }

    /** The caller's buffer of {@code quantizeInto}; its setup throws for a scheme without that path. */
    @State(Scope.Benchmark)
    public static class Into {
        byte[] dst;

        @Setup
        public void setup(CodecBenchmark b) {
            dst = new byte[b.codec.intoBytes(b.values.length)]; // UnsupportedOperationException: not one array
        }
    }

    @Benchmark
    @OperationsPerInvocation(MEGABYTES)
    public byte[] quantizeInto(Into into) {
        codec.quantizeInto(values, 0, values.length, into.dst, 0);
        return into.dst;
    }

    @Benchmark
    @OperationsPerInvocation(MEGABYTES)
    public float[] dequantize() {
        quantized.dequantize(0, out, 0, out.length);
        return out;
    }

    /** Every scheme name of {@link SchemeKind}, for {@link BenchMain}. */
    static String[] allSchemes() {
        SchemeKind[] kinds = SchemeKind.values();
        String[] names = new String[kinds.length];
        for (int i = 0; i < kinds.length; i++) {
            names[i] = kinds[i].cliName();
        }
        return names;
    }
}
