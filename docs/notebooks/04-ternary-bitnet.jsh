// 04 · Ternary: BitNet b1.58
//
// Run:   ./quant jshell docs/notebooks/04-ternary-bitnet.jsh
// Plots: written to $QUANTKIT_NOTEBOOK_OUT (or -R-Dquantkit.notebook.out=DIR), else to a new temp folder.
//
// BitNet b1.58 keeps each weight as −1, 0 or +1 times one scale: log2(3) ≈ 1.58 bits of information. Its
// "absmean" rule sets the scale to the mean |w| and rounds w/s to the nearest of −1, 0, +1. You will
// predict from the normal distribution how many weights become 0 and how much error that leaves, check
// both against the codec, then open the packed bytes (2 bits per weight, or 5 weights per byte = 1.6 bits).

import io.quantkit.format.*;
import io.quantkit.quant.*;
import io.quantkit.tensor.*;
import io.quantkit.eval.SchemeSurvey;
import io.quantkit.cli.Chart;
import org.apache.commons.math3.special.Erf;
import java.nio.ByteBuffer;
import java.nio.file.*;
import java.util.*;

// ---- notebook helpers: p() prints with a fixed locale; check() throws when a claim is false ----------------
void p(String fmt, Object... args) { System.out.print(String.format(Locale.ROOT, fmt, args)); }
void check(boolean ok, String claim) {
    if (!ok) throw new IllegalStateException("CHECK FAILED: " + claim);
    p("  [ok] %s%n", claim);
}
Path outDir() throws java.io.IOException {
    String d = System.getProperty("quantkit.notebook.out", System.getenv("QUANTKIT_NOTEBOOK_OUT"));
    return d != null ? Files.createDirectories(Path.of(d)) : Files.createTempDirectory("quantkit-notebook-");
}
String bar(double fraction, int width) { return "#".repeat((int) Math.round(fraction * width)); }
double phi(double x) { return Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI); }   // standard normal density
double cdf(double x) { return 0.5 * Erf.erfc(-x / Math.sqrt(2)); }              // standard normal CDF
Path OUT = outDir();
p("plots go to %s%n", OUT);

// ==== 1. Absmean on a Gaussian: predict, then measure ==========================================================
// For w ~ N(0, σ²): E|w| = σ·√(2/π) ≈ 0.798σ. A weight becomes 0 when |w/s| < 1/2, i.e. |w| < 0.399σ, so
// the zero fraction is P(|Z| < ½·√(2/π)) = 2Φ(0.399) − 1 ≈ 0.31. (Ties at exactly ½ go to even, 0; they have
// probability 0 here.)
int rows = 256, cols = 1024, n = rows * cols;
long seed = 5;
double sigma = 0.02;
float[] w = SchemeSurvey.matrix(SchemeSurvey.Matrix.GAUSSIAN, rows, cols, seed);
FloatTensor W = FloatTensor.wrap(Shape.of(rows, cols), w);
QuantizedTensor t2 = Codecs.forScheme(Scheme.parse("ternary")).quantize(W);     // scale=tensor, pack=2bit
float s = t2.arrays().get(1).data().getFloat(0);
float[] back = t2.toFloatArray();
long zeros = 0, plus = 0, minus = 0;
for (float v : back) { if (v == 0) zeros++; else if (v > 0) plus++; else minus++; }
double a = 0.5 * Math.sqrt(2 / Math.PI);                  // the zero threshold, in σ
double predictedZeros = 2 * cdf(a) - 1;
p("%nN(0, %.2f²) %dx%d, seed %d: scale s = mean|w| = %.6f (σ·√(2/π) = %.6f)%n", sigma, rows, cols, seed, s, sigma * Math.sqrt(2 / Math.PI));
p("codes: −1 %.4f, 0 %.4f, +1 %.4f   (normal CDF predicts zeros %.4f)%n", minus / (double) n, zeros / (double) n, plus / (double) n, predictedZeros);
check(Math.abs(s - sigma * Math.sqrt(2 / Math.PI)) < 0.01 * sigma, "absmean scale is σ·√(2/π) within 1% of σ");
check(Math.abs(zeros / (double) n - predictedZeros) < 0.005, String.format(Locale.ROOT,
      "zero fraction %.4f matches 2Φ(½√(2/π)) − 1 = %.4f within 0.005", zeros / (double) n, predictedZeros));
check(Math.abs(plus - minus) < 0.01 * n, "+1 and −1 are balanced (symmetric weights)");

// The error, in closed form. With a = s/2 and unit σ (s = √(2/π)):
//   E[e²] = 2∫₀^a w²φ dw + 2∫_a^∞ (w − s)²φ dw
//         = 2[(Φ(a) − ½) − aφ(a)] + 2[aφ(a) + (1 − Φ(a)) − 2sφ(a) + s²(1 − Φ(a))]
double su = Math.sqrt(2 / Math.PI), au = su / 2;
double mse = 2 * ((cdf(au) - 0.5) - au * phi(au)) + 2 * (au * phi(au) + (1 - cdf(au)) - 2 * su * phi(au) + su * su * (1 - cdf(au)));
double predictedDb = -10 * Math.log10(mse);
double measuredDb = ErrorMetrics.of(W, t2).sqnrDb();
p("SQNR: measured %.3f dB, predicted %.3f dB%n", measuredDb, predictedDb);
check(Math.abs(measuredDb - predictedDb) < 0.1, "ternary SQNR on a Gaussian matches the closed form within 0.1 dB");
// About 5.8 dB: post-training ternary is far too lossy for a model trained in float. BitNet b1.58 trains
// with the ternary rounding in the loop (QAT, notebook 06), so the weights learn to live on the grid.

// Text histogram of w/s with the rounding thresholds at ±½
p("%nw / s    (| marks the thresholds ±0.5: inside → 0, outside → ±1)%n");
int[] h = new int[16];
for (float v : w) { int b = (int) Math.floor((v / s + 2) * 4); if (b >= 0 && b < 16) h[b]++; }
for (int b = 0; b < 16; b++) {
    double lo = b / 4.0 - 2;
    p("%s[%5.2f,%5.2f) %6d %s%n", (lo == -0.5 || lo == 0.5) ? "|" : " ", lo, lo + 0.25, h[b], bar(h[b] / (double) n, 200));
}
double[] ws = new double[n];
for (int i = 0; i < n; i++) ws[i] = w[i] / s;
Chart.histogram("Gaussian weights divided by the absmean scale (zero band: |w/s| < 0.5)", "w / s", ws, 100).
     writePng(OUT.resolve("04-weights-over-absmean.png"));

// ==== 2. Packing ===============================================================================================
// pack=2bit: t = q + 1 ∈ {0, 1, 2} in 2 bits, four per byte, element 4j in bits 0–1.
// pack=base3: five trits per byte, byte = Σ tᵢ·3^i (3^5 = 243 ≤ 256), so 8/5 = 1.6 bits per weight.
QuantizedTensor t3 = Codecs.forScheme(Scheme.parse("ternary:pack=base3")).quantize(W);
int[] q = new int[n];
for (int i = 0; i < n; i++) q[i] = Math.round(back[i] / s);   // back[i] is exactly q·s, q ∈ {−1, 0, 1}
ByteBuffer c2 = t2.arrays().get(0).data(), c3 = t3.arrays().get(0).data();
p("%nfirst 5 weights: ");
for (int i = 0; i < 5; i++) p("%+.4f→%+d  ", w[i], q[i]);
int byte2 = 0, byte3 = 0;
for (int i = 0; i < 4; i++) byte2 |= (q[i] + 1) << (2 * i);
for (int i = 0, pow = 1; i < 5; i++, pow *= 3) byte3 += (q[i] + 1) * pow;
p("%n2bit  byte 0 = 0b%8s (by hand 0x%02X, stored 0x%02X)%n", Integer.toBinaryString(c2.get(0) & 0xFF | 0x100).substring(1), byte2, c2.get(0) & 0xFF);
p("base3 byte 0 = %d = %d + 3·%d + 9·%d + 27·%d + 81·%d (stored %d)%n", byte3, q[0] + 1, q[1] + 1, q[2] + 1, q[3] + 1, q[4] + 1, c3.get(0) & 0xFF);
boolean allBytes = true;
for (int j = 0; j < n / 5; j++) {
    int v = 0;
    for (int i = 4; i >= 0; i--) v = v * 3 + q[5 * j + i] + 1;
    allBytes &= (c3.get(j) & 0xFF) == v;
}
check((c2.get(0) & 0xFF) == byte2 && (c3.get(0) & 0xFF) == byte3, "byte 0 of both packings matches the hand computation");
check(allBytes, "every full base-3 byte equals Σ tᵢ·3^i of its five weights");
check(Arrays.equals(t3.toFloatArray(), back), "both packings decode to the same weights");
long bytes3 = (n + 4) / 5;
check(t2.arrays().get(0).byteSize() == n / 4 && t3.arrays().get(0).byteSize() == bytes3, "2bit stores n/4 bytes, base3 ⌈n/5⌉");
p("bits per weight: 2bit %.5f, base3 %.5f (one float32 scale for the tensor)%n", t2.bitsPerWeight(), t3.bitsPerWeight());
check(t2.bitsPerWeight() == (8.0 * n / 4 + 32) / n && t3.bitsPerWeight() == (8.0 * bytes3 + 32) / n, "bits per weight: 2 or 8·⌈n/5⌉/n, plus 32/n for the scale");

// ==== 3. Scale granularity and the ggml ternary blocks =========================================================
// ggml's TQ1_0 (base-3, 1.6875 bits) and TQ2_0 (2 bits, 2.0625 bits) keep one fp16 scale per 256 weights,
// but the scale is the block's amax, not its mean: only |w| ≥ amax/2 becomes ±1. That suits weights that
// were trained ternary (all of them already ±d or 0); on a Gaussian most weights round to 0.
p("%n%-30s %9s %9s %8s%n", "scheme", "bits/w", "SQNR dB", "zeros");
Map<String, double[]> r = new LinkedHashMap<>();
for (String sc : List.of("ternary", "ternary:scale=channel", "ternary:scale=group,group=256", "ternary:pack=base3", "tq2_0", "tq1_0")) {
    QuantizedTensor qt = Codecs.forScheme(Scheme.parse(sc)).quantize(W);
    float[] d = qt.toFloatArray();
    long z = 0;
    for (float v : d) if (v == 0) z++;
    r.put(sc, new double[] {qt.bitsPerWeight(), ErrorMetrics.of(W, qt).sqnrDb(), z / (double) n});
    p("%-30s %9.5f %9.2f %8.4f%n", sc, qt.bitsPerWeight(), ErrorMetrics.of(W, qt).sqnrDb(), z / (double) n);
}
check(r.get("tq2_0")[0] == 66 * 8 / 256.0 && r.get("tq1_0")[0] == 54 * 8 / 256.0, "TQ2_0 is 66 bytes and TQ1_0 54 bytes per 256 weights: 2.0625 and 1.6875 bits");
check(r.get("tq2_0")[2] > 0.7, "amax scaling zeroes more than 70% of a Gaussian (threshold ≈ 1.4σ for a block of 256)");
check(r.get("ternary")[1] > r.get("tq2_0")[1], "on float-trained (Gaussian) weights absmean beats the amax scale in SQNR");
double ternaryTq = r.get("tq1_0")[1] - r.get("tq2_0")[1];
check(Math.abs(ternaryTq) < 1e-9, "TQ1_0 and TQ2_0 hold the same values: only the packing differs");
p("%nplot: %s%n", OUT.resolve("04-weights-over-absmean.png"));
