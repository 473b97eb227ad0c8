"""Per-neuron activation distributions: histograms and quantile samples, computed per chunk.

Histograms have ``bins`` equal-width bins from the neuron's stored minimum to its stored
maximum (its statistics, so every chunk and shard bins alike and counts simply add up); a
value falls in a bin exactly as ``np.histogram(values, bins, range=(min, max))`` puts it (a
constant neuron is binned over ``min ± 0.5``, as numpy does).

*Quantile samples* are a few rows drawn from bands of a neuron's activations. Three meanings
of "quantile" are offered (``QUANTILE_MODES``):

- ``"value"`` (default; sae_vis): ``bands`` equal-width value intervals of the histogram's
  range (when ``bins`` is a multiple of ``bands`` a band is exactly ``bins / bands`` histogram
  bins). Exact and computed in the same pass as the top contexts.
- ``"rank"`` (OpenAI's neuron viewer): rank bands 0.5–0.9, 0.9–0.99, 0.99–0.999 and
  0.999–1 of the neuron's activations (``RANK_BANDS``).
- ``"count"`` (delphi): ``bands`` equal-count bands (deciles for 10).

For ``"rank"`` and ``"count"`` the band edges are quantiles read from a
``FINE_BINS``-bin histogram of the first pass (linear inside a bin, so the rows below an edge
are the asked fraction up to the rows of the one fine bin that holds it), and rows are drawn
in a second pass. In every mode the
rows of a band are a uniform sample without replacement: the ``samples`` rows with the
smallest hash of their global row number (splitmix64, seeded), so the choice is the same
whatever the chunking, threads or shards.

Example:
    >>> import numpy as np
    >>> x = np.array([[0.0, 1.0, 2.0, 3.0]])
    >>> histogram_counts(x, np.array([0.0]), np.array([3.0]), 3).tolist()
    [[1, 1, 2]]
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from neuroheat.errors import InputError

__all__ = ["FINE_BINS", "QUANTILE_MODES", "RANK_BANDS", "band_edges", "band_index", "bin_edges",
           "histogram_counts", "histogram_range", "merge_samples", "row_hash",
           "sample_bands", "update_samples"]

QUANTILE_MODES = ("value", "rank", "count")
#: OpenAI's rank bands (fractions of a neuron's activations, lowest first)
RANK_BANDS = (0.5, 0.9, 0.99, 0.999)
#: histogram resolution used to find the edges of rank and count bands
FINE_BINS = 2048
_EMPTY = np.uint64(2**64 - 1)


def histogram_range(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The binned range of each neuron: ``[min, max]``, or ``min ± 0.5`` when constant.

    Example:
        >>> [a.tolist() for a in histogram_range(np.array([0.0, 2.0]), np.array([1.0, 2.0]))]
        [[0.0, 1.5], [1.0, 2.5]]
    """
    lo, hi = np.asarray(lo, np.float64).copy(), np.asarray(hi, np.float64).copy()
    same = lo == hi
    lo[same] -= 0.5
    hi[same] += 0.5
    return lo, hi


def histogram_counts(x: np.ndarray, lo: np.ndarray, hi: np.ndarray, bins: int,
                     out_index: np.ndarray | None = None) -> np.ndarray:
    """int64 ``[neurons, bins]`` counts of ``x`` (``[neurons, rows]``; NaN skipped) over each
    neuron's ``[lo, hi]`` (from :func:`histogram_range`), bin for bin as ``np.histogram``;
    ``out_index`` (int64 ``[neurons, rows]``), when given, receives each value's bin."""
    x = np.asarray(x, dtype=np.float64)
    width, rows = x.shape
    lo = np.asarray(lo, np.float64)[:, None]
    hi = np.asarray(hi, np.float64)[:, None]
    norm = bins / (hi - lo)
    f = x - lo
    f *= norm
    idx = f.astype(np.int64)
    np.clip(idx, 0, bins - 1, out=idx)
    # numpy's correction of floating-point rounding at the edges, only where f lies within
    # rounding distance of an integer (elsewhere the floor is the bin)
    f -= idx
    near = np.flatnonzero((f < 1e-6) | (f > 1 - 1e-6))
    if len(near):
        edges = bin_edges(lo[:, 0], hi[:, 0], bins)  # as np.histogram makes them
        r, c = np.divmod(near, rows)
        j = idx[r, c]
        v = x[r, c]
        j = np.where(v < edges[r, j], j - 1, j)
        j = np.where((v >= edges[r, j + 1]) & (j != bins - 1), j + 1, j)
        idx[r, c] = j
    if out_index is not None:
        out_index[...] = idx
    idx += bins * np.arange(width)[:, None]
    # two reductions find the usual case (every value inside, no NaN) without a mask
    inside = bool((x.min(axis=1, initial=np.inf) >= lo[:, 0]).all()
                  and (x.max(axis=1, initial=-np.inf) <= hi[:, 0]).all())
    flat = idx.ravel() if inside else idx[(x >= lo) & (x <= hi)]
    return np.bincount(flat, minlength=width * bins).reshape(width, bins)


def bin_edges(lo: np.ndarray, hi: np.ndarray, bins: int) -> np.ndarray:
    """``np.linspace(lo, hi, bins + 1, axis=1)`` (read-only), cached: every block of a layer
    asks for the same edges.

    Example:
        >>> bin_edges(np.array([0.0]), np.array([1.0]), 2).tolist()
        [[0.0, 0.5, 1.0]]
    """
    return _cached_edges(np.ascontiguousarray(lo).tobytes(), np.ascontiguousarray(hi).tobytes(),
                         bins)


@lru_cache(maxsize=8)
def _cached_edges(lo: bytes, hi: bytes, bins: int) -> np.ndarray:
    edges = np.linspace(np.frombuffer(lo), np.frombuffer(hi), bins + 1, axis=1)
    edges.flags.writeable = False
    return edges


def band_edges(mode: str, lo: np.ndarray, hi: np.ndarray, bands: int,
               fine: np.ndarray | None = None) -> np.ndarray:
    """float64 ``[neurons, n_bands + 1]``: lower edges of each band, then the maximum.

    ``mode`` is one of :data:`QUANTILE_MODES`; ``fine`` is the :data:`FINE_BINS`-bin
    histogram over :func:`histogram_range` needed by ``"rank"`` and ``"count"``.

    Example:
        >>> band_edges("value", np.array([0.0]), np.array([1.0]), 4).tolist()
        [[0.0, 0.25, 0.5, 0.75, 1.0]]
    """
    lo, hi = np.asarray(lo, np.float64), np.asarray(hi, np.float64)
    if mode == "value":
        return np.linspace(lo, hi, bands + 1, axis=1)
    qs = np.asarray(RANK_BANDS if mode == "rank" else np.arange(bands) / bands)
    if fine is None:
        raise InputError(f"quantile mode {mode!r} needs fine=, the {FINE_BINS}-bin histogram "
                         "of each neuron (only 'value' bands come from lo and hi alone)")
    blo, bhi = histogram_range(lo, hi)
    cum = np.cumsum(fine, axis=1).astype(np.float64)
    total = cum[:, -1:]
    target = qs[None, :] * total  # rows below the edge
    out = np.empty((len(lo), len(qs) + 1))
    step = (bhi - blo) / fine.shape[1]
    for j in range(len(qs)):
        b = _count_at_most(cum, target[:, j])  # per row: searchsorted(side="right")
        b = np.minimum(b, fine.shape[1] - 1)
        before = np.where(b > 0, np.take_along_axis(cum, np.maximum(b - 1, 0)[:, None],
                                                    axis=1)[:, 0], 0.0)
        inside = np.take_along_axis(fine, b[:, None], axis=1)[:, 0]
        frac = np.where(inside > 0, (target[:, j] - before) / np.maximum(inside, 1), 0.0)
        out[:, j] = np.clip(blo + (b + frac) * step, lo, hi)
    out[:, 0] = np.where(qs[0] == 0, lo, out[:, 0])
    out[:, -1] = hi
    return out


def _count_at_most(cum: np.ndarray, target: np.ndarray, block: int = 4096) -> np.ndarray:
    """int64 per row: how many entries of the sorted row ``cum[i]`` are <= ``target[i]``
    (``np.searchsorted(cum[i], target[i], side="right")``, vectorised a block of rows at a
    time)."""
    out = np.empty(len(cum), dtype=np.int64)
    for a in range(0, len(cum), block):
        out[a:a + block] = (cum[a:a + block] <= target[a:a + block, None]).sum(axis=1)
    return out


def band_index(x: np.ndarray, edges: np.ndarray, mode: str) -> np.ndarray:
    """int16 ``[neurons, rows]``: the band of each value (-1: in no band, or NaN).

    Example:
        >>> edges = band_edges("value", np.array([0.0]), np.array([1.0]), 4)
        >>> band_index(np.array([[0.0, 0.3, 1.0, np.nan]]), edges, "value").tolist()
        [[0, 1, 3, -1]]
    """
    x = np.asarray(x, dtype=np.float64)
    n_bands = edges.shape[1] - 1
    if mode == "value":
        lo, hi = edges[:, :1], edges[:, -1:]
        span = np.where(hi > lo, hi - lo, 1.0)
        b = np.floor((x - lo) / span * n_bands)
        b = np.clip(b, 0, n_bands - 1)
    else:
        b = np.zeros(x.shape)
        for j in range(n_bands):
            b += x >= edges[:, j:j + 1]
        b -= 1
    b[np.isnan(x)] = -1
    return b.astype(np.int16)


def row_hash(rows: np.ndarray, seed: int = 0) -> np.ndarray:
    """uint64 splitmix64 hash of global row numbers (the sampling order).

    Example:
        >>> bool(row_hash(np.arange(3))[1] == row_hash(np.array([1]))[0])   # per row
        True
    """
    z = np.asarray(rows, dtype=np.uint64) + np.uint64((0x9E3779B97F4A7C15 * (seed + 1))
                                                      % 2**64)
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def sample_bands(x: np.ndarray, band: np.ndarray, rows: np.ndarray, n_bands: int,
                 samples: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per neuron and band, the ``samples`` rows of this block with the smallest hash.

    ``x``, ``band``: ``[neurons, rows]``; ``rows``: their global row numbers. Returns
    ``(hash, row, value)``, each ``[neurons, n_bands, samples]`` (hash ``2**64 - 1`` and
    row -1 where a band has fewer rows).

    Example:
        >>> x = np.array([[0.0, 1.0, 2.0]])
        >>> sample_bands(x, np.array([[0, 0, 1]], np.int16), np.arange(3), 2, 1)[1].tolist()
        [[[1], [2]]]
    """
    width, n = band.shape
    h = row_hash(rows, seed)
    order = np.argsort(h, kind="stable")
    shifted = (band[:, order] + 1).astype(np.int16)  # 0: no band
    idx = np.argsort(shifted, axis=1, kind="stable")  # rows grouped by band, in hash order
    flat = shifted + (n_bands + 1) * np.arange(width, dtype=np.int64)[:, None]
    counts = np.bincount(flat.ravel(), minlength=width * (n_bands + 1)).reshape(width, -1)
    starts = np.cumsum(counts, axis=1) - counts
    out_h = np.full((width, n_bands, samples), _EMPTY, dtype=np.uint64)
    out_r = np.full((width, n_bands, samples), -1, dtype=np.int64)
    out_v = np.full((width, n_bands, samples), np.nan)
    wi = np.arange(width)[:, None]
    for j in range(samples):
        valid = j < counts[:, 1:]
        pos = np.minimum(starts[:, 1:] + j, max(n - 1, 0))
        if n == 0:
            break
        local = order[idx[wi, pos]]
        out_h[:, :, j] = np.where(valid, h[local], _EMPTY)
        out_r[:, :, j] = np.where(valid, rows[local], -1)
        out_v[:, :, j] = np.where(valid, x[wi, local], np.nan)
    return out_h, out_r, out_v


def merge_samples(a: tuple[np.ndarray, ...], b: tuple[np.ndarray, ...]
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``samples`` smallest-hash rows of two :func:`sample_bands` results.

    Example:
        >>> x, b = np.array([[0.0, 1.0]]), np.array([[0, 0]], np.int16)
        >>> a = sample_bands(x[:, :1], b[:, :1], np.arange(1), 1, 1)
        >>> c = sample_bands(x[:, 1:], b[:, 1:], np.arange(1, 2), 1, 1)
        >>> merge_samples(a, c)[1].tolist() == sample_bands(x, b, np.arange(2), 1, 1)[1].tolist()
        True
    """
    h = np.concatenate([a[0], b[0]], axis=2)
    r = np.concatenate([a[1], b[1]], axis=2)
    v = np.concatenate([a[2], b[2]], axis=2)
    s = a[0].shape[2]
    order = np.lexsort((r, h), axis=2)[:, :, :s]
    return (np.take_along_axis(h, order, axis=2), np.take_along_axis(r, order, axis=2),
            np.take_along_axis(v, order, axis=2))


def update_samples(state: tuple[np.ndarray, ...] | None, x: np.ndarray, band: np.ndarray,
                   rows: np.ndarray, n_bands: int, samples: int,
                   seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``merge_samples(state, sample_bands(x, band, rows, ...))``, faster once bands are full:
    only values whose hash is below their band's current ``samples``-th smallest can enter.

    Example:
        >>> x, b = np.array([[0.0, 1.0, 2.0]]), np.array([[0, 0, 0]], np.int16)
        >>> s = update_samples(None, x[:, :2], b[:, :2], np.arange(2), 1, 1)
        >>> update_samples(s, x[:, 2:], b[:, 2:], np.arange(2, 3), 1, 1)[1].tolist() == \\
        ...     sample_bands(x, b, np.arange(3), 1, 1)[1].tolist()
        True
    """
    if state is None:
        return sample_bands(x, band, rows, n_bands, samples, seed)
    sh, sr, sv = state
    h = row_hash(rows, seed)
    # each value's band limit, gathered from the flat [neurons x bands] table (a plain take:
    # far cheaper than take_along_axis); band -1 (NaN) reads any entry and is masked out
    flat = band + (n_bands * np.arange(band.shape[0], dtype=np.int64))[:, None]
    limit = np.take(np.ascontiguousarray(sh[:, :, samples - 1]).ravel(), flat, mode="clip")
    hit = h[None, :] < limit
    hit &= band >= 0
    wi, ri = np.nonzero(hit)
    if not len(wi):
        return state
    cb = band[wi, ri].astype(np.int64)
    # the current samples of the (neuron, band) groups that get candidates, plus them
    touched = np.unique(wi * n_bands + cb)
    tw, tb = np.divmod(touched, n_bands)
    old_h, old_r, old_v = sh[tw, tb].ravel(), sr[tw, tb].ravel(), sv[tw, tb].ravel()
    old_g = np.repeat(touched, samples)
    keep = old_r >= 0
    g = np.concatenate([old_g[keep], wi * n_bands + cb])
    hh = np.concatenate([old_h[keep], h[ri]])
    rr = np.concatenate([old_r[keep], rows[ri]])
    vv = np.concatenate([old_v[keep], x[wi, ri]])
    order = np.lexsort((rr, hh, g))
    g, hh, rr, vv = g[order], hh[order], rr[order], vv[order]
    rank = np.arange(len(g)) - np.searchsorted(g, g, side="left")
    sel = rank < samples
    out_h, out_r, out_v = sh.copy(), sr.copy(), sv.copy()
    out_h[tw, tb], out_r[tw, tb], out_v[tw, tb] = _EMPTY, -1, np.nan
    gw, gb = np.divmod(g[sel], n_bands)
    out_h[gw, gb, rank[sel]] = hh[sel]
    out_r[gw, gb, rank[sel]] = rr[sel]
    out_v[gw, gb, rank[sel]] = vv[sel]
    return out_h, out_r, out_v
