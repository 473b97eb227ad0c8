"""The context scan of a dense part: exact top-k / bottom-k, histograms and quantile samples.

How a block is searched exactly and vectorised in numpy: each value (float16 and float32 are
exact in float32) is mapped to the unsigned integer whose order is the value's order (the
usual IEEE bit trick; -0.0 first made +0.0, NaN last), shifted up 32 bits and OR-ed with its
row in the block. Keys are then unique, so ``np.partition`` along every neuron's row at once
returns the k best (value, row) pairs, ties included the way the per-neuron search breaks
them. The block's k candidates merge with the running k by a lexsort on (key, global row), so
any chunking, threading or sharding gives the same rows.

The compiled scan (:mod:`neuroheat.kernels.context_scan`) does the same work in one pass over
each stored value and returns the same arrays; its running top-k values are turned into the
same keys at the end.

Example:
    >>> found = scan_dense_part(store, 3, plan)          # doctest: +SKIP
    >>> found["top"][1].shape                            # doctest: +SKIP
    (384, 10)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from neuroheat import kernels
from neuroheat.analysis import distributions as D
from neuroheat.store import StoreBase

__all__ = ["key_values", "merge_best", "no_best", "row_chunks", "scan_compiled",
           "scan_dense_part", "scan_numpy"]

_EMPTY = np.uint64(2**32)  # key of "no row": above every 32-bit value key
_NAN = np.uint64(0xFFFFFFFF)  # NaN's value key: no finite or infinite value maps there
_BLOCK_BYTES = 2**20  # transposed block of a chunk: about 1 MiB of uint64 (stays in cache)


def _value_order(x: np.ndarray, finite: bool) -> np.ndarray:
    """uint32 ``[neurons, rows]`` whose unsigned order is the order of the float32 values
    ``x`` (ascending; -0.0 and +0.0 tie; NaN -> :data:`_NAN`, unless ``finite``)."""
    bits = (x + np.float32(0.0)).view(np.uint32)  # -0.0 + 0.0 = +0.0: zeros tie
    flip = np.right_shift(bits, np.uint32(31))
    np.negative(flip, out=flip)  # 0 or 0xFFFFFFFF
    flip |= np.uint32(0x80000000)
    order = np.bitwise_xor(bits, flip, out=flip)
    if not finite:
        order[np.isnan(x)] = _NAN  # (NaN's own order would sort it past +inf: make it last)
    return order


def _value_keys(order: np.ndarray, lowest: bool) -> np.ndarray:
    """uint64 keys (high 32 bits: order of the value, best first; low: column) of an
    :func:`_value_order` array; NaN keeps :data:`_NAN` in the high part."""
    if lowest:
        keys = order.astype(np.uint64)
    else:
        nan = order == _NAN
        keys = (~order).astype(np.uint64)
        keys[nan] = _NAN
    keys <<= np.uint64(32)
    keys |= np.arange(order.shape[1], dtype=np.uint64)[None, :]
    return keys


def key_values(keys: np.ndarray, lowest: bool) -> np.ndarray:
    """float64 values of 32-bit value keys (NaN for :data:`_EMPTY`)."""
    k32 = (keys & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    if not lowest:
        k32 = ~k32
    pos = (k32 >> np.uint32(31)).astype(bool)
    bits = np.where(pos, k32 & np.uint32(0x7FFFFFFF), ~k32)
    out = bits.view(np.float32).astype(np.float64)
    out[keys >= _EMPTY] = np.nan
    return out


def _chunk_best(order: np.ndarray, row0: int, k: int, lowest: bool
                ) -> tuple[np.ndarray, ...]:
    """``(value key, global row)``, each ``[neurons, min(k, rows)]``, of a block."""
    keys = _value_keys(order, lowest)
    kk = min(k, keys.shape[1])
    if kk < keys.shape[1]:
        keys = np.partition(keys, kk - 1, axis=1)[:, :kk]
    vkey = keys >> np.uint64(32)
    rows = (keys & np.uint64(0xFFFFFFFF)).astype(np.int64) + row0
    missing = vkey == _NAN
    vkey[missing], rows[missing] = _EMPTY, -1
    return vkey, rows


def merge_best(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray],
                k: int) -> tuple[np.ndarray, np.ndarray]:
    keys, rows = np.concatenate([a[0], b[0]], axis=1), np.concatenate([a[1], b[1]], axis=1)
    order = np.lexsort((rows, keys), axis=1)[:, :k]
    return np.take_along_axis(keys, order, axis=1), np.take_along_axis(rows, order, axis=1)


def _update_best(best: tuple[np.ndarray, np.ndarray], x: np.ndarray, row0: int, k: int,
                 lowest: bool, finite: bool) -> tuple[np.ndarray, np.ndarray]:
    """``best`` merged with the block ``x`` (float32 ``[neurons, rows]``, first row ``row0``).

    Once every neuron holds k rows, only the neurons with a value strictly better than their
    k-th (a later row never wins a tie, NaN never enters) can change: the block is compared
    with those k-th values, and only those neurons' rows are keyed and merged. Same result as
    merging the whole block; most blocks then cost one comparison per value.
    """
    vkey, rows = best
    if vkey.shape[1] < k or bool((vkey[:, k - 1] >= _EMPTY).any()):
        return merge_best(best, _chunk_best(_value_order(x, finite), row0, k, lowest), k)
    kth = key_values(vkey[:, k - 1], lowest).astype(np.float32)[:, None]
    hit = np.flatnonzero((x < kth if lowest else x > kth).any(axis=1))
    if len(hit):
        sub = _chunk_best(_value_order(x[hit], finite), row0, k, lowest)
        vkey[hit], rows[hit] = merge_best((vkey[hit], rows[hit]), sub, k)
    return vkey, rows


def no_best(width: int) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros((width, 0), np.uint64), np.zeros((width, 0), np.int64)


def row_chunks(part: StoreBase, layer: int, plan: dict[str, Any]
               ) -> Iterator[tuple[int, np.ndarray]]:
    """``(start, rows)`` of the part's stored rows, chunk by chunk, limited to the part-local
    range ``plan["rows"]`` when given (a layer scanned in pieces by several threads)."""
    a, b = plan.get("rows") or (0, part.num_words)
    for start, chunk in part.iter_stored_rows(layer, chunk_mb=plan["chunk_mb"]):
        lo, hi = max(a - start, 0), min(b - start, len(chunk))
        if lo < hi:
            yield start + lo, chunk[lo:hi]
        del chunk


def scan_dense_part(part: StoreBase, layer: int, plan: dict[str, Any]) -> dict[str, Any]:
    """:func:`~neuroheat.analysis.all_contexts.scan_part` over the rows of ``part`` (one chunk
    at a time): in one compiled pass (:func:`scan_compiled`) when kernels are enabled and the
    layer is finite, else in numpy (:func:`scan_numpy`). The same arrays either way."""
    a, b = plan.get("rows") or (0, part.num_words)
    if plan["finite"] and kernels.enabled((b - a) * part.width):
        return scan_compiled(part, layer, plan)
    return scan_numpy(part, layer, plan)


def scan_numpy(part: StoreBase, layer: int, plan: dict[str, Any]) -> dict[str, Any]:
    """:func:`scan_dense_part` in numpy, one transposed ~1 MiB block at a time."""
    width = part.width
    k, row0 = plan["k"], plan["row0"]
    top, low = no_best(width), no_best(width)
    hlo, hhi = D.histogram_range(plan["lo"], plan["hi"])
    hist = np.zeros((width, plan["bins"]), np.int64) if plan["bins"] else None
    fine = np.zeros((width, D.FINE_BINS), np.int64) if plan["fine"] else None
    edges = plan["edges"]
    samples = None
    step = max(256, _BLOCK_BYTES // (8 * max(width, 1)))
    for start, chunk in row_chunks(part, layer, plan):
        for a in range(0, len(chunk), step):
            x = np.ascontiguousarray(chunk[a:a + step].T, dtype=np.float32)
            g0 = row0 + start + a
            if k:
                top = _update_best(top, x, g0, k, False, plan["finite"])
                if plan["bottom"]:
                    low = _update_best(low, x, g0, k, True, plan["finite"])
            step_bins = plan["bins"] // (edges.shape[1] - 1) if edges is not None else 0
            by_bins = plan["mode"] == "value" and hist is not None and step_bins \
                and plan["bins"] % (edges.shape[1] - 1) == 0
            bin_of = np.empty(x.shape, np.int64) if by_bins else None
            if hist is not None:
                hist += D.histogram_counts(x, hlo, hhi, plan["bins"], bin_of)
            if fine is not None:
                fine += D.histogram_counts(x, hlo, hhi, D.FINE_BINS)
            if edges is not None and plan["samples"]:
                if bin_of is not None:  # value bands made of whole histogram bins
                    band = (bin_of // step_bins).astype(np.int16)
                    if not plan["finite"]:
                        band[np.isnan(x)] = -1
                else:
                    band = D.band_index(x, edges, plan["mode"])
                samples = D.update_samples(samples, x, band, np.arange(g0, g0 + x.shape[1]),
                                           edges.shape[1] - 1, plan["samples"],
                                           plan["seed"])
            del x
        del chunk
    return {"top": top, "low": low, "hist": hist, "fine": fine, "samples": samples}


def _kernel_best(values: np.ndarray, rows: np.ndarray, counts: np.ndarray,
                 lowest: bool) -> tuple[np.ndarray, np.ndarray]:
    """The compiled scan's sorted values and rows as the numpy scan's (value key, row)."""
    order = _value_order(np.ascontiguousarray(values), True)
    vkey = (order if lowest else ~order).astype(np.uint64)
    rows = rows.copy()
    missing = np.arange(values.shape[1])[None, :] >= counts[:, None]
    vkey[missing], rows[missing] = _EMPTY, -1
    return vkey, rows


def scan_compiled(part: StoreBase, layer: int, plan: dict[str, Any]) -> dict[str, Any]:
    """:func:`scan_dense_part` in one compiled pass per chunk (a finite layer only)."""
    from neuroheat.kernels import context_scan as K

    width, k, bins = part.width, plan["k"], plan["bins"]
    hlo, hhi = D.histogram_range(plan["lo"], plan["hi"])

    def histogram(n: int) -> K.Histogram:
        return K.Histogram(hlo, hhi, np.ascontiguousarray(D.bin_edges(hlo, hhi, n)),
                           np.zeros((width, n), np.int64))

    edges = plan["edges"]
    mode, step_bins = K.NO_BANDS, 0
    if edges is not None and plan["samples"]:
        n_bands = edges.shape[1] - 1
        if plan["mode"] == "value" and bins and bins % n_bands == 0 and bins // n_bands:
            mode, step_bins = K.BAND_BY_BINS, bins // n_bands
        else:
            mode = K.BAND_BY_VALUE if plan["mode"] == "value" else K.BAND_BY_EDGES
    scan = K.ContextScan(width, k, plan["bottom"], histogram(bins) if bins else None,
                         histogram(D.FINE_BINS) if plan["fine"] else None, mode, step_bins,
                         edges, plan["samples"])
    for start, chunk in row_chunks(part, layer, plan):
        g0 = plan["row0"] + start
        scan.add(chunk, g0, D.row_hash(np.arange(g0, g0 + len(chunk)), plan["seed"]))
        del chunk
    top, low = no_best(width), no_best(width)
    if k:
        top = _kernel_best(*scan.best(False), False)
        if plan["bottom"]:
            low = _kernel_best(*scan.best(True), True)
    return {"top": top, "low": low, "hist": scan.hist.counts if scan.hist else None,
            "fine": scan.fine.counts if scan.fine else None, "samples": scan.sample_state()}
