"""Context windows: the words around a row and one neuron's values over them.

:func:`window_rows` turns context rows into ``±w``-word windows inside their sentences;
:func:`gather_values` reads, in one streaming pass over a layer, the stored value of given
``(row, neuron)`` pairs (each chunk is read once, whatever the number of pairs).

Example:
    >>> offsets = np.array([0, 3, 5])
    >>> window_rows(offsets, np.array([1, 3]), 1).tolist()
    [[0, 1, 2], [-1, 3, 4]]
"""

from __future__ import annotations

import numpy as np

from neuroheat import kernels
from neuroheat.analysis.options import DEFAULT_CHUNK_MB
from neuroheat.store import StoreBase

__all__ = ["gather_values", "window_rows"]


def window_rows(offsets: np.ndarray, rows: np.ndarray, w: int) -> np.ndarray:
    """int64 ``[len(rows), 2w + 1]``: the rows ``row - w .. row + w`` that lie in the row's
    sentence (``offsets``: sentence row offsets), -1 elsewhere and for rows < 0."""
    rows = np.asarray(rows, dtype=np.int64)
    safe = np.maximum(rows, 0)
    sent = np.searchsorted(offsets, safe, side="right") - 1
    a, b = offsets[sent], offsets[np.minimum(sent + 1, len(offsets) - 1)]
    out = safe[:, None] + np.arange(-w, w + 1)[None, :]
    ok = (out >= a[:, None]) & (out < b[:, None]) & (rows >= 0)[:, None]
    return np.where(ok, out, -1)


def gather_values(store: StoreBase, layer: int, rows: np.ndarray, neurons: np.ndarray,
                  chunk_mb: float = DEFAULT_CHUNK_MB) -> np.ndarray:
    """float64 values (as stored) of neuron ``neurons[i]`` at global row ``rows[i]`` of
    ``layer`` (NaN where the row is -1); one pass over the layer's chunks."""
    rows = np.asarray(rows, dtype=np.int64).ravel()
    neurons = np.asarray(neurons, dtype=np.int64).ravel()
    out = np.full(len(rows), np.nan)
    if kernels.enabled(len(rows)):  # every pair tested per chunk in one compiled loop, no sort
        from neuroheat.kernels.pairs import gather_into

        for base, part in zip(store.row_starts, store.parts, strict=False):
            for start, chunk in part.iter_stored_rows(layer, chunk_mb=chunk_mb):
                gather_into(out, chunk, int(base) + start, rows, neurons)
                del chunk
        return out
    order = np.argsort(rows, kind="stable")
    sorted_rows = rows[order]
    first = int(np.searchsorted(sorted_rows, 0))
    if first == len(rows):
        return out
    for base, part in zip(store.row_starts, store.parts, strict=False):
        for start, chunk in part.iter_stored_rows(layer, chunk_mb=chunk_mb):
            g0 = int(base) + start
            lo, hi = np.searchsorted(sorted_rows, [g0, g0 + len(chunk)])
            if lo == hi:
                continue
            sel = order[lo:hi]
            out[sel] = np.asarray(chunk[rows[sel] - g0, neurons[sel]], dtype=np.float64)
    return out
