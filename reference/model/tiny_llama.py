#!/usr/bin/python3
"""Independent float64 numpy forward pass of a tiny random Llama model: golden logits for LlamaModelTest.

Writes, per case, <name>.weights.f32 (every tensor in LlamaWeights.expectedNames order, row-major [out, in],
little-endian float32), <name>.tokens.txt and <name>.logits.f32 ([T][vocab] float32).
Run: /usr/bin/python3 reference/model/tiny_llama.py quant-core/src/test/resources/reference/model
"""
import sys
import numpy as np

CASES = {
    # name: dim, hidden, layers, heads, kv_heads, vocab, rope style, separate classifier, seed
    "tiny-gqa-adjacent-tied": (16, 40, 2, 4, 2, 37, "adjacent", False, 1234),
    "tiny-mha-halfsplit-separate": (18, 52, 3, 3, 3, 29, "half", True, 99),
}
T = 11


def names(layers, separate):
    out = ["token_embd.weight"]
    for l in range(layers):
        for k in ["attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_down",
                  "ffn_up"]:
            out.append("blk.%d.%s.weight" % (l, k))
    out.append("output_norm.weight")
    if separate:
        out.append("output.weight")
    return out


def shape(name, dim, hidden, kv_dim, vocab):
    k = name.split(".")[-2] if name.startswith("blk.") else name
    return {
        "token_embd.weight": (vocab, dim), "output.weight": (vocab, dim), "output_norm.weight": (dim,),
        "attn_norm": (dim,), "ffn_norm": (dim,), "attn_q": (dim, dim), "attn_output": (dim, dim),
        "attn_k": (kv_dim, dim), "attn_v": (kv_dim, dim), "ffn_gate": (hidden, dim), "ffn_up": (hidden, dim),
        "ffn_down": (dim, hidden),
    }[k]


def rope(x, pos, hs, style, theta=10000.0):
    # x: [heads, hs]
    out = x.copy()
    for j in range(hs // 2):
        ang = pos * theta ** (-2.0 * j / hs)
        c, s = np.cos(ang), np.sin(ang)
        i0, i1 = (2 * j, 2 * j + 1) if style == "adjacent" else (j, j + hs // 2)
        out[:, i0] = x[:, i0] * c - x[:, i1] * s
        out[:, i1] = x[:, i0] * s + x[:, i1] * c
    return out


def rmsnorm(x, w, eps=1e-5):
    return w * x / np.sqrt(np.mean(x * x) + eps)


def forward(W, tokens, dim, hidden, layers, heads, kv_heads, style, separate):
    hs = dim // heads
    K = [[] for _ in range(layers)]
    V = [[] for _ in range(layers)]
    logits = []
    for pos, tok in enumerate(tokens):
        x = W["token_embd.weight"][tok].copy()
        for l in range(layers):
            p = "blk.%d." % l
            xb = rmsnorm(x, W[p + "attn_norm.weight"])
            q = rope((W[p + "attn_q.weight"] @ xb).reshape(heads, hs), pos, hs, style)
            k = rope((W[p + "attn_k.weight"] @ xb).reshape(kv_heads, hs), pos, hs, style)
            v = (W[p + "attn_v.weight"] @ xb).reshape(kv_heads, hs)
            K[l].append(k)
            V[l].append(v)
            ks = np.stack(K[l])  # [t, kvh, hs]
            vs = np.stack(V[l])
            out = np.zeros((heads, hs))
            for h in range(heads):
                g = h // (heads // kv_heads)
                sc = ks[:, g, :] @ q[h] / np.sqrt(hs)
                a = np.exp(sc - sc.max())
                a /= a.sum()
                out[h] = a @ vs[:, g, :]
            x = x + W[p + "attn_output.weight"] @ out.reshape(dim)
            xb = rmsnorm(x, W[p + "ffn_norm.weight"])
            g1 = W[p + "ffn_gate.weight"] @ xb
            h3 = W[p + "ffn_up.weight"] @ xb
            x = x + W[p + "ffn_down.weight"] @ (g1 / (1 + np.exp(-g1)) * h3)
        x = rmsnorm(x, W["output_norm.weight"])
        cls = W["output.weight"] if separate else W["token_embd.weight"]
        logits.append(cls @ x)
    return np.array(logits)


def main(outdir):
    for name, (dim, hidden, layers, heads, kv_heads, vocab, style, separate, seed) in CASES.items():
        rng = np.random.default_rng(seed)
        kv_dim = kv_heads * (dim // heads)
        W = {}
        blob = []
        for n in names(layers, separate):
            shp = shape(n, dim, hidden, kv_dim, vocab)
            if len(shp) == 1:
                a = rng.uniform(0.5, 1.5, shp)
            else:
                a = rng.normal(0, 1.0 / np.sqrt(shp[1]), shp) * (3.0 if "token_embd" in n else 1.0)
            a = a.astype(np.float32)
            W[n] = a.astype(np.float64)
            blob.append(a.ravel())
        np.concatenate(blob).astype("<f4").tofile("%s/%s.weights.f32" % (outdir, name))
        tokens = rng.integers(0, vocab, T)
        with open("%s/%s.tokens.txt" % (outdir, name), "w") as f:
            f.write(" ".join(str(t) for t in tokens) + "\n")
        logits = forward(W, tokens, dim, hidden, layers, heads, kv_heads, style, separate)
        logits.astype("<f4").tofile("%s/%s.logits.f32" % (outdir, name))
        print(name, "logits[0,:4] =", logits[0, :4], "max |logit| =", np.abs(logits).max())


if __name__ == "__main__":
    main(sys.argv[1])
