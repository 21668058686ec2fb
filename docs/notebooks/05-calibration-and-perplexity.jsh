// 05 · Calibration and perplexity on a real model
//
// Run:   ./quant jshell docs/notebooks/05-calibration-and-perplexity.jsh
// Plots: written to $QUANTKIT_NOTEBOOK_OUT (or -R-Dquantkit.notebook.out=DIR), else to a new temp folder.
//
// The model is the embedded default of module calibration-data: a 260K-parameter Llama (dim 64, 5 layers,
// vocabulary 512) that this project trained on stories it generated. You will compute its perplexity from
// the logits by hand and reproduce the figure recorded when it was trained, compare with the library's
// evaluator, run a calibration pass and look at which input channels matter, then quantize every weight to
// int4 three ways (round-to-nearest, importance-weighted scales, GPTQ) and measure what calibration buys, in
// perplexity, in KL divergence and in bits (it costs none).

import io.quantkit.calibration.DefaultModel;
import io.quantkit.calib.*;
import io.quantkit.eval.*;
import io.quantkit.io.*;
import io.quantkit.model.*;
import io.quantkit.quant.*;
import io.quantkit.tensor.*;
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

// ==== 1. The model and its tokens =============================================================================
// The jar holds a llama2.c checkpoint (model.bin), its tokenizer (tok.bin) and held-out stories (eval.txt,
// generated with another seed than the training stories). We copy the two binaries out and open them like
// any model file; weights are decoded once into float32 tensors.
Path tmp = Files.createTempDirectory("quantkit-nb05-");
Checkpoint cp = Checkpoints.open(DefaultModel.extract(DefaultModel.MODEL, tmp), DefaultModel.extract(DefaultModel.TOKENIZER, tmp));
LlamaWeights W = LlamaLoader.weights(cp).map((name, t) -> FloatTensor.of(t.shape(), t.toFloatArray()));
Tokenizer tok = LlamaLoader.tokenizer(cp);
cp.close();
LlamaConfig C = W.config();
long params = 0;
for (Tensor t : W.tensors().values()) params += t.shape().numel();
p("%n%s%n%d tensors, %,d parameters (the tied classifier output.weight counted as its own tensor, as llama.cpp stores it)%n",
  C, W.tensors().size(), params);
check(C.dim() == 64 && C.layers() == 5 && C.vocabSize() == 512 && tok.vocabSize() == 512, "dim 64, 5 layers, vocabulary 512");

String evalText = new String(DefaultModel.bytes(DefaultModel.EVAL_TEXT), StandardCharsets.UTF_8);
String trainText = new String(DefaultModel.bytes(DefaultModel.TRAIN_TEXT), StandardCharsets.UTF_8);
String story = evalText.split("\n\n")[0].strip();
int[] ids = tok.encode(story, true);
p("%nfirst held-out story: %d characters, %d tokens (BOS first)%n  \"%s...\"%n", story.length(), ids.length, story.substring(0, 70));
String show(int id) { return id == tok.bos() ? "<s>" : "'" + tok.piece(id).replace("\n", "\\n") + "'"; }
StringBuilder pieces = new StringBuilder();
for (int i = 0; i < 16; i++) pieces.append(i == 0 ? "" : " ").append(show(ids[i]));
p("  pieces: %s ...%n", pieces);
check(ids[0] == tok.bos() && tok.decode(ids).equals(story), "encode adds BOS; decode(encode(story)) gives the story back");

// ==== 2. Perplexity by hand ===================================================================================
// The model gives one logit per vocabulary entry at each position. log p(token) is the logit minus
// log Σ exp(logits) (computed with the maximum subtracted so exp cannot overflow). The negative
// log-likelihood of a text is the mean of −log p(next token) over the scored positions; perplexity is e^NLL:
// the number of equally likely tokens the model is "choosing between" on average.
double nllAt(float[] logits, int off, int vocab, int target) {
    double max = Double.NEGATIVE_INFINITY;
    for (int t = 0; t < vocab; t++) max = Math.max(max, logits[off + t]);
    double z = 0;
    for (int t = 0; t < vocab; t++) z += Math.exp(logits[off + t] - max);
    return max + Math.log(z) - logits[off + target];
}
int V = C.vocabSize();
check(Math.abs(Math.exp(nllAt(new float[V], 0, V, 7)) - V) < 1e-9, "a model with equal logits has perplexity = vocabulary size (512)");

LlamaModel M = LlamaModel.load(W);
LlamaModel.Session session = M.newSession(C.seqLen(), ThreadPool.SEQUENTIAL);
float[] logits = session.forward(ids, 0, 12, 0);               // logits of positions 0..11, 12 × 512 floats
p("%nwhat the model expects next (first positions of the story):%n%-4s %-10s %-12s %9s   %s%n", "pos", "input", "actual next", "p(actual)", "top-3 guesses");
for (int i = 0; i < 11; i++) {
    int off = i * V;
    Integer[] order = new Integer[V];
    for (int t = 0; t < V; t++) order[t] = t;
    final float[] lg = logits;
    Arrays.sort(order, (a, b) -> Float.compare(lg[off + b], lg[off + a]));
    StringBuilder top = new StringBuilder();
    for (int k = 0; k < 3; k++) top.append(String.format(Locale.ROOT, "%-8s %.2f  ", show(order[k]), Math.exp(-nllAt(logits, off, V, order[k]))));
    p("%-4d %-10s %-12s %9.3f   %s%n", i, show(ids[i]), show(ids[i + 1]), Math.exp(-nllAt(logits, off, V, ids[i + 1])), top);
}

// When the model was trained, MakeDefaultModel recorded its held-out perplexity in manifest.json. Its method:
// each held-out story encoded with BOS, all concatenated into one stream, cut into windows of 129 tokens
// overlapping by one (every token after the first scored once, each window starting from an empty cache),
// whole batches of 16 windows. The trainer computed it with its own forward pass (io.quantkit.train); here
// the inference model computes the logits and the loss is ours.
String manifest = new String(DefaultModel.bytes(DefaultModel.MANIFEST), StandardCharsets.UTF_8);
double recorded = Double.parseDouble(manifest.replaceAll("(?s).*\"eval_ppl\" : \"([0-9.]+)\".*", "$1"));
List<int[]> storyIds = new ArrayList<>();
int streamLen = 0;
for (String s : evalText.split("\n\n")) {
    if (s.strip().isEmpty()) continue;
    int[] x = tok.encode(s.strip(), true);
    storyIds.add(x);
    streamLen += x.length;
}
int[] stream = new int[streamLen];
int at = 0;
for (int[] x : storyIds) { System.arraycopy(x, 0, stream, at, x.length); at += x.length; }
int seq = 128, windows = (stream.length - 1) / seq / 16 * 16;
double nllSum = 0;
long scored = 0;
for (int w = 0; w < windows; w++) {
    session.reset();
    float[] lg = session.forward(stream, w * seq, seq, 0);
    for (int i = 0; i < seq; i++) { nllSum += nllAt(lg, i * V, V, stream[w * seq + i + 1]); scored++; }
}
double pplStream = Math.exp(nllSum / scored);
p("%nheld-out stream: %d stories, %,d tokens, %d windows of %d+1 → %,d scored tokens%n", storyIds.size(), stream.length, windows, seq, scored);
p("perplexity by hand %.6f   (manifest.json: %.4f)%n", pplStream, recorded);
check(stream.length == 42084 && scored == 40960, "the manifest's 42,084-token stream gives 320 windows, 40,960 scored tokens");
check(Math.abs(pplStream - recorded) < 5e-5, "our perplexity from the inference model's logits reproduces the recorded 1.3462 to 4 decimals");

// ==== 3. The library's evaluator, and why the method matters =====================================================
// `quant eval` / `quant compare` use llama.cpp's method by default: tokenize the whole text once (stories
// joined by their blank lines), cut it into chunks of ctx = 128 tokens, put BOS first in each chunk, and
// score only the second half of each chunk (every scored token has at least 64 tokens of context). We take
// the first 50,000 bytes of eval.txt, and recompute the library's figure from the logits ourselves.
ThreadPool pool = ThreadPool.create(2);
String evalPart = evalText.substring(0, 50_000);
EvalPlan plan = EvalPlan.of(tok, evalPart, io.quantkit.eval.Method.LLAMA_CPP, 128, 0);
Evaluator.Run base = Evaluator.run(M, plan, pool, true, null, Progress.NONE);     // keep its log-probs for KLD
int[] tokensOf(EvalPlan.Segment sg) { int[] t = new int[sg.length()]; for (int i = 0; i < t.length; i++) t[i] = sg.token(i); return t; }
double sumH = 0;
long nH = 0;
double nlNewline = 0;
long nNewline = 0;
for (EvalPlan.Segment sg : plan.segments()) {
    session.reset();
    float[] lg = session.forward(tokensOf(sg), 0, sg.length() - 1, 0);
    for (int i = sg.scoreFrom(); i < sg.length() - 1; i++) {
        double v = nllAt(lg, i * V, V, sg.token(i + 1));
        sumH += v;
        nH++;
        if (tok.piece(sg.token(i + 1)).contains("\n") || tok.piece(sg.token(i)).contains("\n")) { nlNewline += v; nNewline++; }
    }
}
double pplHand = Math.exp(sumH / nH);
PerplexityResult pr = base.perplexity();
p("%nllama-cpp method, ctx 128, %d chunks: %,d scored tokens%n", plan.segments().size(), pr.tokens());
p("Evaluator: PPL %.6f ± %.4f;  by hand from the logits: %.6f%n", pr.ppl(), pr.pplStderr(), pplHand);
check(nH == pr.tokens() && Math.abs(pplHand - pr.ppl()) < 1e-9 * pr.ppl(), "the library's perplexity is exp(mean NLL) over the plan's scored tokens");
double nlOther = sumH - nlNewline;
long nOther = nH - nNewline;
p("mean NLL at the %,d positions next to a newline: %.3f nats; elsewhere: %.3f nats (PPL %.4f)%n", nNewline, nlNewline / nNewline, nlOther / nOther, Math.exp(nlOther / nOther));
check(pr.ppl() > pplStream + 0.3, "the same model scores higher perplexity with llama.cpp's method than with the manifest's");
check(nlNewline / nNewline > 5 * (nlOther / nOther), "newlines cost over 5× the other tokens: training joined stories with BOS, never with a blank line");
// So a perplexity figure means little without its method and text; compare models only under one plan.

// ==== 4. A calibration pass ===================================================================================
// Calibration runs the float model on sample text (here: 16 chunks of 128 tokens of the *training* stories,
// never the held-out ones) and records, for every linear layer, statistics of its input x. The central one is
// the importance of input channel j: mean of x_j² (llama.cpp's imatrix). A weight column that multiplies a
// large input changes the output more when it is rounded: the expected squared output error of row r is
// Σ_j E[x_j²]·(w_rj − q_rj)² (if the channels were uncorrelated), exactly Σ_ij e_i·E[x_i x_j]·e_j.
List<int[]> calib = CalibrationData.sequences(tok, trainText, 16, 128, 1);
Map<String, CalibrationProfile.Entry> stats = Calibrator.run(W, M, calib, pool, Progress.NONE);
p("%ncalibration: %d sequences × 128 tokens, statistics for %d weights%n", calib.size(), stats.size());
// The same statistic by hand, from the model's extension point that sees every linear layer's input:
String layer = "blk.4.ffn_down.weight";
double[] mine = new double[C.hiddenDim()];
long[] rowsSeen = {0};
LlamaModel.Session watch = M.newSession(128, ThreadPool.SEQUENTIAL, (name, x, rows, width) -> {
    if (!name.equals(layer)) return;
    for (int r = 0; r < rows; r++) for (int j = 0; j < width; j++) mine[j] += (double) x[r * width + j] * x[r * width + j];
    rowsSeen[0] += rows;
});
for (int[] sq : calib) { watch.reset(); watch.forward(sq, 0, sq.length, 0); }
double[] imp = stats.get(layer).stats().importance();
double worst = 0;
for (int j = 0; j < imp.length; j++) worst = Math.max(worst, Math.abs(mine[j] / rowsSeen[0] - imp[j]) / imp[j]);
check(stats.get(layer).stats().rows() == 16 * 128 && rowsSeen[0] == 2048 && worst < 1e-12,
      "the profile's importance of " + layer + " is Σx²/rows over the 2,048 calibration tokens, channel by channel");
check(!stats.containsKey(LlamaWeights.TOKEN_EMBD) && stats.containsKey(LlamaWeights.OUTPUT),
      "every linear layer and the classifier have statistics; the embedding (a lookup, no input) has none");

// Importance of the 172 input channels of the last MLP's down projection (its input is silu(gate)·up):
Integer[] byImp = new Integer[imp.length];
for (int j = 0; j < imp.length; j++) byImp[j] = j;
Arrays.sort(byImp, (a, b) -> Double.compare(imp[b], imp[a]));
double[] sortedImp = imp.clone();
Arrays.sort(sortedImp);
double median = sortedImp[imp.length / 2], total = Arrays.stream(imp).sum();
p("%n%s: importance E[x_j²] of its %d input channels (median %.4f)%n", layer, imp.length, median);
p("%-8s %10s %8s  %s%n", "channel", "E[x²]", "×median", "");
for (int k = 0; k < 10; k++) {
    int j = byImp[k];
    p("%-8d %10.4f %8.1f  %s%n", j, imp[j], imp[j] / median, bar(imp[j] / imp[byImp[0]], 40));
}
p("   ...   (the lowest: channel %d at %.4f)%n", byImp[imp.length - 1], imp[byImp[imp.length - 1]]);
// Text histogram of log2(E[x²]/median): each row one octave
p("%nchannels per octave of E[x²]/median:%n");
int[] oct = new int[12];
for (double v : imp) oct[Math.max(0, Math.min(11, (int) Math.floor(Math.log(v / median) / Math.log(2)) + 6))]++;
for (int b = 0; b < 12; b++) if (oct[b] > 0) p("  [2^%+d, 2^%+d)  %4d %s%n", b - 6, b - 5, oct[b], "#".repeat(oct[b]));
double top10 = 0;
for (int k = 0; k < 10; k++) top10 += imp[byImp[k]];
p("the top 10 channels (%.1f%% of them) carry %.1f%% of Σ E[x²]%n", 1000.0 / imp.length, 100 * top10 / total);
check(sortedImp[imp.length - 1] / median > 4, "the most important channel of " + layer + " has over 4× the median importance");
check(top10 / total > 2.0 * 10 / imp.length, "the top 10 channels carry over twice their share of the input energy");
// After RMSNorm the attention inputs are much flatter:
double[] impQ = stats.get("blk.4.attn_q.weight").stats().importance().clone();
Arrays.sort(impQ);
p("blk.4.attn_q.weight (input: the normed residual): max/median %.2f; %s: %.2f%n", impQ[impQ.length - 1] / impQ[impQ.length / 2], layer, sortedImp[imp.length - 1] / median);
check(impQ[impQ.length - 1] / impQ[impQ.length / 2] < sortedImp[imp.length - 1] / median, "ffn_down's input is more uneven than attn_q's");
List<Chart.Point> impPts = new ArrayList<>();
for (int k = 0; k < imp.length; k++) impPts.add(new Chart.Point(k + 1, imp[byImp[k]], k < 3 ? "ch " + byImp[k] : ""));
Chart.xy("Calibration: input channel importance of " + layer, "channel rank", "E[x²] (log scale)").
     series(layer, impPts).lines(true).logY(true).writePng(OUT.resolve("05-importance.png"));

// ==== 5. int4 three ways: round-to-nearest, importance-weighted scales, GPTQ ====================================
// Scheme int4:group=32: codes −8..7 times one F16 scale per 32 weights of a row. The three methods write
// exactly this layout; they differ only in which codes and scales they pick.
//   RTN      s = max|w|/7, q = round(w/s)                                     (no calibration)
//   IMATRIX  per group, the s minimising Σ_j imp_j·(w_j − q_j·s)²              (importance-weighted search)
//   GPTQ     round one column at a time and push its error onto the columns not yet rounded, through
//            H = 2·E[x xᵀ], so that the layer's *output* error e·E[x xᵀ]·eᵀ is small, not the weight error
Scheme S = Scheme.parse("int4:group=32");
record Errors(double mse, double weighted, double output) {}
Errors errors(float[] w, float[] q, TensorStats ts, int cols) {
    double[] im = ts.importance(), g = ts.gram();
    double mse = 0, wm = 0, out = 0;
    double[] e = new double[cols];
    for (int r = 0; r < w.length / cols; r++) {
        for (int c = 0; c < cols; c++) { e[c] = w[r * cols + c] - q[r * cols + c]; mse += e[c] * e[c]; wm += im[c] * e[c] * e[c]; }
        for (int i = 0; i < cols; i++) { double a = 0; for (int j = 0; j < cols; j++) a += g[i * cols + j] * e[j]; out += e[i] * a; }
    }
    return new Errors(mse, wm, out);
}
List<io.quantkit.calib.Method> methods = List.of(io.quantkit.calib.Method.RTN, io.quantkit.calib.Method.IMATRIX, io.quantkit.calib.Method.GPTQ);
Map<io.quantkit.calib.Method, LlamaWeights> quantized = new LinkedHashMap<>();
Map<io.quantkit.calib.Method, Map<String, Errors>> errs = new LinkedHashMap<>();
for (io.quantkit.calib.Method m : methods) {
    Map<String, Errors> e = new TreeMap<>();
    quantized.put(m, W.map((name, t) -> {
        if (t.shape().rank() != 2) return t;                                   // norms stay float32
        TensorStats ts = stats.containsKey(name) ? stats.get(name).stats() : null;
        QuantizedTensor q = CalibratedQuantizer.quantize(t, S, m, ts, false);
        if (ts != null) e.put(name, errors(t.toFloatArray(), q.toFloatArray(), ts, (int) t.shape().dim(1)));
        return q;
    }));
    errs.put(m, e);
}
// Per layer, summed over the 36 weights with statistics (relative to RTN):
p("%n%-8s %14s %18s %16s%n", "method", "Σ weight error²", "Σ imp-weighted", "Σ output error");
double[] sums = new double[9];
for (int mi = 0; mi < 3; mi++) {
    for (Errors x : errs.get(methods.get(mi)).values()) { sums[3 * mi] += x.mse(); sums[3 * mi + 1] += x.weighted(); sums[3 * mi + 2] += x.output(); }
    p("%-8s %14.4f %18.4f %16.4f%n", methods.get(mi), sums[3 * mi], sums[3 * mi + 1], sums[3 * mi + 2]);
}
boolean gptqOutEverywhere = true, gptqMseWorse = true, imatWeightedEverywhere = true;
for (String name : errs.get(io.quantkit.calib.Method.RTN).keySet()) {
    Errors r = errs.get(io.quantkit.calib.Method.RTN).get(name), i = errs.get(io.quantkit.calib.Method.IMATRIX).get(name), g = errs.get(io.quantkit.calib.Method.GPTQ).get(name);
    gptqOutEverywhere &= g.output() < Math.min(r.output(), i.output());
    gptqMseWorse &= g.mse() > i.mse();
    imatWeightedEverywhere &= i.weighted() < r.weighted();
}
check(imatWeightedEverywhere, "on every one of the 36 layers, the importance-weighted search lowers Σ imp·e² below round-to-nearest's");
check(gptqOutEverywhere, "on every layer, GPTQ has the smallest output error e·E[xxᵀ]·eᵀ of the three");
check(gptqMseWorse && sums[6] > 1.3 * sums[3], "yet GPTQ's plain weight error is above the importance-weighted search's on every layer, over 1.3x in total: it moves weights away from their nearest grid point on purpose");

// Does that reach the model's predictions? Perplexity on the plan of section 3 and the KL divergence of each
// quantized model's next-token distribution from the float model's, position by position (mean over 10k
// positions: far less noisy than a difference of perplexities, because both models see the same tokens).
p("%n%-8s %10s %10s %10s %9s %9s%n", "model", "PPL", "ΔPPL", "mean KLD", "top-1 %", "bytes");
p("%-8s %10.4f %10s %10s %9s %9d%n", "float32", pr.ppl(), "-", "-", "-", W.storageBytes());
Map<io.quantkit.calib.Method, Evaluator.Run> runs = new LinkedHashMap<>();
for (io.quantkit.calib.Method m : methods) {
    Evaluator.Run r = Evaluator.run(LlamaModel.load(quantized.get(m)), plan, pool, false, base.logProbs(), Progress.NONE);
    runs.put(m, r);
    p("%-8s %10.4f %+10.4f %10.5f %9.2f %9d%n", m, r.perplexity().ppl(), r.perplexity().ppl() - pr.ppl(), r.divergence().meanKl(),
      100 * r.divergence().top1(), quantized.get(m).storageBytes());
}
double kR = runs.get(io.quantkit.calib.Method.RTN).divergence().meanKl(), kI = runs.get(io.quantkit.calib.Method.IMATRIX).divergence().meanKl(),
       kG = runs.get(io.quantkit.calib.Method.GPTQ).divergence().meanKl();
double pR = runs.get(io.quantkit.calib.Method.RTN).perplexity().ppl(), pG = runs.get(io.quantkit.calib.Method.GPTQ).perplexity().ppl();
check(kG < kI && kI < kR, "mean KLD: GPTQ < importance-weighted < round-to-nearest");
check(kG < 0.75 * kR, String.format(Locale.ROOT, "GPTQ cuts the KL divergence by more than a quarter (%.5f → %.5f)", kR, kG));
check(pG < pR && pR > pr.ppl(), "GPTQ's perplexity is below round-to-nearest's, both above the float model's");
// The perplexities move by less than their standard error, and the importance-weighted model's is not even
// below round-to-nearest's, while its KLD is clearly lower: KLD is the sharper instrument for small changes.
p("note: the PPL gap RTN − GPTQ (%.4f) is below the PPL's standard error (±%.4f); KLD separates the methods clearly%n", pR - pG, pr.pplStderr());
List<Chart.Point> outPts = new ArrayList<>(), impPtsI = new ArrayList<>();
int li = 0;
for (String name : errs.get(io.quantkit.calib.Method.RTN).keySet()) {
    Errors r = errs.get(io.quantkit.calib.Method.RTN).get(name);
    li++;
    outPts.add(new Chart.Point(li, errs.get(io.quantkit.calib.Method.GPTQ).get(name).output() / r.output(), ""));
    impPtsI.add(new Chart.Point(li, errs.get(io.quantkit.calib.Method.IMATRIX).get(name).output() / r.output(), ""));
}
Chart.xy("int4:group=32 on the default model: output error per layer, relative to round-to-nearest", "layer (sorted by name)", "output error / RTN's").
     series("GPTQ", outPts).series("importance-weighted scales", impPtsI).lines(true).writePng(OUT.resolve("05-methods.png"));

// ==== 6. Bits per weight: calibration is free at inference ===================================================
// Every stored byte counts: 4-bit codes, one F16 scale per group of ≤ 32 along a row (rows of 172 have 6 groups,
// the last of 12 weights), norms in float32. The three models are byte-for-byte the same size.
long expected = 0;
for (Map.Entry<String, Tensor> e : W.tensors().entrySet()) {
    Shape sh = e.getValue().shape();
    if (sh.rank() != 2) { expected += 4 * sh.numel(); continue; }
    long rows = sh.dim(0), cols = sh.dim(1);
    expected += (rows * cols * 4 + 7) / 8 + 2 * rows * ((cols + 31) / 32);
}
p("%n%-22s %-10s %8s %8s %9s%n", "tensor (RTN)", "shape", "codes B", "scales B", "bits/w");
for (String name : List.of("blk.0.attn_q.weight", "blk.0.ffn_down.weight", "blk.0.ffn_gate.weight", "token_embd.weight")) {
    QuantizedTensor q = (QuantizedTensor) quantized.get(io.quantkit.calib.Method.RTN).tensor(name);
    long codes = q.arrays().stream().filter(a -> a.role().equals("codes")).mapToLong(StoredArray::byteSize).sum();
    long scl = q.arrays().stream().filter(a -> a.role().equals("scales")).mapToLong(StoredArray::byteSize).sum();
    p("%-22s %-10s %8d %8d %9.4f%n", name, q.shape(), codes, scl, q.bitsPerWeight());
}
long bytesR = quantized.get(io.quantkit.calib.Method.RTN).storageBytes();
p("whole model: %,d bytes for %,d parameters = %.4f bits per weight (float32: %,d bytes, 32.0000)%n", bytesR, params, 8.0 * bytesR / params, W.storageBytes());
check(bytesR == expected, "model bytes = Σ ⌈4n/8⌉ + 2·rows·⌈cols/32⌉ over the matrices + 4 bytes per norm weight");
check(quantized.get(io.quantkit.calib.Method.IMATRIX).storageBytes() == bytesR && quantized.get(io.quantkit.calib.Method.GPTQ).storageBytes() == bytesR,
      "RTN, importance-weighted and GPTQ models take exactly the same bytes: calibration changes values, not the format");
QuantizedTensor down = (QuantizedTensor) quantized.get(io.quantkit.calib.Method.RTN).tensor("blk.0.ffn_down.weight");
check(Math.abs(down.bitsPerWeight() - (4 + 16.0 * 6 / 172)) < 1e-9, "ffn_down's rows of 172 pay 6 scales per row: 4 + 96/172 = 4.558 bits/weight");
p("%nplots: %s, %s%n", OUT.resolve("05-importance.png"), OUT.resolve("05-methods.png"));
pool.close();
