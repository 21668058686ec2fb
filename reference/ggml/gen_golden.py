#!/usr/bin/python3
"""Golden data for quantkit's ggml block codecs, from an independent implementation.

This is our own reading of ggml's reference quantizers (ggml/src/ggml-quants.c, quantize_row_*_ref) and
dequantizers (dequantize_row_*), written in numpy with float32 arithmetic in the order the C code uses.
It shares no code with the Java implementation. C-library details come from the C library itself where it
matters: log2f (MXFP4 scale exponent) is called from this machine's libm through ctypes.

Behaviour ggml leaves to the platform, reproduced as on x86-64 (where llama.cpp's files are made):
  * float -> int8/uint8 conversion truncates; NaN, +-Inf and values beyond int32 give the "integer
    indefinite" 0x80000000, whose low byte is 0 (this only happens when 1/d overflows float32, i.e. for blocks
    of float32-subnormal inputs whose fp16 scale is 0 anyway);
  * lroundf of NaN/Inf gives LONG_MIN, whose low 32 bits are 0.

Run:  /usr/bin/python3 reference/ggml/gen_golden.py quant-core/src/test/resources/reference/ggml
Output, one file per type (<type>.txt), one case per stanza:
  case <name> rows=<r> cols=<c>
  x <hex of the input, float32 little-endian>          (quantizable types only)
  q <hex of the block bytes>
  y <hex of the dequantized values, float32 little-endian>
"""
import ctypes
import math
import os
import sys

import numpy as np

F32 = np.float32
LIBM = ctypes.CDLL("libm.so.6")
LIBM.log2f.restype = ctypes.c_float
LIBM.log2f.argtypes = [ctypes.c_float]
FLT_MAX = np.finfo(np.float32).max


def f32(a):
    return np.asarray(a, dtype=np.float32)


def half_bits(v):
    """float32 -> IEEE binary16 bits, round to nearest even (numpy's conversion)."""
    with np.errstate(over="ignore"):
        return f32(v).astype(np.float16).view(np.uint16).astype(np.int64)


def half_value(bits):
    return np.asarray(bits, dtype=np.uint16).view(np.float16).astype(np.float32)


def roundf(v):
    """C roundf: halfway cases away from zero. Computed in float64 where |v| + 0.5 is exact."""
    v = np.asarray(v, dtype=np.float64)
    return np.sign(v) * np.floor(np.abs(v) + 0.5)


def cvtt(v):
    """x86 cvttss2si: truncate; NaN/Inf/out of int32 -> -2^31."""
    v = np.asarray(v, dtype=np.float64)
    ok = np.isfinite(v) & (np.abs(v) < 2.0 ** 31)
    return np.where(ok, np.trunc(np.where(ok, v, 0)), -(2 ** 31)).astype(np.int64)


def to_int8(v):
    return ((cvtt(v) & 0xFF) ^ 0x80) - 0x80


def to_uint8(v):
    return cvtt(v) & 0xFF


def lroundf_int(v):
    v = np.asarray(v, dtype=np.float64)
    ok = np.isfinite(v) & (np.abs(v) < 2.0 ** 63)
    r = roundf(np.where(ok, v, 0))
    return np.where(ok, r, 0).astype(np.int64)  # LONG_MIN's low 32 bits are 0


def safe_inverse(d):
    """id = d ? 1.0f/d : 0.0f, in float32."""
    d = f32(d)
    with np.errstate(divide="ignore", over="ignore"):
        return np.where(d != 0, F32(1.0) / np.where(d != 0, d, F32(1)), F32(0)).astype(np.float32)


def seq_amax(X):
    """amax = MAX(amax, fabsf(v)) scanned left to right."""
    amax = np.zeros(X.shape[0], dtype=np.float32)
    for j in range(X.shape[1]):
        a = np.abs(X[:, j])
        amax = np.where(amax > a, amax, a)
    return amax


def seq_signed_max(X):
    """The value of the first element with the largest |v| (strict '<' update); +0 when all are zero."""
    amax = np.zeros(X.shape[0], dtype=np.float32)
    mx = np.zeros(X.shape[0], dtype=np.float32)
    for j in range(X.shape[1]):
        v = X[:, j]
        upd = amax < np.abs(v)
        amax = np.where(upd, np.abs(v), amax)
        mx = np.where(upd, v, mx)
    return mx


def seq_min_max(X):
    mn = np.full(X.shape[0], FLT_MAX, dtype=np.float32)
    mx = np.full(X.shape[0], -FLT_MAX, dtype=np.float32)
    for j in range(X.shape[1]):
        v = X[:, j]
        mn = np.where(v < mn, v, mn)
        mx = np.where(v > mx, v, mx)
    return mn, mx


def u16le(b):
    return np.stack([b & 0xFF, (b >> 8) & 0xFF], axis=1)


def u32le(b):
    return np.stack([(b >> (8 * k)) & 0xFF for k in range(4)], axis=1)


# ---------------------------------------------------------------- quantizers: X (nblocks, QK) -> bytes (nblocks, size)

def q_q8_0(X):
    d = seq_amax(X) / F32(127)
    idv = safe_inverse(d)
    with np.errstate(invalid="ignore", over="ignore"):
        q = to_int8(roundf(X * idv[:, None])) & 0xFF
    return np.concatenate([u16le(half_bits(d)), q], axis=1)


def q_q4_0(X):
    d = f32(seq_signed_max(X) / F32(-8))
    idv = safe_inverse(d)
    with np.errstate(invalid="ignore", over="ignore"):
        t = f32(X * idv[:, None]) + F32(8.5)
    xi = np.minimum(15, to_int8(t)) & 0xFF
    qs = (xi[:, :16] | (xi[:, 16:] << 4)) & 0xFF
    return np.concatenate([u16le(half_bits(d)), qs], axis=1)


def q_q4_1(X):
    mn, mx = seq_min_max(X)
    with np.errstate(over="ignore", invalid="ignore"):
        d = f32((mx - mn) / F32(15))
        idv = safe_inverse(d)
        t = f32((X - mn[:, None]) * idv[:, None]) + F32(0.5)
    xi = np.minimum(15, to_int8(t)) & 0xFF
    qs = (xi[:, :16] | (xi[:, 16:] << 4)) & 0xFF
    return np.concatenate([u16le(half_bits(d)), u16le(half_bits(mn)), qs], axis=1)


def q_q5_0(X):
    d = f32(seq_signed_max(X) / F32(-16))
    idv = safe_inverse(d)
    with np.errstate(invalid="ignore", over="ignore"):
        t = f32(X * idv[:, None]) + F32(16.5)
    xi = np.minimum(31, to_int8(t)) & 0xFF
    qs = ((xi[:, :16] & 0x0F) | ((xi[:, 16:] & 0x0F) << 4)) & 0xFF
    hb = (xi >> 4) & 1
    qh = np.zeros(X.shape[0], dtype=np.int64)
    for j in range(32):
        qh |= hb[:, j] << j
    return np.concatenate([u16le(half_bits(d)), u32le(qh), qs], axis=1)


def q_q5_1(X):
    mn, mx = seq_min_max(X)
    with np.errstate(over="ignore", invalid="ignore"):
        d = f32((mx - mn) / F32(31))
        idv = safe_inverse(d)
        t = f32((X - mn[:, None]) * idv[:, None]) + F32(0.5)
    xi = to_uint8(t)
    qs = ((xi[:, :16] & 0x0F) | ((xi[:, 16:] & 0x0F) << 4)) & 0xFF
    hb = (xi >> 4) & 1
    qh = np.zeros(X.shape[0], dtype=np.int64)
    for j in range(32):
        qh |= hb[:, j] << j
    return np.concatenate([u16le(half_bits(d)), u16le(half_bits(mn)), u32le(qh), qs], axis=1)


KV_MXFP4 = np.array([0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12], dtype=np.float32)


def e8m0_half(e):
    """2^(e-128) as ggml's GGML_E8M0_TO_FP32_HALF builds it (bit patterns)."""
    e = np.asarray(e, dtype=np.int64)
    bits = np.where(e < 2, 0x00200000 << np.minimum(e, 1), (e - 1) << 23).astype(np.uint32)
    return bits.view(np.float32)


def q_mxfp4(X):
    amax = seq_amax(X)
    es = []
    for a in amax:
        if a > 0:
            fl = F32(math.floor(LIBM.log2f(float(a))))
            es.append(int(to_uint8(f32(f32(fl - F32(2)) + F32(127)))))
        else:
            es.append(0)
    e = np.array(es, dtype=np.int64)
    d = e8m0_half(e)
    levels = f32(KV_MXFP4[None, :] * d[:, None])  # (nb, 16)
    with np.errstate(over="ignore"):  # |level - x| may overflow to inf near FLT_MAX, as in C
        err = np.abs(f32(levels[:, None, :] - X[:, :, None]))  # (nb, 32, 16)
    idx = np.argmin(err, axis=2)  # first minimum, as the strict '<' scan
    qs = (idx[:, :16] | (idx[:, 16:] << 4)) & 0xFF
    return np.concatenate([e[:, None], qs], axis=1)


def q_tq1_0(X):
    d = seq_amax(X)
    idv = safe_inverse(d)
    with np.errstate(invalid="ignore", over="ignore"):
        t = lroundf_int(X * idv[:, None]) + 1  # trits 0..2 for value -1..1
    nb = X.shape[0]
    out = np.zeros((nb, 54), dtype=np.int64)

    def pack(trits):  # list of arrays, most significant first
        q = np.zeros(nb, dtype=np.int64)
        for tr in trits:
            q = (q * 3 + tr) & 0xFF
        return q

    def ceil243(q):
        return ((q * 256 + 242) // 243) & 0xFF

    for m in range(32):
        out[:, m] = ceil243(pack([t[:, m + 32 * n] for n in range(5)]))
    for m in range(16):
        out[:, 32 + m] = ceil243(pack([t[:, 160 + m + 16 * n] for n in range(5)]))
    for j in range(4):
        q = pack([t[:, 240 + j + 4 * n] for n in range(4)])
        out[:, 48 + j] = ceil243((q * 3) & 0xFF)
    out[:, 52:54] = u16le(half_bits(d))
    return out


def q_tq2_0(X):
    d = seq_amax(X)
    idv = safe_inverse(d)
    with np.errstate(invalid="ignore", over="ignore"):
        t = lroundf_int(X * idv[:, None]) + 1
    nb = X.shape[0]
    out = np.zeros((nb, 66), dtype=np.int64)
    for g in range(2):
        for m in range(32):
            q = np.zeros(nb, dtype=np.int64)
            for n in range(4):
                q += (t[:, 128 * g + 32 * n + m] & 3) << (2 * n)
            out[:, 32 * g + m] = q & 0xFF
    out[:, 64:66] = u16le(half_bits(d))
    return out


# ---------------------------------------------------------------- dequantizers: bytes (nblocks, size) -> (nblocks, QK)

def h16(B, o):
    return half_value(B[:, o] | (B[:, o + 1] << 8))


def dq_q8_0(B):
    d = h16(B, 0)
    q = ((B[:, 2:34] ^ 0x80) - 0x80).astype(np.float32)
    return f32(q * d[:, None])


def nibbles(qs):
    return np.concatenate([qs & 0x0F, qs >> 4], axis=1)


def dq_q4_0(B):
    d = h16(B, 0)
    return f32((nibbles(B[:, 2:18]) - 8).astype(np.float32) * d[:, None])


def dq_q4_1(B):
    d, m = h16(B, 0), h16(B, 2)
    return f32(f32(nibbles(B[:, 4:20]).astype(np.float32) * d[:, None]) + m[:, None])


def high_bits(B, o):
    qh = B[:, o] | (B[:, o + 1] << 8) | (B[:, o + 2] << 16) | (B[:, o + 3] << 24)
    return np.stack([(qh >> j) & 1 for j in range(32)], axis=1)


def dq_q5_0(B):
    d = h16(B, 0)
    q = nibbles(B[:, 6:22]) | (high_bits(B, 2) << 4)
    return f32((q - 16).astype(np.float32) * d[:, None])


def dq_q5_1(B):
    d, m = h16(B, 0), h16(B, 2)
    q = nibbles(B[:, 8:24]) | (high_bits(B, 4) << 4)
    return f32(f32(q.astype(np.float32) * d[:, None]) + m[:, None])


def dq_mxfp4(B):
    d = e8m0_half(B[:, 0])
    return f32(KV_MXFP4[nibbles(B[:, 1:17])] * d[:, None])


POW3 = [1, 3, 9, 27, 81, 243]


def dq_tq1_0(B):
    d = h16(B, 52)
    cols = []
    for n in range(5):
        for m in range(32):
            cols.append(((((B[:, m] * POW3[n]) & 0xFF) * 3) >> 8))
    for n in range(5):
        for m in range(16):
            cols.append(((((B[:, 32 + m] * POW3[n]) & 0xFF) * 3) >> 8))
    for n in range(4):
        for m in range(4):
            cols.append(((((B[:, 48 + m] * POW3[n]) & 0xFF) * 3) >> 8))
    t = np.stack(cols, axis=1)
    return f32((t - 1).astype(np.float32) * d[:, None])


def dq_tq2_0(B):
    d = h16(B, 64)
    cols = []
    for g in range(2):
        for n in range(4):
            for m in range(32):
                cols.append((B[:, 32 * g + m] >> (2 * n)) & 3)
    t = np.stack(cols, axis=1)
    return f32((t - 1).astype(np.float32) * d[:, None])


def scale_min_k4(S, j):
    """6-bit scale and min j of the 12 packed bytes S (nb, 12)."""
    if j < 4:
        return S[:, j] & 63, S[:, j + 4] & 63
    return (S[:, j + 4] & 0x0F) | ((S[:, j - 4] >> 6) << 4), (S[:, j + 4] >> 4) | ((S[:, j] >> 6) << 4)


def dq_q2_k(B):
    d, dmin = h16(B, 80), h16(B, 82)
    out = []
    is_ = 0
    for n in range(2):
        q = B[:, 16 + 32 * n: 48 + 32 * n]
        for k in range(4):
            for half in range(2):
                sc = B[:, is_]
                is_ += 1
                dl = f32(d * (sc & 0x0F).astype(np.float32))
                ml = f32(dmin * (sc >> 4).astype(np.float32))
                v = ((q[:, 16 * half:16 * half + 16] >> (2 * k)) & 3).astype(np.float32)
                out.append(f32(f32(dl[:, None] * v) - ml[:, None]))
    return np.concatenate(out, axis=1)


def dq_q3_k(B):
    d_all = h16(B, 108)
    S = B[:, 96:108]
    scales = []
    for s in range(16):
        low = (S[:, s] & 0x0F) if s < 8 else (S[:, s - 8] >> 4)
        high = (S[:, 8 + s % 4] >> (2 * (s // 4))) & 3
        scales.append((low | (high << 4)) - 32)
    out = []
    is_ = 0
    m = 1
    for n in range(2):
        q = B[:, 32 + 32 * n: 64 + 32 * n]
        for k in range(4):
            for half in range(2):
                dl = f32(d_all * scales[is_].astype(np.float32))
                is_ += 1
                hm = B[:, 16 * half: 16 * half + 16]
                v = ((q[:, 16 * half:16 * half + 16] >> (2 * k)) & 3) - np.where((hm & m) != 0, 0, 4)
                out.append(f32(dl[:, None] * v.astype(np.float32)))
            m <<= 1
    return np.concatenate(out, axis=1)


def dq_q4_k(B):
    d, dmin = h16(B, 0), h16(B, 2)
    S = B[:, 4:16]
    out = []
    for n in range(4):
        q = B[:, 16 + 32 * n: 48 + 32 * n]
        for half in range(2):
            sc, mn = scale_min_k4(S, 2 * n + half)
            dl = f32(d * sc.astype(np.float32))
            ml = f32(dmin * mn.astype(np.float32))
            v = (q & 0x0F) if half == 0 else (q >> 4)
            out.append(f32(f32(dl[:, None] * v.astype(np.float32)) - ml[:, None]))
    return np.concatenate(out, axis=1)


def dq_q5_k(B):
    d, dmin = h16(B, 0), h16(B, 2)
    S = B[:, 4:16]
    qh = B[:, 16:48]
    out = []
    for n in range(4):
        ql = B[:, 48 + 32 * n: 80 + 32 * n]
        for half in range(2):
            sc, mn = scale_min_k4(S, 2 * n + half)
            dl = f32(d * sc.astype(np.float32))
            ml = f32(dmin * mn.astype(np.float32))
            v = ((ql & 0x0F) if half == 0 else (ql >> 4)) + np.where((qh & (1 << (2 * n + half))) != 0, 16, 0)
            out.append(f32(f32(dl[:, None] * v.astype(np.float32)) - ml[:, None]))
    return np.concatenate(out, axis=1)


def dq_q6_k(B):
    d = h16(B, 208)
    nb = B.shape[0]
    y = np.zeros((nb, 256), dtype=np.float32)
    for n in range(2):
        ql = B[:, 64 * n: 64 * n + 64]
        qh = B[:, 128 + 32 * n: 160 + 32 * n]
        sc = ((B[:, 192 + 8 * n: 200 + 8 * n] ^ 0x80) - 0x80).astype(np.float32)
        for l in range(32):
            is_ = l // 16
            q1 = ((ql[:, l] & 0xF) | (((qh[:, l] >> 0) & 3) << 4)) - 32
            q2 = ((ql[:, l + 32] & 0xF) | (((qh[:, l] >> 2) & 3) << 4)) - 32
            q3 = ((ql[:, l] >> 4) | (((qh[:, l] >> 4) & 3) << 4)) - 32
            q4 = ((ql[:, l + 32] >> 4) | (((qh[:, l] >> 6) & 3) << 4)) - 32
            y[:, 128 * n + l] = f32(f32(d * sc[:, is_ + 0]) * q1.astype(np.float32))
            y[:, 128 * n + l + 32] = f32(f32(d * sc[:, is_ + 2]) * q2.astype(np.float32))
            y[:, 128 * n + l + 64] = f32(f32(d * sc[:, is_ + 4]) * q3.astype(np.float32))
            y[:, 128 * n + l + 96] = f32(f32(d * sc[:, is_ + 6]) * q4.astype(np.float32))
    return y


def dq_q8_k(B):
    d = B[:, 0:4].astype(np.uint8).copy().view(np.float32)[:, 0]
    q = ((B[:, 4:260] ^ 0x80) - 0x80).astype(np.float32)
    return f32(d[:, None] * q)


QUANT = {  # name: (block size, block bytes, quantizer, dequantizer)
    "q8_0": (32, 34, q_q8_0, dq_q8_0),
    "q4_0": (32, 18, q_q4_0, dq_q4_0),
    "q4_1": (32, 20, q_q4_1, dq_q4_1),
    "q5_0": (32, 22, q_q5_0, dq_q5_0),
    "q5_1": (32, 24, q_q5_1, dq_q5_1),
    "mxfp4": (32, 17, q_mxfp4, dq_mxfp4),
    "tq1_0": (256, 54, q_tq1_0, dq_tq1_0),
    "tq2_0": (256, 66, q_tq2_0, dq_tq2_0),
}
DECODE_ONLY = {  # name: (block bytes, dequantizer, offsets of fp16 fields)
    "q2_k": (84, dq_q2_k, [80, 82]),
    "q3_k": (110, dq_q3_k, [108]),
    "q4_k": (144, dq_q4_k, [0, 2]),
    "q5_k": (176, dq_q5_k, [0, 2]),
    "q6_k": (210, dq_q6_k, [208]),
    "q8_k": (292, dq_q8_k, []),
}


# ---------------------------------------------------------------- cases

def scale_of(name):
    """The float32 'unit' that makes the block scale d exactly 1 for each type."""
    return {"q8_0": 127.0, "q4_0": 8.0, "q4_1": 15.0, "q5_0": 16.0, "q5_1": 31.0, "mxfp4": 6.0,
            "tq1_0": 1.0, "tq2_0": 1.0}[name]


def tie_block(name, qk, rng):
    """Values on the quantizer's rounding boundaries, with a block maximum that makes d exact."""
    if name == "q8_0":  # d = 1: x = k + 0.5 must round away from zero
        halves = [k + 0.5 for k in range(-127, 126, 9)] + [0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 126.5, -126.5]
        v = [127.0] + halves
    elif name in ("q4_0", "q5_0"):  # max = -2^b -> d = 1, id = 1: x + 8.5 (16.5) lands on integers
        top = 8.0 if name == "q4_0" else 16.0
        v = [-top] + [k + 0.5 for k in np.arange(-top, top)] + [top - 0.5, top, 0.5, -0.5]
    elif name in ("q4_1", "q5_1"):  # min 0, max 2^b - 1 -> d = 1: x - min + 0.5 lands on integers
        top = 15.0 if name == "q4_1" else 31.0
        v = [0.0, top] + [k + 0.5 for k in np.arange(0, top)] + [top - 0.5, 0.5]
    elif name == "mxfp4":  # amax 6 -> e = 127, d = 0.5: midpoints between E2M1 levels
        mids = [0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5.0]
        v = [6.0] + mids + [-m for m in mids] + [0.5, -0.5, 3.0, -6.0]
    else:  # tq: amax 2 -> id 0.5: +-1 -> +-0.5 rounds away from zero
        v = [2.0, -2.0, 1.0, -1.0, 0.999999, -0.999999, 1.000001, 0.5, -0.5, 0.0, -0.0]
    v = list(v)
    while len(v) < qk:
        v = v + v
    return f32(v[:qk])


def cases(name, qk, rng):
    u = scale_of(name)
    out = []
    normal = lambda r, c, s=1.0: f32(rng.standard_normal((r, c)) * s)
    out.append(("ties", tie_block(name, qk, rng)[None, :]))
    # same ties, negated and scaled by a power of two (exact), so signs and other exponents are covered
    out.append(("ties_scaled", f32(-tie_block(name, qk, rng) * F32(2.0 ** -7))[None, :]))
    out.append(("zeros", np.zeros((1, qk), dtype=np.float32)))
    z = np.zeros((1, qk), dtype=np.float32)
    z[0, ::2] = -0.0
    out.append(("signed_zeros", z))
    ol = normal(1, qk, 0.02)
    ol[0, qk // 3] = 1000.0
    out.append(("outlier", ol))
    nm = normal(1, qk, 0.5)
    nm[0, 5] = -7.25
    nm[0, 6] = 7.0
    out.append(("negative_max", nm))
    pm = normal(1, qk, 0.5)
    pm[0, 9] = 7.25
    pm[0, 10] = -7.25  # equal magnitude later: the first one wins
    out.append(("first_max_wins", pm))
    # fp16-subnormal scales: d around 1e-6 .. 6e-5
    out.append(("subnormal_scale", normal(2, qk, 1e-6 * u)))
    out.append(("tiny_subnormal_scale", normal(1, qk, 3e-8 * u)))
    # largest finite fp16 scale: d = 65504, and d just below the overflow threshold 65520
    mx = normal(2, qk, 0.1 * 65504 * u)
    mx[0, 0] = F32(65504.0 * u) if name != "q4_1" else F32(0)
    mx[1, 1] = F32(np.nextafter(F32(65519.0 * u), F32(0)))
    if name in ("q4_1", "q5_1"):  # here d = (max - min)/(2^b - 1) and m = min must both fit
        mx = f32(rng.uniform(0, 65504.0, (2, qk)))
        mx[0, 0] = 0.0
        mx[0, 1] = F32(65504.0 * u / 2)
        mx[1, 2] = F32(-65504.0)
        mx[1, 3] = F32(65504.0 * u - 65504.0)
    if name == "mxfp4":
        mx = normal(2, qk, 1e30)
        mx[0, 0] = F32(3.0e38)
    out.append(("max_scale", f32(mx)))
    big = qk == 32  # keep the 256-value types' files small
    out.append(("random_normal", normal(4 if big else 2, qk * 2)))
    out.append(("random_weights", normal(8 if big else 3, qk * 4 if big else qk * 2, 0.02)))
    out.append(("many_rows", normal(64 if big else 12, qk, 0.05)))
    uni = f32(rng.uniform(-1, 1, (2, qk)))
    out.append(("uniform", uni))
    # float32-subnormal input: 1/d overflows float32 for some blocks (x86 conversion of inf/NaN)
    sub = f32(rng.standard_normal((3, qk)) * 1e-39)
    sub[2, :] = f32(rng.standard_normal(qk) * 1e-41)
    out.append(("float_subnormal_input", sub))
    if name == "mxfp4":
        # block maxima a few ulps below powers of two, where floorf(log2f(amax)) is decided by rounding
        rows = []
        for k in (-20, -5, -1, 0, 1, 3, 20, 60):
            base = F32(2.0 ** k)
            for steps in (1, 3, 6, 9, 12, 17):
                a = base
                for _ in range(steps):
                    a = np.nextafter(a, F32(0))
                r = f32(rng.uniform(-1, 1, qk)) * F32(base / 2)
                r[steps % qk] = a
                rows.append(r)
        out.append(("near_power_of_two", f32(np.stack(rows))))
    return out


def hexf(a):
    return f32(a).astype("<f4").tobytes().hex()


def write_quant(dirname, name, rng):
    qk, size, quant, dequant = QUANT[name]
    with open(os.path.join(dirname, name + ".txt"), "w") as f:
        f.write("# generated by reference/ggml/gen_golden.py; do not edit\n")
        for cname, X in cases(name, qk, rng):
            X = f32(X)
            rows, cols = X.shape
            blocks = X.reshape(-1, qk)
            B = quant(blocks)
            assert B.shape[1] == size, (name, B.shape)
            Y = dequant(B).reshape(rows, cols)
            f.write("case %s rows=%d cols=%d\n" % (cname, rows, cols))
            f.write("x " + hexf(X) + "\n")
            f.write("q " + bytes(B.astype(np.uint8).reshape(-1).tolist()).hex() + "\n")
            f.write("y " + hexf(Y) + "\n")


def write_decode_only(dirname, name, rng):
    size, dequant, half_offsets = DECODE_ONLY[name]
    with open(os.path.join(dirname, name + ".txt"), "w") as f:
        f.write("# generated by reference/ggml/gen_golden.py; do not edit\n")
        for cname, nb in (("random_blocks", 24), ("more_blocks", 8)):
            B = rng.integers(0, 256, (nb, size)).astype(np.int64)
            for o in half_offsets:  # finite scales of ordinary size (random bytes could be NaN/Inf)
                B[:, o:o + 2] = u16le(half_bits(f32(np.abs(rng.standard_normal(nb)) * 0.01)))
            if name == "q8_k":
                d = f32(np.abs(rng.standard_normal(nb)) * 0.01)
                B[:, 0:4] = np.frombuffer(d.astype("<f4").tobytes(), dtype=np.uint8).reshape(nb, 4)
            Y = dequant(B)
            f.write("case %s rows=1 cols=%d\n" % (cname, nb * 256))
            f.write("q " + bytes(B.astype(np.uint8).reshape(-1).tolist()).hex() + "\n")
            f.write("y " + hexf(Y.reshape(-1)) + "\n")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    os.makedirs(out, exist_ok=True)
    seed = 20261124
    for i, name in enumerate(sorted(QUANT)):
        write_quant(out, name, np.random.default_rng(seed + i))
    for i, name in enumerate(sorted(DECODE_ONLY)):
        write_decode_only(out, name, np.random.default_rng(seed + 100 + i))
    print("seed", seed, "->", out)


if __name__ == "__main__":
    main()
