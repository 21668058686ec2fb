#!/usr/bin/python3
"""Reference data for OCP Microscaling element and scale formats: FP4 E2M1 and E8M0.

E2M1 (OCP MX v1.0, 5.3.3): S.EE.M, bias 1; value (-1)^S * 2^(E-1) * (1 + M/2) for E > 0,
(-1)^S * M/2 for E = 0. Encode: brute force over the 8 magnitudes with exact rational distances, nearest,
ties to the code with even LSB, saturating at 6 (+-Inf -> +-6), sign kept (-0 -> code 8).
E8M0 (OCP MX v1.0, 5.4.1): value 2^(E-127), 0xFF = NaN. encodeFloor(x) = 2^floor(log2 x) clamped to
[2^-127, 2^127] (0 -> 0x00, NaN/Inf -> 0xFF); mxScale(amax, emax) = 2^(floor(log2 amax) - emax) clamped
(section 6.3), 0 -> 0x00, NaN/Inf -> 0xFF. floor(log2 x) from math.frexp (exact).

Files (text, hex):
  e2m1_decode.txt : code value-float32-bits
  e2m1_encode.txt : input-float32-bits code
  e8m0_decode.txt : code value-float32-bits | nan
  e8m0_encode.txt : input-float32-bits floor-code mx-code(emax 2) mx-code(emax 8) mx-code(emax 15)
Run: /usr/bin/python3 gen_mx.py OUTDIR
"""
import math
import sys
from fractions import Fraction

import numpy as np

from common import f32_bits, bits_f32, next_up, next_down, exact, dedupe_bits, header


def e2m1_value(code):
    s, e, m = code >> 3, (code >> 1) & 3, code & 1
    v = Fraction(m, 2) if e == 0 else Fraction(2) ** (e - 1) * (1 + Fraction(m, 2))
    return -v if s else v


def e2m1_encode(bits):
    x = bits_f32(bits)
    s = (bits >> 31) & 1
    if np.isinf(x):
        return (s << 3) | 7
    a = abs(exact(x))
    best = None
    for c in range(8):
        d = abs(a - e2m1_value(c))
        if best is None or d < best[0] or (d == best[0] and c % 2 == 0 and best[1] % 2 == 1):
            best = (d, c)
    return (s << 3) | best[1]


def floor_log2(x):
    m, e = math.frexp(float(x))  # x = m * 2^e, 0.5 <= m < 1, exact for every float32
    return e - 1


def e8m0_floor(x):
    x = float(x)
    if math.isnan(x) or math.isinf(x):
        return 0xFF
    if x == 0:
        return 0
    return max(-127, min(127, floor_log2(x))) + 127


def e8m0_mx(x, emax):
    x = float(x)
    if math.isnan(x) or math.isinf(x):
        return 0xFF
    if x == 0:
        return 0
    return max(-127, min(127, floor_log2(x) - emax)) + 127


def main(outdir):
    rng = np.random.default_rng(20261124)
    with open(f'{outdir}/e2m1_decode.txt', 'w') as f:
        header(f, 'FP4 E2M1 decode from the OCP MX formula (reference/formats/gen_mx.py)', ['code value-bits'])
        for c in range(16):
            v = e2m1_value(c)
            fv = np.float32(float(v)) if not (c & 8 and v == 0) else np.float32(-0.0)
            f.write(f'{c:x} {f32_bits(fv):08x}\n')
    with open(f'{outdir}/e2m1_encode.txt', 'w') as f:
        header(f, 'FP4 E2M1 encode, brute-force nearest-even, saturating (reference/formats/gen_mx.py)',
               ['input-float32-bits code'])
        mags = sorted(e2m1_value(c) for c in range(8)) + [Fraction(8)]
        vals = [0.0, -0.0, 1e-45, 1e-30, 7.0, 8.0, 100.0, 1e30, np.inf]
        for v in mags:
            vals += [next_down(np.float32(float(v))), np.float32(float(v)), next_up(np.float32(float(v)))]
        for a, b in zip(mags, mags[1:]):
            m = np.float32(float((a + b) / 2))
            vals += [next_down(m), m, next_up(m)]
        vals += list((rng.random(3000) * 16 - 8).astype(np.float32))
        vals += [-np.float32(v) for v in list(vals)]
        for b in dedupe_bits(vals):
            f.write(f'{b:08x} {e2m1_encode(b):x}\n')
    with open(f'{outdir}/e8m0_decode.txt', 'w') as f:
        header(f, 'E8M0 decode: 2^(code-127), 0xFF NaN (reference/formats/gen_mx.py)', ['code value-bits'])
        for c in range(256):
            if c == 255:
                f.write('ff nan\n')
            else:
                fv = np.float32(2.0 ** (c - 127))
                assert exact(fv) == Fraction(2) ** (c - 127)
                f.write(f'{c:02x} {f32_bits(fv):08x}\n')
    with open(f'{outdir}/e8m0_encode.txt', 'w') as f:
        header(f, 'E8M0 floor encode and MX scale selection (reference/formats/gen_mx.py)',
               ['input-float32-bits floor mx(emax=2) mx(emax=8) mx(emax=15)'])
        vals = [0.0, 3.4028235e38, np.inf, np.nan, 1e-45, 6.0, 448.0, 57344.0]
        for k in range(-149, 128):
            p = np.float32(2.0 ** k)
            vals += [next_down(p), p, next_up(p), np.float32(float(p) * 1.5)]
        vals += list(np.abs(rng.standard_normal(2000) * np.exp2(rng.integers(-140, 120, 2000))).astype(np.float32))
        for b in dedupe_bits(vals):
            x = bits_f32(b)
            f.write(f'{b:08x} {e8m0_floor(x):02x} {e8m0_mx(x, 2):02x} {e8m0_mx(x, 8):02x} {e8m0_mx(x, 15):02x}\n')


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else '.')
