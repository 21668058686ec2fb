#!/usr/bin/python3
"""Reference data for IntGrid: clamp(round_half_even(v), qmin, qmax) with Python's round() (exact
banker's rounding of a float) and float32 quotients computed by numpy.

Output (text):
  intgrid_scaled.txt : kind bits input-float32-bits expected-code      (quantizeScaled)
  intgrid_divide.txt : kind bits x-bits scale-bits zero-point expected  (quantize(x, scale[, z]))
kind is sym, uns or ter; zero-point '-' means the two-argument form.
Run: /usr/bin/python3 gen_intgrid.py OUTDIR
"""
import sys

import numpy as np

from common import f32_bits, dedupe_bits, next_up, next_down, header


def grids():
    for b in range(2, 9):
        yield 'sym', b, -(1 << (b - 1)), (1 << (b - 1)) - 1
        yield 'uns', b, 0, (1 << b) - 1
    yield 'ter', 2, -1, 1


def clamp_round(v, lo, hi):
    v = float(v)
    if v != v:
        raise ValueError('nan')
    if v == float('inf'):
        return hi
    if v == float('-inf'):
        return lo
    return max(lo, min(hi, round(v)))


def main(outdir):
    rng = np.random.default_rng(20261124)
    with open(f'{outdir}/intgrid_scaled.txt', 'w') as f:
        header(f, 'IntGrid.quantizeScaled reference (reference/formats/gen_intgrid.py)',
               ['kind bits input-float32-bits expected-code'])
        for kind, b, lo, hi in grids():
            vals = [0.0, -0.0, 1e-30, -1e-30, 1e9, -1e9, float('inf'), float('-inf'), 3.4028235e38]
            k = lo - 3.0
            while k <= hi + 3.0:
                h = np.float32(k)
                vals += [next_down(h), h, next_up(h)]
                k += 0.5
            vals += list((rng.standard_normal(200) * (hi - lo)).astype(np.float32))
            for bits in dedupe_bits(vals):
                x = np.frombuffer(bits.to_bytes(4, 'little'), dtype=np.float32)[0]
                f.write(f'{kind} {b} {bits:08x} {clamp_round(x, lo, hi)}\n')
    with open(f'{outdir}/intgrid_divide.txt', 'w') as f:
        header(f, 'IntGrid.quantize(x, scale[, zeroPoint]) reference (reference/formats/gen_intgrid.py)',
               ['kind bits x-bits scale-bits zero-point(- for none) expected-code; x/scale in float32'])
        for kind, b, lo, hi in grids():
            for _ in range(300):
                scale = np.float32(abs(rng.standard_normal()) * 0.01 + 1e-6)
                # values on exact ties of the grid and random ones
                if rng.random() < 0.5:
                    q = rng.integers(lo - 2, hi + 3) + 0.5
                    x = np.float32(np.float32(q) * scale)
                else:
                    x = np.float32(rng.standard_normal() * scale * (hi - lo) / 2)
                quot = np.float32(x) / np.float32(scale)  # float32 division (IEEE RNE)
                if kind == 'uns':
                    z = int(rng.integers(lo, hi + 1))
                    r = float(np.rint(quot)) + z
                    exp = max(lo, min(hi, int(r)))
                    f.write(f'{kind} {b} {f32_bits(x):08x} {f32_bits(scale):08x} {z} {exp}\n')
                else:
                    exp = clamp_round(quot, lo, hi)
                    f.write(f'{kind} {b} {f32_bits(x):08x} {f32_bits(scale):08x} - {exp}\n')


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else '.')
