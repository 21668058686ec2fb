// 07 · GGUF block types byte by byte: Q8_0, Q4_0, Q4_1, TQ2_0
//
// Run:   ./quant jshell docs/notebooks/07-ggml-blocks.jsh
//
// ggml stores a tensor as a stream of fixed-size blocks, each with its own fp16 scale (and, for Q4_1, an fp16
// minimum). Here you quantize one block, print its bytes, and decode them by hand from the documented layout
// (docs/concepts.md, "GGUF block types"); the checks compare the hand decoding with the codec. The numbers
// in docs/concepts.md come from this file.

import io.quantkit.format.*;
import io.quantkit.quant.*;
import io.quantkit.tensor.*;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.*;

// ---- notebook helpers: p() prints with a fixed locale; check() throws when a claim is false ----------------
void p(String fmt, Object... args) { System.out.print(String.format(Locale.ROOT, fmt, args)); }
void check(boolean ok, String claim) {
    if (!ok) throw new IllegalStateException("CHECK FAILED: " + claim);
    p("  [ok] %s%n", claim);
}
byte[] blocks(String scheme, float[] x) {
    QuantizedTensor q = Codecs.forScheme(Scheme.parse(scheme)).quantize(FloatTensor.of(Shape.of(x.length), x));
    ByteBuffer b = q.arrays().get(0).data();
    byte[] out = new byte[b.remaining()];
    b.get(out);
    return out;
}
float[] decoded(String scheme, float[] x) {
    return Codecs.forScheme(Scheme.parse(scheme)).quantize(FloatTensor.of(Shape.of(x.length), x)).toFloatArray();
}
String hex(byte[] b, int from, int to) {
    StringBuilder sb = new StringBuilder();
    for (int i = from; i < to; i++) sb.append(String.format("%02x", b[i] & 0xFF)).append(i + 1 < to ? " " : "");
    return sb.toString();
}
float f16(byte[] b, int off) { return Fp16.toFloat((short) ((b[off] & 0xFF) | (b[off + 1] << 8))); }

// ==== Q8_0: 34 bytes = fp16 d + 32 int8 codes; d = amax/127; q = roundf(x/d), ties AWAY from zero ============
float[] x8 = new float[32];
x8[0] = 127f; x8[1] = 2.5f; x8[2] = -2.5f; x8[3] = 0.5f; x8[4] = -63.5f;
for (int j = 5; j < 32; j++) x8[j] = j - 16;
byte[] b8 = blocks("q8_0", x8);
p("Q8_0 block of 32 (x0 = 127, x1 = 2.5, x2 = −2.5, x3 = 0.5, x4 = −63.5, then j − 16):%n  bytes %d: d = %s | %s ...%n",
  b8.length, hex(b8, 0, 2), hex(b8, 2, 10));
check(b8.length == 34 && f16(b8, 0) == 1.0f, "34 bytes; d = fp16(127/127) = 1.0 (0x3c00)");
check(b8[3] == 3 && b8[4] == -3 && b8[5] == 1 && b8[6] == -64,
      "2.5 → 3, −2.5 → −3, 0.5 → 1, −63.5 → −64: roundf ties away from zero (half-even would give 2, −2, 0, −64)");

// ==== Q4_0: 18 bytes = fp16 d + 16 bytes of nibbles; d = (value of largest |x|) / −8; q = trunc(x/d + 8.5) ===
float[] x4 = new float[32];
for (int j = 0; j < 32; j++) x4[j] = (j - 12) * 0.1f;                 // −1.2 .. 1.9
byte[] b4 = blocks("q4_0", x4);
float d4 = f16(b4, 0);
p("%nQ4_0 block of x_j = (j − 12)·0.1, j = 0..31:%n  bytes %d: d = %s (%s) | %s%n", b4.length, hex(b4, 0, 2), d4, hex(b4, 2, 18));
float[] hand4 = new float[32];
for (int j = 0; j < 16; j++) {
    hand4[j] = ((b4[2 + j] & 0x0F) - 8) * d4;                           // low nibble: value j
    hand4[j + 16] = (((b4[2 + j] >> 4) & 0x0F) - 8) * d4;               // high nibble: value j + 16
}
p("  decoded by hand: x0 = %s, x12 = %s, x31 = %s%n", hand4[0], hand4[12], hand4[31]);
check(b4.length == 18 && d4 == Fp16.round(1.9f / -8), "18 bytes; d = fp16(1.9 / −8): negative, so the largest value (1.9) gets code 0 → −8·d");
check(Arrays.equals(hand4, decoded("q4_0", x4)), "the hand decoding (low nibble = value j, high = j + 16) equals the codec's");
check(hand4[31] == -8 * d4 && Math.abs(hand4[0] - x4[0]) <= Math.abs(d4), "x31 = 1.9 is at the −8 end; the other side reaches at most +7·|d|");

// ==== Q4_1: 20 bytes = fp16 d + fp16 min + nibbles; d = (max − min)/15; q = trunc((x − min)/d + 0.5) ======
byte[] b41 = blocks("q4_1", x4);
float d41 = f16(b41, 0), m41 = f16(b41, 2);
float[] hand41 = new float[32];
for (int j = 0; j < 16; j++) {
    hand41[j] = (b41[4 + j] & 0x0F) * d41 + m41;
    hand41[j + 16] = ((b41[4 + j] >> 4) & 0x0F) * d41 + m41;
}
p("%nQ4_1 of the same block:%n  bytes %d: d = %s (%s), m = %s (%s) | %s%n", b41.length, hex(b41, 0, 2), d41, hex(b41, 2, 4), m41, hex(b41, 4, 20));
check(b41.length == 20 && m41 == Fp16.round(-1.2f) && d41 == Fp16.round((1.9f - -1.2f) / 15), "20 bytes; m = fp16(min), d = fp16((max − min)/15)");
check(Arrays.equals(hand41, decoded("q4_1", x4)), "the hand decoding q·d + m equals the codec's");
double e40 = ErrorMetrics.of(x4, decoded("q4_0", x4)).maxAbsError(), e41 = ErrorMetrics.of(x4, decoded("q4_1", x4)).maxAbsError();
p("  max |error|: Q4_0 %.4f, Q4_1 %.4f%n", e40, e41);
check(e41 < e40, "on a one-sided-ish block the minimum (Q4_1, 5 bits/weight) beats Q4_0 (4.5)");

// ==== TQ2_0: 66 bytes per 256 = 64 bytes of 2-bit trits + fp16 d; d = amax; trit = roundf(x/d) + 1 ==========
float[] xt = new float[256];
for (int j = 0; j < 256; j++) xt[j] = ((j * 7) % 5 - 2) * 0.25f;         // values −0.5, −0.25, 0, 0.25, 0.5
byte[] bt = blocks("tq2_0", xt);
float dt = f16(bt, 64);
float[] handT = new float[256];
for (int g = 0; g < 2; g++) for (int nn = 0; nn < 4; nn++) for (int m = 0; m < 32; m++)
    handT[128 * g + 32 * nn + m] = (((bt[32 * g + m] >> (2 * nn)) & 3) - 1) * dt;
p("%nTQ2_0 block of 256 values in {−0.5, −0.25, 0, 0.25, 0.5}: %d bytes, d = %s; first bytes %s%n", bt.length, dt, hex(bt, 0, 4));
check(bt.length == 66 && dt == 0.5f, "66 bytes; d = amax = 0.5");
check(Arrays.equals(handT, decoded("tq2_0", xt)), "qs[32g + m] bits 2n..2n+1 hold value 128g + 32n + m: the hand decoding equals the codec's");
check(xt[4] == 0.25f && handT[4] == 0.5f && xt[3] == -0.25f && handT[3] == -0.5f, "±0.25 = ±d/2 is a tie: roundf sends it away from zero, to ±d");
