#!/usr/bin/env python3
"""Independent reference for io.quantkit.train: loss and gradients of small Llama models, by PyTorch autograd in float64.

Written from the architecture description (llama2.c's model.py conventions: RMSNorm, RoPE on adjacent pairs
(2j, 2j+1) with angle pos * theta^(-2j/head_size), grouped-query causal attention where query head h reads key/value
head h // (n_heads / n_kv_heads), SwiGLU w2(silu(w1 x) * w3 x), tied or separate classifier, mean cross-entropy over
targets >= 0). The "subln" case adds BitNet's SubLN: an RMSNorm with its own gain on the attention output before wo and on
silu(w1 x) * w3 x before w2. Weights are float32 values drawn from numpy's RandomState(seed); the math runs in float64.

Run: /usr/bin/python3 reference/train/grad_reference.py quant-core/src/test/resources/reference/train
(Debian's python3-torch 1.13 and python3-numpy.)
"""
import json
import sys

import numpy as np
import torch


def names(cfg):
    out = [("tok_embeddings.weight", (cfg["vocab_size"], cfg["dim"]))]
    L, d, kv, h = cfg["n_layers"], cfg["dim"], cfg["dim"] // cfg["n_heads"] * cfg["n_kv_heads"], cfg["hidden_dim"]
    for suffix, shape in [("attention_norm.weight", (d,)), ("attention.wq.weight", (d, d)),
                          ("attention.wk.weight", (kv, d)), ("attention.wv.weight", (kv, d)),
                          ("attention.wo.weight", (d, d)), ("ffn_norm.weight", (d,)),
                          ("feed_forward.w1.weight", (h, d)), ("feed_forward.w2.weight", (d, h)),
                          ("feed_forward.w3.weight", (h, d))]:
        for l in range(L):
            out.append((f"layers.{l}.{suffix}", shape))
    out.append(("norm.weight", (d,)))
    if not cfg["shared_classifier"]:
        out.append(("output.weight", (cfg["vocab_size"], d)))
    if cfg.get("sub_norms"):
        for suffix, shape in [("attention_sub_norm.weight", (d,)), ("ffn_sub_norm.weight", (h,))]:
            for l in range(L):
                out.append((f"layers.{l}.{suffix}", shape))
    return out


def rmsnorm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope(x, theta):
    # x: [B, T, heads, hs]
    B, T, H, hs = x.shape
    freqs = 1.0 / (theta ** (torch.arange(0, hs, 2, dtype=torch.float64) / hs))
    ang = torch.arange(T, dtype=torch.float64)[:, None] * freqs[None, :]  # [T, hs/2]
    cos, sin = torch.cos(ang)[None, :, None, :], torch.sin(ang)[None, :, None, :]
    x0, x1 = x[..., 0::2], x[..., 1::2]
    out = torch.empty_like(x)
    out[..., 0::2] = x0 * cos - x1 * sin
    out[..., 1::2] = x0 * sin + x1 * cos
    return out


def loss_fn(cfg, p, tokens):
    d, H, KV = cfg["dim"], cfg["n_heads"], cfg["n_kv_heads"]
    hs = d // H
    eps, theta = cfg["norm_eps"], cfg["rope_theta"]
    inp, tgt = tokens[:, :-1], tokens[:, 1:]
    B, T = inp.shape
    x = p["tok_embeddings.weight"][inp.clamp(min=0)]
    mask = torch.full((T, T), float("-inf"), dtype=torch.float64).triu(1)
    for l in range(cfg["n_layers"]):
        g = lambda n: p[f"layers.{l}.{n}"]
        n1 = rmsnorm(x, g("attention_norm.weight"), eps)
        q = (n1 @ g("attention.wq.weight").T).view(B, T, H, hs)
        k = (n1 @ g("attention.wk.weight").T).view(B, T, KV, hs)
        v = (n1 @ g("attention.wv.weight").T).view(B, T, KV, hs)
        q, k = rope(q, theta), rope(k, theta)
        k = k.repeat_interleave(H // KV, dim=2)
        v = v.repeat_interleave(H // KV, dim=2)
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        att = torch.softmax(q @ k.transpose(-1, -2) / np.sqrt(hs) + mask, dim=-1)
        o = (att @ v).transpose(1, 2).reshape(B, T, d)
        if cfg.get("sub_norms"):  # BitNet's SubLN before the output projection
            o = rmsnorm(o, g("attention_sub_norm.weight"), eps)
        x = x + o @ g("attention.wo.weight").T
        n2 = rmsnorm(x, g("ffn_norm.weight"), eps)
        a = n2 @ g("feed_forward.w1.weight").T
        c = n2 @ g("feed_forward.w3.weight").T
        hgl = torch.nn.functional.silu(a) * c
        if cfg.get("sub_norms"):  # BitNet's SubLN before the down projection
            hgl = rmsnorm(hgl, g("ffn_sub_norm.weight"), eps)
        x = x + hgl @ g("feed_forward.w2.weight").T
    x = rmsnorm(x, p["norm.weight"], eps)
    wcls = p["tok_embeddings.weight"] if cfg["shared_classifier"] else p["output.weight"]
    logits = x @ wcls.T
    return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1), ignore_index=-1)


def case(name, cfg, batch, seed):
    rs = np.random.RandomState(seed)
    weights = {}
    for n, shape in names(cfg):
        if n.endswith("norm.weight"):
            w = 1.0 + 0.3 * rs.standard_normal(shape)
        else:
            w = 0.4 * rs.standard_normal(shape)
        weights[n] = w.astype(np.float32)
    tokens = rs.randint(0, cfg["vocab_size"], size=(batch, cfg["seq_len"] + 1))
    tokens[0, -1] = -1  # an unscored target
    p = {n: torch.tensor(w.astype(np.float64), requires_grad=True) for n, w in weights.items()}
    loss = loss_fn(cfg, p, torch.tensor(tokens, dtype=torch.long))
    loss.backward()
    return {
        "name": name, "config": cfg, "batch": batch, "seed": seed,
        "tokens": tokens.reshape(-1).tolist(),
        "loss": loss.item(),
        "weights": {n: [float(v) for v in w.reshape(-1)] for n, w in weights.items()},
        "grads": {n: p[n].grad.numpy().reshape(-1).tolist() for n in weights},
    }


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    cases = [
        case("tied-gqa", dict(dim=8, hidden_dim=12, n_layers=2, n_heads=4, n_kv_heads=2, vocab_size=11, seq_len=7,
                              shared_classifier=True, norm_eps=1e-5, rope_theta=10000.0), 3, 1),
        case("untied-mha", dict(dim=12, hidden_dim=20, n_layers=1, n_heads=3, n_kv_heads=3, vocab_size=13, seq_len=5,
                                shared_classifier=False, norm_eps=1e-5, rope_theta=10000.0), 2, 2),
        case("tied-gqa-subln", dict(dim=8, hidden_dim=12, n_layers=2, n_heads=4, n_kv_heads=2, vocab_size=11, seq_len=7,
                                    shared_classifier=True, norm_eps=1e-5, rope_theta=10000.0, sub_norms=True), 3, 3),
    ]
    with open(f"{out}/grad_reference.json", "w") as f:
        json.dump({"generator": "reference/train/grad_reference.py", "torch": torch.__version__, "cases": cases}, f)


if __name__ == "__main__":
    main()
