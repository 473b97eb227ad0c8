"""One pass over a row of logits for the softmax sums the ablation metrics need.

Per row ``r`` of logits ``z`` ``[n, V]`` with shift ``m_r`` (the row's maximum) and
``a_ri = z_ri - m_r`` (float64), :func:`softmax_sums` returns

- ``s_r = Σ_i exp(a_ri)`` (the log-sum-exp is ``m_r + log s_r``),
- ``t_r = Σ_i exp(a_ri) a_ri`` (the entropy is ``log s_r - t_r / s_r``),
- ``u_r = Σ_i p_ri a_ri`` for given weights ``p`` (the clean probabilities: KL and
  cross-entropy against them follow from it),

and adds ``Σ_r a_ri`` to a column accumulator. Terms whose factor ``exp(a)`` or ``p`` is 0
count 0 (a ``-inf`` logit adds nothing to ``t`` and, where ``p`` is 0, nothing to ``u``).

numpy needs a float64 copy and about eight passes over every logit for this (cast, subtract,
exp, three products and sums, the column sum); the compiled kernel reads each logit twice
from cache (the maximum, by numpy, and the fused pass) and evaluates ``exp`` in float64 in a
vectorized loop (a 16-entry table and a degree-7 polynomial: relative error below 4e-16,
against ``np.exp``'s 1 ulp), so its sums agree with the numpy code's to float64 rounding, not
bit for bit.

Example:
    >>> import numpy as np
    >>> m, sums = softmax_sums(np.log(np.array([[1.0, 3.0]], dtype=np.float32)))
    >>> [round(float(v), 6) for v in sums[0, :2]]   # s = (1 + 3) / 3, t = log(1/3) / 3
    [1.333333, -0.366204]
"""

from __future__ import annotations

import math
from concurrent.futures import Executor
from typing import Any

import numpy as np

from neuroheat import kernels

__all__ = ["softmax_sums"]

#: rows per numpy step (float64 copies of this many rows stay in cache)
CHUNK = 16
#: the kernel's pieces of a call's rows: at most PIECES, of at least MIN_PIECE_ROWS rows
PIECES, MIN_PIECE_ROWS = 8, 16
# exp(a) = 2**(k / 16) * exp(y), k = round(16 a / ln 2), |y| <= ln 2 / 32: 2**(j / 16) from a
# table, exp(y) from its Taylor polynomial of degree 7 (the next term is below 2e-18)
_STEPS = 16
_INV_STEP = 23.083120654223414            # 16 / ln 2
_STEP_HI = 0.04332169878489367            # ln 2 / 16 in 38 bits: k * _STEP_HI is exact
_STEP_LO = 1.0291218489310676e-13         # ln 2 / 16 - _STEP_HI
_TABLE = np.array([2.0 ** (j / _STEPS) for j in range(_STEPS)])
_C2, _C3, _C4, _C5, _C6, _C7 = (1.0 / math.factorial(k) for k in range(2, 8))
#: below this exp(a) is 0 here (exp(-708) = 3e-308, under any row's largest term, 1)
_LOW = -708.0


def softmax_sums(z: np.ndarray, p: np.ndarray | None = None,
                 col: np.ndarray | None = None,
                 pool: Executor | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Row maxima ``m`` ``[n]`` and ``[n, 3]`` float64 sums ``s, t, u`` of logits ``z``
    ``[n, V]`` (float32 or float64) as in the module docstring; ``u`` is 0 without ``p``
    ``[n, V]``; ``Σ_r (z_r - m_r)`` is added to ``col`` ``[V]`` (float64) when given.

    The compiled kernel takes the rows in at most :data:`PIECES` pieces, each with its own
    column sums, added in order: the same sums whether the pieces run one after another or
    on ``pool``'s threads.

    Example:
        >>> import numpy as np
        >>> col = np.zeros(2)
        >>> m, sums = softmax_sums(np.zeros((3, 2), np.float32), col=col)
        >>> float(m[0]), float(sums[0, 0]), col.tolist()
        (0.0, 2.0, [0.0, 0.0])
    """
    if z.dtype not in (np.float32, np.float64):
        z = z.astype(np.float32)
    z = np.ascontiguousarray(z)
    n, width = z.shape
    out = np.zeros((n, 3))
    if not n or not width:
        return np.zeros(n), out
    with_p = p is not None
    weights = np.ascontiguousarray(p, dtype=np.float64) if with_p else np.zeros((1, 1))
    if not kernels.enabled():
        m = z.max(axis=1).astype(np.float64)
        _sums_numpy(z, m, weights if with_p else None,
                    col if col is not None else np.zeros(width), out)
        return m, out
    m = np.empty(n)
    step = max(MIN_PIECE_ROWS, -(-n // PIECES))
    starts = range(0, n, step)
    cols = np.zeros((len(starts), width))

    def piece(k: int) -> None:
        rows = slice(starts[k], starts[k] + step)
        m[rows] = z[rows].max(axis=1)
        _sums_kernel(z[rows], m[rows], weights[rows] if with_p else weights, with_p, cols[k],
                     out[rows], np.empty(width), np.empty(width),
                     np.empty(width, dtype=np.int64))

    if pool is not None and len(starts) > 1:
        for done in [pool.submit(piece, k) for k in range(len(starts))]:
            done.result()
    else:
        for k in range(len(starts)):
            piece(k)
    if col is not None:
        for k in range(len(starts)):
            col += cols[k]
    return m, out


def _sums_numpy(z: np.ndarray, m: np.ndarray, p: np.ndarray | None, col: np.ndarray,
                out: np.ndarray) -> None:
    for r0 in range(0, z.shape[0], CHUNK):
        rows = slice(r0, r0 + CHUNK)
        with np.errstate(invalid="ignore"):   # NaN / inf logits give NaN / inf sums
            a = z[rows].astype(np.float64) - m[rows, None]
            e = np.exp(a)
            out[rows, 0] = e.sum(1)
            out[rows, 1] = np.where(e > 0, e * a, 0.0).sum(1)
            if p is not None:
                out[rows, 2] = np.where(p[rows] > 0, p[rows] * a, 0.0).sum(1)
            col += a.sum(0)


@kernels.jit
def _sums_kernel(z: Any, m: Any, p: Any, with_p: bool, col: Any, out: Any, av: Any, ev: Any,
                 bits: Any) -> None:  # pragma: no cover - compiled by numba
    """Row by row: ``a = z - m`` and ``exp(a)`` but for its power of two (a vectorized loop,
    into ``av``, ``ev`` and the exponent bits ``bits``), then the sums with four accumulators
    each (independent chains, so the adds overlap) and the column sums."""
    n, width = z.shape
    w4 = width - width % 4
    scale = bits.view(np.float64)   # 2**(k // 16) from the exponent bits
    for r in range(n):
        zr = z[r]
        mr = m[r]
        for i in range(width):
            a = np.float64(zr[i]) - mr
            av[i] = a
            x = a if a > _LOW else _LOW
            k = np.floor(x * _INV_STEP + 0.5)
            y = (x - k * _STEP_HI) - k * _STEP_LO
            q = _C7
            q = q * y + _C6
            q = q * y + _C5
            q = q * y + _C4
            q = q * y + _C3
            q = q * y + _C2
            q = q * y + 1.0
            q = q * y + 1.0
            j = np.int64(k)
            # exp(a) = q * 2**(j % 16 / 16) * 2**(j // 16); 0 at or below _LOW, NaN stays NaN
            ev[i] = q * _TABLE[j & 15] if a > _LOW else (0.0 if a <= _LOW else a)
            bits[i] = ((j >> 4) + 1023) << 52
        s0 = s1 = s2 = s3 = 0.0
        t0 = t1 = t2 = t3 = 0.0
        u0 = u1 = u2 = u3 = 0.0
        for i in range(0, w4, 4):
            e0 = ev[i] * scale[i]
            e1 = ev[i + 1] * scale[i + 1]
            e2 = ev[i + 2] * scale[i + 2]
            e3 = ev[i + 3] * scale[i + 3]
            a0, a1, a2, a3 = av[i], av[i + 1], av[i + 2], av[i + 3]
            s0 += e0
            s1 += e1
            s2 += e2
            s3 += e3
            t0 += e0 * a0 if e0 > 0.0 else 0.0
            t1 += e1 * a1 if e1 > 0.0 else 0.0
            t2 += e2 * a2 if e2 > 0.0 else 0.0
            t3 += e3 * a3 if e3 > 0.0 else 0.0
            col[i] += a0
            col[i + 1] += a1
            col[i + 2] += a2
            col[i + 3] += a3
        for i in range(w4, width):
            e0 = ev[i] * scale[i]
            s0 += e0
            t0 += e0 * av[i] if e0 > 0.0 else 0.0
            col[i] += av[i]
        if with_p:
            pr = p[r]
            for i in range(0, w4, 4):
                u0 += pr[i] * av[i] if pr[i] > 0.0 else 0.0
                u1 += pr[i + 1] * av[i + 1] if pr[i + 1] > 0.0 else 0.0
                u2 += pr[i + 2] * av[i + 2] if pr[i + 2] > 0.0 else 0.0
                u3 += pr[i + 3] * av[i + 3] if pr[i + 3] > 0.0 else 0.0
            for i in range(w4, width):
                u0 += pr[i] * av[i] if pr[i] > 0.0 else 0.0
        out[r, 0] = (s0 + s1) + (s2 + s3)
        out[r, 1] = (t0 + t1) + (t2 + t3)
        out[r, 2] = (u0 + u1) + (u2 + u3)
