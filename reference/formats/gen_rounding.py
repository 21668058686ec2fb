#!/usr/bin/python3
"""Reference data for Rounding: numpy.rint (IEEE roundTiesToEven) and the C library's roundf/round
(ties away from zero), called through ctypes on libm.

Output (text, hex bit patterns):
  rounding_float.txt  : input-float32-bits  half-even-bits  half-away-bits
  rounding_double.txt : input-float64-bits  half-even-bits  half-away-bits
Run: /usr/bin/python3 gen_rounding.py OUTDIR
"""
import ctypes
import struct
import sys

import numpy as np

from common import f32_bits, dedupe_bits, next_up, next_down, header

libm = ctypes.CDLL('libm.so.6')
libm.roundf.restype = ctypes.c_float
libm.roundf.argtypes = [ctypes.c_float]
libm.round.restype = ctypes.c_double
libm.round.argtypes = [ctypes.c_double]


def d_bits(x):
    return struct.unpack('<Q', struct.pack('<d', float(x)))[0]


def float_inputs():
    vals = []
    for n in range(-40, 41):
        h = np.float32(n + 0.5)
        vals += [next_down(h), h, next_up(h), np.float32(n)]
    for v in [0.0, -0.0, 0.3, -0.3, 0.49999997, -0.49999997, 0.5, -0.5, 1e-45, -1e-45, 1e-30,
              2.0 ** 22 + 0.5, -(2.0 ** 22 + 0.5), 2.0 ** 22 + 1.5, 2.0 ** 23 - 0.5, -(2.0 ** 23 - 0.5),
              2.0 ** 23, 2.0 ** 23 + 1, 2.0 ** 24 + 2, -(2.0 ** 24), 1e20, -1e20, 3.4028235e38,
              float('inf'), float('-inf'), float('nan')]:
        vals += [np.float32(v)]
    rng = np.random.default_rng(7)
    vals += list((rng.standard_normal(2000) * 100).astype(np.float32))
    vals += list(np.float32(rng.integers(-1000, 1000, 500)) + np.float32(0.5))
    return dedupe_bits(vals)


def double_inputs():
    vals = []
    for n in range(-40, 41):
        h = n + 0.5
        vals += [np.nextafter(h, -np.inf), h, np.nextafter(h, np.inf), float(n)]
    for v in [0.0, -0.0, 0.49999999999999994, -0.49999999999999994, 2.0 ** 51 + 0.5, -(2.0 ** 51 + 0.5),
              2.0 ** 52 - 0.5, -(2.0 ** 52 - 0.5), 2.0 ** 52, 2.0 ** 53 + 2, 1e300, -1e300, 5e-324,
              float('inf'), float('-inf'), float('nan')]:
        vals.append(v)
    rng = np.random.default_rng(8)
    vals += list(rng.standard_normal(1000) * 1e6)
    seen, out = set(), []
    for v in vals:
        b = d_bits(v)
        if b not in seen:
            seen.add(b)
            out.append(b)
    return out


def main(outdir):
    with open(f'{outdir}/rounding_float.txt', 'w') as f:
        header(f, 'Rounding of float32: numpy.rint and libm roundf (reference/formats/gen_rounding.py)',
               ['input half-even half-away (float32 bits, hex)'])
        for b in float_inputs():
            x = np.frombuffer(struct.pack('<I', b), dtype=np.float32)[0]
            even = np.rint(x)
            away = np.float32(libm.roundf(float(x)))
            f.write(f'{b:08x} {f32_bits(even):08x} {f32_bits(away):08x}\n')
    with open(f'{outdir}/rounding_double.txt', 'w') as f:
        header(f, 'Rounding of float64: numpy.rint and libm round (reference/formats/gen_rounding.py)',
               ['input half-even half-away (float64 bits, hex)'])
        for b in double_inputs():
            x = struct.unpack('<d', struct.pack('<Q', b))[0]
            f.write(f'{b:016x} {d_bits(np.rint(x)):016x} {d_bits(libm.round(x)):016x}\n')


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else '.')
