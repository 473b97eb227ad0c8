"""The context scan of a dense part in one pass: top-k, bottom-k, histograms and samples.

:func:`~neuroheat.analysis.dense_scan.scan_numpy` passes over every value about fifteen
times (value keys, top and bottom tests, two histogram passes, band and hash tests).
:class:`ContextScan` reads each stored value once: a block of rows (~256 KiB) is decoded to
float32, then worked on while it sits in the core's cache. For each neuron it

- keeps the k highest and k lowest values with their rows, sorted (a later row never
  displaces an equal value: ties go to the earlier row; -0.0 and +0.0 tie). One vectorised
  comparison per value against the neuron's k-th finds the few neurons whose column in the
  block needs merging;
- counts each value in the ``bins``-bin histogram (and the fine one) by ``np.histogram``'s
  rule: the bin estimated from ``(v - lo) * bins / (hi - lo)`` (in float32, within a margin
  of the float64 estimate), and where an estimate lies within that margin of an edge, the
  float64 estimate moved down when ``v`` lies below its left edge and up when it reaches the
  next (the last bin holds the maximum), the edges being ``np.linspace(lo, hi, bins + 1)``;
- finds the value's quantile band (whole histogram bins, the value formula or the band edges,
  as :func:`~neuroheat.analysis.distributions.band_index`) and keeps the ``samples`` rows of
  the smallest (hash, row) per band; a row whose hash is above every limit of a neuron's
  central bands is tested only where that neuron's value lies outside them.

The results are the numpy scan's, array for array (``tests/kernels/test_context_scan.py``:
ties, -0.0, float16 and float32, shards, every band mode). Only layers whose statistics are
finite (no NaN or infinity stored) are scanned here; the numpy code handles the others.

Example:
    >>> scan = ContextScan(384, k=10, bottom=True, hist=hist, fine=None,  # doctest: +SKIP
    ...                    band_mode=BAND_BY_BINS, step_bins=4, band_edges=edges, samples=4)
    >>> scan.add(chunk, row0=0, hashes=row_hash(np.arange(len(chunk))))   # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from neuroheat.kernels.stored import kernel_view, load

__all__ = ["BAND_BY_BINS", "BAND_BY_EDGES", "BAND_BY_VALUE", "NO_BANDS", "ContextScan",
           "Histogram"]

NO_BANDS, BAND_BY_BINS, BAND_BY_VALUE, BAND_BY_EDGES = 0, 1, 2, 3
_EMPTY_HASH = np.uint64(2**64 - 1)


@dataclass
class Histogram:
    """Counts ``[width, bins]`` over ``[lo, hi]`` per neuron, with its edges and scale."""

    lo: np.ndarray
    hi: np.ndarray
    edges: np.ndarray  # [width, bins + 1], np.linspace(lo, hi, bins + 1, axis=1)
    counts: np.ndarray

    @property
    def norm(self) -> np.ndarray:
        return self.counts.shape[1] / (self.hi - self.lo)


_NEAR = 1e-6  # a bin estimate this close to an edge is checked against the edges
#: rows hashed below this (1/4 of them) are tested against every band's samples; the others
#: only where a value lies outside its neuron's central bins (bands whose limits are below it)
_LOW_HASH = np.uint64(2**62)


@njit(inline="always")
def _estimate(v, lo, norm, top):
    """The bin of ``v`` estimated from the scale (clipped to 0..top), and whether it lies
    within rounding distance of an edge (then :func:`_exact` decides). Scalars only: an
    array argument would cost reference counting on every value."""
    f = (v - lo) * norm
    idx = int(min(max(f, 0.0), top))
    fr = f - idx
    return idx, fr < _NEAR or fr > 1.0 - _NEAR


@njit(inline="always")
def _exact(v, left, right, idx, top):
    """np.histogram's correction of an estimate ``idx`` whose edges are ``left`` and
    ``right``: -1 below the range, the last bin holds the maximum."""
    if v < left:
        return idx - 1
    if idx != top and v >= right:
        return idx + 1
    return idx


@njit(inline="always")
def _insert(vals, rows, n, j, v, r, k, highest):
    """Insert (v, r) into neuron j's sorted k best (r is later than every kept row)."""
    m = n[j]
    p = m
    if highest:
        while p > 0 and vals[j, p - 1] < v:
            p -= 1
    else:
        while p > 0 and vals[j, p - 1] > v:
            p -= 1
    q = m if m < k else k - 1
    while q > p:
        vals[j, q] = vals[j, q - 1]
        rows[j, q] = rows[j, q - 1]
        q -= 1
    vals[j, p] = v
    rows[j, p] = r
    if m < k:
        n[j] = m + 1


@njit
def _merge_columns(buf, m, a0, k, tv, tr, tn, tthr, highest, hit):
    """Merge rows ``0..m`` of the decoded block into the k best of the ``hit`` neurons (the
    others hold k values that no row of the block beats), column by column in row order."""
    for j in range(buf.shape[1]):
        if not hit[j]:
            continue
        for i in range(m):
            v = buf[i, j]
            if v != v:
                continue
            if tn[j] < k or (v > tv[j, k - 1] if highest else v < tv[j, k - 1]):
                _insert(tv, tr, tn, j, v, a0 + i, k, highest)
        if tn[j] == k:
            tthr[j] = tv[j, k - 1]


@njit
def _margins(lo, norm, bins):
    """float32 ``lo``, ``norm`` and, per neuron, the margin within which a float32 estimate
    ``(v - lo) * norm`` may differ from the float64 one, plus the float64 rounding distance:
    a float32 estimate farther than that from every integer is the bin (elsewhere the float64
    estimate and the edges decide). A neuron whose margin is not small (values far from 0
    compared with their range) is always checked."""
    width = lo.shape[0]
    lo32 = np.empty(width, np.float32)
    norm32 = np.empty(width, np.float32)
    margin = np.empty(width, np.float32)
    for j in range(width):
        lo32[j], norm32[j] = lo[j], norm[j]
        err = norm[j] * (abs(lo[j]) + 1.0) * 2.0**-21 + (bins + 1) * 2.0**-20 + _NEAR
        margin[j] = err if err < 0.01 else 1.0
    return lo32, norm32, margin


@njit
def _sample(sh, sr, sv, limit, j, b, h, r, w, samples):
    """Insert row ``r`` (hash ``h``, value ``w``) into band ``b`` of neuron ``j``'s samples
    (sorted by hash; ``h`` beats the band's limit, ``r`` is later than every kept row)."""
    p = samples - 1
    while p > 0 and sh[j, b, p - 1] > h:
        sh[j, b, p] = sh[j, b, p - 1]
        sr[j, b, p] = sr[j, b, p - 1]
        sv[j, b, p] = sv[j, b, p - 1]
        p -= 1
    sh[j, b, p] = h
    sr[j, b, p] = r
    sv[j, b, p] = w
    limit[j, b] = sh[j, b, samples - 1]


@njit
def _take(sh, sr, sv, limit, bin_limit, band_of_bin, step_bins, j, idx, h, r, w, samples,
          clo, chi):
    """:func:`_sample` for bands of whole bins (bin ``idx``), the band's new limit copied to
    its bins, and neuron j's central bins updated."""
    b = band_of_bin[idx + 1]
    _sample(sh, sr, sv, limit, j, b, h, r, w, samples)
    for q in range(b * step_bins, (b + 1) * step_bins):
        bin_limit[j, q + 1] = limit[j, b]
    _central(j, limit, step_bins, clo, chi)


@njit
def _central(j, limit, step_bins, clo, chi):
    """Neuron j's central bins ``clo..chi - 1``: those of the first run of bands whose limits
    are all below :data:`_LOW_HASH` (a row hashed at or above it enters none of them)."""
    n_bands = limit.shape[1]
    lo = 0
    while lo < n_bands and limit[j, lo] >= _LOW_HASH:
        lo += 1
    hi = lo
    while hi < n_bands and limit[j, hi] < _LOW_HASH:
        hi += 1
    clo[j], chi[j] = lo * step_bins, hi * step_bins


@njit(nogil=True, cache=True)
def _scan(x, row0, hashes, k, tv, tr, tn, tthr, bottom, bv, br, bn, bthr,
          bins, hlo, hhi, hnorm, hedges, hist, fbins, flo, fhi, fnorm, fedges, fine,
          band_mode, step_bins, bedges, n_bands, samples, sh, sr, sv, limit):
    n, width = x.shape
    block = max(16, 65536 // max(width, 1))
    buf = np.empty((block, width), np.float32)
    hit = np.zeros(width, np.bool_)
    hitb = np.zeros(width, np.bool_)
    est = np.zeros(width, np.int32)
    flag = np.zeros(width, np.int32)
    cands = np.zeros(width, np.int64)
    top, ftop = np.float64(bins - 1), np.float64(fbins - 1)
    top32 = np.float32(max(bins - 1, 0))
    lo32, norm32, margin = _margins(hlo, hnorm, bins)
    # band of each bin (index bin + 1: bin -1, below the range, is in no band)
    band_of_bin = np.full(max(bins, 0) + 1, -1, np.int64)
    for q in range(bins):
        band_of_bin[q + 1] = q // step_bins
    bin_limit = np.zeros((width, max(bins, 0) + 1), np.uint64)
    clo = np.zeros(width, np.int32)  # central bins: none yet
    chi = np.zeros(width, np.int32)
    if band_mode == 1:
        for j in range(width):
            for q in range(bins):
                bin_limit[j, q + 1] = limit[j, band_of_bin[q + 1]]
            _central(j, limit, step_bins, clo, chi)
    for a in range(0, n, block):
        m = min(block, n - a)
        # decode the block; flag the neurons a value of which beats their k-th (or that
        # hold fewer than k): a comparison per value, vectorised
        for j in range(width):
            hit[j] = tn[j] < k
            hitb[j] = bn[j] < k
        for i in range(m):
            xrow, brow = x[a + i], buf[i]
            for j in range(width):
                v = load(xrow[j])
                brow[j] = v
                hit[j] |= v > tthr[j]
                hitb[j] |= v < bthr[j]
        if k > 0:
            _merge_columns(buf, m, row0 + a, k, tv, tr, tn, tthr, True, hit)
            if bottom:
                _merge_columns(buf, m, row0 + a, k, bv, br, bn, bthr, False, hitb)
        if bins > 0:
            by_bins = band_mode == 1 and samples > 0
            for i in range(m):
                brow = buf[i]
                h = hashes[a + i]
                r = row0 + a + i
                # vectorised over the row: each value's bin estimate, how many estimates lie
                # within rounding distance of an edge (checked below against the edges) and
                # how many values may enter their band's samples
                for j in range(width):  # in float32, vectorised (see _margins)
                    f = (brow[j] - lo32[j]) * norm32[j]
                    e = np.int32(min(max(f, np.float32(0.0)), top32))
                    fr = f - np.float32(e)
                    est[j] = e
                    # a flag per value, summed in a loop of its own: a running sum here
                    # would keep this loop from vectorising (2-3x slower)
                    flag[j] = np.int32(fr < margin[j]) | np.int32(fr > np.float32(1.0)
                                                                   - margin[j])
                near = 0  # estimates within rounding distance of an edge
                for j in range(width):
                    near += flag[j]
                out = 0  # values outside their neuron's central bins
                if by_bins:
                    for j in range(width):
                        flag[j] = np.int32(est[j] < clo[j]) | np.int32(est[j] >= chi[j])
                    for j in range(width):
                        out += flag[j]
                if near == 0:  # every estimate is its bin, inside [lo, hi]
                    for j in range(width):
                        hist[j, est[j]] += 1
                    if not by_bins or (out == 0 and h >= _LOW_HASH):
                        continue
                    nc = 0
                    for j in range(width):
                        if h < bin_limit[j, est[j] + 1]:
                            cands[nc] = j
                            nc += 1
                    for c in range(nc):
                        j = cands[c]
                        _take(sh, sr, sv, limit, bin_limit, band_of_bin, step_bins,
                              j, est[j], h, r, np.float64(brow[j]), samples, clo, chi)
                    continue
                for j in range(width):
                    idx = est[j]
                    w = np.float64(brow[j])
                    fr = (w - hlo[j]) * hnorm[j] - idx
                    if fr < _NEAR or fr > 1.0 - _NEAR:
                        idx = _exact(w, hedges[j, idx], hedges[j, idx + 1], idx, top)
                        if w >= hlo[j] and w <= hhi[j]:
                            hist[j, idx] += 1
                    else:
                        hist[j, idx] += 1
                    if by_bins and h < bin_limit[j, idx + 1]:
                        _take(sh, sr, sv, limit, bin_limit, band_of_bin, step_bins, j, idx,
                              h, r, w, samples, clo, chi)
        if fbins > 0:
            for i in range(m):
                brow = buf[i]
                for j in range(width):
                    w = np.float64(brow[j])
                    if w >= flo[j] and w <= fhi[j]:
                        idx, near = _estimate(w, flo[j], fnorm[j], ftop)
                        if near:
                            idx = _exact(w, fedges[j, idx], fedges[j, idx + 1], idx, ftop)
                        fine[j, idx] += 1
        if band_mode < 2 or samples == 0:
            continue
        for i in range(m):  # bands by value or by edges: their own pass
            brow = buf[i]
            h = hashes[a + i]
            for j in range(width):
                v = brow[j]
                if v != v:
                    continue
                w = np.float64(v)
                if band_mode == 2:
                    lo, hi = bedges[j, 0], bedges[j, n_bands]
                    span = hi - lo if hi > lo else 1.0
                    b = int(np.floor((w - lo) / span * n_bands))
                    b = min(max(b, 0), n_bands - 1)
                else:
                    b = -1
                    for q in range(n_bands):
                        if w >= bedges[j, q]:
                            b += 1
                if b >= 0 and h < limit[j, b]:
                    _sample(sh, sr, sv, limit, j, b, h, row0 + a + i, w, samples)


class ContextScan:
    """The running state of one part's scan; :meth:`add` each chunk of stored rows in order,
    then read :meth:`best` (per neuron, sorted) and the histogram / sample arrays.

    ``hist`` and ``fine``: :class:`Histogram` or None; ``band_mode``: one of the module's
    constants, with ``step_bins`` (bins per band) or ``band_edges`` ``[width, bands + 1]``.
    """

    def __init__(self, width: int, k: int, bottom: bool, hist: Histogram | None,
                 fine: Histogram | None, band_mode: int, step_bins: int,
                 band_edges: np.ndarray | None, samples: int) -> None:
        self.k, self.bottom, self.samples = int(k), bool(bottom), int(samples)
        self.rows_seen = 0
        kk = max(self.k, 1)
        self.tv = np.zeros((width, kk), np.float32)
        self.tr = np.full((width, kk), -1, np.int64)
        self.tn = np.zeros(width, np.int64)
        self.bv, self.br = self.tv.copy(), self.tr.copy()
        self.bn = self.tn.copy()
        self.tthr = np.full(width, np.nan, np.float32)  # k-th value, once k are kept
        self.bthr = self.tthr.copy()
        none = Histogram(np.zeros(width), np.ones(width), np.zeros((width, 2)),
                         np.zeros((width, 1), np.int64))
        self.hist, self.fine = hist, fine
        self._hist, self._fine = hist or none, fine or none
        self.band_mode = band_mode if samples else NO_BANDS
        self.step_bins = max(int(step_bins), 1)
        self.band_edges = np.zeros((width, 2)) if band_edges is None else \
            np.ascontiguousarray(band_edges, np.float64)
        self.n_bands = self.band_edges.shape[1] - 1
        shape = (width, self.n_bands, max(self.samples, 1))
        self.sh = np.full(shape, _EMPTY_HASH, np.uint64)
        self.sr = np.full(shape, -1, np.int64)
        self.sv = np.full(shape, np.nan)
        self.limit = self.sh[:, :, -1].copy()  # hash a row must beat to enter a band

    def add(self, chunk: np.ndarray, row0: int, hashes: np.ndarray) -> None:
        """Scan ``chunk`` (stored rows ``[rows, width]``, first global row ``row0``;
        ``hashes``: the rows' sampling hashes, uint64)."""
        h, f = self._hist, self._fine
        _scan(kernel_view(chunk), int(row0), np.asarray(hashes, np.uint64),
              self.k, self.tv, self.tr, self.tn, self.tthr, self.bottom, self.bv, self.br,
              self.bn, self.bthr, 0 if self.hist is None else h.counts.shape[1], h.lo, h.hi,
              h.norm, h.edges, h.counts, 0 if self.fine is None else f.counts.shape[1],
              f.lo, f.hi, f.norm, f.edges, f.counts, self.band_mode, self.step_bins,
              self.band_edges, self.n_bands, self.samples, self.sh, self.sr, self.sv,
              self.limit)
        self.rows_seen += len(chunk)

    def best(self, lowest: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(values, rows, counts)``: float32 ``[width, min(k, rows seen)]`` sorted best
        first (ties: earlier row), their rows (-1 past ``counts``), kept values per neuron."""
        kk = min(self.k, self.rows_seen)
        if lowest:
            return self.bv[:, :kk], self.br[:, :kk], self.bn
        return self.tv[:, :kk], self.tr[:, :kk], self.tn

    def sample_state(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """``(hash, row, value)`` ``[width, bands, samples]`` as
        :func:`~neuroheat.analysis.distributions.update_samples` keeps them (None: no rows
        or no bands)."""
        if self.band_mode == NO_BANDS or not self.rows_seen:
            return None
        return self.sh, self.sr, self.sv
