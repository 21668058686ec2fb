package io.quantkit.quant.codec;

import io.quantkit.format.Bf16;
import io.quantkit.format.Fp16;
import io.quantkit.quant.Codec;
import io.quantkit.quant.QuantizedTensor;
import io.quantkit.quant.Scheme;
import io.quantkit.simd.Simd;
import io.quantkit.tensor.DType;
import io.quantkit.tensor.Shape;
import io.quantkit.tensor.StoredArray;
import io.quantkit.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * f32, bf16 and f16: one value per element, no scale.
 *
 * <pre>
 * layout: "values" [shape] little-endian f32 / bf16 / f16
 * rounding: f32 exact; bf16 and f16 round to nearest, ties to even
 * NaN/Inf: kept as NaN/Inf (f16 overflow above 65504 rounds to Inf, as IEEE specifies)
 * </pre>
 */
public final class DenseCodec implements Codec {
    /** Values converted at a time: the chunk and its scratch copies stay in the L2 cache. */
    private static final int CHUNK_VALUES = 1 << 14;
    /** The vector kernels of the bf16 and f16 encodings, or null: the scalar loops below. */
    private static final DenseSimd SIMD = Simd.provider(DenseSimd.class, 256);

    private final Scheme scheme;
    private final DType dtype;

    public DenseCodec(Scheme scheme) {
        this.scheme = scheme;
        this.dtype = switch (scheme.kind()) {
            case F32 -> DType.F32;
            case BF16 -> DType.BF16;
            case F16 -> DType.F16;
            default -> throw new IllegalArgumentException("DenseCodec does not handle " + scheme);
        };
    }

    @Override
    public Scheme scheme() {
        return scheme;
    }

    @Override
    public int intoBytes(long count) {
        if (count < 0) {
            throw new IllegalArgumentException("count must be >= 0, got " + count);
        }
        long bytes = count * dtype.bytes();
        if (count > CodecSupport.MAX_BUFFER_BYTES / dtype.bytes()) {
            throw new IllegalArgumentException("tensor of " + count + " elements is too large for one heap buffer");
        }
        return (int) bytes;
    }

    @Override
    public QuantizedTensor quantize(Tensor source) {
        Shape shape = source.shape();
        byte[] out = new byte[intoBytes(shape.numel())];
        write(source, out, 0);
        return new Dense(scheme, shape, StoredArray.of("values", dtype, shape, CodecSupport.le(out)));
    }

    @Override
    public void quantizeInto(Tensor source, ByteBuffer dst) {
        long n = source.shape().numel();
        int bytes = intoBytes(n);
        if (dst.remaining() < bytes) {
            throw new java.nio.BufferOverflowException();
        }
        int start = dst.position();
        if (dst.hasArray()) {
            write(source, dst.array(), dst.arrayOffset() + start);
        } else { // a direct buffer: through a chunk of codes that stays in cache
            float[] chunk = new float[(int) Math.min(n, CHUNK_VALUES)];
            byte[] codes = new byte[chunk.length * dtype.bytes()];
            for (long pos = 0; pos < n; pos += chunk.length) {
                int len = (int) Math.min(chunk.length, n - pos);
                source.dequantize(pos, chunk, 0, len);
                int m = quantizeInto(chunk, 0, len, codes, 0);
                dst.put(start + (int) (pos * dtype.bytes()), codes, 0, m);
            }
        }
        dst.position(start + bytes);
    }

    /**
     * The codes of every element of {@code source} into {@code out} from {@code oo}: read in place where the tensor
     * holds float32 in an array, otherwise a chunk at a time.
     */
    private void write(Tensor source, byte[] out, int oo) {
        long n = source.shape().numel(); // intoBytes(n) fits an int, so n does
        if (source.readFloats(0, (int) n, (a, off, len) -> quantizeInto(a, off, len, out, oo))) {
            return;
        }
        float[] chunk = new float[(int) Math.min(n, CHUNK_VALUES)];
        for (long pos = 0; pos < n; pos += chunk.length) {
            int len = (int) Math.min(chunk.length, n - pos);
            source.dequantize(pos, chunk, 0, len);
            quantizeInto(chunk, 0, len, out, oo + (int) (pos * dtype.bytes()));
        }
    }

    /**
     * The codes of {@code src[srcOff .. srcOff+count)}, little-endian, into {@code dst} from {@code dstOff}
     * ({@code 4·count} bytes for f32, {@code 2·count} for bf16 and f16), as {@link #quantize} stores them; NaN and
     * infinities are kept (bf16 and f16 quiet a NaN and keep its sign and top payload bits).
     */
    @Override
    public int quantizeInto(float[] src, int srcOff, int count, byte[] dst, int dstOff) {
        int bytes = intoBytes(count);
        java.util.Objects.checkFromIndexSize(srcOff, count, src.length);
        java.util.Objects.checkFromIndexSize(dstOff, bytes, dst.length);
        switch (dtype) {
            case F32 -> ByteBuffer.wrap(dst, dstOff, bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer()
                    .put(src, srcOff, count);
            case BF16 -> {
                if (SIMD != null) {
                    SIMD.bf16(src, srcOff, dst, dstOff, count);
                } else {
                    for (int i = 0; i < count; i++) {
                        putShortLE(dst, dstOff + 2 * i, bf16Bits(Float.floatToRawIntBits(src[srcOff + i])));
                    }
                }
            }
            default -> {
                if (SIMD != null) {
                    SIMD.f16(src, srcOff, dst, dstOff, count);
                } else {
                    for (int i = 0; i < count; i++) {
                        putShortLE(dst, dstOff + 2 * i, Fp16.fromFloat(src[srcOff + i]));
                    }
                }
            }
        }
        return bytes;
    }

    /** One little-endian 16-bit store (C2 emits a single {@code mov}, not two byte stores). */
    private static final java.lang.invoke.VarHandle SHORT_LE =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);

    private static void putShortLE(byte[] b, int p, int v) {
        SHORT_LE.set(b, p, (short) v);
    }

    /**
     * {@code Bf16.fromFloat(intBitsToFloat(b))} in the low 16 bits: the same rounding (nearest, ties to even; a NaN
     * keeps its sign and top payload and gets the quiet bit) without a branch.
     */
    static int bf16Bits(int b) {
        int rounded = (b + 0x7fff + ((b >>> 16) & 1)) >>> 16;
        int quietNaN = (b >>> 16) | 0x0040;
        int isNaN = (0x7f800000 - (b & 0x7fffffff)) >> 31; // all ones when |b| > 0x7f800000
        return rounded ^ ((rounded ^ quietNaN) & isNaN);
    }

    /**
     * {@code bits[i] = Bf16.fromFloat(intBitsToFloat(bits[i]))} for i &lt; n, in the low 16 bits: the same rounding
     * (nearest, ties to even; a NaN keeps its sign and top payload and gets the quiet bit) without a branch, so
     * the loop is integer arithmetic over one array.
     */
    static void bf16Bits(int[] bits, int n) {
        for (int i = 0; i < n; i++) {
            bits[i] = bf16Bits(bits[i]);
        }
    }

    @Override
    public QuantizedTensor fromArrays(Shape shape, List<StoredArray> arrays) {
        if (arrays.size() != 1 || arrays.get(0).dtype() != dtype || !arrays.get(0).shape().equals(shape)) {
            throw new IllegalArgumentException(scheme + " expects one " + dtype + shape + " array");
        }
        return new Dense(scheme, shape, arrays.get(0));
    }

    private static final class Dense implements QuantizedTensor {
        private final Scheme scheme;
        private final Shape shape;
        private final StoredArray values;
        private final ByteBuffer buf;
        private final DType dtype;

        Dense(Scheme scheme, Shape shape, StoredArray values) {
            this.scheme = scheme;
            this.shape = shape;
            this.values = values;
            this.buf = values.data();
            this.dtype = values.dtype();
        }

        @Override
        public Scheme scheme() {
            return scheme;
        }

        @Override
        public List<StoredArray> arrays() {
            return List.of(values);
        }

        @Override
        public Shape shape() {
            return shape;
        }

        @Override
        public void dequantize(long from, float[] dst, int off, int len) {
            if (from < 0 || len < 0 || from + len > shape.numel()) {
                throw new IndexOutOfBoundsException("range [" + from + ", " + (from + len) + ") out of bounds for "
                        + shape);
            }
            int base = (int) from;
            switch (dtype) {
                case F32 -> buf.duplicate().order(ByteOrder.LITTLE_ENDIAN).position(4 * base).asFloatBuffer()
                        .get(dst, off, len);
                default -> {
                    // bulk copy of the 16-bit codes, then a plain loop over a short[] (no per-element buffer access)
                    java.nio.ShortBuffer codes = buf.duplicate().order(ByteOrder.LITTLE_ENDIAN).position(2 * base)
                            .asShortBuffer();
                    short[] h = new short[Math.min(len, CHUNK_VALUES)];
                    boolean bf16 = dtype == DType.BF16;
                    for (int done = 0; done < len; done += h.length) {
                        int m = Math.min(h.length, len - done);
                        codes.get(done, h, 0, m);
                        int o = off + done;
                        if (bf16) {
                            for (int i = 0; i < m; i++) {
                                dst[o + i] = Float.intBitsToFloat(h[i] << 16);
                            }
                        } else {
                            for (int i = 0; i < m; i++) {
                                dst[o + i] = Fp16.toFloat(h[i]);
                            }
                        }
                    }
                }
            }
        }

        @Override
        public float getFloat(long index) {
            int i = Math.toIntExact(index);
            return switch (dtype) {
                case F32 -> buf.getFloat(4 * i);
                case BF16 -> Bf16.toFloat(buf.getShort(2 * i));
                default -> Fp16.toFloat(buf.getShort(2 * i));
            };
        }
    }
}
