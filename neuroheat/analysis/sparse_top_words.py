"""Top words of every latent of a sparse store, ranked from the non-zeros alone.

The same score and order as :func:`~neuroheat.analysis.top_words.top_words_all` (NeuroX's
score, rounded to :data:`~neuroheat.analysis.ranking.DECIMALS`, ties by type id), without a
``[word types x latents]`` matrix. For latent ``n`` with mean ``mu``, a word type with no
non-zero occurrence has mean ``|a - mu| = |mu|`` exactly (the *background*); a type with
some has ``|mu| + (sum over its non-zeros of |a - mu| - |mu|) / count``. So the (latent, type)
pairs that occur among the non-zeros are the only candidates, plus the background, which
ranks only where ``|mu| / max`` passes the threshold (rare for sparse latents: those few are
merged one by one, in type-id order). Memory: latents are processed in blocks of at most
:data:`PAIRS_PER_BLOCK` non-zeros (the store's active counts say how many each has), one
pass over the layer's non-zeros per block and part; the (part, block) passes run where
:class:`~neuroheat.analysis.options.RunOptions` says, as the dense path's.

Example:
    >>> sparse_top_words(store, [7], k=10, min_threshold=0.1)   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from neuroheat.analysis.options import DEFAULT_BLOCK_MB, DEFAULT_CHUNK_MB, RunOptions
from neuroheat.analysis.parallel import map_parts
from neuroheat.analysis.ranking import DECIMALS, stack_padded
from neuroheat.analysis.tables import TopWordsTable
from neuroheat.store import StoreBase
from neuroheat.store.stats import RunningStats

#: (latent, type) pairs gathered at once: ~16 bytes each before the reduction
PAIRS_PER_BLOCK = 8 * 2**20


def part_pairs(part: StoreBase, layer: int, c0: int, c1: int, mu: np.ndarray,
               type_map: np.ndarray, n_types: int, chunk_mb: float = DEFAULT_CHUNK_MB
               ) -> tuple[np.ndarray, np.ndarray]:
    """Unique ``latent * n_types + type`` keys (global latents and types) of latents
    ``c0:c1`` among the non-zeros of one part, and their summed ``|a - mu| - |mu|``
    (``mu``: the means of latents ``c0:c1``; a map_parts task)."""
    ids = type_map[np.asarray(part.word_ids)]
    keys, corr = [], []
    for rows, lat, val in part.iter_nonzeros(layer, chunk_mb=chunk_mb):
        sel = (lat >= c0) & (lat < c1)
        j = lat[sel].astype(np.int64)
        m = mu[j - c0]
        keys.append(j * n_types + ids[rows[sel]])
        corr.append(np.abs(val[sel].astype(np.float64) - m) - np.abs(m))
    if not keys:
        return np.zeros(0, np.int64), np.zeros(0)
    key, inverse = np.unique(np.concatenate(keys), return_inverse=True)
    return key, np.bincount(inverse, weights=np.concatenate(corr), minlength=len(key))


def _merge_pairs(found: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """The parts' :func:`part_pairs`, summed key by key in part order."""
    if len(found) == 1:
        return found[0]
    key, inverse = np.unique(np.concatenate([f[0] for f in found]), return_inverse=True)
    sums = np.bincount(inverse, weights=np.concatenate([f[1] for f in found]),
                       minlength=len(key))
    return key, sums


def _background(latents: np.ndarray, lat: np.ndarray, typ: np.ndarray, n_types: int,
                k: int | None) -> tuple[np.ndarray, np.ndarray]:
    """(latent, type) pairs of the first ``k`` types (by id) with no non-zero, per latent."""
    rows, cols = [], []
    for j in latents:
        free = np.setdiff1d(np.arange(n_types), typ[lat == j], assume_unique=True)
        free = free if k is None else free[:k]
        rows.append(np.full(len(free), j))
        cols.append(free)
    return np.concatenate(rows), np.concatenate(cols)


def _ranked(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, width: int, k: int | None
            ) -> tuple[np.ndarray, np.ndarray]:
    """``[width, kmax]`` types and scores: per row, score descending, then type id."""
    order = np.lexsort((cols, -vals, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    rank = np.arange(len(rows)) - np.searchsorted(rows, rows, side="left")
    if k is not None:
        sel = rank < k
        rows, cols, vals, rank = rows[sel], cols[sel], vals[sel], rank[sel]
    kmax = int(rank.max()) + 1 if len(rank) else 0
    types = np.full((width, kmax), -1, dtype=np.int64)
    scores = np.full((width, kmax), np.nan)
    types[rows, rank] = cols
    scores[rows, rank] = vals
    return types, scores


def _latent_blocks(store: StoreBase, layer: int) -> list[tuple[int, int]]:
    """``(c0, c1)`` blocks of latents with at most :data:`PAIRS_PER_BLOCK` non-zeros each
    (at least one latent), from the stored active counts."""
    active = sum(np.asarray(p.active(layer), dtype=np.int64) for p in store.parts)
    cum = np.concatenate([[0], np.cumsum(active)])
    blocks, c0, width = [], 0, store.width
    while c0 < width:
        c1 = int(np.searchsorted(cum, cum[c0] + PAIRS_PER_BLOCK, side="right")) - 1
        c1 = min(width, max(c1, c0 + 1))
        blocks.append((c0, c1))
        c0 = c1
    return blocks


def _rank_block(store: StoreBase, st: RunningStats, c0: int, c1: int, key: np.ndarray,
                sums: np.ndarray, k: int | None, thr: float) -> tuple[np.ndarray, np.ndarray]:
    """``[c1 - c0, kmax]`` types and scores of latents ``c0:c1`` from their merged pairs."""
    n_types = len(store.vocab)
    counts = store.type_counts.astype(np.float64)
    amu = np.abs(st.mean)
    constant = ~(np.isfinite(st.min) & np.isfinite(st.max) & np.isfinite(st.mean)) | \
        (st.min == st.max)
    lat, typ = key // n_types, key % n_types
    raw = amu[lat] + sums / counts[typ]
    w = c1 - c0
    ncand = np.bincount(lat - c0, minlength=w)
    top = np.full(w, -np.inf)
    np.maximum.at(top, lat - c0, raw)
    bg = ncand < n_types  # some type has no non-zero: it scores |mu|
    top = np.where(bg, np.maximum(top, amu[c0:c1]), top)
    dead = constant[c0:c1] | ~(top > 0)
    safe = np.where(dead, 1.0, top)
    score = np.round(raw / safe[lat - c0], DECIMALS)
    keep = (score > thr) & ~dead[lat - c0]
    rows, cols, vals = lat[keep] - c0, typ[keep], score[keep]
    bg_score = np.round(amu[c0:c1] / safe, DECIMALS)
    slow = np.flatnonzero(bg & ~dead & (bg_score > thr))
    if len(slow):  # merge the background types of these few latents
        er, ec = _background(slow, lat - c0, typ, n_types, k)
        rows, cols = np.concatenate([rows, er]), np.concatenate([cols, ec])
        vals = np.concatenate([vals, bg_score[er]])
    return _ranked(rows, cols, vals, w, k)


def sparse_top_words(store: StoreBase, layers: Sequence[int], k: int | None,
                     min_threshold: float, block_mb: float = DEFAULT_BLOCK_MB,
                     options: RunOptions | None = None) -> TopWordsTable:
    """The top-words table of every latent of ``layers`` of a sparse store (or shards).

    Each (part, block of latents) is one :func:`part_pairs` task of
    :func:`~neuroheat.analysis.parallel.map_parts`, run where ``options`` says (threads,
    processes, Dask; the same result, bit for bit); the parts' pairs merge in part order.
    ``block_mb`` does not apply (blocks are sized by non-zeros, :data:`PAIRS_PER_BLOCK`).

    Example:
        >>> sparse_top_words(store, [7], 10, 0.1, options=RunOptions(workers=2))  # doctest: +SKIP
    """
    options = options or RunOptions()
    width, n_types, n_parts = store.width, len(store.vocab), len(store.parts)
    chunk_mb = options.chunk_mb / options.local_tasks
    type_maps = [store.type_map(i) for i in range(n_parts)]
    stats = {layer: store.running_stats(layer) for layer in layers}
    groups = [(layer, c0, c1) for layer in layers for c0, c1 in _latent_blocks(store, layer)]
    calls = [(i, layer, c0, c1, np.ascontiguousarray(stats[layer].mean[c0:c1]), type_maps[i],
              n_types, chunk_mb) for layer, c0, c1 in groups for i in range(n_parts)]
    results = map_parts(part_pairs, store, calls, options)
    from tqdm.auto import tqdm

    bar = tqdm(total=len(groups), desc="top words", unit="block", leave=False,
               disable=True if options.quiet else None)
    ranked: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {layer: [] for layer in layers}
    for layer, c0, c1 in groups:
        key, sums = _merge_pairs([next(results) for _ in range(n_parts)])
        ranked[layer].append(_rank_block(store, stats[layer], c0, c1, key, sums, k,
                                         min_threshold))
        bar.update(1)
    bar.close()
    parts = [(stack_padded([t for t, _ in ranked[layer]], -1, np.int64),
              stack_padded([s for _, s in ranked[layer]], np.nan, np.float64))
             for layer in layers]
    return TopWordsTable(np.repeat(np.asarray(layers, dtype=np.int64), width),
                         np.tile(np.arange(width, dtype=np.int64), len(layers)),
                         stack_padded([p[0] for p in parts], -1, np.int64),
                         stack_padded([p[1] for p in parts], np.nan, np.float64),
                         store.vocab, k, min_threshold)
