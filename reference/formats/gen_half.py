#!/usr/bin/python3
"""Reference data for bfloat16 (PyTorch 1.13) and IEEE binary16 (numpy float16).

Decode: all 65,536 codes -> float32 by torch (bfloat16 -> float) and numpy (float16 -> float32).
Encode: float32 -> code by torch (.to(torch.bfloat16), round to nearest even) and numpy
(.astype(np.float16), round to nearest even), for: every midpoint between two neighbouring finite codes
(including the midpoint between the largest finite value and the first value past it, i.e. the overflow
boundary) with its float32 neighbours one ulp below and above; special values; seeded random float32
bit patterns and seeded random values in range.

Files (gzip, little-endian):
  <fmt>_decode.bin.gz : 65536 x uint32 float32 bits, code order
  <fmt>_encode.bin.gz : uint32 N, then N x uint32 input float32 bits, then N x uint16 expected code
with <fmt> = bf16 or f16. Run: /usr/bin/python3 gen_half.py OUTDIR
"""
import gzip
import struct
import sys

import numpy as np
import torch

SEED = 20261124


def write_gz(path, payload):
    with gzip.GzipFile(path, 'wb', mtime=0) as f:  # mtime=0: byte-identical output on every run
        f.write(payload)


def neighbours(mid_bits):
    """uint32 array: each float32 bit pattern and the patterns one ulp below and above (same sign)."""
    m = np.asarray(mid_bits, dtype=np.int64)
    return np.stack([m - 1, m, m + 1], axis=1).reshape(-1).astype(np.uint32)


def specials():
    vals = [0.0, -0.0, np.inf, -np.inf, 1e-45, -1e-45, 1e-40, 3.4028235e38, -3.4028235e38, 1.0, -1.0]
    out = list(np.array(vals, dtype=np.float32).view(np.uint32))
    out += [0x7fc00000, 0xffc00000, 0x7f800001, 0xff800001, 0x7fbfffff, 0x7fffffff, 0x7f812345]  # NaNs
    return np.array(out, dtype=np.uint32)


def randoms(rng, scale_exp):
    bits = rng.integers(0, 2 ** 32, size=20000, dtype=np.uint64).astype(np.uint32)
    vals = (rng.standard_normal(20000) * np.exp2(rng.integers(-30, scale_exp, 20000))).astype(np.float32)
    return np.concatenate([bits, vals.view(np.uint32)])


def bf16_inputs(rng):
    codes = np.arange(0x10000, dtype=np.int64)
    finite = codes[(codes & 0x7fff) < 0x7f80]
    mids = (finite << 16) | 0x8000  # midpoint between code c and c+1 (same sign), always a float32
    return np.concatenate([neighbours(mids), specials(), randoms(rng, 120)])


def f16_inputs(rng):
    codes = np.arange(0x10000, dtype=np.uint32)
    pos = codes[codes < 0x7c00].astype(np.uint16)
    lo = pos.view(np.float16).astype(np.float64)
    hi = np.append(lo[1:], 65536.0)  # past the largest finite value: the next step of the grid
    mids = ((lo + hi) / 2).astype(np.float32)
    assert np.all(mids.astype(np.float64) == (lo + hi) / 2), 'midpoint not exact in float32'
    mb = mids.view(np.uint32).astype(np.int64)
    allm = np.concatenate([mb, mb | 0x80000000])
    extra = np.array([2.0 ** -25, 2.0 ** -26, 3 * 2.0 ** -26, 2.0 ** -14, 65504, 65519.99, 65520, 1e5],
                     dtype=np.float32).view(np.uint32)
    return np.concatenate([neighbours(allm), specials(), extra, randoms(rng, 20)])


def main(outdir):
    rng = np.random.default_rng(SEED)
    codes = np.arange(0x10000, dtype=np.uint32).astype(np.uint16)

    bf_dec = torch.from_numpy(codes.view(np.int16).copy()).view(torch.bfloat16).float().numpy()
    write_gz(f'{outdir}/bf16_decode.bin.gz', bf_dec.view(np.uint32).astype('<u4').tobytes())
    f16_dec = codes.view(np.float16).astype(np.float32)
    write_gz(f'{outdir}/f16_decode.bin.gz', f16_dec.view(np.uint32).astype('<u4').tobytes())

    x = bf16_inputs(rng)
    got = torch.from_numpy(x.view(np.float32).copy()).to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)
    write_gz(f'{outdir}/bf16_encode.bin.gz',
             struct.pack('<I', len(x)) + x.astype('<u4').tobytes() + got.astype('<u2').tobytes())

    x = f16_inputs(rng)
    with np.errstate(over='ignore'):
        got = x.view(np.float32).astype(np.float16).view(np.uint16)
    write_gz(f'{outdir}/f16_encode.bin.gz',
             struct.pack('<I', len(x)) + x.astype('<u4').tobytes() + got.astype('<u2').tobytes())


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else '.')
