"""One sparse (SAE latent) part's share of :func:`~neuroheat.analysis.all_contexts.
top_contexts_all`, from the non-zeros alone, with the zeros in closed form.

:func:`scan_sparse_part` returns exactly what the dense ``scan_part`` returns for a dense
part of the same values (same value keys, rows, histograms and samples, bit for bit), at a
cost proportional to the non-zeros (plus ``[latents x k]``-sized output and one sort of the
part's rows by hash). Latent ``n`` is 0 on its ``N - active[n]`` inactive rows, so:

- **top / bottom k**: the dense order is (value, then earlier row). The non-zeros are ranked
  per latent (the running k best, as in the dense path); the zeros all tie, so the ones
  that enter are the *earliest inactive rows*, placed after the positive values (top) or
  after the negative ones (bottom). The j-th inactive row of a latent with active rows
  ``p_0 < p_1 < ...`` is ``j + #{i : p_i - i <= j}`` (``p_i - i`` rows before ``p_i`` are
  inactive), so only non-zeros at rows ``< k + active[n]`` are needed for it.
- **histograms**: each non-zero is binned exactly as ``histogram_counts`` bins it; the zeros
  add ``N - active[n]`` to the bin of 0.0.
- **quantile samples**: a band's sample is the ``samples`` rows of smallest seeded row hash.
  In the band of 0.0 the inactive rows compete too; the ones with the smallest hash are the
  first inactive rows in hash order, found with the same formula over the rows' positions in
  hash order (only non-zeros at positions ``< samples + active[n]`` are needed).

This relies on the layout's invariants (the extraction writer keeps them): a stored value is
never 0 (zeros are dropped after the cast to the stored dtype) and ``active[n]`` counts the
stored values of latent ``n``. NaN values (refused at extraction) would be skipped as the
dense path skips them.

Example:
    >>> scan_sparse_part(part, 7, plan)["top"][1].shape   # doctest: +SKIP
    (16384, 10)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neuroheat.analysis import distributions as D
from neuroheat.store import StoreBase

__all__ = ["first_free", "scan_sparse_part"]

_EMPTY = np.uint64(2**32)  # the dense path's key of "no row"
_ZERO_TOP = np.uint64(0x7FFFFFFF)  # top key of 0.0 (~order(0.0))
_ZERO_LOW = np.uint64(0x80000000)  # bottom key of 0.0 (order(0.0))


def _order32(v: np.ndarray) -> np.ndarray:
    """uint32 whose unsigned order is the order of float32 ``v`` (as the dense path)."""
    bits = (np.asarray(v, np.float32) + np.float32(0.0)).view(np.uint32)
    flip = np.right_shift(bits, np.uint32(31))
    np.negative(flip, out=flip)
    flip |= np.uint32(0x80000000)
    return np.bitwise_xor(bits, flip)


def _update(state: list[np.ndarray], empty: np.uint64, group: np.ndarray, key: np.ndarray,
            row: np.ndarray, val: np.ndarray | None = None) -> None:
    """Merge candidates into ``state`` = [key, row(, value)], each ``[groups, s]`` sorted by
    (key, row): keep per group the ``s`` smallest (key, row) pairs (in place)."""
    sk, sr = state[0], state[1]
    s = sk.shape[1]
    # strict: a non-zero tying the s-th kept key sits on a later row (chunks come in row
    # order) and loses; the zero candidates, merged last, never tie (row hashes are unique)
    hit = key < sk[group, s - 1]
    if not hit.any():
        return
    group, key, row = group[hit], key[hit], row[hit]
    touched = np.unique(group)
    old_r = sr[touched].ravel()
    keep = old_r >= 0
    g = np.concatenate([np.repeat(touched, s)[keep], group])
    kk = np.concatenate([sk[touched].ravel()[keep], key])
    rr = np.concatenate([old_r[keep], row])
    order = np.lexsort((rr, kk, g))
    g, kk, rr = g[order], kk[order], rr[order]
    rank = np.arange(len(g)) - np.searchsorted(g, g, side="left")
    sel = rank < s
    sk[touched], sr[touched] = empty, -1
    sk[g[sel], rank[sel]], sr[g[sel], rank[sel]] = kk[sel], rr[sel]
    if val is not None:
        sv = state[2]
        vv = np.concatenate([sv[touched].ravel()[keep], val[hit]])[order]
        sv[touched] = np.nan
        sv[g[sel], rank[sel]] = vv[sel]


def first_free(lat: np.ndarray, pos: np.ndarray, free: np.ndarray, m: int) -> np.ndarray:
    """int64 ``[latents, m]``: per latent the first ``m`` positions (ascending) that are
    not among its active ``pos`` (pairs ``lat``, ``pos``, each once), -1 past its
    ``free`` count. Only pairs with ``pos < m + active`` matter.

    Example:
        >>> first_free(np.array([0, 0]), np.array([0, 2]), np.array([3]), 2).tolist()
        [[1, 3]]
    """
    width = len(free)
    order = np.lexsort((pos, lat))
    lat, pos = lat[order].astype(np.int64), pos[order].astype(np.int64)
    gap = pos - (np.arange(len(lat)) - np.searchsorted(lat, lat, side="left"))
    sel = gap < m
    cnt = np.bincount(lat[sel] * m + gap[sel], minlength=width * m).reshape(width, m)
    out = np.arange(m, dtype=np.int64)[None, :] + np.cumsum(cnt, axis=1)
    out[np.arange(m)[None, :] >= np.asarray(free)[:, None]] = -1
    return out


def _edge(j: np.ndarray, lo: np.ndarray, hi: np.ndarray, bins: int, tiny: bool
          ) -> np.ndarray:
    """Edge ``j`` of ``np.linspace(lo, hi, bins + 1, axis=1)`` rows, computed elementwise
    as numpy does (``tiny``: some step of the whole layer is 0, then numpy divides first)."""
    jf = j.astype(np.float64)
    y = jf / bins * (hi - lo) if tiny else jf * ((hi - lo) / bins)
    y += lo
    return np.where(j == bins, hi, y)


def _bins(x: np.ndarray, lat: np.ndarray, lo: np.ndarray, hi: np.ndarray, bins: int
          ) -> tuple[np.ndarray, np.ndarray]:
    """``(bin, in range)`` of values ``x`` of latents ``lat``, exactly as
    :func:`~neuroheat.analysis.distributions.histogram_counts` bins them."""
    x = np.asarray(x, np.float64)
    norm = bins / (hi - lo)
    f = x - lo[lat]
    f *= norm[lat]
    idx = f.astype(np.int64)
    np.clip(idx, 0, bins - 1, out=idx)
    f -= idx
    near = np.flatnonzero((f < 1e-6) | (f > 1 - 1e-6))
    if len(near):
        ln, j, v = lat[near], idx[near], x[near]
        tiny = bool(((hi - lo) / bins == 0).any())
        j = np.where(v < _edge(j, lo[ln], hi[ln], bins, tiny), j - 1, j)
        j = np.where((v >= _edge(j + 1, lo[ln], hi[ln], bins, tiny)) & (j != bins - 1),
                     j + 1, j)
        idx[near] = j
    return idx, (x >= lo[lat]) & (x <= hi[lat])


def _count(acc: np.ndarray, keys: np.ndarray) -> None:
    """``acc[keys] += 1`` per key (a bincount when there are enough keys for it)."""
    if len(keys) * 8 > acc.size:
        acc += np.bincount(keys, minlength=acc.size)
    else:
        np.add.at(acc, keys, 1)


def _band(x: np.ndarray, lat: np.ndarray, edges: np.ndarray, mode: str) -> np.ndarray:
    """int64 band of each value as :func:`~neuroheat.analysis.distributions.band_index`."""
    x = np.asarray(x, np.float64)
    n_bands = edges.shape[1] - 1
    if mode == "value":
        lo, hi = edges[lat, 0], edges[lat, -1]
        span = np.where(hi > lo, hi - lo, 1.0)
        b = np.clip(np.floor((x - lo) / span * n_bands), 0, n_bands - 1)
    else:
        b = np.zeros(x.shape)
        for j in range(n_bands):
            b += x >= edges[lat, j]
        b -= 1
    b[np.isnan(x)] = -1
    return b.astype(np.int64)


def _place(state: list[np.ndarray], zkey: np.uint64, zeros: np.ndarray, row0: int,
           kk: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``[latents, kk]`` (value key, global row) of the non-zero candidates
    ``state`` with the zeros (local rows ``zeros``, earliest first) put after the
    candidates that beat 0.0."""
    sk, sr = state
    width, k = sk.shape
    ahead = ((sk < zkey) & (sr >= 0)).sum(axis=1)
    nz = np.minimum((zeros >= 0).sum(axis=1), np.maximum(kk - ahead, 0))
    out_k = np.full((width, kk), _EMPTY, np.uint64)
    out_r = np.full((width, kk), -1, np.int64)
    w, j = np.nonzero(sr >= 0)
    slot = np.where(j < ahead[w], j, j + nz[w])
    ok = slot < kk
    out_k[w[ok], slot[ok]], out_r[w[ok], slot[ok]] = sk[w[ok], j[ok]], sr[w[ok], j[ok]]
    w, t = np.nonzero(np.arange(zeros.shape[1])[None, :] < nz[:, None])
    out_k[w, ahead[w] + t], out_r[w, ahead[w] + t] = zkey, zeros[w, t] + row0
    return out_k, out_r


def scan_sparse_part(part: StoreBase, layer: int, plan: dict[str, Any]) -> dict[str, Any]:
    """What ``all_contexts.scan_part`` returns for ``plan``, computed from the non-zeros of
    the sparse ``part`` (same keys, rows, counts and samples)."""
    width, n_rows = int(part.width), int(part.num_words)
    k, row0, bins, edges = int(plan["k"]), int(plan["row0"]), int(plan["bins"]), plan["edges"]
    mode, s = plan["mode"], int(plan["samples"])
    active = np.asarray(part.active(layer), np.int64)
    free = n_rows - active
    hlo, hhi = D.histogram_range(plan["lo"], plan["hi"])
    n_bands = edges.shape[1] - 1 if edges is not None else 0
    step_bins = bins // n_bands if n_bands else 0
    by_bins = mode == "value" and bins and step_bins and bins % n_bands == 0
    sampling = edges is not None and s > 0
    top = [np.full((width, k), _EMPTY, np.uint64), np.full((width, k), -1, np.int64)]
    low = [a.copy() for a in top] if plan["bottom"] else None
    hist = np.zeros(width * bins, np.int64) if bins else None
    fine = np.zeros(width * D.FINE_BINS, np.int64) if plan["fine"] else None
    smp = [np.full((width * n_bands, s), D._EMPTY, np.uint64),
           np.full((width * n_bands, s), -1, np.int64),
           np.full((width * n_bands, s), np.nan)] if sampling else None
    if sampling:
        h = D.row_hash(np.arange(row0, row0 + n_rows), plan["seed"])
        by_hash = np.argsort(h, kind="stable")
        hpos = np.empty(n_rows, np.int64)
        hpos[by_hash] = np.arange(n_rows)
    zr: list[tuple[np.ndarray, np.ndarray]] = []  # (latent, row) for the earliest zeros
    zh: list[tuple[np.ndarray, np.ndarray]] = []  # (latent, hash position) for samples
    for rows, lat32, val in part.iter_nonzeros(layer, chunk_mb=plan["chunk_mb"]):
        lat = lat32.astype(np.int64)
        ok = ~np.isnan(val)
        if k:
            sel = rows < k + active[lat]
            zr.append((lat[sel], rows[sel]))
            order = _order32(val[ok]).astype(np.uint64)
            g, r = lat[ok], rows[ok] + row0
            _update(top, _EMPTY, g, ~order & np.uint64(0xFFFFFFFF), r)
            if low is not None:
                _update(low, _EMPTY, g, order, r)
        bin_of = None
        if hist is not None:
            bin_of, inside = _bins(val, lat, hlo, hhi, bins)
            _count(hist, (lat * bins + bin_of)[inside])
        if fine is not None:
            fb, inside = _bins(val, lat, hlo, hhi, D.FINE_BINS)
            _count(fine, (lat * D.FINE_BINS + fb)[inside])
        if sampling:
            if by_bins:
                band = bin_of // step_bins
                band[~ok] = -1
            else:
                band = _band(val, lat, edges, mode)
            sel = band >= 0
            _update(smp, D._EMPTY, lat[sel] * n_bands + band[sel], h[rows[sel]],
                    rows[sel] + row0, val[sel].astype(np.float64))
            q = hpos[rows]
            sel = q < s + active[lat]
            zh.append((lat[sel], q[sel]))
    every = np.arange(width)
    zero = np.zeros(width)
    out: dict[str, Any] = {"top": (np.zeros((width, 0), np.uint64),
                                   np.zeros((width, 0), np.int64))}
    out["low"] = out["top"]
    if k:
        lat = np.concatenate([a for a, _ in zr]) if zr else np.zeros(0, np.int64)
        pos = np.concatenate([b for _, b in zr]) if zr else np.zeros(0, np.int64)
        zeros = first_free(lat, pos, free, k)
        kk = min(k, n_rows)
        out["top"] = _place(top, _ZERO_TOP, zeros, row0, kk)
        if low is not None:
            out["low"] = _place(low, _ZERO_LOW, zeros, row0, kk)
    zbin = None
    for name, acc, nb in (("hist", hist, bins), ("fine", fine, D.FINE_BINS)):
        if acc is not None:
            b, inside = _bins(zero, every, hlo, hhi, nb)
            if name == "hist":
                zbin = b
            acc = acc.reshape(width, nb)
            acc[every[inside], b[inside]] += free[inside]
        out[name] = acc
    out["samples"] = None
    if sampling:
        zband = zbin // step_bins if by_bins else _band(zero, every, edges, mode)
        lat = np.concatenate([a for a, _ in zh]) if zh else np.zeros(0, np.int64)
        pos = np.concatenate([b for _, b in zh]) if zh else np.zeros(0, np.int64)
        fpos = first_free(lat, pos, free, s)
        w, t = np.nonzero((fpos >= 0) & (zband >= 0)[:, None])
        local = by_hash[fpos[w, t]]
        _update(smp, D._EMPTY, w * n_bands + zband[w], h[local], local + row0,
                np.zeros(len(w)))
        out["samples"] = tuple(a.reshape(width, n_bands, s) for a in smp)
    return out
