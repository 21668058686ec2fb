#!/usr/bin/python3
"""Golden values for quantkit's activation observers (io.quantkit.calib.ActivationStats, Observer,
ActivationQuantizer), from PyTorch's observers and from numpy implementations written here from the algorithm
descriptions in the Java javadoc (not from the Java code).

Data: 8 seeded batches of 96 rows x 13 channels, float32: Laplace noise with per-channel scales, one outlier
channel (x 25), a few spikes and exact zeros.

PyTorch (torch.ao.quantization, 1.13), dtype qint8, quant_min -127, quant_max 127, per_tensor_symmetric:
  MinMaxObserver, MovingAverageMinMaxObserver(averaging_constant 0.01), PerChannelMinMaxObserver(ch_axis 1),
  HistogramObserver(bins 2048) (its own greedy L2 search; we implement a different MSE search and only compare
  the squared error the two thresholds give on the raw data), fake_quantize_per_tensor_affine.
numpy (quantkit's algorithms):
  hist[b] = min(2047, floor(|x| * 2048 / A)) counts, A = max |x|; w = A / 2048
  percentile p: (i + 1) * w for the first i with cumsum(hist)[i] >= p / 100 * N
  mse (int8 / fp8-e4m3 grid): k * w, k = 1..2048, minimising sum_b hist[b] * (c_b - fq(c_b))^2, c_b = f32((b+.5)w)
  kl: TensorRT-style entropy calibration, 128 levels, eps 1e-4 smoothing of counts, threshold i * w
  dynamic per token: k = qmax / max|row|, y = q(x k) / k
Run: /usr/bin/python3 reference/calib/observers_reference.py quant-core/src/test/resources/reference/calib
"""
import json
import os
import sys

import numpy as np
import torch
from torch.ao.quantization import (HistogramObserver, MinMaxObserver, MovingAverageMinMaxObserver,
                                   PerChannelMinMaxObserver)

BINS = 2048
LEVELS = 128
EPS = 1e-4
F32 = np.float32


def make_batches():
    rng = np.random.default_rng(20261201)
    rows, width = 96, 13
    scales = rng.uniform(0.2, 2.0, size=width)
    scales[3] *= 25.0
    out = []
    for b in range(8):
        x = rng.laplace(0.0, 1.0, size=(rows, width)) * scales
        x[rng.integers(0, rows, 3), rng.integers(0, width, 3)] *= 8.0  # spikes
        x[rng.integers(0, rows, 5), rng.integers(0, width, 5)] = 0.0
        out.append(x.astype(F32))
    return out


def e4m3_grid():
    vals = []
    for code in range(0x7F):  # 0x7F is NaN
        e, m = code >> 3, code & 7
        v = (m / 8.0) * 2.0 ** -6 if e == 0 else (1 + m / 8.0) * 2.0 ** (e - 7)
        vals.append(v)
    return np.array(vals, dtype=np.float64)


GRID = e4m3_grid()


def e4m3_round(v):
    """Round float32 values to E4M3, nearest, ties to the even code, saturating at 448."""
    v = np.asarray(v, dtype=F32).astype(np.float64)
    a = np.minimum(np.abs(v), 448.0)
    hi = np.clip(np.searchsorted(GRID, a, side='left'), 0, len(GRID) - 1)
    lo = np.clip(hi - 1, 0, len(GRID) - 1)
    dlo, dhi = a - GRID[lo], GRID[hi] - a
    pick = np.where(dlo < dhi, lo, np.where(dhi < dlo, hi, np.where(lo % 2 == 0, lo, hi)))
    return (np.sign(v) * GRID[pick]).astype(F32)


def fq(x, scale, fmt):
    """Static fake quantization of float32 x with float32 scale (float32 arithmetic throughout)."""
    x = np.asarray(x, dtype=F32)
    s = F32(scale)
    if s == 0:
        return np.zeros_like(x)
    inv = F32(1.0) / s
    if fmt == 'int8':
        q = np.clip(np.rint(x * inv), -127, 127).astype(F32)
    else:
        q = e4m3_round(x * inv)
    return (q * s).astype(F32)


def dynamic(x, fmt):
    qmax = F32(127.0 if fmt == 'int8' else 448.0)
    out = np.empty_like(x)
    for r in range(x.shape[0]):
        amax = np.max(np.abs(x[r]))
        if amax == 0:
            out[r] = x[r]
            continue
        k = qmax / amax
        v = (x[r] * k).astype(F32)
        q = np.rint(v).astype(F32) if fmt == 'int8' else e4m3_round(v)
        out[r] = (q / k).astype(F32)
    return out


def histogram(allx, amax):
    a = np.abs(allx.astype(np.float64))
    k = BINS / amax
    b = np.minimum(BINS - 1, np.floor(a * k)).astype(np.int64)
    return np.bincount(b, minlength=BINS)


def percentile(hist, w, p):
    c = np.cumsum(hist)
    i = int(np.argmax(c >= p / 100.0 * c[-1]))
    return (i + 1) * w


def mse(hist, w, fmt):
    qmax = 127.0 if fmt == 'int8' else 448.0
    centres = ((np.arange(BINS) + 0.5) * w).astype(F32)
    nz = hist > 0
    cs, hs = centres[nz], hist[nz].astype(np.float64)
    best, best_k = np.inf, BINS
    for k in range(1, BINS + 1):
        t = k * w
        d = cs.astype(np.float64) - fq(cs, F32(t / qmax), fmt).astype(np.float64)
        e = float(np.sum(hs * d * d))
        if e < best:
            best, best_k = e, k
    return best_k * w


def smooth(a):
    zero = a == 0
    nzero = int(zero.sum())
    nnon = a.size - nzero
    if nnon == 0:
        return None
    return np.where(zero, EPS, a - EPS * nzero / nnon)


def kl(hist, w):
    best, best_i = np.inf, BINS
    h = hist.astype(np.float64)
    for i in range(LEVELS, BINS + 1):
        p = h[:i].copy()
        p[-1] += h[i:].sum()
        m = i // LEVELS
        g = np.minimum(np.arange(i) // m, LEVELS - 1)
        totals = np.bincount(g, weights=h[:i], minlength=LEVELS)
        nonzero = np.bincount(g, weights=(p != 0).astype(np.float64), minlength=LEVELS)
        q = np.where((p != 0) & (nonzero[g] > 0), totals[g] / np.maximum(nonzero[g], 1), 0.0)
        ps, qs = smooth(p), smooth(q)
        if ps is None or qs is None:
            continue
        ps, qs = ps / ps.sum(), qs / qs.sum()
        d = float(np.sum(np.where(ps > 0, ps * np.log(ps / qs), 0.0)))
        if d < best:
            best, best_i = d, i
    return best_i * w


def observe(obs, batches):
    for x in batches:
        obs(torch.from_numpy(x))
    return obs


def main(outdir):
    batches = make_batches()
    allx = np.concatenate([b.ravel() for b in batches])
    kw = dict(dtype=torch.qint8, qscheme=torch.per_tensor_symmetric, quant_min=-127, quant_max=127)
    mm = observe(MinMaxObserver(**kw), batches)
    ema = observe(MovingAverageMinMaxObserver(averaging_constant=0.01, **kw), batches)
    pc = observe(PerChannelMinMaxObserver(ch_axis=1, dtype=torch.qint8, qscheme=torch.per_channel_symmetric,
                                          quant_min=-127, quant_max=127), batches)
    ho = observe(HistogramObserver(bins=BINS, **kw), batches)
    mm_scale = float(mm.calculate_qparams()[0])
    ema_scale = float(ema.calculate_qparams()[0])
    ho_scale = float(ho.calculate_qparams()[0])
    amax = float(np.max(np.abs(allx)))
    w = amax / BINS
    hist = histogram(allx, amax)
    t_mse8 = mse(hist, w, 'int8')
    t_torch = ho_scale * 127.0

    def raw_mse(t):
        d = allx.astype(np.float64) - fq(allx, F32(t / 127.0), 'int8').astype(np.float64)
        return float(np.mean(d * d))

    x0 = batches[0]
    torch_fq = torch.fake_quantize_per_tensor_affine(torch.from_numpy(x0), mm_scale, 0, -127, 127).numpy()
    out = {
        'note': 'generated by reference/calib/observers_reference.py; do not edit',
        'torch_version': torch.__version__,
        'rows': int(x0.shape[0]), 'width': int(x0.shape[1]),
        'batches': [[float(v) for v in b.ravel()] for b in batches],
        'torch': {
            'minmax': {'min': float(mm.min_val), 'max': float(mm.max_val), 'scale': mm_scale},
            'ema_0.01': {'min': float(ema.min_val), 'max': float(ema.max_val), 'scale': ema_scale},
            'per_channel': {'min': [float(v) for v in pc.min_val], 'max': [float(v) for v in pc.max_val]},
            'histogram_l2': {'scale': ho_scale, 'threshold': t_torch},
            'fake_quant_minmax_batch0': [float(v) for v in torch_fq.ravel()],
        },
        'numpy': {
            'hist': [int(v) for v in hist],
            'channel_mean_abs': [float(v) for v in np.mean(np.abs(np.concatenate(batches).astype(np.float64)), axis=0)],
            'percentile_99.9': percentile(hist, w, 99.9),
            'percentile_99.99': percentile(hist, w, 99.99),
            'percentile_99': percentile(hist, w, 99.0),
            'exact_quantile_99.9': float(np.quantile(np.abs(allx.astype(np.float64)), 0.999)),
            'exact_quantile_99.99': float(np.quantile(np.abs(allx.astype(np.float64)), 0.9999)),
            'mse_int8': t_mse8,
            'mse_fp8': mse(hist, w, 'fp8'),
            'kl': kl(hist, w),
            'raw_mse_at_mse_int8': raw_mse(t_mse8),
            'raw_mse_at_torch_histogram': raw_mse(t_torch),
            'raw_mse_at_minmax': raw_mse(amax),
            'dynamic_int8_batch0': [float(v) for v in dynamic(x0, 'int8').ravel()],
            'dynamic_fp8_batch0': [float(v) for v in dynamic(x0, 'fp8').ravel()],
            'static_fp8_minmax_batch0': [float(v) for v in fq(x0, F32(amax / 448.0), 'fp8').ravel()],
        },
    }
    path = os.path.join(outdir, 'observers.json')
    with open(path, 'w') as f:
        json.dump(out, f, sort_keys=True)
        f.write('\n')
    n = out['numpy']
    print(path, 'amax', amax, 'p99.9', n['percentile_99.9'], 'p99.99', n['percentile_99.99'], 'mse8', t_mse8,
          'mse_fp8', n['mse_fp8'], 'kl', n['kl'], 'torch hist T', t_torch)
    print('raw mse: ours', n['raw_mse_at_mse_int8'], 'torch hist', n['raw_mse_at_torch_histogram'], 'minmax',
          n['raw_mse_at_minmax'])


if __name__ == '__main__':
    main(sys.argv[1])
