// 03 · Outliers and mixed precision
//
// Run:   ./quant jshell docs/notebooks/03-outliers-and-mixed-precision.jsh
// Plots: written to $QUANTKIT_NOTEBOOK_OUT (or -R-Dquantkit.notebook.out=DIR), else to a new temp folder.
//
// Real weights are heavier-tailed than a Gaussian. A few large weights set each group's scale and make the
// step coarse for everyone else. Keeping a tiny budget of weights exactly (a sparse list of index + 16-bit
// value) removes them from the grid. You will measure the tail, the gain, and what it costs in bits per
// weight, counting every byte that is stored.

import io.quantkit.format.*;
import io.quantkit.quant.*;
import io.quantkit.tensor.*;
import io.quantkit.eval.SchemeSurvey;
import io.quantkit.cli.Chart;
import org.apache.commons.math3.special.Erf;
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

// ==== 1. Heavy tails ===========================================================================================
// Two seeded 256×1024 matrices: N(0, 0.02²) and 0.02·t(3) (Student-t with 3 degrees of freedom, a common
// stand-in for trained weights: finite variance, but far more mass beyond 4σ).
int rows = 256, cols = 1024, n = rows * cols;
long seed = 3;
float[] gauss = SchemeSurvey.matrix(SchemeSurvey.Matrix.GAUSSIAN, rows, cols, seed);
float[] heavy = SchemeSurvey.matrix(SchemeSurvey.Matrix.STUDENT_T3, rows, cols, seed);
double std(float[] a) { double s = 0; for (float v : a) s += (double) v * v; return Math.sqrt(s / a.length); }
long beyond(float[] a, double t) { long c = 0; for (float v : a) if (Math.abs(v) > t) c++; return c; }
double sg = std(gauss), sh = std(heavy);
p("%nmatrices %dx%d, seed %d; σ (rms): Gaussian %.5f, t(3) %.5f%n", rows, cols, seed, sg, sh);
p("%6s %14s %14s %16s%n", "|w|>", "Gaussian", "t(3)", "normal predicts");
for (int k : new int[] {2, 3, 4, 6, 8}) {
    double predicted = Erf.erfc(k / Math.sqrt(2));          // P(|Z| > k) for a standard normal
    p("%5dσ %14d %14d %16.1f%n", k, beyond(gauss, k * sg), beyond(heavy, k * sh), predicted * n);
}
double pred3 = Erf.erfc(3 / Math.sqrt(2)) * n;
check(Math.abs(beyond(gauss, 3 * sg) - pred3) < 0.15 * pred3, "the Gaussian's 3σ tail matches the normal CDF within 15%");
check(beyond(gauss, 6 * sg) == 0 && beyond(heavy, 6 * sh) > 100, "beyond 6σ: no Gaussian weight, but more than 100 t(3) weights");

// Text histogram of |w|/σ (log-scaled bars: each # is a factor of 10^(1/4) in count)
p("%n%-9s %-28s %s%n", "|w|/σ", "Gaussian", "t(3)");
for (int b = 0; b < 12; b++) {
    long cg = 0, ch = 0;
    for (float v : gauss) if ((int) (Math.abs(v) / sg) == b || (b == 11 && Math.abs(v) / sg >= 11)) cg++;
    for (float v : heavy) if ((int) (Math.abs(v) / sh) == b || (b == 11 && Math.abs(v) / sh >= 11)) ch++;
    p("%-9s %7d %-20s %7d %s%n", b == 11 ? "≥11" : "[" + b + "," + (b + 1) + ")", cg, "#".repeat(cg == 0 ? 0 : (int) (4 * Math.log10(cg)) + 1),
      ch, "#".repeat(ch == 0 ? 0 : (int) (4 * Math.log10(ch)) + 1));
}

// ==== 2. Why the tail hurts a group's scale ===================================================================
// INT4 groups of 128 use s = amax/7. A t(3) group usually holds one weight several σ out, so the step is
// large for the other 127. Median of amax/σ over the groups:
double medianAmax(float[] a, double sigma) {
    double[] m = new double[n / 128];
    for (int gI = 0; gI < m.length; gI++) {
        double amax = 0;
        for (int j = 0; j < 128; j++) amax = Math.max(amax, Math.abs(a[gI * 128 + j]));
        m[gI] = amax / sigma;
    }
    Arrays.sort(m);
    return m[m.length / 2];
}
double mg = medianAmax(gauss, sg), mh = medianAmax(heavy, sh);
p("%nmedian group amax / σ: Gaussian %.2f, t(3) %.2f%n", mg, mh);
check(mh > mg, "a t(3) group's largest weight sits further out (in σ) than a Gaussian group's");

// ==== 3. Keep 0.5% of the weights exactly ======================================================================
// int4-outliers: pick the k = ⌊0.5%·n⌋ largest |w|, zero them, quantize the rest as int4 (groups of 128, each
// scale now set by the bulk), and store the k weights as (16-bit offset in a block of 65,536, 16-bit value):
// 32 bits each, plus one int32 per block of 65,536 weights saying where its outliers end.
FloatTensor G = FloatTensor.wrap(Shape.of(rows, cols), gauss);
FloatTensor H = FloatTensor.wrap(Shape.of(rows, cols), heavy);
record M(String scheme, double bpwG, double dbG, double bpwH, double dbH) {}
M measure(String scheme) {
    Codec c = Codecs.forScheme(Scheme.parse(scheme));
    QuantizedTensor qg = c.quantize(G), qh = c.quantize(H);
    return new M(scheme, qg.bitsPerWeight(), ErrorMetrics.of(G, qg).sqnrDb(), qh.bitsPerWeight(), ErrorMetrics.of(H, qh).sqnrDb());
}
List<String> schemes = List.of("int4", "int4-outliers", "int4:group=64", "int4:group=32", "int:bits=5,group=128");
Map<String, M> res = new LinkedHashMap<>();
p("%n%-24s %9s %12s %12s%n", "scheme", "bits/w", "Gaussian dB", "t(3) dB");
for (String s : schemes) {
    M m = measure(s);
    res.put(s, m);
    p("%-24s %9.5f %12.2f %12.2f%n", s, m.bpwH(), m.dbG(), m.dbH());
}
int k = (int) Math.floor(0.005 * n);
double extra = res.get("int4-outliers").bpwH() - res.get("int4").bpwH();
double gainH = res.get("int4-outliers").dbH() - res.get("int4").dbH();
double gainG = res.get("int4-outliers").dbG() - res.get("int4").dbG();
p("%nk = %d outliers; extra cost %.5f bits/weight; SQNR gain: t(3) %+.2f dB, Gaussian %+.2f dB%n", k, extra, gainH, gainG);
long blocks = (n + 65535) / 65536;
check(extra == (32.0 * k + 32.0 * blocks) / n, String.format(Locale.ROOT,
      "0.5%% outliers cost (32·k + 32·blocks)/n = %.5f bits per weight (≈ 0.16)", (32.0 * k + 32.0 * blocks) / n));
check(gainH > 3.0, String.format(Locale.ROOT, "on t(3) weights, keeping 0.5%% exact raises SQNR by more than 3 dB (%.2f)", gainH));
check(gainH > gainG + 1.0, "the gain is larger on the heavy tail than on the Gaussian");
check(res.get("int4-outliers").dbH() > res.get("int4:group=32").dbH(),
      "on t(3), 0.16 bits spent on outliers beat 0.375 bits spent on smaller groups (int4:group=32)");

// ==== 4. Bits-per-weight accounting ============================================================================
// Bits per weight = 8 · (every stored byte) / elements: codes, scales, zero points, outlier block ends, offsets and
// values.
QuantizedTensor qo = Codecs.forScheme(Scheme.parse("int4-outliers")).quantize(H);
p("%nstored arrays of int4-outliers on t(3):%n%-15s %-6s %-12s %10s %10s%n", "role", "dtype", "shape", "bytes", "bits/w");
long sum = 0;
for (StoredArray a : qo.arrays()) {
    sum += a.byteSize();
    p("%-15s %-6s %-12s %10d %10.5f%n", a.role(), a.dtype(), a.shape(), a.byteSize(), 8.0 * a.byteSize() / n);
}
p("%-15s %-6s %-12s %10d %10.5f%n", "total", "", "", sum, 8.0 * sum / n);
Map<String, Long> bytes = new HashMap<>();
for (StoredArray a : qo.arrays()) bytes.put(a.role(), a.byteSize());
check(bytes.get("codes") == n / 2 && bytes.get("scales") == 2L * n / 128 && bytes.get("outlier_block_end") == 4L * blocks
      && bytes.get("outlier_offset") == 2L * k && bytes.get("outlier_value") == 2L * k,
      "codes n/2, scales 2·n/128, block ends 4·⌈n/65536⌉, offsets 2·k, values 2·k bytes");
check(sum == qo.storageBytes() && qo.bitsPerWeight() == 8.0 * sum / n, "storageBytes is the sum of the arrays, bitsPerWeight = 8·bytes/n");
// A budget can also be a target size: the largest k that fits.
QuantizedTensor q46 = Codecs.forScheme(Scheme.parse("int4-outliers:budget=4.6bpw")).quantize(H);
long k46 = q46.arrays().stream().filter(a -> a.role().equals("outlier_offset")).findFirst().get().shape().numel();
long kMax = (long) Math.floor((4.6 * n - 8.0 * (n / 2 + 2L * n / 128) - 32.0 * blocks) / 32);
p("budget=4.6bpw keeps k = %d outliers: %.5f bits/w, %.2f dB%n", k46, q46.bitsPerWeight(), ErrorMetrics.of(H, q46).sqnrDb());
check(k46 == kMax && q46.bitsPerWeight() <= 4.6,
      "budget=4.6bpw keeps the largest k with 8·(codes + scales) + 32·blocks + 32·k ≤ 4.6·n");

// ==== 5. How big a budget? (plot) =============================================================================
List<Chart.Point> curveH = new ArrayList<>(), curveG = new ArrayList<>(), groupsH = new ArrayList<>();
p("%n%-8s %9s %12s %12s%n", "budget", "bits/w", "Gaussian dB", "t(3) dB");
double prev = Double.NEGATIVE_INFINITY;
boolean monotone = true;
for (String b : List.of("0%", "0.1%", "0.25%", "0.5%", "1%", "2%", "4%")) {
    M m = measure("int4-outliers:budget=" + b);
    p("%-8s %9.5f %12.2f %12.2f%n", b, m.bpwH(), m.dbG(), m.dbH());
    curveH.add(new Chart.Point(m.bpwH(), m.dbH(), b));
    curveG.add(new Chart.Point(m.bpwG(), m.dbG(), b));
    monotone &= m.dbH() > prev;
    prev = m.dbH();
}
for (String s : List.of("int4", "int4:group=64", "int4:group=32", "int:bits=5,group=128")) {
    groupsH.add(new Chart.Point(res.get(s).bpwH(), res.get(s).dbH(), s.equals("int4") ? "" : s)); // int4 = budget 0%
}
check(monotone, "on t(3), each larger budget raises SQNR");
check(curveH.get(0).y() == res.get("int4").dbH(), "budget 0% is exactly int4");
Chart.xy("INT4 + outliers: SQNR vs bits per weight", "bits per weight (everything stored)", "SQNR dB").
     series("t(3) int4-outliers budget", curveH).series("Gaussian int4-outliers budget", curveG).
     series("t(3) other ways to spend bits", groupsH).lines(true).writePng(OUT.resolve("03-outlier-budget.png"));

// ==== 6. Mixed precision: a scheme per tensor ===================================================================
// The same idea at tensor granularity: give the few sensitive tensors more bits. A model's size is
// Σ bytes / Σ elements over all tensors, so big tensors dominate it. A toy model of three tensors:
record T(String name, FloatTensor t) {}
List<T> model = List.of(new T("attn.wq [256,1024]", G), new T("mlp.w1 [256,1024]", H),
                        new T("output [64,1024]", FloatTensor.wrap(Shape.of(64, cols), Arrays.copyOf(heavy, 64 * cols))));
double size(Map<String, String> plan) {
    long bytesAll = 0, elems = 0;
    for (T t : model) {
        QuantizedTensor q = Codecs.forScheme(Scheme.parse(plan.get(t.name()))).quantize(t.t());
        bytesAll += q.storageBytes();
        elems += t.t().shape().numel();
    }
    return 8.0 * bytesAll / elems;
}
Map<String, String> allInt4 = Map.of("attn.wq [256,1024]", "int4", "mlp.w1 [256,1024]", "int4", "output [64,1024]", "int4");
Map<String, String> mixed = Map.of("attn.wq [256,1024]", "int4", "mlp.w1 [256,1024]", "int4-outliers", "output [64,1024]", "int8");
double b4 = size(allInt4), bm = size(mixed);
p("%nall int4: %.4f bits/w; int4 + int4-outliers for the heavy MLP + int8 for the small output layer: %.4f bits/w%n", b4, bm);
// by hand: two int4 tensors at 4 + 16/128 bits, the outliers' 32·(k + blocks) bits, int8 per channel at 8 + 16/1024 bits
double expected = (2 * 4.125 * n + 32.0 * (k + blocks) + (8 + 16.0 / cols) * 64 * cols) / (2 * n + 64 * cols);
check(Math.abs(bm - expected) < 1e-9, String.format(Locale.ROOT,
      "mixed size = (2·4.125·n + 32·(k + blocks) + 8.015625·64·1024) / Σn = %.4f", expected));
check(bm - b4 < 0.7, "upgrading the small output layer to 8 bits and the heavy one to outliers costs under 0.7 bits/w overall");
p("%nplot: %s%n", OUT.resolve("03-outlier-budget.png"));
