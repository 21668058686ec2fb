// 02 · Integer quantization: scales, zero points, per-tensor vs per-channel vs group
//
// Run:   ./quant jshell docs/notebooks/02-integer-quantization.jsh
// Plots: written to $QUANTKIT_NOTEBOOK_OUT (or -R-Dquantkit.notebook.out=DIR), else to a new temp folder.
//
// An integer grid has constant absolute precision: one step s everywhere. The whole game is choosing s,
// and how many weights share one s. You will quantize eight numbers by hand, then a matrix with an outlier
// row at four granularities, then sweep the bit width, then see what a zero point buys on skewed data.

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

// ==== 1. Eight numbers by hand =================================================================================
// Symmetric INT4: codes −8..7, s = amax / 7, q = clamp(round_half_even(x / s)), x' = q·s. The largest
// magnitude lands exactly on ±7; −8 is never used (it exists because two's complement has it).
float[] x = {0.82f, -0.41f, 0.05f, -1.3f, 0.6f, 0.0f, 1.05f, -0.2f};
IntGrid sym = IntGrid.symmetric(4);
float amax = 0;
for (float v : x) amax = Math.max(amax, Math.abs(v));
float s = sym.symmetricScale(amax);
p("%nsymmetric INT4, amax = %s, s = amax/7 = %.6f%n%8s %9s %4s %9s %9s%n", amax, s, "x", "x/s", "q", "q·s", "error");
double worstSym = 0;
for (float v : x) {
    int q = sym.quantize(v, s);
    float back = sym.dequantize(q, s);
    worstSym = Math.max(worstSym, Math.abs(v - back));
    p("%8.3f %9.4f %4d %9.4f %9.4f%n", v, v / s, q, back, v - back);
}
check(sym.quantize(-1.3f, s) == -7, "the largest magnitude (−1.3) maps to −7, not −8");
check(worstSym <= s / 2, String.format(Locale.ROOT, "every error is at most s/2 = %.4f (worst %.4f)", s / 2, worstSym));

// Asymmetric (unsigned) INT4: codes 0..15 cover [min, max] (widened to contain 0), s = (max − min)/15, and
// an integer zero point z = round(−min / s) is the code of 0.0, so zero (padding, ReLU output) stays exact.
IntGrid uns = IntGrid.unsigned(4);
float mn = 0, mx = 0;
for (float v : x) { mn = Math.min(mn, v); mx = Math.max(mx, v); }
float sa = uns.asymmetricScale(mn, mx);
int z = uns.zeroPoint(mn, sa);
p("%nasymmetric INT4, range [%s, %s], s = %.6f, zero point z = %d%n%8s %4s %9s %9s%n", mn, mx, sa, z, "x", "q", "(q−z)·s", "error");
double worstAsym = 0;
for (float v : x) {
    int q = uns.quantize(v, sa, z);
    float back = uns.dequantize(q, sa, z);
    worstAsym = Math.max(worstAsym, Math.abs(v - back));
    p("%8.3f %4d %9.4f %9.4f%n", v, q, back, v - back);
}
check(uns.dequantize(uns.quantize(0f, sa, z), sa, z) == 0f, "0.0 is exact under the zero point");
check(sa < s, String.format(Locale.ROOT, "asym uses all 16 codes on [min, max]: step %.4f < sym step %.4f", sa, s));
check(worstAsym <= sa, "asym error ≤ s (half a step, plus up to half a step from rounding z)");

// ==== 2. Granularity: who shares a scale? =====================================================================
// A 64×512 N(0, 0.02²) matrix whose row 9 is 25× larger: an "outlier channel", common in real models.
// Rows are output channels; groups run along a row (the input dimension).
//   per tensor  : one scale for everything        (here: the matrix seen as a single row, int4:group=0)
//   per channel : one scale per row                (int4:group=0)
//   per group   : one scale per G consecutive weights of a row (int4:group=128, int4:group=32)
// Every scale is a 16-bit float, so finer granularity costs 16/G extra bits per weight.
int rows = 64, cols = 512, n = rows * cols, hot = 9;
long seed = 11;
float[] w = SchemeSurvey.matrix(SchemeSurvey.Matrix.GAUSSIAN, rows, cols, seed);
for (int j = 0; j < cols; j++) w[hot * cols + j] *= 25;
FloatTensor W = FloatTensor.wrap(Shape.of(rows, cols), w);
FloatTensor flat = FloatTensor.wrap(Shape.of(n), w);       // one row: one scale for the whole tensor

record Result(String label, QuantizedTensor q, double bpw, double sqnrDb, double sqnrOrdinaryRowsDb) {}
double sqnrRows(float[] a, float[] b, int skipRow) {       // SQNR over every row except skipRow
    double sig = 0, noise = 0;
    for (int i = 0; i < a.length; i++) {
        if (i / cols == skipRow) continue;
        sig += (double) a[i] * a[i];
        noise += ((double) a[i] - b[i]) * ((double) a[i] - b[i]);
    }
    return 10 * Math.log10(sig / noise);
}
Result measure(String label, String scheme, Tensor t) {
    QuantizedTensor q = Codecs.forScheme(Scheme.parse(scheme)).quantize(t);
    return new Result(label, q, q.bitsPerWeight(), ErrorMetrics.of(t, q).sqnrDb(), sqnrRows(w, q.toFloatArray(), hot));
}
List<Result> gran = List.of(
    measure("per tensor", "int4:group=0", flat),
    measure("per channel", "int4:group=0", W),
    measure("group 128", "int4:group=128", W),
    measure("group 32", "int4:group=32", W));
p("%nINT4 on a %dx%d N(0, 0.02²) matrix (seed %d) with row %d ×25%n%-12s %10s %9s %22s%n", rows, cols, seed, hot,
  "granularity", "bits/w", "SQNR dB", "SQNR other rows dB");
for (Result r : gran) p("%-12s %10.5f %9.2f %22.2f%n", r.label(), r.bpw(), r.sqnrDb(), r.sqnrOrdinaryRowsDb());

check(gran.get(0).bpw() == 4 + 16.0 / n && gran.get(1).bpw() == 4 + 16.0 / cols && gran.get(2).bpw() == 4 + 16.0 / 128
      && gran.get(3).bpw() == 4 + 16.0 / 32, "bits per weight = 4 + 16/G exactly: scales are counted");
check(gran.get(0).sqnrDb() < gran.get(1).sqnrDb() && gran.get(1).sqnrDb() < gran.get(2).sqnrDb()
      && gran.get(2).sqnrDb() < gran.get(3).sqnrDb(), "SQNR rises with finer granularity: tensor < channel < group 128 < group 32");
check(gran.get(1).sqnrOrdinaryRowsDb() - gran.get(0).sqnrOrdinaryRowsDb() > 15,
      "on the ordinary rows, per-channel beats per-tensor by more than 15 dB: the outlier row no longer sets their step");

// Why per tensor fails: the outlier row sets amax, so s is 25× too coarse for every other row and their
// weights crowd onto a few codes. Count the codes used by ordinary rows.
// The codes array packs two 4-bit two's-complement codes per byte, element 2k in the low nibble (IntCodec).
int[] codeHistogram(Result r) {
    java.nio.ByteBuffer codes = r.q().arrays().get(0).data();
    int[] h = new int[16];
    for (int i = 0; i < n; i++) {
        if (i / cols == hot) continue;
        int nibble = (codes.get(i / 2) >> (4 * (i % 2))) & 0xF;
        int q = nibble >= 8 ? nibble - 16 : nibble;        // sign-extend
        h[q + 8]++;
    }
    return h;
}
int[] hTensor = codeHistogram(gran.get(0)), hChannel = codeHistogram(gran.get(1));
int ordinary = n - cols;
p("%ncodes used by the ordinary rows%n%5s  %-32s  %s%n", "code", "per tensor", "per channel");
for (int c = 0; c < 16; c++) {
    p("%5d  %7.3f%% %-23s  %7.3f%% %s%n", c - 8, 100.0 * hTensor[c] / ordinary, bar((double) hTensor[c] / ordinary, 22),
      100.0 * hChannel[c] / ordinary, bar((double) hChannel[c] / ordinary, 22));
}
// With s = amax/7 ≈ 16σ of an ordinary row, every ordinary weight is below s/2: those rows are erased.
double onZero = hTensor[8] / (double) ordinary;
check(onZero > 0.99, String.format(Locale.ROOT, "per tensor, %.1f%% of the ordinary weights round to code 0", 100 * onZero));

// FP8 has relative precision, so one big row barely hurts a per-tensor FP8 scale (notebook 01). The 2-D
// block option (DeepSeek-V3 style tiles of block×block weights) is the FP8 codec's middle ground.
double fpTensor = ErrorMetrics.of(W, Codecs.forScheme(Scheme.parse("fp8-e4m3")).quantize(W)).sqnrDb();
double fpChannel = ErrorMetrics.of(W, Codecs.forScheme(Scheme.parse("fp8-e4m3:scale=channel")).quantize(W)).sqnrDb();
QuantizedTensor fpBlock = Codecs.forScheme(Scheme.parse("fp8-e4m3:scale=block,block=32")).quantize(W);
p("%nFP8 E4M3 on the same matrix: per tensor %.2f dB, per channel %.2f dB, 32×32 blocks %.2f dB (%s scales)%n",
  fpTensor, fpChannel, ErrorMetrics.of(W, fpBlock).sqnrDb(), fpBlock.arrays().get(1).shape());
check(Math.abs(fpChannel - fpTensor) < 1.0, "FP8: per channel and per tensor are within 1 dB (relative precision)");
check(fpBlock.arrays().get(1).shape().numel() == (rows / 32) * (cols / 32), "32×32 blocks: one scale per tile, 2×16 tiles");

// ==== 3. Bit width: about 6 dB per bit ========================================================================
// Each extra bit roughly halves the step, so the noise power drops ≈ 4×: 10·log10(4) = 6.02 dB. Exactly, the
// step s = amax / qmax shrinks by qmax(b) / qmax(b−1) = (2^(b−1) − 1) / (2^(b−2) − 1), a bit more than 2 at
// small b (15/7 from 4 to 5 bits): the uniform-noise model predicts Δ = 20·log10 of that ratio.
// Measured on the plain Gaussian (no outlier row), groups of 128.
float[] g = SchemeSurvey.matrix(SchemeSurvey.Matrix.GAUSSIAN, rows, cols, seed);
FloatTensor G = FloatTensor.wrap(Shape.of(rows, cols), g);
List<Chart.Point> bitsCurve = new ArrayList<>();
double[] dbByBits = new double[9];
p("%nint:bits=b,group=128 on N(0, 0.02²)%n%5s %9s %9s %8s %10s%n", "bits", "bits/w", "SQNR dB", "Δ dB", "predicted");
for (int b = 2; b <= 8; b++) {
    QuantizedTensor q = Codecs.forScheme(Scheme.parse("int:bits=" + b + ",group=128")).quantize(G);
    dbByBits[b] = ErrorMetrics.of(G, q).sqnrDb();
    bitsCurve.add(new Chart.Point(q.bitsPerWeight(), dbByBits[b], b + " bits"));
    double predicted = 20 * Math.log10(((1 << (b - 1)) - 1) / (double) ((1 << (b - 2)) - 1));
    p("%5d %9.4f %9.2f %8s %10s%n", b, q.bitsPerWeight(), dbByBits[b],
      b == 2 ? "" : String.format(Locale.ROOT, "%.2f", dbByBits[b] - dbByBits[b - 1]),
      b == 2 ? "" : String.format(Locale.ROOT, "%.2f", predicted));
    if (b >= 4) check(Math.abs(dbByBits[b] - dbByBits[b - 1] - predicted) < 0.1,
                      "going from " + (b - 1) + " to " + b + " bits gains 20·log10(qmax ratio) within 0.1 dB");
}
// At 2 and 3 bits (3 and 7 levels in use) the step is coarse next to the bell's width, the uniform-noise
// picture breaks down, and the gain from 2 to 3 bits falls short of its 9.54 dB prediction.

// ==== 4. Zero points on one-sided data ========================================================================
// |N(0, 1)|·0.02 (like activations after ReLU): symmetric INT4 spends half its codes on negatives that never
// occur; asym puts all 16 codes on [0, max]. Cost: one 8-bit zero point per group.
float[] pos = g.clone();
for (int i = 0; i < pos.length; i++) pos[i] = Math.abs(pos[i]);
FloatTensor P = FloatTensor.wrap(Shape.of(rows, cols), pos);
QuantizedTensor qs = Codecs.forScheme(Scheme.parse("int4:group=128")).quantize(P);
QuantizedTensor qa = Codecs.forScheme(Scheme.parse("int4:group=128,asym")).quantize(P);
double dbs = ErrorMetrics.of(P, qs).sqnrDb(), dba = ErrorMetrics.of(P, qa).sqnrDb();
p("%none-sided data, groups of 128: sym %.2f dB at %.4f bits/w, asym %.2f dB at %.4f bits/w%n", dbs, qs.bitsPerWeight(), dba, qa.bitsPerWeight());
check(qa.bitsPerWeight() - qs.bitsPerWeight() == 8.0 / 128, "a zero point costs 8/128 = 0.0625 bits per weight");
check(dba - dbs > 4.5, String.format(Locale.ROOT, "asym gains %.2f dB on one-sided data (one more effective bit ≈ 6 dB)", dba - dbs));
check(qa.arrays().stream().map(StoredArray::role).toList().equals(List.of("codes", "scales", "zeros")),
      "asym stores three arrays: codes, scales, zeros");

List<Chart.Point> granPts = new ArrayList<>();
for (Result r : gran) granPts.add(new Chart.Point(r.bpw(), r.sqnrDb(), r.label()));
Chart.xy("Integer quantization: SQNR vs bits per weight", "bits per weight (scales included)", "SQNR dB").
     series("int b bits, group 128 (Gaussian)", bitsCurve).series("INT4 granularity (outlier row)", granPts).lines(true).
     writePng(OUT.resolve("02-sqnr-vs-bits.png"));
p("%nplot: %s%n", OUT.resolve("02-sqnr-vs-bits.png"));
