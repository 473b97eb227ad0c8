"""Segment sums of |a - mu| per word type for a block of neurons: the core of every ranking.

NeuroX's top-word score of word type ``w`` for neuron ``n`` is the mean over the occurrences of
``w`` of ``|a - mu_n| / sigma_n``. Everything here works on the sums
``S[w, n] = sum over occurrences of |a - mu_n|`` in float64: one streaming pass over row chunks of
one layer fills ``S`` for a whole block of neurons at once, with memory bounded by the chunk size
and ``num_types x block`` accumulators, never by the corpus.

How the segment sum is done (``scripts/bench_analysis.py --micro``: 27k rows x 384 neurons,
5k types, |z| given; ns per activation on the 2-core dev VM): ``np.add.at`` 8.0, sort +
``np.add.reduceat`` 4.1, a ``scipy.sparse`` indicator matrix @ |z| 2.0, and the same CSR
product accumulated in place into the ``[types x block]`` accumulator with scipy's
``csr_matvecs`` kernel 1.2, which is used (the public sparse product is the fallback). The
rest of the cost is decoding float16 and computing |a - mu| in float64 (about 2 ns).

Example:
    >>> S = dev_sums(store, layer=3, c0=0, c1=384, mu=mu)   # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from neuroheat import kernels
from neuroheat.analysis.options import DEFAULT_BLOCK_MB, DEFAULT_CHUNK_MB, RunOptions
from neuroheat.analysis.parallel import map_parts
from neuroheat.analysis.sparse import sparse_dev_sums
from neuroheat.store import StoreBase
from neuroheat.store.part import Kernel

log = logging.getLogger(__name__)

#: rows per segment sum: a 6 MiB float64 |a - mu| buffer (fewer, larger sorts and row pointers)
_BUFFER_BYTES = 6 * 2**20
#: rows per elementwise pass (cast, subtract, absolute value): 768 KiB stays in a core's L2
#: across the three passes (1 thread, one 168 MB layer: 0.091 -> 0.078 s with the above)
_PASS_BYTES = 768 * 2**10


@lru_cache(maxsize=1)
def _matvecs() -> Any:
    """scipy's CSR x dense kernel accumulating ``Y += A @ X`` in place (private, so optional;
    imported on first use, so that importing analysis does not load scipy)."""
    try:
        from scipy.sparse._sparsetools import csr_matvecs
    except ImportError:  # pragma: no cover - depends on the scipy version
        return None
    return csr_matvecs


def _add_segments(S: np.ndarray, ids: np.ndarray, d: np.ndarray, method: str) -> None:
    """``S[ids[i]] += d[i]`` for every row i, in row order (ids may repeat).

    S and d are C-contiguous float64. With the default ``"inplace"`` kernel every S[t, n] is
    the sequential float64 sum of its rows in corpus order, whatever the batching, so chunk
    sizes, threads and processes never change a bit of the result. ``"sparse"`` (public scipy
    product) and ``"bincount"`` give the same sums up to the order of additions.
    """
    n_types, width = S.shape
    rows = len(ids)
    if method == "bincount":
        for j in range(width):
            S[:, j] += np.bincount(ids, weights=d[:, j], minlength=n_types)
        return
    ones = np.ones(rows)
    _csr_matvecs = _matvecs() if method == "inplace" else None
    if _csr_matvecs is not None:
        # each type's rows in corpus order; 16-bit keys take numpy's radix sort (same order)
        key = ids.astype(np.uint16) if n_types <= 2**16 else ids
        order = np.argsort(key, kind="stable")
        if n_types <= rows * width // 8:  # CSR indicator [types x rows] @ d, straight into S
            indptr = np.zeros(n_types + 1, dtype=np.int64)
            np.cumsum(np.bincount(ids, minlength=n_types), out=indptr[1:])
            _csr_matvecs(n_types, rows, width, indptr, order, ones, d.ravel(), S.ravel())
            return
        # large vocabulary: only the types present, gathered, added to, scattered back
        uniq, inverse = np.unique(ids, return_inverse=True)
        indptr = np.zeros(len(uniq) + 1, dtype=np.int64)
        np.cumsum(np.bincount(inverse, minlength=len(uniq)), out=indptr[1:])
        out = S[uniq]
        _csr_matvecs(len(uniq), rows, width, indptr, order, ones, d.ravel(), out.ravel())
        S[uniq] = out
        return
    import scipy.sparse as sp

    uniq, inverse = np.unique(ids, return_inverse=True)
    indicator = sp.csr_matrix((ones, (inverse, np.arange(rows))), shape=(len(uniq), rows))
    S[uniq] += indicator @ d


def dev_sums(
    part: StoreBase,
    layer: int,
    c0: int,
    c1: int,
    mu: np.ndarray,
    chunk_mb: float = DEFAULT_CHUNK_MB,
    method: str = "inplace",
) -> np.ndarray:
    """float64 ``[num_local_types, c1 - c0]``: per word type of ``part``, the sum of |a - mu|.

    ``mu`` holds the (global) means of neurons ``c0:c1``. A dense part is summed over its rows
    (:func:`dense_dev_sums`), a sparse (SAE latent) part from its non-zeros
    (:func:`~neuroheat.analysis.sparse.sparse_dev_sums`): the same sums.

    Example:
        >>> S = dev_sums(store, 3, 0, 384, mu)                  # doctest: +SKIP
    """
    return part.apply(DEV_SUMS, layer, c0, c1, mu, chunk_mb, method)


def dense_dev_sums(
    part: StoreBase,
    layer: int,
    c0: int,
    c1: int,
    mu: np.ndarray,
    chunk_mb: float = DEFAULT_CHUNK_MB,
    method: str = "inplace",
) -> np.ndarray:
    """:func:`dev_sums` of a dense part. One pass over ``layer``'s rows, in
    the stored dtype (``iter_stored_rows``): converting to float64 one cache-sized block at a
    time (cast, subtract, absolute value on 768 KiB in L2) is about 2x faster than a
    whole-chunk float32 copy (numpy's float16 cast is scalar), and a contiguous layer is mapped chunk by
    chunk, so resident memory stays one chunk. ``method`` is ``"inplace"`` (default),
    ``"sparse"`` or ``"bincount"``: same result. With compiled kernels
    (:func:`neuroheat.kernels.enabled`), ``"inplace"`` runs
    :func:`~neuroheat.kernels.deviation.add_deviations` on each chunk instead: one pass, the
    same bits.
    """
    ids_all = np.asarray(part.word_ids)
    n_types = len(part.vocab)
    width = c1 - c0
    mu = np.asarray(mu, dtype=np.float64)
    S = np.zeros((n_types, width))
    if method == "inplace" and kernels.enabled(part.num_words * width):  # one compiled pass
        from neuroheat.kernels.deviation import add_deviations

        for start, chunk in part.iter_stored_rows(layer, chunk_mb=chunk_mb):
            add_deviations(S, ids_all[start:start + len(chunk)], chunk, c0, mu)
            del chunk
        return S
    step = max(64, _BUFFER_BYTES // (8 * max(width, 1)))
    sub = max(16, _PASS_BYTES // (8 * max(width, 1)))
    buf = np.empty((step, width))
    for start, chunk in part.iter_stored_rows(layer, chunk_mb=chunk_mb):
        block = chunk[:, c0:c1]
        for a in range(0, len(block), step):
            rows = block[a:a + step]
            d = buf[:len(rows)]
            for b in range(0, len(rows), sub):
                e = d[b:b + sub]
                e[...] = rows[b:b + sub]  # the cast alone, then float64 - float64: numpy's
                np.subtract(e, mu, out=e)  # mixed-dtype subtraction is slower
                np.abs(e, out=e)
            _add_segments(S, ids_all[start + a:start + a + len(rows)], d, method)
        del chunk, block, rows  # free this chunk before the next one is read
    return S


#: per-word-type sums of |a - mu|: over the rows of a dense part, the non-zeros of a sparse one
DEV_SUMS = Kernel("deviation sums per word type", dense=dense_dev_sums, sparse=sparse_dev_sums)


@dataclass
class Block:
    """Mean |a - mu| per global word type for neurons ``c0:c1`` of ``layer``.

    ``means[t, j]`` is the mean over the occurrences of type t of |a - mu| for neuron c0 + j
    (0 for types that do not occur); ``constant[j]`` is True where the neuron does not vary
    (min == max, sigma = 0) or its statistics are not finite: it has no top words. ``top``:
    each column's maximum (``means.max(axis=0)``; None: not computed).
    """

    layer: int
    c0: int
    c1: int
    means: np.ndarray
    constant: np.ndarray
    top: np.ndarray | None = None


def block_width(num_types: int, hidden: int, block_mb: float) -> int:
    """Neurons per block so that a ``[num_types x block]`` float64 accumulator fits block_mb."""
    return int(max(1, min(hidden, int(block_mb * 2**20) // max(1, 8 * num_types))))


def scan_blocks(
    store: StoreBase,
    layers: list[int],
    *,
    neurons: tuple[int, int] | None = None,
    block_mb: float = DEFAULT_BLOCK_MB,
    options: RunOptions | None = None,
) -> Iterator[Block]:
    """Yield the :class:`Block` of every (layer, block of neurons), in order.

    Each part (shard) fills its own local-type sums (:func:`dev_sums`, run by
    :func:`~neuroheat.analysis.parallel.map_parts`); they are merged by word string into the
    global vocabulary in part order, so the result is the same, bit for bit, whether parts
    run in this process, in threads, in a process pool or on a Dask cluster.
    """
    options = options or RunOptions()
    lo, hi = neurons if neurons is not None else (0, store.width)
    parts = store.parts
    n_types = len(store.vocab)
    counts = store.type_counts.astype(np.float64)
    # chunk_mb and block_mb are budgets of this process: concurrent tasks share them
    # (the merged accumulator of a block counts as one more task)
    n_tasks = options.local_tasks
    chunk_mb = options.chunk_mb / n_tasks
    width = block_width(n_types, hi - lo, block_mb / (n_tasks + (len(parts) > 1)))
    groups = [(layer, c0, min(hi, c0 + width)) for layer in layers for c0 in range(lo, hi, width)]
    kernels.prepare(store.num_words * (hi - lo) * len(layers))
    stats = {layer: store.running_stats(layer) for layer in layers}
    calls = []
    for layer, c0, c1 in groups:
        mu = np.ascontiguousarray(stats[layer].mean[c0:c1])
        calls.extend((i, layer, c0, c1, mu, chunk_mb) for i in range(len(parts)))
    results = map_parts(dev_sums, store, calls, options, threads=n_tasks)
    identity = len(parts) == 1 and np.array_equal(store.type_map(0), np.arange(n_types))
    per_layer = -(-(hi - lo) // width)
    if per_layer > 1:
        log.info("%d word types: %d neurons per pass (block_mb=%g), %d passes per layer",
                 n_types, width, block_mb, per_layer)
    from tqdm.auto import tqdm

    bar = tqdm(total=len(groups), desc="top words", unit="block", leave=False,
               disable=True if options.quiet else None)
    for layer, c0, c1 in groups:
        if identity:
            total = next(results)
        else:
            total = np.zeros((n_types, c1 - c0))
            for i in range(len(parts)):
                total[store.type_map(i)] += next(results)
        st = stats[layer]
        lo_, hi_ = st.min[c0:c1], st.max[c0:c1]
        constant = ~(np.isfinite(lo_) & np.isfinite(hi_) & np.isfinite(st.mean[c0:c1])) \
            | (lo_ == hi_)
        if n_types and kernels.enabled(total.size):  # the three passes below in one
            from neuroheat.kernels.ranking import finish_means

            top = finish_means(total, counts, constant)
        else:
            np.divide(total, np.maximum(counts, 1)[:, None], out=total)
            total[:, constant] = 0.0
            top = total.max(axis=0) if n_types else np.zeros(c1 - c0)
        bar.update(1)
        yield Block(layer, c0, c1, total, constant, top)
        del total  # one accumulator alive at a time
    bar.close()
