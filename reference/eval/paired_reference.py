#!/usr/bin/python3
"""Golden values for paired perplexity differences (io.quantkit.eval.TokenLosses.paired).

Written from the definitions, not from the Java code: two models a and b score the same n tokens; d_i = nll_a,i -
nll_b,i. The mean of d is ln(PPL_a / PPL_b), its standard error sqrt(var(d) / (n - 1)) with the population variance
(ddof=0), the convention of llama.cpp's perplexity tool. PPL_a - PPL_b = exp(mean a) - exp(mean b); its standard
error by the delta method: g = (PPL_a, -PPL_b), var = g' C g / (n - 1) with C the population covariance matrix of
(nll_a, nll_b).

Cases: seeded losses shaped like a language model's (gamma-distributed, b = a plus correlated noise), lengths 2, 3,
997 and 1,999; a hand-worked case is checked in the Java test itself.
Usage: /usr/bin/python3 reference/eval/paired_reference.py quant-core/src/test/resources/reference/eval
"""
import json
import sys

import numpy as np


def case(seed, n, noise):
    rng = np.random.default_rng(seed)
    a = rng.gamma(shape=1.5, scale=1.0, size=n)
    b = np.abs(a + noise * rng.standard_normal(n) + 0.02)
    return a, b


def stats(a, b):
    n = len(a)
    d = a - b
    c = np.cov(np.vstack([a, b]), ddof=0)
    pa, pb = np.exp(a.mean()), np.exp(b.mean())
    g = np.array([pa, -pb])
    return {
        "mean_nll_diff": float(d.mean()),
        "mean_nll_diff_stderr": float(np.std(d, ddof=0) / np.sqrt(n - 1)),
        "delta_ppl": float(pa - pb),
        "delta_ppl_stderr": float(np.sqrt(max(0.0, g @ c @ g) / (n - 1))),
    }


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    cases = []
    for seed, n, noise in [(1, 2, 0.3), (2, 3, 0.1), (3, 997, 0.25), (4, 1999, 0.05)]:
        a, b = case(seed, n, noise)
        cases.append({"seed": seed, "n": n, "a": a.tolist(), "b": b.tolist(), **stats(a, b)})
    with open(out + "/paired.json", "w") as f:
        json.dump({"numpy": np.__version__, "cases": cases}, f)
        f.write("\n")


if __name__ == "__main__":
    main()
