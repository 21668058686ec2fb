#!/usr/bin/env python3
"""Training throughput of the stories260K-sized Llama in PyTorch (CPU), the comparison for `TrainBench`.

Same configuration and batch as io.quantkit.train.TrainBench: dim 64, hidden 172, 5 layers, 8 heads, 4 kv heads,
vocab 512, batch 16 x 128 tokens, AdamW, float32, random tokens. Prints tokens/s (forward + backward + optimizer
step) over the timed steps after warm-up steps.

Run: /usr/bin/python3 reference/train/bench_torch.py [THREADS] [STEPS]
"""
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, d, h, heads, kv):
        super().__init__()
        self.heads, self.kv, self.hs = heads, kv, d // heads
        self.wq = nn.Linear(d, d, bias=False)
        self.wk = nn.Linear(d, kv * self.hs, bias=False)
        self.wv = nn.Linear(d, kv * self.hs, bias=False)
        self.wo = nn.Linear(d, d, bias=False)
        self.w1 = nn.Linear(d, h, bias=False)
        self.w2 = nn.Linear(h, d, bias=False)
        self.w3 = nn.Linear(d, h, bias=False)
        self.n1 = nn.Parameter(torch.ones(d))
        self.n2 = nn.Parameter(torch.ones(d))

    @staticmethod
    def norm(x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w

    def forward(self, x, cos, sin):
        B, T, D = x.shape
        n = self.norm(x, self.n1)
        q = self.wq(n).view(B, T, self.heads, self.hs)
        k = self.wk(n).view(B, T, self.kv, self.hs)
        v = self.wv(n).view(B, T, self.kv, self.hs)

        def rope(t):
            t0, t1 = t[..., 0::2], t[..., 1::2]
            return torch.stack([t0 * cos - t1 * sin, t0 * sin + t1 * cos], dim=-1).flatten(-2)

        q, k = rope(q), rope(k)
        k = k.repeat_interleave(self.heads // self.kv, dim=2)
        v = v.repeat_interleave(self.heads // self.kv, dim=2)
        o = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), is_causal=True) \
            if hasattr(F, "scaled_dot_product_attention") else None
        if o is None:
            qt, kt, vt = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
            att = (qt @ kt.transpose(-1, -2)) / self.hs ** 0.5
            att = att.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), 1), float("-inf")).softmax(-1)
            o = att @ vt
        x = x + self.wo(o.transpose(1, 2).reshape(B, T, D))
        n = self.norm(x, self.n2)
        return x + self.w2(F.silu(self.w1(n)) * self.w3(n))


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    d, h, L, heads, kv, V, B, T = 64, 172, 5, 8, 4, 512, 16, 128
    emb = nn.Embedding(V, d)
    blocks = nn.ModuleList([Block(d, h, heads, kv) for _ in range(L)])
    nf = nn.Parameter(torch.ones(d))
    params = list(emb.parameters()) + list(blocks.parameters()) + [nf]
    opt = torch.optim.AdamW(params, lr=1e-3, betas=(0.9, 0.95), weight_decay=0.1)
    freqs = 1.0 / (10000 ** (torch.arange(0, d // heads, 2).float() / (d // heads)))
    ang = torch.arange(T).float()[:, None] * freqs[None, :]
    cos, sin = torch.cos(ang)[None, :, None, :], torch.sin(ang)[None, :, None, :]
    data = torch.randint(0, V, (B, T + 1))
    warm = 3
    for i in range(warm + steps):
        if i == warm:
            t0 = time.perf_counter()
            c0 = time.process_time()
        x = emb(data[:, :-1])
        for b in blocks:
            x = b(x, cos, sin)
        logits = Block.norm(x, nf) @ emb.weight.T
        loss = F.cross_entropy(logits.reshape(-1, V), data[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
    dt = time.perf_counter() - t0
    cpu = time.process_time() - c0
    print(f"pytorch {torch.__version__} threads {threads}: {steps * B * T / dt:.0f} tokens/s wall, "
          f"{steps * B * T / cpu:.0f} tokens per CPU-second ({steps} steps of {B}x{T} tokens in {dt:.2f} s wall, "
          f"{cpu:.2f} s CPU)")


if __name__ == "__main__":
    main()
