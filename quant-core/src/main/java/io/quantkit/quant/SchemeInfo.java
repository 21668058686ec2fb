package io.quantkit.quant;

import io.quantkit.tensor.Shape;
import java.util.Objects;

/**
 * What a {@link Scheme} stores, in words and in bytes: its scaling granularity, block or group size, storage
 * layout, and the exact number of stored bytes (hence bits per weight) for a given shape.
 *
 * <p>{@link #storageBytes(Shape)} is the accounting every report uses ({@code quant formats}, the survey,
 * compare's {@code bits_per_weight}). It counts everything a codec stores: codes, scales, zero points,
 * outlier indexes and values. It is written independently of the codecs and checked against their
 * {@code storageBytes()} by tests, so the two cannot silently disagree.
 *
 * <p>Shapes are read as {@code [rows, rowLength]}: every outer dimension is flattened into rows, groups and
 * blocks run along the row (the input dimension of a 2-D weight {@code [out, in]}).
 *
 * <p>Immutable and thread-safe.
 */
public final class SchemeInfo {
    /** Bytes of a float32 scale. */
    private static final int F32_BYTES = 4;
    /** Bytes of a 16-bit scale, zero point or outlier value. */
    private static final int HALF_BYTES = 2;
    /** Bytes of an int-grid zero point (u8). */
    private static final int ZERO_POINT_BYTES = 1;
    /** Bytes of an outlier's offset in its block of {@link #OUTLIER_BLOCK} elements (u16). */
    private static final int OUTLIER_OFFSET_BYTES = 2;
    /** Elements per block of outlier offsets; each block stores where its outliers end (i32). */
    private static final long OUTLIER_BLOCK = 65536;
    /** Bytes of one block's end (i32). */
    private static final int OUTLIER_BLOCK_END_BYTES = 4;
    /** Bits one outlier costs: its offset and its 16-bit value. */
    private static final int OUTLIER_BITS = 8 * (OUTLIER_OFFSET_BYTES + HALF_BYTES);
    /** Largest bits-per-weight target an outlier budget may name. */
    /** ggml's super-block length for the ternary types TQ1_0 and TQ2_0 (QK_K). */
    private static final int QK_K = 256;

    private final Scheme scheme;

    private SchemeInfo(Scheme scheme) {
        this.scheme = scheme;
    }

    /** The description of {@code scheme} (with its parameters). */
    public static SchemeInfo of(Scheme scheme) {
        return new SchemeInfo(Objects.requireNonNull(scheme, "scheme"));
    }

    /** The description of {@code kind} at its default parameters. */
    public static SchemeInfo of(SchemeKind kind) {
        return of(Scheme.of(kind));
    }

    public Scheme scheme() {
        return scheme;
    }

    /** One sentence: what the scheme is. */
    public String summary() {
        return switch (scheme.kind()) {
            case F32 -> "IEEE float32, stored as is (the reference)";
            case BF16 -> "bfloat16: the top 16 bits of float32, round to nearest even";
            case F16 -> "IEEE half precision, round to nearest even";
            case FP8_E4M3 -> "OCP FP8 E4M3FN codes times a float32 scale (amax / 448)";
            case FP8_E5M2 -> "OCP FP8 E5M2 codes times a float32 scale (amax / 57344)";
            case INT -> "integer grid of 2..8 bits in groups along the row, symmetric or with a zero point";
            case INT8 -> "8-bit integers, one scale per output channel (preset of int)";
            case INT4 -> "4-bit integers in groups of 128 along the row with 16-bit scales (preset of int)";
            case INT4_OUTLIERS -> "int4 groups plus a budget of weights kept exactly in 16-bit (index + value)";
            case TERNARY -> "BitNet b1.58 absmean ternary {-1, 0, +1} times a float32 scale";
            case MXFP4 -> "OCP microscaling: blocks of 32 FP4 E2M1 values sharing an E8M0 scale (GGUF MXFP4)";
            case NF4 -> "bitsandbytes NormalFloat4: 16-value table, blocks of 64 with a float32 absmax";
            case Q8_0 -> "ggml Q8_0: blocks of 32 int8 values with an fp16 scale";
            case Q4_0 -> "ggml Q4_0: blocks of 32 4-bit values (offset 8) with an fp16 scale";
            case Q4_1 -> "ggml Q4_1: blocks of 32 4-bit values with an fp16 scale and fp16 minimum";
            case TQ1_0 -> "ggml TQ1_0: ternary in super-blocks of 256, 5 trits per byte, fp16 scale";
            case TQ2_0 -> "ggml TQ2_0: ternary in super-blocks of 256, 2 bits per trit, fp16 scale";
        };
    }

    /**
     * Elements per block or group along a row: 0 when one scale covers a whole row or tensor, 1 for the
     * dense formats (no scale at all).
     */
    public int blockSize() {
        return switch (scheme.kind()) {
            case F32, BF16, F16 -> 1;
            case FP8_E4M3, FP8_E5M2 -> "block".equals(scheme.param("scale")) ? scheme.intParam("block") : 0;
            case INT, INT8, INT4, INT4_OUTLIERS -> scheme.intParam("group");
            case TERNARY -> "group".equals(scheme.param("scale")) ? scheme.intParam("group") : 0;
            case MXFP4, Q8_0, Q4_0, Q4_1 -> 32;
            case NF4 -> scheme.intParam("block");
            case TQ1_0, TQ2_0 -> QK_K;
        };
    }

    /** Who shares a scale: {@code "none"}, {@code "tensor"}, {@code "row"}, {@code "group of 128"}, {@code "128x128 tile"} ... */
    public String granularity() {
        return switch (scheme.kind()) {
            case F32, BF16, F16 -> "none";
            case FP8_E4M3, FP8_E5M2 -> switch (scheme.param("scale")) {
                case "tensor" -> "tensor";
                case "channel" -> "row (output channel)";
                default -> scheme.intParam("block") + "x" + scheme.intParam("block") + " tile";
            };
            case INT, INT8, INT4, INT4_OUTLIERS -> groupWords(scheme.intParam("group"));
            case TERNARY -> switch (scheme.param("scale")) {
                case "tensor" -> "tensor";
                case "channel" -> "row (output channel)";
                default -> groupWords(scheme.intParam("group"));
            };
            case MXFP4, Q8_0, Q4_0, Q4_1 -> "block of 32";
            case NF4 -> "block of " + scheme.intParam("block") + " (of the flattened tensor)";
            case TQ1_0, TQ2_0 -> "block of 256";
        };
    }

    /** The stored arrays and their element types, e.g. {@code "codes: u8 [rows, ceil(in/2)] ..."}. */
    public String layout() {
        return switch (scheme.kind()) {
            case F32 -> "values: f32 [shape]";
            case BF16 -> "values: bf16 [shape]";
            case F16 -> "values: f16 [shape]";
            case FP8_E4M3 -> "codes: f8_e4m3 [shape]; scales: f32 " + fp8ScaleShape();
            case FP8_E5M2 -> "codes: f8_e5m2 [shape]; scales: f32 " + fp8ScaleShape();
            case INT, INT8, INT4 -> intLayout();
            case INT4_OUTLIERS -> intLayout() + "; outlier_block_end: i32 [ceil(n/65536)] (none when k = 0),"
                    + " outliers before each block's end; outlier_offset: u16 [k], flat index mod 65536, ascending;"
                    + " outlier_value: f16 or bf16 [k]; k = floor(budget * n) (or the most a bpw target allows)";
            case TERNARY -> ("2bit".equals(scheme.param("pack"))
                    ? "codes: u8 [ceil(n/4)], q+1 as 2-bit codes, 4 per byte, first element in bits 0-1"
                    : "codes: u8 [ceil(n/5)], 5 trits per byte, byte = sum of (q+1)*3^i")
                    + "; scales: f32 " + ternaryScaleShape();
            case MXFP4 -> "blocks: 17 bytes per 32 values = e8m0 scale (1) + 16 bytes of packed e2m1 nibbles";
            case NF4 -> "codes: u8 [ceil(n/2)], two 4-bit table indexes per byte, low nibble first; scales: f32 [ceil(n/"
                    + scheme.intParam("block") + ")], absmax of each block of the flattened tensor";
            case Q8_0 -> "blocks: 34 bytes per 32 values = f16 d (2) + 32 int8 qs";
            case Q4_0 -> "blocks: 18 bytes per 32 values = f16 d (2) + 16 bytes of nibbles (x = (q - 8) * d)";
            case Q4_1 -> "blocks: 20 bytes per 32 values = f16 d (2) + f16 m (2) + 16 bytes of nibbles (x = q * d + m)";
            case TQ1_0 -> "blocks: 54 bytes per 256 values = 48 bytes of 5 trits + 4 bytes of 4 trits + f16 d (2)";
            case TQ2_0 -> "blocks: 66 bytes per 256 values = 64 bytes of 2-bit trits + f16 d (2)";
        };
    }

    /** The bits-per-weight formula, in terms of the element count n, rows r, row length c and groups g. */
    public String bitsPerWeightFormula() {
        return switch (scheme.kind()) {
            case F32 -> "32";
            case BF16, F16 -> "16";
            case FP8_E4M3, FP8_E5M2 -> switch (scheme.param("scale")) {
                case "tensor" -> "8 + 32/n";
                case "channel" -> "8 + 32*r/n";
                default -> "8 + 32*ceil(r/" + scheme.intParam("block") + ")*ceil(c/" + scheme.intParam("block") + ")/n";
            };
            case INT, INT8, INT4 -> intFormula();
            case INT4_OUTLIERS -> intFormula() + " + (32*k + 32*ceil(n/65536))/n (k > 0), k = floor(budget*n)";
            case TERNARY -> ("2bit".equals(scheme.param("pack")) ? "8*ceil(n/4)/n" : "8*ceil(n/5)/n")
                    + switch (scheme.param("scale")) {
                        case "tensor" -> " + 32/n";
                        case "channel" -> " + 32*r/n";
                        default -> " + 32*r*ceil(c/" + scheme.intParam("group") + ")/n";
                    };
            case MXFP4 -> "8*17/32 = 4.25";
            case NF4 -> "8*ceil(n/2)/n + 32*ceil(n/" + scheme.intParam("block") + ")/n";
            case Q8_0 -> "8*34/32 = 8.5";
            case Q4_0 -> "8*18/32 = 4.5";
            case Q4_1 -> "8*20/32 = 5";
            case TQ1_0 -> "8*54/256 = 1.6875";
            case TQ2_0 -> "8*66/256 = 2.0625";
        };
    }

    /** True for ggml block types, whose rows must be a whole number of blocks. */
    public boolean isGgmlBlockType() {
        return switch (scheme.kind()) {
            case MXFP4, Q8_0, Q4_0, Q4_1, TQ1_0, TQ2_0 -> true;
            case F32, BF16, F16, FP8_E4M3, FP8_E5M2, INT, INT8, INT4, INT4_OUTLIERS, TERNARY, NF4 -> false;
        };
    }

    /** Whether a tensor of {@code shape} can be stored: false only for block types whose row does not fit. */
    public boolean fits(Shape shape) {
        return !isGgmlBlockType() || shape.rowLength() % blockSize() == 0;
    }

    /**
     * Exact bytes stored for a tensor of {@code shape}: codes plus every scale, zero point, outlier index and value.
     * Throws {@link IllegalArgumentException} if the shape does not fit (see {@link #fits}).
     */
    public long storageBytes(Shape shape) {
        Objects.requireNonNull(shape, "shape");
        if (!fits(shape)) {
            throw new IllegalArgumentException(scheme + " needs rows that are a multiple of " + blockSize()
                    + " elements, but the row length is " + shape.rowLength());
        }
        long n = shape.numel();
        long r = shape.rows();
        long c = shape.rowLength();
        return switch (scheme.kind()) {
            case F32 -> 4 * n;
            case BF16, F16 -> 2 * n;
            case FP8_E4M3, FP8_E5M2 -> n + (long) F32_BYTES * fp8Scales(r, c);
            case INT -> intBytes(scheme.intParam("bits"), r, c);
            case INT8 -> intBytes(8, r, c);
            case INT4 -> intBytes(4, r, c);
            case INT4_OUTLIERS -> intBytes(4, r, c) + outlierBytes(n, outlierCount(shape));
            case TERNARY -> ceilDiv(n, "2bit".equals(scheme.param("pack")) ? 4 : 5)
                    + (long) F32_BYTES * switch (scheme.param("scale")) {
                        case "tensor" -> 1;
                        case "channel" -> r;
                        default -> r * ceilDiv(c, scheme.intParam("group"));
                    };
            case MXFP4 -> n / 32 * 17;
            case NF4 -> ceilDiv(n, 2) + (long) F32_BYTES * ceilDiv(n, scheme.intParam("block"));
            case Q8_0 -> n / 32 * 34;
            case Q4_0 -> n / 32 * 18;
            case Q4_1 -> n / 32 * 20;
            case TQ1_0 -> n / QK_K * 54;
            case TQ2_0 -> n / QK_K * 66;
        };
    }

    /** {@code 8 * storageBytes(shape) / numel}; NaN for an empty shape. */
    public double bitsPerWeight(Shape shape) {
        long n = shape.numel();
        return n == 0 ? Double.NaN : 8.0 * storageBytes(shape) / n;
    }

    /**
     * Number of weights int4-outliers keeps in 16-bit for a tensor of {@code shape}. A budget given as a fraction
     * ({@code 0.5%} or {@code 0.005}) keeps {@code floor(fraction * n)}; one given as a bits-per-weight target
     * ({@code 4.6bpw}) keeps the largest non-negative k with {@code 8 * (bytes without outliers) + 32 * ceil(n / 65536) + 32 * k <= target * n}
     * (or 0 when not even one outlier fits).
     */
    long outlierCount(Shape shape) {
        long n = shape.numel();
        OutlierBudget b = OutlierBudget.parse(scheme.param("budget"));
        if (b.bitsPerWeight()) {
            double target = b.value();
            // the block ends are paid once there is an outlier: k = floor(spare / 32) with them counted
            double spare = target * n - 8.0 * intBytes(4, shape.rows(), shape.rowLength())
                    - 8.0 * OUTLIER_BLOCK_END_BYTES * ceilDiv(n, OUTLIER_BLOCK);
            // a target below the cost of the grid and one outlier (a tiny tensor) keeps no outliers
            return spare < OUTLIER_BITS ? 0 : Math.min(n, (long) Math.floor(spare / OUTLIER_BITS));
        }
        return Math.min(n, (long) Math.floor(b.value() * n));
    }

    /** Bytes of k outliers in a tensor of n elements: offsets, values and, when k > 0, the block ends. */
    private static long outlierBytes(long n, long k) {
        return k == 0 ? 0 : (OUTLIER_OFFSET_BYTES + HALF_BYTES) * k + OUTLIER_BLOCK_END_BYTES * ceilDiv(n, OUTLIER_BLOCK);
    }

    /** Bytes of an integer grid: codes as one flat bit stream, an f16 scale per group (and a u8 zero point). */
    private long intBytes(int bits, long r, long c) {
        int group = scheme.intParam("group");
        long groupsPerRow = group == 0 ? (c == 0 ? 0 : 1) : ceilDiv(c, group);
        boolean asym = "asym".equals(scheme.param("mode"));
        long perGroup = HALF_BYTES + (asym ? ZERO_POINT_BYTES : 0);
        return ceilDiv(r * c * bits, 8) + r * groupsPerRow * perGroup;
    }

    private String intFormula() {
        int bits = switch (scheme.kind()) {
            case INT8 -> 8;
            case INT -> scheme.intParam("bits");
            default -> 4;
        };
        int group = scheme.intParam("group");
        boolean asym = "asym".equals(scheme.param("mode"));
        String perGroupBits = asym ? "24" : "16";
        String codes = "8*ceil(" + bits + "*n/8)/n";
        return group == 0 ? codes + " + " + perGroupBits + "*r/n"
                : codes + " + " + perGroupBits + "*r*ceil(c/" + group + ")/n";
    }

    private String intLayout() {
        int bits = switch (scheme.kind()) {
            case INT8 -> 8;
            case INT -> scheme.intParam("bits");
            default -> 4;
        };
        int group = scheme.intParam("group");
        String groups = group == 0 ? "[rows, 1]" : "[rows, ceil(in/" + group + ")]";
        boolean asym = "asym".equals(scheme.param("mode"));
        return "codes: u8 [ceil(" + bits + "*n/8)], " + bits + "-bit codes as one flat LSB-first bit stream;"
                + " scales: f16 " + groups + " (bf16 if a scale exceeds 65504)" + (asym ? "; zeros: u8 " + groups : "");
    }

    private long fp8Scales(long r, long c) {
        return switch (scheme.param("scale")) {
            case "tensor" -> 1;
            case "channel" -> r;
            default -> ceilDiv(r, scheme.intParam("block")) * ceilDiv(c, scheme.intParam("block"));
        };
    }

    private String fp8ScaleShape() {
        return switch (scheme.param("scale")) {
            case "tensor" -> "[1]";
            case "channel" -> "[rows, 1]";
            default -> "[ceil(rows/" + scheme.intParam("block") + "), ceil(in/" + scheme.intParam("block") + ")]";
        };
    }

    private String ternaryScaleShape() {
        return switch (scheme.param("scale")) {
            case "tensor" -> "[1]";
            case "channel" -> "[rows, 1]";
            default -> "[rows, ceil(in/" + scheme.intParam("group") + ")]";
        };
    }

    private static String groupWords(int group) {
        return group == 0 ? "row (output channel)" : "group of " + group;
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    @Override
    public String toString() {
        return "SchemeInfo[" + scheme + "]";
    }
}
