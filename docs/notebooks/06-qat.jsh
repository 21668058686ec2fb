// 06 · Quantization-aware training (QAT)
//
// Run:   ./quant jshell docs/notebooks/06-qat.jsh
// Plots: written to $QUANTKIT_NOTEBOOK_OUT (or -R-Dquantkit.notebook.out=DIR), else to a new temp folder.
//
// Post-training quantization (PTQ) rounds trained weights once and hopes. QAT keeps training with the
// rounding inside the forward pass ("fake quantization": quantize, then dequantize back to float), so the
// weights learn to sit where the grid is. Rounding has no useful gradient (zero almost everywhere), so the
// backward pass pretends it was the identity: the straight-through estimator (STE). You will check the STE's
// gradient on a one-weight example, check the training model's backward pass against finite differences,
// then take the embedded default model to ternary (BitNet b1.58: −1, 0, +1 times a scale), watch PTQ destroy
// it, and watch 60 seeded steps of QAT bring it back.

import io.quantkit.calibration.DefaultModel;
import io.quantkit.train.*;
import io.quantkit.quant.*;
import io.quantkit.tensor.*;
import io.quantkit.model.Tokenizer;
import io.quantkit.cli.Chart;
import java.nio.charset.StandardCharsets;
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
String bar(double fraction, int width) { return "#".repeat((int) Math.round(Math.max(0, fraction) * width)); }
Path OUT = outDir();
p("plots go to %s%n", OUT);

// ==== 1. The straight-through estimator on one weight ============================================================
// A "model" with one weight: prediction x·q(w), loss L(w) = (x·q(w) − y)², with q the 3-bit grid of step
// s = 0.25 (codes −4..3, so values −1.0 .. 0.75): q(w) = s·clamp(round(w/s), −4, 3).
double S1 = 0.25, X = 1.5, Y = 0.8;
double q(double w) { return S1 * Math.max(-4, Math.min(3, Math.rint(w / S1))); }
double loss(double w) { return Math.pow(X * q(w) - Y, 2); }
double lossOfValue(double v) { return Math.pow(X * v - Y, 2); }      // the same loss, as a function of the value used
double w0 = 0.1;
// The true derivative of L(w) is 0 wherever round() does not jump: a finite difference sees nothing.
double h = 1e-4;
double trueGrad = (loss(w0 + h) - loss(w0 - h)) / (2 * h);
// The STE uses dL/dq (what the forward pass consumed) as if dq/dw were 1: 2·x·(x·q − y).
double ste = 2 * X * (X * q(w0) - Y);
double dLdq = (lossOfValue(q(w0) + h) - lossOfValue(q(w0) - h)) / (2 * h);
p("%nw = %.2f → q(w) = %.2f, loss %.4f%n", w0, q(w0), loss(w0));
p("finite difference of L(w): %.6f   STE gradient 2x(xq − y): %.6f   finite difference of L at the value q: %.6f%n", trueGrad, ste, dLdq);
check(trueGrad == 0.0, "the true gradient through round() is exactly 0 here: plain gradient descent would never move w");
check(Math.abs(ste - dLdq) < 1e-6, "the STE gradient is the derivative of the loss with respect to the quantized value");
// Gradient descent with the STE: w moves although q is piecewise constant, and q jumps to better grid points.
double w = w0, lr1 = 0.05;
p("%n%-5s %8s %8s %9s%n", "step", "w", "q(w)", "loss");
for (int t = 0; t <= 12; t++) {
    if (t % 3 == 0) p("%-5d %8.4f %8.4f %9.5f%n", t, w, q(w), loss(w));
    w -= lr1 * 2 * X * (X * q(w) - Y);
}
double bestV = Double.NaN, bestL = Double.POSITIVE_INFINITY;
for (int c = -4; c <= 3; c++) if (lossOfValue(c * S1) < bestL) { bestL = lossOfValue(c * S1); bestV = c * S1; }
p("best grid value by enumerating all 8 codes: %.2f (loss %.5f); y/x = %.4f%n", bestV, bestL, Y / X);
check(q(w) == bestV, "STE descent ends on the grid value with the lowest loss (found by trying all 8 codes)");

// Clipped STE: where w/s rounds outside the grid, the quantizer clamps and moving w changes nothing, so the
// gradient is zeroed there (PyTorch's fake-quantize convention). For ternary absmean, s = mean|w| and codes
// −1, 0, +1: a weight is clipped when round(w/s) is ±2 or beyond. The library's mask, against that rule:
float[] row = {0.02f, -0.31f, 0.12f, 0.9f, -0.05f, 0.4f, -1.3f, 0.07f};
float[] fq = new float[row.length], mask = new float[row.length];
FakeQuant.of(Scheme.parse("ternary"), FakeQuant.Ste.CLIPPED).quantizeTensor(row, 0, 1, row.length, fq, mask);
double sAbs = 0;
for (float v : row) sAbs += Math.abs(v);
float sT = (float) (sAbs / row.length);
p("%nternary of %s: s = mean|w| = %.4f%n%-8s %8s %8s %6s%n", Arrays.toString(row), sT, "w", "w/s", "value", "mask");
boolean maskRule = true, valueRule = true;
for (int i = 0; i < row.length; i++) {
    double r = Math.rint(row[i] / sT);
    p("%8.3f %8.3f %8.4f %6.0f%n", row[i], row[i] / sT, fq[i], mask[i]);
    maskRule &= mask[i] == (Math.abs(r) > 1 ? 0f : 1f);
    valueRule &= fq[i] == (float) (Math.max(-1, Math.min(1, r)) * sT);
}
check(valueRule && maskRule, "fake-quant values are clamp(round(w/s), −1, 1)·s, and the clipped STE's mask is 0 exactly where |round(w/s)| > 1");

// ==== 2. The training model's backward pass, checked by finite differences ======================================
// QAT needs ∂loss/∂(the fake-quantized weights): the STE then hands that gradient to the float master weights
// (times the mask). On a tiny random Llama (dim 16, 1 layer, vocabulary 32), the hand-written backward pass
// must agree with central differences of the forward pass.
Architecture tiny = Architecture.llama(16, 32, 1, 2, 2, 32, 8, true);
ParamLayout tl = new ParamLayout(tiny);
float[] tw = Trainer.initialParams(tl, 7);
float[] teff = new float[tw.length], tmask = new float[tw.length];
FakeQuant fq4 = FakeQuant.of(Scheme.parse("int4:group=16"), FakeQuant.Ste.PLAIN);
fq4.apply(tl, tw, teff, tmask);
int[] toks = new int[2 * 9];
SplittableRandom rnd = new SplittableRandom(11);
for (int i = 0; i < toks.length; i++) toks[i] = rnd.nextInt(32);
Parallel one = Parallel.of(1);
TrainModel tm = new TrainModel(tiny, 2, 8, ActivationQuant.NONE);
float[] g = new float[tw.length];
double l0 = tm.forward(one, teff, toks, 0);
tm.backward(one, teff, g, 1f);
ParamLayout.Entry wq = tl.entries().stream().filter(e -> e.role() == ParamLayout.Role.LINEAR).findFirst().get();
Integer[] idx = new Integer[wq.size()];
for (int i = 0; i < idx.length; i++) idx[i] = wq.offset() + i;
Arrays.sort(idx, (a, b) -> Float.compare(Math.abs(g[b]), Math.abs(g[a])));
p("%ntiny model: loss %.5f (ln 32 = %.5f); tensor %s, its 5 largest gradients:%n%-8s %12s %12s%n", l0, Math.log(32), wq.name(), "index", "backward", "finite diff");
double worstRel = 0;
for (int k = 0; k < 5; k++) {
    int i = idx[k];
    float keep = teff[i];
    float hh = 1e-2f;
    teff[i] = keep + hh; double lp = tm.forward(one, teff, toks, 0);
    teff[i] = keep - hh; double lm = tm.forward(one, teff, toks, 0);
    teff[i] = keep;
    double fd = (lp - lm) / (2 * hh);
    worstRel = Math.max(worstRel, Math.abs(fd - g[i]) / Math.abs(g[i]));
    p("%-8d %12.6f %12.6f%n", i - wq.offset(), g[i], fd);
}
check(Math.abs(l0 - Math.log(32)) < 0.05, "a freshly initialised model predicts near-uniformly: loss ≈ ln 32");
check(worstRel < 0.01, String.format(Locale.ROOT, "backward agrees with central differences within 1%% (worst %.4f%%)", 100 * worstRel));

// ==== 3. PTQ to ternary: the embedded default model falls apart =================================================
// The embedded default (260K parameters, trained by this project). Training and evaluation use the stories as
// the model was trained on them: each story encoded with BOS, concatenated. Perplexity: llama.cpp's method
// (chunks of 128 tokens, BOS first, the second half of each scored) on the first 48 chunks of the held-out
// stream. Only the linear layers of the blocks are quantized; embedding, norms and the tied classifier stay
// float32 (as BitNet does).
Path tmp = Files.createTempDirectory("quantkit-nb06-");
Path bin = DefaultModel.extract(DefaultModel.MODEL, tmp), tokFile = DefaultModel.extract(DefaultModel.TOKENIZER, tmp);
io.quantkit.train.LlamaWeights.Loaded L = io.quantkit.train.LlamaWeights.load(bin, tokFile);
Architecture A = L.architecture();
Tokenizer tok;
try (io.quantkit.io.Checkpoint cp = io.quantkit.io.Checkpoints.open(bin, tokFile)) { tok = io.quantkit.model.LlamaLoader.tokenizer(cp); }
int[] stories(String text, int maxBytes) {
    List<int[]> parts = new ArrayList<>();
    int n = 0, bytes = 0;
    for (String s : text.split("\n\n")) {
        if (s.isBlank()) continue;
        if ((bytes += s.length()) > maxBytes) break;
        int[] x = tok.encode(s.strip(), true);
        parts.add(x);
        n += x.length;
    }
    int[] all = new int[n];
    int at = 0;
    for (int[] x : parts) { System.arraycopy(x, 0, all, at, x.length); at += x.length; }
    return all;
}
int[] train = stories(new String(DefaultModel.bytes(DefaultModel.TRAIN_TEXT), StandardCharsets.UTF_8), 300_000);
int[] eval = Arrays.copyOf(stories(new String(DefaultModel.bytes(DefaultModel.EVAL_TEXT), StandardCharsets.UTF_8), Integer.MAX_VALUE), 48 * 128);
Parallel par = Parallel.of(2);
ParamLayout lay = new ParamLayout(A);
float[] master = L.params();
Perplexity.Result f32 = Perplexity.llamaCpp(par, A, master, ActivationQuant.NONE, eval, 128, 8, tok.bos());
FakeQuant tern = FakeQuant.of(Scheme.parse("ternary"), FakeQuant.Ste.PLAIN);
float[] ptqW = new float[master.length], ptqMask = new float[master.length];
tern.apply(lay, master, ptqW, ptqMask);
Perplexity.Result ptq = Perplexity.llamaCpp(par, A, ptqW, ActivationQuant.NONE, eval, 128, 8, tok.bos());
p("%n%s, %,d parameters; training stream %,d tokens, evaluation %,d tokens (%,d scored)%n", A, master.length, train.length, eval.length, f32.tokens());
p("float32:         NLL %.4f nats, PPL %9.4f%n", f32.nll(), f32.ppl());
p("PTQ ternary:     NLL %.4f nats, PPL %9.4f%n", ptq.nll(), ptq.ppl());
long linear = 0, zeros = 0;
for (ParamLayout.Entry e : lay.entries()) {
    if (!tern.covers(e)) continue;
    Set<Float> distinct = new HashSet<>();
    for (int i = e.offset(); i < e.offset() + e.size(); i++) { distinct.add(ptqW[i]); if (ptqW[i] == 0f) zeros++; }
    linear += e.size();
    if (distinct.size() > 3) throw new IllegalStateException(e.name() + " has " + distinct.size() + " values");
}
p("%,d weights of the linear layers fake-quantized, %.1f%% of them to 0%n", linear, 100.0 * zeros / linear);
check(ptq.ppl() > 100 * f32.ppl(), "PTQ to ternary multiplies the perplexity by more than 100");

// ==== 4. QAT: 60 seeded steps ===================================================================================
// AdamW on the float32 master weights; every step fake-quantizes them (forward), back-propagates to the
// quantized values, and passes that gradient straight through. 60 steps × 8 windows × 64 tokens = 30,720
// tokens, a quarter of one pass over the 300 KB of training stories used here (the model was trained on
// 1.2 MB). lr 2e-3 (warm-up 6 steps, cosine to 2e-4). The run is seeded: the same numbers every time, on any
// thread count.
TrainOptions opt = TrainOptions.defaults(1, 60, 8, 64).withLr(2e-3f, 2e-4f, 6);
Trainer qat = new Trainer(A, opt, train, new int[0], master, tern, ActivationQuant.NONE);
List<Trainer.StepLog> logs = new ArrayList<>();
long c0 = ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
// (run in pieces of 10 steps, evaluating the held-out perplexity of the fake-quantized weights in between;
// pausing does not change the run: the windows of step s depend only on the seed and s)
List<Chart.Point> heldOut = new ArrayList<>(List.of(new Chart.Point(0, ptq.nll(), "PTQ")));
for (int upTo = 10; upTo <= opt.steps(); upTo += 10) {
    qat.run(par, upTo, logs::add);
    double nll = Perplexity.llamaCpp(par, A, qat.forwardWeights(), ActivationQuant.NONE, eval, 128, 8, tok.bos()).nll();
    heldOut.add(new Chart.Point(upTo, nll, upTo == opt.steps() ? "QAT" : ""));
}
double trainCpu = (((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime() - c0) / 1e9;
float[] qatW = qat.forwardWeights();
Perplexity.Result after = Perplexity.llamaCpp(par, A, qatW, ActivationQuant.NONE, eval, 128, 8, tok.bos());
p("%ntraining loss (on the fake-quantized weights; each # = 0.1 nats):%n");
for (Trainer.StepLog s : logs) {
    if (s.step() == 1 || s.step() % 5 == 0) p("step %3d  lr %.5f  loss %6.3f  %s%n", s.step(), s.lr(), s.loss(), bar(s.loss() / 10, 100));
}
double recPpl = (ptq.ppl() - after.ppl()) / (ptq.ppl() - f32.ppl());
double recNll = (ptq.nll() - after.nll()) / (ptq.nll() - f32.nll());
p("%nheld-out NLL every 10 steps:");
for (Chart.Point pt : heldOut) p(" %.0f: %.3f", pt.x(), pt.y());
p("%nQAT ternary:     NLL %.4f nats, PPL %9.4f   (60 steps and 6 evaluations, %.1f s CPU)%n", after.nll(), after.ppl(), trainCpu);
p("recovered fraction (PTQ − QAT) / (PTQ − float): %.4f in perplexity, %.4f in NLL (nats)%n", recPpl, recNll);
double first = logs.get(0).loss(), last10 = logs.subList(50, 60).stream().mapToDouble(Trainer.StepLog::loss).average().getAsDouble();
check(Math.abs(first - ptq.nll()) < 1.0, String.format(Locale.ROOT,
      "step 1's training loss (%.2f) is the PTQ model's: within 1 nat of its held-out loss (%.2f; other tokens)", first, ptq.nll()));
check(last10 < 0.2 * first, String.format(Locale.ROOT, "the mean loss of steps 51–60 (%.3f) is under a fifth of step 1's (%.3f)", last10, first));
check(after.ppl() < ptq.ppl() / 100 && recNll > 0.8, "QAT brings the perplexity down by over 100× and recovers over 80% of the lost NLL");
check(after.ppl() > f32.ppl(), "60 steps do not reach the float model: ternary still costs quality");
// A perplexity ratio of 1000 looks like a 99.9% recovery; in nats the distance left is plainer to see.

// What QAT produced is a real ternary model: the ternary codec, run on the trained master weights, stores
// exactly the values the forward pass trained with (the fake quantizer *is* the codec).
float[] masterAfter = qat.params();
ParamLayout.Entry e0 = lay.entries().stream().filter(tern::covers).findFirst().get();
QuantizedTensor stored = Codecs.forScheme(Scheme.parse("ternary")).quantize(FloatTensor.wrap(Shape.of(e0.rows(), e0.cols()),
        Arrays.copyOfRange(masterAfter, e0.offset(), e0.offset() + e0.size())));
float[] decoded = stored.toFloatArray();
boolean same = true;
for (int i = 0; i < decoded.length; i++) same &= decoded[i] == qatW[e0.offset() + i];
p("%s: stored by the ternary codec in %,d bytes (%.3f bits/weight), decodes to the trained values%n", e0.name(), stored.storageBytes(), stored.bitsPerWeight());
check(same, "codec(master weights after QAT) decodes to exactly the forward pass's fake-quantized weights");
int moved = 0;
for (ParamLayout.Entry e : lay.entries()) {
    if (!tern.covers(e)) continue;
    for (int i = e.offset(); i < e.offset() + e.size(); i++) if (qatW[i] != 0f && ptqW[i] != 0f ? Math.signum(qatW[i]) != Math.signum(ptqW[i]) : (qatW[i] == 0f) != (ptqW[i] == 0f)) moved++;
}
p("codes changed by QAT: %,d of %,d (%.1f%%)%n", moved, linear, 100.0 * moved / linear);
check(moved > 0.01 * linear, "QAT moved more than 1% of the weights to another code");

List<Chart.Point> curve = new ArrayList<>();
for (Trainer.StepLog s : logs) curve.add(new Chart.Point(s.step(), s.loss(), ""));
List<Chart.Point> levels = List.of(new Chart.Point(0, f32.nll(), "float32"), new Chart.Point(60, f32.nll(), ""));
check(heldOut.get(heldOut.size() - 1).y() == after.nll(), "the last held-out point is the QAT model evaluated above");
Chart.xy("QAT of the embedded default to ternary: loss per step", "step", "loss (nats)").
     series("training loss, fake-quantized", curve).series("held-out, float32", levels).series("held-out, ternary (every 10 steps)", heldOut).
     lines(true).writePng(OUT.resolve("06-qat-loss.png"));

// ==== 5. A small gap needs a small step =========================================================================
// int:bits=3 with groups of 32 loses little in PTQ. The same 2e-3 learning rate then does more harm than good
// (the first steps throw the weights off their good positions); a tenth of it recovers part of the gap.
FakeQuant int3 = FakeQuant.of(Scheme.parse("int:bits=3,group=32"), FakeQuant.Ste.PLAIN);
float[] w3 = new float[master.length], m3 = new float[master.length];
int3.apply(lay, master, w3, m3);
double ptq3 = Perplexity.llamaCpp(par, A, w3, ActivationQuant.NONE, eval, 128, 8, tok.bos()).ppl();
double[] qat3 = new double[2];
float[] lrs = {2e-3f, 2e-4f};
for (int k = 0; k < 2; k++) {
    TrainOptions o = TrainOptions.defaults(1, 20, 8, 64).withLr(lrs[k], lrs[k] / 10, 2);
    Trainer t3 = new Trainer(A, o, train, new int[0], master, int3, ActivationQuant.NONE);
    t3.run(par, 20, null);
    qat3[k] = Perplexity.llamaCpp(par, A, t3.forwardWeights(), ActivationQuant.NONE, eval, 128, 8, tok.bos()).ppl();
}
p("%nint:bits=3,group=32: float %.4f, PTQ %.4f, 20 QAT steps at lr 2e-3: %.4f, at lr 2e-4: %.4f%n", f32.ppl(), ptq3, qat3[0], qat3[1]);
check(qat3[0] > ptq3, "with lr 2e-3, QAT makes the 3-bit model worse than PTQ");
check(qat3[1] < ptq3, "with lr 2e-4, QAT improves on PTQ");
p("%nplot: %s%n", OUT.resolve("06-qat-loss.png"));
par.close();
one.close();
