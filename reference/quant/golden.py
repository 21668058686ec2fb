#!/usr/bin/python3
"""Golden values for quantkit's int / int4 / int4-outliers / ternary / nf4 codecs.

An independent implementation written from the formats' definitions (see the codecs' javadoc), using
numpy float32 arithmetic and numpy's own bit packing (np.packbits, little bit order). It shares no code
with the Java implementation. Run:

    /usr/bin/python3 reference/quant/golden.py > quant-core/src/test/resources/reference/quant/golden.json

The output lists, per case, the input (float32 bit patterns), the expected stored arrays (bytes as hex)
and the expected dequantized values (float32 bit patterns).
"""
import json
import math
import sys

import numpy as np

F32 = np.float32
NF4 = np.array([-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
                -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
                0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
                0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0], dtype=np.float32)


def up_f16(x):
    """Smallest float16 >= x (x a non-negative float32), returned as float16."""
    h = np.float16(x)  # round to nearest even
    if F32(h) < x:
        h = np.nextafter(h, np.float16(np.inf))
    return h


def pack_bits(codes, bits):
    """LSB-first bit stream of `bits`-wide unsigned codes."""
    codes = np.asarray(codes, dtype=np.uint32)
    planes = ((codes[:, None] >> np.arange(bits, dtype=np.uint32)) & 1).astype(np.uint8).reshape(-1)
    return np.packbits(planes, bitorder="little")


def groups(n_rows, cols, group):
    g = cols if group == 0 or group > cols else group
    for r in range(n_rows):
        for s in range(0, cols, g):
            yield r * cols + s, r * cols + min(s + g, cols)


def int_grid(w, cols, bits, group, asym):
    n = w.size
    rows = n // cols if cols else 0
    codes = np.zeros(n, dtype=np.int64)
    deq = np.zeros(n, dtype=np.float32)
    scales, zeros = [], []
    for s, e in groups(rows, cols, group):
        x = w[s:e]
        if asym:
            lo = min(F32(0), x.min())
            hi = max(F32(0), x.max())
            levels = 2 ** bits - 1
            sc = up_f16(F32((np.float64(hi) - np.float64(lo)) / levels))
            s32 = F32(sc)
            if s32 == 0:
                z = 0
                q = np.zeros(e - s, dtype=np.int64)
            else:
                z = int(np.clip(np.rint(-np.float64(lo) / np.float64(s32)), 0, levels))
                q = np.clip(np.rint(x / s32).astype(np.int64) + z, 0, levels)
            codes[s:e] = q
            deq[s:e] = (q - z).astype(np.float32) * s32
            zeros.append(z)
        else:
            qmax = 2 ** (bits - 1) - 1
            amax = np.abs(x).max()
            sc = up_f16(F32(amax / F32(qmax)))
            s32 = F32(sc)
            if s32 == 0:
                q = np.zeros(e - s, dtype=np.int64)
            else:
                q = np.clip(np.rint(x / s32), -(qmax + 1), qmax).astype(np.int64)
            codes[s:e] = q & (2 ** bits - 1)
            deq[s:e] = q.astype(np.float32) * s32
        scales.append(sc)
    out = {"codes": pack_bits(codes, bits).tobytes().hex(),
           "scales": np.array(scales, dtype=np.float16).tobytes().hex()}
    if asym:
        out["zeros"] = np.array(zeros, dtype=np.uint8).tobytes().hex()
    return out, deq


def bf16_round(v):
    """Round float32 to bfloat16 (nearest even) and back, via integer arithmetic on the bit pattern."""
    b = np.asarray(v, dtype=np.float32).view(np.uint32).astype(np.uint64)
    r = ((b + 0x7FFF + ((b >> 16) & 1)) >> 16) << 16
    return r.astype(np.uint32).view(np.float32)


def int4_outliers(w, cols, group, asym, frac):
    n = w.size
    k = int(math.floor(frac * n))
    order = np.lexsort((np.arange(n), -np.abs(w.astype(np.float64))))
    idx = np.sort(order[:k])
    vals = w[idx]
    bulk = w.copy()
    bulk[idx] = 0
    out, deq = int_grid(bulk, cols, 4, group, asym)
    if np.all(bf16_round(vals) == vals):
        vt = "BF16"
        stored = bf16_round(vals)
        raw = (stored.view(np.uint32) >> 16).astype(np.uint16)
    else:
        vt = "F16" if np.all(np.abs(vals) <= 65504) else "BF16"
        assert vt == "F16"
        raw = vals.astype(np.float16)
        stored = raw.astype(np.float32)
    deq[idx] = stored
    # quantkit.format 2: flat indexes cut into blocks of 65,536; per block the count of outliers before its
    # end (i32, none without outliers), per outlier its index mod 65,536 (u16)
    if k:
        blocks = -(-n // 65536)
        ends = [int(np.count_nonzero(idx < (b + 1) * 65536)) for b in range(blocks)]
    else:
        ends = []
    out["outlier_block_end"] = np.array(ends, dtype="<i4").tobytes().hex()
    out["outlier_offset"] = (idx % 65536).astype("<u2").tobytes().hex()
    out["outlier_value"] = raw.tobytes().hex()
    out["outlier_value_dtype"] = vt
    return out, deq


def ternary(w, cols, mode, group, base3):
    n = w.size
    if mode == "tensor":
        units = [(0, n)]
    else:
        g = cols if mode == "channel" else group
        units = list(groups(n // cols if cols else 0, cols, g))
    t = np.ones(n, dtype=np.int64)
    deq = np.zeros(n, dtype=np.float32)
    scales = []
    for s, e in units:
        x = w[s:e]
        sc = F32(math.fsum(abs(float(v)) for v in x) / (e - s)) if e > s else F32(0)
        q = np.zeros(e - s, dtype=np.int64) if sc == 0 else np.clip(np.rint(x / sc), -1, 1).astype(np.int64)
        t[s:e] = q + 1
        deq[s:e] = q.astype(np.float32) * sc
        scales.append(sc)
    if base3:
        pad = (-n) % 5
        tt = np.concatenate([t, np.zeros(pad, dtype=np.int64)]).reshape(-1, 5)
        codes = (tt * np.array([1, 3, 9, 27, 81])).sum(axis=1).astype(np.uint8)
    else:
        codes = pack_bits(t, 2)
    return {"codes": codes.tobytes().hex(), "scales": np.array(scales, dtype="<f4").tobytes().hex()}, deq


def nf4(w, block):
    n = w.size
    codes = np.zeros(n, dtype=np.int64)
    deq = np.zeros(n, dtype=np.float32)
    scales = []
    for s in range(0, n, block):
        x = w[s:s + block]
        a = np.abs(x).max()
        if a == 0:
            c = np.full(x.size, 7)
        else:
            # bitsandbytes' rule: the upper of two neighbours iff x is above the float32 rounding of their
            # exact midpoint (exact ties therefore go to the lower value)
            mids = ((NF4[:-1].astype(np.float64) + NF4[1:].astype(np.float64)) / 2).astype(np.float32)
            c = (x / a)[:, None] > mids[None, :]
            c = c.sum(axis=1)
        codes[s:s + block] = c
        deq[s:s + block] = NF4[c] * a
        scales.append(a)
    return {"codes": pack_bits(codes, 4).tobytes().hex(),
            "scales": np.array(scales, dtype="<f4").tobytes().hex()}, deq


def inputs():
    rng = np.random.default_rng(20261124)
    cases = []
    w = (rng.standard_normal(3 * 172) * 0.02).astype(np.float32)
    w[172:344] = 0  # an all-zero row
    w[5] = 0.9      # one huge outlier
    cases.append(("gauss_3x172", [3, 172], w))
    w = (rng.standard_t(3, 2 * 257) * 0.02).astype(np.float32)
    w[300] = -1.5   # negative maximum
    cases.append(("student_t_2x257", [2, 257], w))
    # ties: multiples of half a step for amax = 7 (int4 sym scale exactly 1.0 in f16)
    w = np.array([7, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.5, -3.5, 6.5, -6.5, 0.25, 0, -7, 4.5, -4.5] * 2,
                 dtype=np.float32)
    cases.append(("ties_2x16", [2, 16], w))
    w = (rng.standard_normal(31) * 0.05).astype(np.float32)
    cases.append(("prime_31", [31], w))
    return cases


SCHEMES = [
    ("int4", lambda w, c: int_grid(w, c, 4, 128, False)),
    ("int4:group=64,asym", lambda w, c: int_grid(w, c, 4, 64, True)),
    ("int4:group=32", lambda w, c: int_grid(w, c, 4, 32, False)),
    ("int8", lambda w, c: int_grid(w, c, 8, 0, False)),
    ("int:bits=3,group=64", lambda w, c: int_grid(w, c, 3, 64, False)),
    ("int:bits=2,group=32,asym", lambda w, c: int_grid(w, c, 2, 32, True)),
    ("int:bits=5,group=16,asym", lambda w, c: int_grid(w, c, 5, 16, True)),
    ("int4-outliers:budget=2%", lambda w, c: int4_outliers(w, c, 128, False, 0.02)),
    ("int4-outliers:budget=3%,group=32,asym", lambda w, c: int4_outliers(w, c, 32, True, 0.03)),
    ("ternary", lambda w, c: ternary(w, c, "tensor", 128, False)),
    ("ternary:scale=channel,pack=base3", lambda w, c: ternary(w, c, "channel", 128, True)),
    ("ternary:scale=group,group=32", lambda w, c: ternary(w, c, "group", 32, False)),
    ("nf4", lambda w, c: nf4(w, 64)),
    ("nf4:block=32", lambda w, c: nf4(w, 32)),
]


def main():
    out = {"generator": "reference/quant/golden.py", "numpy": np.__version__, "cases": []}
    for name, shape, w in inputs():
        cols = shape[-1]
        for scheme, fn in SCHEMES:
            arrays, deq = fn(w.copy(), cols)
            out["cases"].append({
                "input": name, "shape": shape, "scheme": scheme,
                "w": w.view(np.uint32).tolist(),
                "arrays": arrays,
                "dequantized": deq.view(np.uint32).tolist(),
            })
    # one case per line keeps the committed file reviewable in diffs
    sys.stdout.write('{"generator": %s, "numpy": %s, "cases": [\n' % (json.dumps(out["generator"]),
                                                                      json.dumps(out["numpy"])))
    sys.stdout.write(",\n".join(json.dumps(c, separators=(",", ":")) for c in out["cases"]))
    sys.stdout.write("\n]}\n")


if __name__ == "__main__":
    main()
