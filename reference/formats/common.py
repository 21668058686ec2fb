"""Helpers shared by the reference generators (exact float32 handling, no quantkit code)."""
import struct
from fractions import Fraction

import numpy as np


def f32_bits(x):
    """float32 bit pattern (int) of a Python/numpy float32 value."""
    return struct.unpack('<I', struct.pack('<f', float(x)))[0]


def bits_f32(b):
    """numpy float32 from a bit pattern."""
    return np.frombuffer(struct.pack('<I', b & 0xffffffff), dtype=np.float32)[0]


def f32(x):
    """Round a Python number to float32 (RNE) and return it as numpy float32."""
    return np.float32(x)


def next_up(x):
    return np.nextafter(np.float32(x), np.float32(np.inf), dtype=np.float32)


def next_down(x):
    return np.nextafter(np.float32(x), np.float32(-np.inf), dtype=np.float32)


def exact(x):
    """Exact rational value of a finite float."""
    return Fraction(float(x))


def with_neighbours(values):
    """Each float32 value with its float32 neighbours (one ulp below and above)."""
    out = []
    for v in values:
        v = np.float32(v)
        out.extend([next_down(v), v, next_up(v)])
    return out


def dedupe_bits(values):
    """Unique float32 values by bit pattern, NaNs kept once, in first-seen order."""
    seen = set()
    out = []
    for v in values:
        b = f32_bits(np.float32(v))
        if b not in seen:
            seen.add(b)
            out.append(b)
    return out


def header(f, title, lines):
    f.write('# ' + title + '\n')
    for line in lines:
        f.write('# ' + line + '\n')
