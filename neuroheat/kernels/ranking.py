"""The last step of top words, compiled: candidates of each neuron's ranking, and each word
type's best neurons.

:func:`candidates` finds, for every column (neuron) of a ``[types x neurons]`` table of mean
deviations, its k-th largest value (a min-heap per column, one row-major pass: numpy's
``np.partition`` along a transposed copy costs a transposition and a partition of every
value) and returns the entries at or above each column's limit, which
:func:`~neuroheat.analysis.ranking.rank_block` then scores and sorts exactly as before.

:func:`best_neurons` keeps, for every word type, the ``k`` neurons with the highest
``round(mean / column max, 12)`` (score descending, then layer, then neuron: the order of
:func:`~neuroheat.analysis.top_words.word_neurons`), block after block, in one pass over each
block instead of a rounding pass, a partition and a lexsort of the candidates.
``np.round(x, 12)`` is ``rint(x * 1e12) / 1e12`` in numpy, computed the same way here.

Example:
    >>> import numpy as np
    >>> kth, nan = column_kth(np.array([[1.0, 5.0], [3.0, 4.0], [2.0, 6.0]]), 2)
    >>> kth.tolist(), nan
    ([2.0, 5.0], False)
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["best_neurons", "candidates", "column_kth", "finish_means", "new_best"]


@njit(nogil=True, cache=True)
def _finish(total, counts, constant, top):
    n, width = total.shape
    for j in range(width):
        top[j] = 0.0 if constant[j] else -np.inf
    for t in range(n):
        row = total[t]
        c = max(counts[t], 1.0)
        for j in range(width):
            v = 0.0 if constant[j] else row[j] / c
            row[j] = v
            top[j] = max(top[j], v) if v == v and top[j] == top[j] else np.nan


def finish_means(total: np.ndarray, counts: np.ndarray, constant: np.ndarray) -> np.ndarray:
    """In place, ``total / max(counts, 1)`` per row with the ``constant`` columns zeroed (the
    mean deviations of a block), in one pass; returns each column's maximum (NaN where the
    column holds one, as ``np.max``; 0 for an empty table's constant columns)."""
    top = np.empty(total.shape[1])
    _finish(total, np.asarray(counts, np.float64), np.asarray(constant, np.bool_), top)
    return top


@njit(nogil=True, cache=True)
def _column_kth(means, k, heap, root):
    """k-th largest of each column into ``root`` (``heap[j]``: a min-heap of column j's k
    largest, its root copied to ``root[j]`` so that a row is tested by one vectorised
    comparison); True if a NaN was seen (the caller then uses numpy's ordering)."""
    n, width = means.shape
    for t in range(n):
        row = means[t]
        if t >= k:
            hits = 0
            for j in range(width):
                hits += row[j] > root[j]
            if hits == 0:
                continue
        for j in range(width):
            v = row[j]
            if v != v:
                return True
            if t < k:  # the first k rows fill the heap
                p = t
                heap[j, p] = v
                while p > 0:
                    q = (p - 1) // 2
                    if heap[j, q] <= heap[j, p]:
                        break
                    heap[j, q], heap[j, p] = heap[j, p], heap[j, q]
                    p = q
            elif v > root[j]:
                heap[j, 0] = v
                p = 0
                while True:
                    c = 2 * p + 1
                    if c >= k:
                        break
                    if c + 1 < k and heap[j, c + 1] < heap[j, c]:
                        c += 1
                    if heap[j, p] <= heap[j, c]:
                        break
                    heap[j, p], heap[j, c] = heap[j, c], heap[j, p]
                    p = c
            root[j] = heap[j, 0]
    return False


def column_kth(means: np.ndarray, k: int) -> tuple[np.ndarray, bool]:
    """``(kth, nan)``: each column's k-th largest value (``k <= rows``), and whether a NaN
    was met (then ``kth`` is meaningless)."""
    means = np.ascontiguousarray(means, np.float64)
    heap = np.empty((means.shape[1], k), np.float64)
    root = np.full(means.shape[1], np.inf)
    nan = _column_kth(means, int(k), heap, root)
    return root, bool(nan)


@njit(nogil=True, cache=True)
def _hits_per_row(means, lim, hits):
    n, width = means.shape
    total = 0
    for t in range(n):
        row = means[t]
        c = 0
        for j in range(width):
            c += row[j] >= lim[j]
        hits[t] = c
        total += c
    return total


@njit(nogil=True, cache=True)
def _gather_hits(means, lim, hits, rows, cols, vals):
    c = 0
    for t in range(means.shape[0]):
        if hits[t] == 0:
            continue
        row = means[t]
        for j in range(means.shape[1]):
            if row[j] >= lim[j]:
                rows[c], cols[c], vals[c] = j, t, row[j]
                c += 1


def candidates(means: np.ndarray, lim: np.ndarray) -> tuple[np.ndarray, ...]:
    """``(neuron, type, value)`` of every entry ``means[type, neuron] >= lim[neuron]``
    (row-major order): a vectorised count per row, then only the rows with hits."""
    means = np.ascontiguousarray(means, np.float64)
    lim = np.ascontiguousarray(lim, np.float64)
    hits = np.empty(means.shape[0], np.int64)
    n = _hits_per_row(means, lim, hits)
    rows, cols, vals = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n)
    _gather_hits(means, lim, hits, rows, cols, vals)
    return rows, cols, vals


@njit(nogil=True, cache=True)
def _best_neurons(means, safe, layer, c0, score, lay, neu, count):
    n, width = means.shape
    k = score.shape[1]
    inv = 1.0 / safe
    for t in range(n):
        row = means[t]
        # a type holding k neurons takes only a score above its k-th: values whose quotient
        # (by a reciprocal, within 1e-9 of the rounded score) lies clearly below are skipped
        # without the exact division and rounding
        bar = score[t, k - 1] - 1e-9 if count[t] == k else -1.0
        for j in range(width):
            if row[j] * inv[j] < bar:
                continue
            s = np.rint(row[j] / safe[j] * 1e12) / 1e12
            if not s > 0:
                continue
            m = count[t]
            if m == k and not s > score[t, k - 1]:
                continue  # an equal score of a later neuron ranks after: out
            p = m if m < k else k - 1
            while p > 0 and score[t, p - 1] < s:
                score[t, p] = score[t, p - 1]
                lay[t, p] = lay[t, p - 1]
                neu[t, p] = neu[t, p - 1]
                p -= 1
            score[t, p], lay[t, p], neu[t, p] = s, layer, c0 + j
            if m < k:
                count[t] = m + 1
            if count[t] == k:
                bar = score[t, k - 1] - 1e-9


def new_best(n_types: int, k: int) -> tuple[np.ndarray, ...]:
    """An empty :func:`best_neurons` state: ``(score, layer, neuron, count)``, ``[types, k]``
    padded with NaN / -1."""
    return (np.full((n_types, k), np.nan), np.full((n_types, k), -1, np.int64),
            np.full((n_types, k), -1, np.int64), np.zeros(n_types, np.int64))


def best_neurons(state: tuple[np.ndarray, ...], means: np.ndarray, top: np.ndarray,
                 layer: int, c0: int) -> None:
    """Merge the neurons ``c0..`` of ``layer`` (``means``: ``[types, neurons]``; ``top``:
    each column's maximum) into ``state`` (:func:`new_best`), blocks in (layer, neuron)
    order."""
    safe = np.where(top > 0, top, 1.0)
    _best_neurons(np.ascontiguousarray(means, np.float64), safe, int(layer), int(c0), *state)
