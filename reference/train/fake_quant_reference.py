#!/usr/bin/env python3
"""Independent reference for io.quantkit.train.FakeQuant's built-in grids, in numpy float32.

int:bits=b,group=g,sym  s = max|w| / (2^(b-1) - 1) per group (a shorter last group when g does not divide the row),
                         q = clip(rint(w/s), -2^(b-1), 2^(b-1)-1), value q*s
int ... asym             lo = min(min w, 0), hi = max(max w, 0), s = (hi-lo)/(2^b-1), z = rint(-lo/s),
                         q = clip(rint(w/s) + z, 0, 2^b-1), value (q - z)*s
ternary (scale=tensor)   s = mean|w| (float64 mean, then float32), q = clip(rint(w/s), -1, 1), value q*s
clipped STE mask         1 where the unclamped code is inside the grid, else 0
numpy's rint rounds half to even, like Java's Math.rint.

Run: /usr/bin/python3 reference/train/fake_quant_reference.py quant-core/src/test/resources/reference/train
"""
import json
import sys

import numpy as np

f32 = np.float32


def int_grid(w, bits, group, asym):
    rows, cols = w.shape
    g = cols if group == 0 else group
    out = np.zeros_like(w)
    mask = np.ones_like(w)
    for r in range(rows):
        for c0 in range(0, cols, g):
            x = w[r, c0:c0 + g]
            if asym:
                qmin, qmax = f32(0), f32(2 ** bits - 1)
                lo, hi = min(x.min(), f32(0)), max(x.max(), f32(0))
                s = f32((hi - lo) / qmax)
                z = f32(0) if s == 0 else f32(np.rint(f32(-lo / s)))
            else:
                qmax = f32(2 ** (bits - 1) - 1)
                qmin = -qmax - 1
                s = f32(np.abs(x).max() / qmax)
                z = f32(0)
            if s == 0:
                continue
            rr = (np.rint((x / s).astype(f32)) + z).astype(f32)
            q = np.clip(rr, qmin, qmax)
            out[r, c0:c0 + g] = ((q - z) * s).astype(f32)
            mask[r, c0:c0 + g] = ((rr >= qmin) & (rr <= qmax)).astype(f32)
    return out, mask


def ternary(w):
    s = f32(np.mean(np.abs(w).astype(np.float64)))
    rr = np.rint((w / s).astype(f32)).astype(f32)
    return (np.clip(rr, -1, 1) * s).astype(f32), ((rr >= -1) & (rr <= 1)).astype(f32)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    rs = np.random.RandomState(7)
    w = (rs.standard_normal((5, 24)) * 0.5).astype(f32)
    w[1, 3] = 4.0  # an outlier: clipped under ternary
    w[2, 8:16] = 0  # a group of zeros
    cases = []
    for scheme, (v, m) in [("int:bits=4,group=8", int_grid(w, 4, 8, False)),
                           ("int:bits=3,group=0,asym", int_grid(w, 3, 0, True)),
                           ("int8", int_grid(w, 8, 0, False)),
                           ("int4:group=8,asym", int_grid(w, 4, 8, True)),
                           ("int:bits=4,group=10", int_grid(w, 4, 10, False)),
                           ("ternary", ternary(w))]:
        cases.append({"scheme": scheme, "values": [float(x) for x in v.reshape(-1)],
                      "clipped_mask": [float(x) for x in m.reshape(-1)]})
    with open(f"{out}/fake_quant_reference.json", "w") as f:
        json.dump({"generator": "reference/train/fake_quant_reference.py", "rows": 5, "cols": 24,
                   "weights": [float(x) for x in w.reshape(-1)], "cases": cases}, f, indent=0)


if __name__ == "__main__":
    main()
