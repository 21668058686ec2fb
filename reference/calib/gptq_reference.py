"""Independent numpy GPTQ (Frantar et al. 2022) for quantkit's calib tests.

Writes ../../quant-core/src/test/resources/reference/calib/gptq.json: for a few seeded cases, the weight W
[rows, cols], the input second moment G = X^T X / n, and the codes and scales GPTQ chooses with:
  symmetric b-bit grid q in [-2^(b-1), 2^(b-1)-1], one float16 scale per group of the row,
  scale at a group's first column = float16(amax(current W segment) / qmax)  (round to nearest even;
  a zero segment gives 0), q = clip(round_half_even(w / s)), H = 2G, dead channels (H_ii = 0) -> H_ii = 1, W col 0,
  H += 0.01 * mean(diag H) * I, U = upper Cholesky of H^-1, columns in natural order (no act-order).
Run: /usr/bin/python3 gptq_reference.py
"""
import json
import os
import numpy as np


def f16(x):
    return float(np.float16(x))


def gptq(W, G, bits, group):
    rows, cols = W.shape
    qmin, qmax = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    g = cols if group == 0 or group > cols else group
    groups = (cols + g - 1) // g
    H = 2.0 * G.copy()
    W = W.astype(np.float64).copy()
    for i in range(cols):
        if H[i, i] == 0:
            H[i, i] = 1.0
            W[:, i] = 0.0
    H += 0.01 * np.mean(np.diag(H)) * np.eye(cols)
    Hinv = np.linalg.inv(H)
    U = np.linalg.cholesky(Hinv).T  # upper, Hinv = U^T U
    Q = np.zeros((rows, cols), dtype=np.int64)
    S = np.zeros((rows, groups))
    for i in range(cols):
        k = i // g
        if i % g == 0:
            seg = W[:, k * g:min(cols, (k + 1) * g)].astype(np.float32)
            for r in range(rows):
                amax = float(np.max(np.abs(seg[r])))
                S[r, k] = f16(np.float32(amax) / np.float32(qmax)) if amax > 0 else 0.0
        s = S[:, k]
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.where(s != 0, np.clip(np.round(W[:, i] / np.where(s != 0, s, 1.0)), qmin, qmax), 0)
        Q[:, i] = q
        err = (W[:, i] - q * s) / U[i, i]
        W[:, i + 1:] -= np.outer(err, U[i, i + 1:])
    return Q, S


def case(seed, rows, cols, n, bits, group, dead=None):
    rng = np.random.default_rng(seed)
    W = (rng.standard_normal((rows, cols)) * 0.05).astype(np.float32)
    X = rng.standard_normal((n, cols)).astype(np.float32) * (1 + 3 * rng.random(cols)).astype(np.float32)
    X[:, 0] += 2.0 * X[:, 1]  # correlated channels, where GPTQ differs from rounding
    if dead is not None:
        X[:, dead] = 0
    G = (X.astype(np.float64).T @ X.astype(np.float64)) / n
    Q, S = gptq(W, G, bits, group)
    return {"seed": seed, "rows": rows, "cols": cols, "bits": bits, "group": group,
            "w": [float(v) for v in W.ravel()], "gram": [float(v) for v in G.ravel()],
            "q": [int(v) for v in Q.ravel()], "scales": [float(v) for v in S.ravel()]}


cases = [case(1, 4, 16, 64, 4, 8), case(2, 3, 13, 40, 4, 0), case(3, 5, 12, 50, 3, 5, dead=3),
         case(4, 2, 32, 100, 8, 32)]
out = os.path.join(os.path.dirname(__file__), "../../quant-core/src/test/resources/reference/calib/gptq.json")
with open(out, "w") as f:
    json.dump({"cases": cases}, f)
print("wrote", len(cases), "cases")
