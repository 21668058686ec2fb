package io.quantkit.quant.ggml;

import io.quantkit.format.Fp16;
import io.quantkit.quant.Codec;
import io.quantkit.quant.QuantizedTensor;
import io.quantkit.quant.Scheme;
import io.quantkit.tensor.DType;
import io.quantkit.tensor.Shape;
import io.quantkit.tensor.StoredArray;
import io.quantkit.tensor.Tensor;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * The codec of the GGUF block schemes {@code q8_0}, {@code q4_0}, {@code q4_1}, {@code tq1_0}, {@code tq2_0} and
 * {@code mxfp4}: bytes identical to ggml's {@code quantize_row_*_ref} (see the format classes for each layout and
 * rounding rule), decoding identical to ggml's {@code dequantize_row_*}.
 *
 * <pre>
 * stored: one array, role "blocks", U8 [rows, rowLength / blockSize * blockBytes]
 * rows:   the innermost dimension, which must be a multiple of the block size (32; 256 for tq1_0/tq2_0)
 * input:  finite floats; NaN/Inf, or a block whose fp16 scale would overflow (|x| beyond about
 *         65504 * 127 for q8_0, 65504 * 8 for q4_0, 65504 for tq*), is rejected, not saturated
 * </pre>
 */
public final class GgmlCodec implements Codec {
    /** Largest tensor quantized into one heap buffer. */
    public static final long MAX_BYTES = Integer.MAX_VALUE - 8;
    /** Values copied out of the source at a time: small enough that the copy is still in cache when it is quantized. */
    private static final int CHUNK_VALUES = 1 << 13;

    private final Scheme scheme;
    private final GgmlType type;
    private final BlockFormat format;
    private final int[] halfScaleOffsets; // byte offsets of the fp16 fields in a block

    public GgmlCodec(Scheme scheme) {
        this.scheme = scheme;
        this.type = typeOf(scheme);
        this.format = GgmlQuants.format(type);
        this.halfScaleOffsets = switch (type) {
            case Q8_0, Q4_0 -> new int[] {0};
            case Q4_1 -> new int[] {0, 2};
            case TQ1_0 -> new int[] {52};
            case TQ2_0 -> new int[] {64};
            default -> new int[0]; // MXFP4: an E8M0 exponent, which cannot overflow
        };
    }

    /** The ggml type of a ggml scheme; throws {@link IllegalArgumentException} for any other scheme. */
    public static GgmlType typeOf(Scheme scheme) {
        return switch (scheme.kind()) {
            case Q8_0 -> GgmlType.Q8_0;
            case Q4_0 -> GgmlType.Q4_0;
            case Q4_1 -> GgmlType.Q4_1;
            case TQ1_0 -> GgmlType.TQ1_0;
            case TQ2_0 -> GgmlType.TQ2_0;
            case MXFP4 -> GgmlType.MXFP4;
            default -> throw new IllegalArgumentException("scheme " + scheme + " is not a ggml block type");
        };
    }

    public GgmlType type() {
        return type;
    }

    @Override
    public Scheme scheme() {
        return scheme;
    }

    @Override
    public QuantizedTensor quantize(Tensor source) {
        byte[] out = new byte[(int) checkedBytes(source.shape())];
        quantizeInto(source, ByteBuffer.wrap(out));
        GgmlTensor t = GgmlTensor.of(type, source.shape(), ByteBuffer.wrap(out));
        return new GgmlQuantizedTensor(scheme, t);
    }

    /** Bytes of the blocks of a tensor of {@code shape}; throws if its rows do not fit or it is too large. */
    private long checkedBytes(Shape shape) {
        long rowLength = shape.rowLength();
        int bs = type.blockSize();
        if (shape.rank() == 0 || rowLength % bs != 0) {
            throw new IllegalArgumentException(scheme + " needs rows (the innermost dimension) whose length is a "
                    + "multiple of " + bs + "; shape " + shape + " has rows of " + rowLength);
        }
        long total = type.tensorBytes(rowLength, shape.numel());
        if (total > MAX_BYTES) {
            throw new IllegalArgumentException(scheme + " tensor of " + total + " bytes exceeds the maximum ("
                    + MAX_BYTES + ")");
        }
        return total;
    }

    /**
     * Quantizes {@code source} into {@code dst} from its position on (which advances by the tensor's block
     * bytes): the bytes {@link #quantize} stores, written into a heap or a direct buffer, so a streaming writer
     * can hand a reused direct buffer to its channel without a copy. Throws as {@link #quantize} does (what was
     * written before the error is unspecified).
     *
     * @throws java.nio.BufferOverflowException if {@code dst} has fewer bytes remaining than the blocks need
     */
    @Override
    public void quantizeInto(Tensor source, ByteBuffer dst) {
        Shape shape = source.shape();
        long total = checkedBytes(shape);
        if (dst.remaining() < total) {
            throw new java.nio.BufferOverflowException();
        }
        int bs = type.blockSize();
        int bb = type.blockBytes();
        long n = shape.numel();
        int start = dst.position();
        // a heap buffer is written in place; a direct one through a block buffer that stays in cache
        boolean inPlace = dst.hasArray();
        int base = inPlace ? dst.arrayOffset() + start : 0;
        // float32 held in an array, into a heap buffer: quantized where both lie, without a chunk copy
        if (inPlace && n <= Integer.MAX_VALUE
                && source.readFloats(0, (int) n, (a, off, len) -> blocks(a, off, len / bs, dst.array(), base, 0))) {
            dst.position(start + (int) total);
            return;
        }
        int chunkLen = (int) Math.min(n, CHUNK_VALUES - CHUNK_VALUES % bs);
        float[] chunk = new float[chunkLen];
        byte[] out = inPlace ? dst.array() : new byte[chunkLen / bs * bb];
        // bf16 input: the raw bit patterns go to the format's fused loop (no float conversion pass), or to the
        // vector kernel straight from the source's bytes where it has one for this type
        short[] bits = n > 0 && source.copyBf16Bits(0, new short[0], 0, 0) ? new short[chunkLen] : null;
        boolean vector = bits != null && BF16_SIMD != null && (type == GgmlType.Q8_0 || type == GgmlType.Q4_0);
        for (long pos = 0; pos < n; pos += chunkLen) {
            int len = (int) Math.min(chunkLen, n - pos);
            int blocks = len / bs;
            int at = (int) (pos / bs * bb); // of this chunk's blocks, from start
            ByteBuffer raw = vector ? source.bf16Bytes(pos, len) : null;
            if (raw != null) {
                vectorChunk(raw, dst, start + at, blocks, bits, chunk, pos);
                continue;
            }
            int outPos = inPlace ? base + at : 0;
            if (bits == null) {
                source.dequantize(pos, chunk, 0, len);
                blocks(chunk, 0, blocks, out, outPos, pos);
            } else {
                source.copyBf16Bits(pos, bits, 0, len);
                if (!format.quantizeBf16(bits, 0, chunk, out, outPos, blocks)
                        || hasInfiniteScale(out, outPos, blocks)) {
                    // a NaN/Inf or an overflowing scale: the float path gives the same result and reports it
                    BlockFormat.bf16ToFloat(bits, 0, chunk, 0, len);
                    blocks(chunk, 0, blocks, out, outPos, pos);
                }
            }
            if (!inPlace) {
                dst.put(start + at, out, 0, blocks * bb);
            }
        }
        dst.position(start + (int) total);
    }

    @Override
    public int intoBytes(long count) {
        int bs = type.blockSize();
        if (count < 0 || count % bs != 0) {
            throw new IllegalArgumentException(scheme + " quantizes whole blocks of " + bs + " values; " + count
                    + " is not a multiple of " + bs);
        }
        long bytes = count / bs * type.blockBytes();
        if (bytes > MAX_BYTES) {
            throw new IllegalArgumentException(scheme + " tensor of " + bytes + " bytes exceeds the maximum ("
                    + MAX_BYTES + ")");
        }
        return (int) bytes;
    }

    /**
     * The blocks of {@code src[srcOff .. srcOff+count)} into {@code dst} from {@code dstOff}: the bytes of
     * {@link #quantize} for any tensor holding these values in rows of whole blocks, byte-identical to ggml's
     * {@code quantize_row_*_ref}. Rejects NaN/Inf and a block whose fp16 scale would overflow with the messages of
     * {@link #quantize} (indexes counted from {@code srcOff}).
     */
    @Override
    public int quantizeInto(float[] src, int srcOff, int count, byte[] dst, int dstOff) {
        int bytes = intoBytes(count);
        java.util.Objects.checkFromIndexSize(srcOff, count, src.length);
        java.util.Objects.checkFromIndexSize(dstOff, bytes, dst.length);
        blocks(src, srcOff, count / type.blockSize(), dst, dstOff, 0);
        return bytes;
    }

    /**
     * {@code blocks} blocks of {@code x[xo..]} into {@code y[yo..]} with the checks of {@link #quantize}; element
     * {@code xo} has index {@code first} in the messages.
     */
    private void blocks(float[] x, int xo, int blocks, byte[] y, int yo, long first) {
        if (!format.quantize(x, xo, y, yo, blocks)) { // the scale scans found a NaN or infinity
            int bad = GgmlQuants.firstNonFinite(x, xo, blocks * type.blockSize());
            throw new IllegalArgumentException(scheme + " cannot quantize " + x[xo + bad] + " at index "
                    + (first + bad) + ": input must be finite");
        }
        if (hasInfiniteScale(y, yo, blocks)) {
            checkScales(y, yo, blocks, x, xo, first);
        }
    }

    /** The vector kernels of the fused bf16 loops, or null (scalar loops only). */
    private static final Bf16BlockSimd BF16_SIMD = io.quantkit.simd.Simd.provider(Bf16BlockSimd.class);

    /**
     * One chunk of bf16 values ({@code raw}, little-endian) through the vector kernel, into {@code dst} from byte
     * index {@code at}; each block the kernel leaves goes through the scalar loop, which reports a NaN/infinity or an
     * fp16 scale overflow with the same message as the scalar path. {@code pos} is the chunk's first element.
     */
    private void vectorChunk(ByteBuffer raw, ByteBuffer dst, int at, int blocks, short[] bits, float[] vals,
            long pos) {
        int bs = type.blockSize();
        int bb = type.blockBytes();
        byte[] one = new byte[bb];
        int done = 0;
        while (true) {
            done += type == GgmlType.Q8_0 ? BF16_SIMD.q8_0(raw, 2 * bs * done, dst, at + bb * done, blocks - done)
                    : BF16_SIMD.q4_0(raw, 2 * bs * done, dst, at + bb * done, blocks - done);
            if (done >= blocks) {
                return;
            }
            raw.duplicate().order(java.nio.ByteOrder.LITTLE_ENDIAN).position(2 * bs * done).asShortBuffer()
                    .get(bits, 0, bs);
            boolean finite = format.quantizeBf16(bits, 0, vals, one, 0, 1);
            long first = pos + (long) bs * done;
            if (!finite || hasInfiniteScale(one, 0, 1)) {
                BlockFormat.bf16ToFloat(bits, 0, vals, 0, bs);
                if (!finite) {
                    int bad = GgmlQuants.firstNonFinite(vals, 0, bs);
                    throw new IllegalArgumentException(scheme + " cannot quantize " + vals[bad] + " at index "
                            + (first + bad) + ": input must be finite");
                }
                checkScales(one, 0, 1, vals, 0, first);
            }
            dst.put(at + bb * done, one, 0, bb);
            done++;
        }
    }

    /** True if a block's fp16 scale (or Q4_1 minimum) overflowed to infinity. */
    private boolean hasInfiniteScale(byte[] out, int outPos, int blocks) {
        int bb = type.blockBytes();
        for (int b = 0; b < blocks; b++) {
            for (int o : halfScaleOffsets) {
                if ((CMath.getShortLE(out, outPos + b * bb + o) & 0x7fff) == 0x7c00) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Rejects blocks whose fp16 scale (or Q4_1 minimum) overflowed to infinity; block 0 starts at chunk[co]. */
    private void checkScales(byte[] out, int outPos, int blocks, float[] chunk, int co, long pos) {
        int[] offsets = halfScaleOffsets;
        int bb = type.blockBytes();
        int bs = type.blockSize();
        for (int b = 0; b < blocks; b++) {
            for (int o : offsets) {
                short h = CMath.getShortLE(out, outPos + b * bb + o);
                if ((h & 0x7fff) == 0x7c00) {
                    float amax = 0;
                    for (int j = 0; j < bs; j++) {
                        amax = Math.max(amax, Math.abs(chunk[co + b * bs + j]));
                    }
                    throw new IllegalArgumentException(scheme + " cannot store the block starting at index "
                            + (pos + (long) b * bs) + ": its fp16 scale overflows (largest |x| there is " + amax
                            + ", fp16 holds up to " + Fp16.toFloat((short) 0x7bff) + ")");
                }
            }
        }
    }

    @Override
    public QuantizedTensor fromArrays(Shape shape, List<StoredArray> arrays) {
        if (arrays.size() != 1 || !arrays.get(0).role().equals(GgmlQuantizedTensor.ROLE)) {
            throw new IllegalArgumentException(scheme + " expects exactly one array with role '"
                    + GgmlQuantizedTensor.ROLE + "', got " + arrays.size() + " arrays");
        }
        StoredArray a = arrays.get(0);
        if (shape.rank() == 0 || shape.rowLength() % type.blockSize() != 0) {
            throw new IllegalArgumentException(scheme + " needs rows whose length is a multiple of "
                    + type.blockSize() + "; shape " + shape + " has rows of " + shape.rowLength());
        }
        Shape expected = Shape.of(GgmlQuantizedTensor.outerRows(shape), type.rowBytes(shape.rowLength()));
        if (a.dtype() != DType.U8 || !a.shape().equals(expected)) {
            throw new IllegalArgumentException(scheme + " tensor of shape " + shape + " expects blocks U8"
                    + expected + ", got " + a.dtype() + a.shape());
        }
        return new GgmlQuantizedTensor(scheme, GgmlTensor.of(type, shape, a.data()));
    }
}
