package io.quantkit.quant.codec;

import java.nio.ByteBuffer;

/**
 * Dense little-endian bit streams of fixed-width codes, shared by every sub-byte codec.
 *
 * <pre>
 * code i (of b bits, 1 ≤ b ≤ 8) occupies stream bits [i·b, i·b + b), least significant bit first;
 * stream bit k is bit (k mod 8) of byte ⌊k/8⌋.
 *   b = 8: one code per byte
 *   b = 4: two codes per byte, element 2j in the low nibble, 2j+1 in the high nibble
 *   b = 2: four codes per byte, element 4j in bits 0-1
 *   b = 3, 5, 6, 7: codes straddle byte boundaries; the last byte is zero-padded
 * total bytes: ⌈n·b / 8⌉
 * </pre>
 */
final class BitPacking {
    private BitPacking() {
    }

    /** Bytes needed for {@code n} codes of {@code bits} bits. */
    static int packedBytes(long n, int bits) {
        long bytes = (n * bits + 7) / 8;
        if (bytes > CodecSupport.MAX_BUFFER_BYTES) {
            throw new IllegalArgumentException("packed codes (" + bytes + " bytes) exceed the maximum ("
                    + CodecSupport.MAX_BUFFER_BYTES + ") of one buffer");
        }
        return (int) bytes;
    }

    /** Packs {@code n} codes (each in {@code [0, 2^bits)}, one per byte of {@code codes}) into a new array. */
    static byte[] pack(byte[] codes, int n, int bits) {
        byte[] out = new byte[packedBytes(n, bits)];
        switch (bits) {
            case 8 -> System.arraycopy(codes, 0, out, 0, n);
            case 4 -> {
                int pairs = n >>> 1;
                for (int j = 0; j < pairs; j++) {
                    out[j] = (byte) ((codes[2 * j] & 0x0f) | (codes[2 * j + 1] << 4));
                }
                if ((n & 1) != 0) {
                    out[pairs] = (byte) (codes[n - 1] & 0x0f);
                }
            }
            case 2 -> {
                for (int i = 0; i < n; i++) {
                    out[i >>> 2] |= (byte) ((codes[i] & 3) << ((i & 3) << 1));
                }
            }
            default -> {
                long bit = 0;
                int mask = (1 << bits) - 1;
                for (int i = 0; i < n; i++, bit += bits) {
                    int v = (codes[i] & mask) << (int) (bit & 7);
                    int at = (int) (bit >>> 3);
                    out[at] |= (byte) v;
                    if ((v >>> 8) != 0) {
                        out[at + 1] |= (byte) (v >>> 8);
                    }
                }
            }
        }
        return out;
    }

    /** The code of element {@code index} (unsigned, {@code [0, 2^bits)}). */
    static int read(ByteBuffer packed, long index, int bits) {
        switch (bits) {
            case 8:
                return packed.get((int) index) & 0xff;
            case 4:
                return (packed.get((int) (index >>> 1)) >>> (((int) index & 1) << 2)) & 0x0f;
            default:
                long bit = index * bits;
                int at = (int) (bit >>> 3);
                int shift = (int) (bit & 7);
                int v = (packed.get(at) & 0xff) >>> shift;
                if (shift + bits > 8) {
                    v |= (packed.get(at + 1) & 0xff) << (8 - shift);
                }
                return v & ((1 << bits) - 1);
        }
    }

    /** Unpacks codes {@code [from, from+len)} into {@code dst[0..len)}, one unsigned code per int. */
    static void unpack(ByteBuffer packed, long from, int len, int bits, int[] dst) {
        if (bits == 8) {
            int base = (int) from;
            for (int i = 0; i < len; i++) {
                dst[i] = packed.get(base + i) & 0xff;
            }
        } else if (bits == 4) {
            int i = 0;
            long idx = from;
            if ((idx & 1) != 0 && len > 0) {
                dst[i++] = (packed.get((int) (idx >>> 1)) >>> 4) & 0x0f;
                idx++;
            }
            int at = (int) (idx >>> 1);
            for (; i + 1 < len; i += 2, at++) {
                int b = packed.get(at);
                dst[i] = b & 0x0f;
                dst[i + 1] = (b >>> 4) & 0x0f;
            }
            if (i < len) {
                dst[i] = packed.get(at) & 0x0f;
            }
        } else {
            for (int i = 0; i < len; i++) {
                dst[i] = read(packed, from + i, bits);
            }
        }
    }
}
