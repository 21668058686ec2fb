#!/usr/bin/python3
"""Reference data for NF4, from bitsandbytes' own constants.

The 16 values and the decision tree are transcribed from bitsandbytes csrc/kernels.cu
(dDequantizeNF4 / dQuantizeNF4, commit c037a306e97ced3c452570132f66aac4e2964056): the tree compares a
float32 x against float32 threshold literals with '>'. Besides the tree's code we write the exact nearest
code by brute force (rational distances; ties to the lower code) so a test can see where they differ.

Files: nf4_table.txt (code value-float32-bits), nf4_encode.txt (input-bits tree-code nearest-code).
Run: /usr/bin/python3 gen_nf4.py OUTDIR
"""
import sys

import numpy as np

from common import f32_bits, bits_f32, next_up, next_down, exact, dedupe_bits, header

F = np.float32
VALUES = [F(-1.0), F(-0.6961928009986877), F(-0.5250730514526367), F(-0.39491748809814453),
          F(-0.28444138169288635), F(-0.18477343022823334), F(-0.09105003625154495), F(0.0),
          F(0.07958029955625534), F(0.16093020141124725), F(0.24611230194568634), F(0.33791524171829224),
          F(0.44070982933044434), F(0.5626170039176941), F(0.7229568362236023), F(1.0)]


def tree(x):
    """bitsandbytes dQuantizeNF4, with float32 literals."""
    x = F(x)
    if x > F(0.03979014977812767):
        if x > F(0.3893125355243683):
            if x > F(0.6427869200706482):
                return 15 if x > F(0.8614784181118011) else 14
            return 13 if x > F(0.5016634166240692) else 12
        if x > F(0.2035212516784668):
            return 11 if x > F(0.2920137718319893) else 10
        return 9 if x > F(0.1202552504837513) else 8
    if x > F(-0.33967943489551544):
        if x > F(-0.13791173323988914):
            return 7 if x > F(-0.045525018125772476) else 6
        return 5 if x > F(-0.23460740596055984) else 4
    if x > F(-0.6106329262256622):
        return 3 if x > F(-0.4599952697753906) else 2
    return 1 if x > F(-0.8480964004993439) else 0


def nearest(x):
    if np.isinf(x):
        return 15 if x > 0 else 0
    a = exact(x)
    best = None
    for c, v in enumerate(VALUES):
        d = abs(a - exact(v))
        if best is None or d < best[0]:  # strict: ties keep the lower code
            best = (d, c)
    return best[1]


THRESHOLDS = [0.03979014977812767, 0.3893125355243683, 0.6427869200706482, 0.8614784181118011,
              0.5016634166240692, 0.2035212516784668, 0.2920137718319893, 0.1202552504837513,
              -0.33967943489551544, -0.13791173323988914, -0.045525018125772476, -0.23460740596055984,
              -0.6106329262256622, -0.4599952697753906, -0.8480964004993439]


def main(outdir):
    rng = np.random.default_rng(20261124)
    with open(f'{outdir}/nf4_table.txt', 'w') as f:
        header(f, 'NF4 values of bitsandbytes (reference/formats/gen_nf4.py)', ['code value-float32-bits'])
        for c, v in enumerate(VALUES):
            f.write(f'{c:x} {f32_bits(v):08x}\n')
    vals = [F(0.0), F(-0.0), F(np.inf), F(-np.inf), F(2.0), F(-2.0), F(1e-30), F(-1e-30)]
    for t in THRESHOLDS:
        p = F(t)
        vals += [next_down(next_down(p)), next_down(p), p, next_up(p), next_up(next_up(p))]
    for a, b in zip(VALUES, VALUES[1:]):
        mid = (exact(a) + exact(b)) / 2
        m = F(float(mid))
        vals += [next_down(m), m, next_up(m)]
    for v in VALUES:
        vals += [next_down(v), v, next_up(v)]
    vals += list((rng.random(5000) * 2.4 - 1.2).astype(np.float32))
    with open(f'{outdir}/nf4_encode.txt', 'w') as f:
        header(f, 'NF4 encode: bitsandbytes tree and exact nearest (reference/formats/gen_nf4.py)',
               ['input-float32-bits tree-code nearest-code'])
        for b in dedupe_bits(vals):
            x = bits_f32(b)
            f.write(f'{b:08x} {tree(x):x} {nearest(x):x}\n')


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else '.')
