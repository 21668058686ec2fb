// 01 · Floats to FP8
//
// Run:   ./quant jshell docs/notebooks/01-floats-to-fp8.jsh
// Plots: written to $QUANTKIT_NOTEBOOK_OUT (or -R-Dquantkit.notebook.out=DIR), else to a new temp folder.
//
// FP8 has only 256 codes, so nothing here is sampled when it can be enumerated. You will see every E4M3 and
// E5M2 code, how a float32 rounds onto those grids (nearest, ties to even, with subnormals), what happens
// above the largest value (saturation), and how much error FP8 adds to a weight matrix.
// Every claim is checked: a check(...) that fails throws, and CI runs this file.

import io.quantkit.format.*;
import io.quantkit.quant.*;
import io.quantkit.tensor.*;
import io.quantkit.eval.SchemeSurvey;
import io.quantkit.cli.Chart;
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
Path OUT = outDir();
p("plots go to %s%n", OUT);

// ==== 1. Every code ===========================================================================================
// A code is S EEEE MMM (E4M3) or S EEEEE MM (E5M2). Exponent field 0 means subnormal: 0.M · 2^(1−bias).
// Count what the 256 codes are.

record Census(int positiveFinite, int zeros, int nan, int inf, float max, float minNormal, float minSubnormal) {}

Census census(Fp8Format f) {
    int pos = 0, zeros = 0, nan = 0, inf = 0;
    float max = 0, minNormal = Float.MAX_VALUE, minSub = Float.MAX_VALUE;
    for (int c = 0; c < 256; c++) {
        float v = f.decode((byte) c);
        int e = (c >> f.mantissaBits()) & ((1 << f.exponentBits()) - 1);
        if (Float.isNaN(v)) nan++;
        else if (Float.isInfinite(v)) inf++;
        else if (v == 0) zeros++;
        else if (v > 0) {
            pos++;
            max = Math.max(max, v);
            if (e == 0) minSub = Math.min(minSub, v); else minNormal = Math.min(minNormal, v);
        }
    }
    return new Census(pos, zeros, nan, inf, max, minNormal, minSub);
}

Census e4 = census(Fp8Format.E4M3);
Census e5 = census(Fp8Format.E5M2);
p("%n%-6s %14s %6s %5s %5s %10s %12s %14s%n", "format", "positive finite", "zeros", "NaN", "Inf", "max", "min normal", "min subnormal");
p("%-6s %14d %6d %5d %5d %10s %12s %14s%n", "E4M3", e4.positiveFinite(), e4.zeros(), e4.nan(), e4.inf(), e4.max(), e4.minNormal(), e4.minSubnormal());
p("%-6s %14d %6d %5d %5d %10s %12s %14s%n", "E5M2", e5.positiveFinite(), e5.zeros(), e5.nan(), e5.inf(), e5.max(), e5.minNormal(), e5.minSubnormal());

// E4M3 ("FN": finite, NaN-only) gives up infinities and keeps one NaN pattern per sign, S.1111.111, so the
// top binade still has 7 finite values: max = 1.110b · 2^(15−7) = 1.75 · 256 = 448.
// E5M2 is IEEE-like: exponent 11111 is Inf (mantissa 00) or NaN, so max = 1.11b · 2^(30−15) = 57344.
check(e4.positiveFinite() == 126, "E4M3 has 126 positive finite codes (0x01..0x7E)");
check(e5.positiveFinite() == 123, "E5M2 has 123 positive finite codes (0x01..0x7B)");
check(e4.max() == 1.75f * 256 && e4.max() == 448f, "E4M3 max finite = 1.75·2^8 = 448");
check(e5.max() == 1.75f * 32768 && e5.max() == 57344f, "E5M2 max finite = 1.75·2^15 = 57344");
check(e4.nan() == 2 && e4.inf() == 0, "E4M3: two NaN codes (0x7F, 0xFF), no infinities");
check(e5.nan() == 6 && e5.inf() == 2, "E5M2: six NaN codes, two infinities");
check(e4.minNormal() == 0x1p-6f && e4.minSubnormal() == 0x1p-9f, "E4M3 min normal 2^-6, min subnormal 2^-9");
check(e5.minNormal() == 0x1p-14f && e5.minSubnormal() == 0x1p-16f, "E5M2 min normal 2^-14, min subnormal 2^-16");
check(2 * e4.positiveFinite() + e4.zeros() + e4.nan() + e4.inf() == 256
      && 2 * e5.positiveFinite() + e5.zeros() + e5.nan() + e5.inf() == 256, "the census accounts for all 256 codes of each");

// ==== 2. The E4M3 grid, one binade per row ===================================================================
// Inside a binade [2^e, 2^(e+1)) the 8 values are evenly spaced; each row up doubles the spacing. So FP8
// has constant *relative* precision, and integers (notebook 02) have constant *absolute* precision.
p("%nE4M3 positive values (row = exponent field E, column = mantissa M):%n");
p("%-14s", "E \\ M");
for (int m = 0; m < 8; m++) p("%11s", "M=" + m);
p("%n");
for (int e = 0; e < 16; e++) {
    p("%-14s", e == 0 ? "0000 (subnorm)" : String.format("%4s  2^%-3d", Integer.toBinaryString(e | 16).substring(1), e - 7));
    for (int m = 0; m < 8; m++) {
        float v = Fp8Format.E4M3.decode((byte) (e << 3 | m));
        p("%11s", Float.isNaN(v) ? "NaN" : (v < 0.01f ? String.format("%.3e", v) : String.valueOf(v)));
    }
    p("%n");
}

// The step to the next code, relative to the value, lies in (2^-(m+1), 2^-m] for normal values.
boolean stepsOk(Fp8Format f) {
    int m = f.mantissaBits();
    for (int c = 1; c < 0x7F; c++) {
        float v = f.decode((byte) c), next = f.decode((byte) (c + 1));
        if (!Float.isFinite(next) || v < f.minNormal()) continue;
        double rel = (next - v) / v;
        if (!(rel > Math.scalb(1.0, -(m + 1)) && rel <= Math.scalb(1.0, -m))) return false;
    }
    return true;
}
check(stepsOk(Fp8Format.E4M3), "E4M3 normal values: relative step in (1/16, 1/8]");
check(stepsOk(Fp8Format.E5M2), "E5M2 normal values: relative step in (1/8, 1/4]");

// ==== 3. Rounding: nearest value, ties to the even code, subnormals, saturation =============================
p("%n%-14s %-9s %-12s %-9s %-12s %s%n", "x", "E4M3 code", "E4M3 value", "E5M2 code", "E5M2 value", "note");
String[][] cases = {
    {"0.3", "ordinary rounding"},
    {"17", "E4M3: tie between 16 (M=000) and 18 (M=001): even wins, 16"},
    {"19", "E4M3: tie between 18 (M=001) and 20 (M=010): 20"},
    {"300", "E4M3 step is 32 here"},
    {"464", "E4M3: 448 + half a step: a tie, even side is 448 (no overflow)"},
    {"470", "E4M3: above 464: overflow, saturates to 448"},
    {"61440", "E5M2: 57344 + half a step: tie toward 2^16, overflow"},
    {"0.0009765625", "2^-10: half of E4M3's min subnormal: tie to even, 0"},
    {"0.00146484375", "3·2^-11: rounds up to the min subnormal 2^-9"},
};
for (String[] c : cases) {
    float x = Float.parseFloat(c[0]);
    byte a = Fp8Format.E4M3.encode(x), b = Fp8Format.E5M2.encode(x);
    p("%-14s 0x%02X      %-12s 0x%02X      %-12s %s%n", c[0], a & 0xFF, Fp8Format.E4M3.decode(a), b & 0xFF,
      Fp8Format.E5M2.decode(b), c[1]);
}
check(Fp8Format.E4M3.round(17f, Overflow.SATURATE) == 16f && Fp8Format.E4M3.round(19f, Overflow.SATURATE) == 20f,
      "ties go to the even mantissa: 17 → 16, 19 → 20");
check(Fp8Format.E4M3.round(464f, Overflow.NON_SATURATING) == 448f, "464 is a tie that rounds down to 448, even without saturation");
check(Fp8Format.E4M3.round(470f, Overflow.SATURATE) == 448f && Float.isNaN(Fp8Format.E4M3.round(470f, Overflow.NON_SATURATING)),
      "470 overflows E4M3: 448 when saturating, NaN when not (E4M3 has no Inf)");
check(Fp8Format.E5M2.round(61440f, Overflow.SATURATE) == 57344f && Fp8Format.E5M2.round(61440f, Overflow.NON_SATURATING) == Float.POSITIVE_INFINITY,
      "61440 overflows E5M2: 57344 saturating, +Inf not");
check(Fp8Format.E4M3.round(0x1p-10f, Overflow.SATURATE) == 0f && Fp8Format.E4M3.round(3 * 0x1p-11f, Overflow.SATURATE) == 0x1p-9f,
      "below the min subnormal: 2^-10 → 0 (tie to even), 3·2^-11 → 2^-9");

// An independent encoder: search the sorted list of finite values for the nearest one, ties to the even
// code. Compare with Fp8Format.encode on 200,000 seeded random floats spread over every binade.
float bruteForce(Fp8Format f, float x) {
    float best = 0; int bestCode = 0; double bestErr = Double.MAX_VALUE;
    for (int c = 0; c < 128; c++) {
        float v = f.decode((byte) c);
        if (!Float.isFinite(v)) continue;
        double err = Math.abs((double) Math.abs(x) - v);
        if (err < bestErr || (err == bestErr && (c & 1) == 0)) { best = v; bestCode = c; bestErr = err; }
    }
    return Math.copySign(best, x);
}
long seed = 20261124L;
SplittableRandom rnd = new SplittableRandom(seed);
int mismatches = 0;
for (int i = 0; i < 200_000; i++) {
    Fp8Format f = (i & 1) == 0 ? Fp8Format.E4M3 : Fp8Format.E5M2;
    double lo = Math.log(f.minSubnormal() / 4), hi = Math.log(f.maxFinite());
    float x = (float) Math.exp(lo + (hi - lo) * rnd.nextDouble());
    if (rnd.nextBoolean()) x = -x;
    if (i % 1000 == 0) x = f.decode((byte) rnd.nextInt(128)); // exact grid values too
    if (Float.isNaN(x) || Float.isInfinite(x)) continue;
    if (Float.floatToIntBits(f.round(x, Overflow.SATURATE)) != Float.floatToIntBits(bruteForce(f, x))) mismatches++;
}
check(mismatches == 0, "encode agrees with a brute-force nearest-even search on 200,000 random floats (seed " + seed + ")");

// ==== 4. Relative error across the range (plot) ==============================================================
// Normal range: at most half a step, 2^-(m+1) relative. Below the min normal, steps stay fixed while values
// shrink, so the relative error climbs to 100% near zero. That is why quantizers scale weights up first.
List<Chart.Point> relE4 = new ArrayList<>(), relE5 = new ArrayList<>();
double worstNormalE4 = 0, worstNormalE5 = 0;
for (int i = 0; i <= 1500; i++) {
    double log2x = -18 + i * (18 + 9.0) / 1500;
    float x = (float) Math.pow(2, log2x);
    double r4 = Math.abs(Fp8Format.E4M3.round(x, Overflow.SATURATE) - x) / x;
    double r5 = Math.abs(Fp8Format.E5M2.round(x, Overflow.SATURATE) - x) / x;
    if (x <= 448) relE4.add(new Chart.Point(log2x, r4, ""));
    relE5.add(new Chart.Point(log2x, r5, ""));
    if (x >= Fp8Format.E4M3.minNormal() && x <= 448) worstNormalE4 = Math.max(worstNormalE4, r4);
    if (x >= Fp8Format.E5M2.minNormal()) worstNormalE5 = Math.max(worstNormalE5, r5);
}
p("%nworst relative rounding error, normal range: E4M3 %.4f (bound 1/16 = 0.0625), E5M2 %.4f (bound 1/8)%n", worstNormalE4, worstNormalE5);
check(worstNormalE4 <= 1.0 / 16 && worstNormalE5 <= 1.0 / 8, "normal-range relative error is at most half a step, 2^-(m+1)");
Chart.xy("FP8 relative rounding error", "log2(x)", "|round(x) - x| / x").series("E4M3", relE4).series("E5M2", relE5).
     lines(true).writePng(OUT.resolve("01-fp8-relative-error.png"));

// ==== 5. FP8 on weights ======================================================================================
// fp8-e4m3 stores w / s in E4M3 with s = amax / 448 (one float32 scale per tensor by default), so the largest
// weight lands on 448 and nothing overflows. The error of a value in binade [2^e, 2^(e+1)) is spread over
// one step 2^(e−m), so the noise follows the signal: about 6 dB per mantissa bit, whatever the scale.
// The "uniform-error model" predicts the noise without quantizing: Σ step(x)²/12 over the scaled weights.
int rows = 256, cols = 512;
long wSeed = 7;
float[] w = SchemeSurvey.matrix(SchemeSurvey.Matrix.GAUSSIAN, rows, cols, wSeed);
FloatTensor W = FloatTensor.wrap(Shape.of(rows, cols), w);
p("%nN(0, 0.02²) matrix %dx%d, seed %d%n%-24s %8s %9s%n", rows, cols, wSeed, "scheme", "bits/w", "SQNR dB");
Map<String, Double> sqnr = new LinkedHashMap<>();
for (String s : List.of("fp8-e4m3", "fp8-e4m3:scale=channel", "fp8-e5m2", "bf16", "int8")) {
    QuantizedTensor q = Codecs.forScheme(Scheme.parse(s)).quantize(W);
    double db = ErrorMetrics.of(W, q).sqnrDb();
    sqnr.put(s, db);
    p("%-24s %8.4f %9.2f%n", s, q.bitsPerWeight(), db);
    if (s.equals("fp8-e4m3")) check(q.bitsPerWeight() == 8 + 32.0 / (rows * cols), "fp8-e4m3 per tensor costs 8 bits + one float32 scale");
}
double modelSqnr(float[] x, Fp8Format f) {
    float amax = 0;
    for (float v : x) amax = Math.max(amax, Math.abs(v));
    double signal = 0, noise = 0;
    for (float v : x) {
        double y = Math.abs(v) / (amax / f.maxFinite());        // the scaled weight
        int e = Math.max(Math.getExponent(y), Math.getExponent(f.minNormal())); // subnormals share the lowest step
        double step = Math.scalb(1.0, e - f.mantissaBits());
        signal += y * y;
        noise += y == 0 ? 0 : step * step / 12;
    }
    return 10 * Math.log10(signal / noise);
}
double m4 = modelSqnr(w, Fp8Format.E4M3), m5 = modelSqnr(w, Fp8Format.E5M2);
p("uniform-error model: E4M3 %.2f dB, E5M2 %.2f dB%n", m4, m5);
check(Math.abs(sqnr.get("fp8-e4m3") - m4) < 0.3, "E4M3 SQNR within 0.3 dB of the uniform-error model");
check(Math.abs(sqnr.get("fp8-e5m2") - m5) < 0.3, "E5M2 SQNR within 0.3 dB of the uniform-error model");
double gain = sqnr.get("fp8-e4m3") - sqnr.get("fp8-e5m2");
check(gain > 5 && gain < 7, String.format(Locale.ROOT, "one more mantissa bit is worth ≈ 6 dB (E4M3 − E5M2 = %.2f dB)", gain));
// bf16 has 7 mantissa bits: about 4 more bits than E4M3, ≈ 24 dB more.
check(sqnr.get("bf16") - sqnr.get("fp8-e4m3") > 20, "bf16 (m = 7) beats E4M3 (m = 3) by more than 20 dB");

// Where do the scaled weights land? Count codes by binade: a Gaussian fills the top few binades; the
// subnormals (E = 0) are almost empty, so E4M3 loses little to its small range once the scale is right.
QuantizedTensor q8 = Codecs.forScheme(Scheme.parse("fp8-e4m3")).quantize(W);
java.nio.ByteBuffer codes = q8.arrays().get(0).data();
int[] perExp = new int[16];
while (codes.hasRemaining()) perExp[(codes.get() >> 3) & 15]++;
p("%nE4M3 codes of the scaled weights, by exponent field:%n");
for (int e = 0; e < 16; e++) {
    double frac = perExp[e] / (double) (rows * cols);
    p("  E=%2d %-10s %7.3f%% %s%n", e, e == 0 ? "(subnorm)" : "[2^" + (e - 7) + ",2^" + (e - 6) + ")", 100 * frac, bar(frac, 60));
}
check(perExp[0] < rows * cols / 1000, "fewer than 0.1% of the scaled Gaussian weights are subnormal in E4M3");
double[] scaled = new double[w.length];
float s0 = q8.arrays().get(1).data().getFloat(0);
for (int i = 0; i < w.length; i++) scaled[i] = w[i] / s0;
Chart.histogram("Gaussian weights after scaling by amax/448", "w / s", scaled, 80).writePng(OUT.resolve("01-scaled-weights.png"));
p("%nplots: %s, %s%n", OUT.resolve("01-fp8-relative-error.png"), OUT.resolve("01-scaled-weights.png"));
