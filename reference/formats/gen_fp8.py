#!/usr/bin/python3
"""Reference data for FP8 E4M3 (OCP E4M3FN) and E5M2, computed from the OCP OFP8 spec formulas.

Decode: each of the 256 codes' value from the formula
  normal    (-1)^S * 2^(E - bias) * (1 + M / 2^m)
  subnormal (-1)^S * 2^(1 - bias) * (M / 2^m)
  E4M3: S.1111.111 is NaN, no infinities; E5M2: exponent all ones = Inf (M = 0) or NaN.
Encode: brute force over the finite code values with exact rational distances: nearest value, ties to
the code with an even mantissa LSB. Overflow is decided on the grid continued one step past the largest
finite value (E4M3: 480 = 1.111b * 2^8, odd mantissa; E5M2: 65536 = 1.00b * 2^16, even): an input whose
nearest point (ties to even) is that extra point, or beyond it, overflows. SATURATE -> +-max,
NON_SATURATING -> NaN (E4M3) / +-Inf (E5M2). +-Inf: SATURATE -> +-max, NON_SATURATING -> as overflow.
NaN -> S.1111.111 (E4M3) / S.11111.10 (E5M2), keeping the sign.

Output (text, one line per item, hex):
  fp8_<fmt>_decode.txt : code  value-float32-bits (NaN written as 'nan')
  fp8_<fmt>_encode.txt : input-float32-bits  saturate-code  nonsaturating-code
Run: /usr/bin/python3 gen_fp8.py OUTDIR
"""
import sys
from fractions import Fraction

import numpy as np

from common import f32_bits, bits_f32, next_up, next_down, exact, dedupe_bits, header

FORMATS = {
    # name: (exponent bits, mantissa bits, bias, has IEEE specials)
    'e4m3': (4, 3, 7, False),
    'e5m2': (5, 2, 15, True),
}


def decode_value(fmt, code):
    e_bits, m_bits, bias, ieee = FORMATS[fmt]
    s = code >> 7
    e = (code >> m_bits) & ((1 << e_bits) - 1)
    m = code & ((1 << m_bits) - 1)
    e_max = (1 << e_bits) - 1
    if ieee and e == e_max:
        return ('inf', s) if m == 0 else ('nan', s)
    if not ieee and e == e_max and m == (1 << m_bits) - 1:
        return ('nan', s)
    if e == 0:
        v = Fraction(2) ** (1 - bias) * Fraction(m, 1 << m_bits)
    else:
        v = Fraction(2) ** (e - bias) * (1 + Fraction(m, 1 << m_bits))
    return (-v if s else v, s)


def finite_positive(fmt):
    """(value, code) of all finite codes with sign 0, ascending."""
    out = []
    for c in range(128):
        v, _ = decode_value(fmt, c)
        if not isinstance(v, str):
            out.append((v, c))
    out.sort()
    return out


def grid_with_virtual(fmt):
    """Finite positive grid plus the virtual point one step above max: list of (value, code, even)."""
    e_bits, m_bits, bias, ieee = FORMATS[fmt]
    fin = finite_positive(fmt)
    pts = [(v, c, (c & 1) == 0) for v, c in fin]
    vmax, cmax = fin[-1]
    e_field = (cmax >> m_bits)
    ulp = Fraction(2) ** (e_field - bias - m_bits)
    nxt = vmax + ulp
    virtual_mant_even = ((cmax + 1) & 1) == 0  # mantissa LSB of the next code on the continued grid
    pts.append((nxt, None, virtual_mant_even))
    return pts


def codes(fmt):
    e_bits, m_bits, bias, ieee = FORMATS[fmt]
    cmax = finite_positive(fmt)[-1][1]
    nan = 0x7F if not ieee else 0x7E
    over = 0x7F if not ieee else 0x7C
    return cmax, nan, over


def encode(fmt, bits):
    """Returns (saturate code, non-saturating code) for float32 bit pattern `bits`."""
    cmax, nan, over = codes(fmt)
    s = (bits >> 31) & 1
    sign = 0x80 if s else 0
    x = bits_f32(bits)
    if np.isnan(x):
        return sign | nan, sign | nan
    if np.isinf(x):
        return sign | cmax, sign | over
    a = abs(exact(x))
    best = None
    for v, c, even in grid_with_virtual(fmt):
        d = abs(a - v)
        if best is None or d < best[0] or (d == best[0] and even and not best[2]):
            best = (d, c, even)
    # anything above the virtual point is nearest to it too (the loop covers that)
    c = best[1]
    if c is None:
        return sign | cmax, sign | over
    return sign | c, sign | c


def inputs(fmt):
    pts = grid_with_virtual(fmt)
    vals = [np.float32(0.0), np.float32(-0.0)]
    for v, c, _ in pts:
        fv = np.float32(float(v))
        vals += [next_down(fv), fv, next_up(fv)]
    for (a, _, _), (b, _, _) in zip(pts, pts[1:]):
        mid = (a + b) / 2
        fm = np.float32(float(mid))
        assert exact(fm) == mid, 'midpoint not representable in float32'
        vals += [next_down(fm), fm, next_up(fm)]
    # far below the smallest subnormal, far above the largest value, specials
    vals += [np.float32(1e-45), np.float32(1e-30), np.float32(1e-10), np.float32(1e5), np.float32(1e10),
             np.float32(3.4028235e38), np.float32(np.inf), np.float32(np.nan)]
    # seeded random float32 values over the format's whole range (and a bit beyond)
    rng = np.random.default_rng(20261124)
    e_bits, m_bits, bias, ieee = FORMATS[fmt]
    lo, hi = -bias - m_bits - 4, (1 << e_bits) - bias + 2
    exps = rng.integers(lo, hi, size=3000)
    mants = rng.random(3000) + 1.0
    vals += [np.float32(m * 2.0 ** int(e)) for m, e in zip(mants, exps)]
    vals += [np.float32(-v) for v in list(vals)]
    return dedupe_bits(vals)


def main(outdir):
    for fmt in FORMATS:
        with open(f'{outdir}/fp8_{fmt}_decode.txt', 'w') as f:
            header(f, f'FP8 {fmt.upper()} decode, from the OCP OFP8 formulas (reference/formats/gen_fp8.py)',
                   ['code value-float32-bits (hex); nan for NaN codes'])
            for c in range(256):
                v, s = decode_value(fmt, c)
                if v == 'nan':
                    f.write(f'{c:02x} nan\n')
                elif v == 'inf':
                    f.write(f'{c:02x} {f32_bits(np.float32(-np.inf if s else np.inf)):08x}\n')
                else:
                    fv = np.float32(float(v))
                    assert exact(fv) == v
                    if s and v == 0:
                        fv = np.float32(-0.0)
                    f.write(f'{c:02x} {f32_bits(fv):08x}\n')
        with open(f'{outdir}/fp8_{fmt}_encode.txt', 'w') as f:
            header(f, f'FP8 {fmt.upper()} encode by brute-force nearest-even (reference/formats/gen_fp8.py)',
                   ['input-float32-bits saturate-code nonsaturating-code (hex)'])
            for b in inputs(fmt):
                sat, nonsat = encode(fmt, b)
                f.write(f'{b:08x} {sat:02x} {nonsat:02x}\n')


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else '.')
